# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nginx_exporter model: defaults build, each exporter version gets its own flags, and each bad input has
exactly one message."""

from __future__ import annotations

import shlex

import pytest

from ansible_collections.websocket.nginx.plugins.plugin_utils import exporter_model
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import ModelError
from ansible_collections.websocket.nginx.tests.unit.helpers import ansible_wording

# What role_host_info reads on a Debian 12 host where neither exporter is installed yet.
FRESH = {'prometheus-nginx-exporter': None, 'prometheus-node-exporter': None}


class Contains(str):
    """An expected message given by a distinctive part (ansible-core's own wording may change)."""


def build(variables=None, os_version_id='12', packages=None):
    return exporter_model.build_nginx_exporter(variables or {}, os_version_id, FRESH if packages is None else packages)


def assert_one_error(variables, message):
    with pytest.raises(ModelError) as exc:
        build(variables)
    errors = exc.value.errors
    if isinstance(message, Contains):
        assert len(errors) == 1 and message in ansible_wording(errors[0]), errors
    else:
        assert errors == [message]


def test_defaults():
    assert build().as_dict() == {
        'package': 'prometheus-nginx-exporter', 'apt_cache_valid_time': 3600,
        'exporter_version': '0.11.0', 'exporter_version_from': 'Debian 12',
        'listen': '127.0.0.1:9113', 'telemetry_path': '/metrics',
        # The nginx role's status server with its defaults.
        'scrape_uri': 'http://127.0.0.1:8079/stub_status',
        'arguments': ['-nginx.scrape-uri=http://127.0.0.1:8079/stub_status', '-web.listen-address=127.0.0.1:9113',
                      '-web.telemetry-path=/metrics', '-nginx.retries=30', '-nginx.retry-interval=2s'],
        'arguments_file': '/etc/default/prometheus-nginx-exporter',
        'metrics_url': 'http://127.0.0.1:9113/metrics', 'service_enabled': True,
        # auto, and no node exporter on the host.
        'textfile_enabled': False, 'textfile_requested': 'auto',
        'textfile_directory': '/var/lib/prometheus/node-exporter',
        'textfile_path': '/var/lib/prometheus/node-exporter/websocket_nginx.prom', 'textfile_interval': 15,
        'textfile_service': 'websocket-nginx-textfile', 'textfile_install_dir': '/usr/local/lib/websocket-nginx',
        'textfile_command': [
            '/usr/bin/python3', '/usr/local/lib/websocket-nginx/write_textfile.py',
            '--output', '/var/lib/prometheus/node-exporter/websocket_nginx.prom', '--',
            '/usr/bin/python3', '/usr/local/lib/websocket-nginx/nginx_status.py',
            '--status-url', 'http://127.0.0.1:8079/stub_status', '--capacity', '10000', '--format', 'prometheus'],
        'capacity': 10000,
    }


@pytest.mark.parametrize('os_version_id, packages, version, source, style', [
    # Not installed yet: the version the host's Debian release ships.
    ('12', FRESH, '0.11.0', 'Debian 12', '-'),
    ('13', FRESH, '1.4.1', 'Debian 13', '--'),
    # Installed: its own version, whatever the release says (a host upgraded from 12 keeps 0.11 until apt runs).
    ('13', {'prometheus-nginx-exporter': '0.11.0-1+b4'}, '0.11.0', 'installed package', '-'),
    ('12', {'prometheus-nginx-exporter': '1.4.1-1+b5'}, '1.4.1', 'installed package', '--'),
    ('12', {'prometheus-nginx-exporter': '1:2.0.0-1'}, '2.0.0', 'installed package', '--'),
    # A release this role does not know (and not installed): the newest style.
    ('14', FRESH, None, 'unknown', '--'),
    (None, {}, None, 'unknown', '--'),
])
def test_the_flags_are_those_of_the_exporter_version(os_version_id, packages, version, source, style):
    config = build(os_version_id=os_version_id, packages=packages)
    assert (config.exporter_version, config.exporter_version_from) == (version, source)
    assert config.arguments[:3] == [style + 'nginx.scrape-uri=http://127.0.0.1:8079/stub_status',
                                    style + 'web.listen-address=127.0.0.1:9113', style + 'web.telemetry-path=/metrics']
    # Only 0.x exits when nginx does not answer at its start; 1.x has no such flag (it would refuse to start).
    assert any(argument.startswith('-nginx.retries=') for argument in config.arguments) is (style == '-')


@pytest.mark.parametrize('variables, field, value', [
    ({'nginx_exporter_listen': '0.0.0.0:9113'}, 'metrics_url', 'http://127.0.0.1:9113/metrics'),
    ({'nginx_exporter_listen': '[::]:9113'}, 'metrics_url', 'http://[::1]:9113/metrics'),
    ({'nginx_exporter_listen': '[::]:9113'}, 'listen', '[::]:9113'),
    ({'nginx_exporter_listen': '[0:0::1]:9113'}, 'listen', '[::1]:9113'),            # normalized
    ({'nginx_exporter_listen': '10.0.0.5:9200'}, 'metrics_url', 'http://10.0.0.5:9200/metrics'),
    ({'nginx_exporter_listen': '127.0.0.1:65535'}, 'listen', '127.0.0.1:65535'),
    ({'nginx_exporter_listen': '127.0.0.1:1'}, 'listen', '127.0.0.1:1'),
    # The status port on another address does not take the same socket.
    ({'nginx_exporter_listen': '10.0.0.5:8079'}, 'listen', '10.0.0.5:8079'),
    ({'nginx_exporter_listen': '0.0.0.0:8079', 'nginx_status_enabled': False, 'nginx_exporter_scrape_uri':
      'http://127.0.0.2:8079/status'}, 'listen', '0.0.0.0:8079'),
    ({'nginx_exporter_telemetry_path': '/nginx/metrics'}, 'metrics_url', 'http://127.0.0.1:9113/nginx/metrics'),
    # The nginx role's status server as the play sets it.
    ({'nginx_status_listen': '[::1]:9079', 'nginx_status_path': '/status'}, 'scrape_uri', 'http://[::1]:9079/status'),
    ({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8081/basic_status'}, 'scrape_uri',
     'http://127.0.0.1:8081/basic_status'),
    ({'nginx_exporter_scrape_uri': 'http://[::1]:8079/stub_status'}, 'scrape_uri', 'http://[::1]:8079/stub_status'),
    ({'nginx_exporter_scrape_uri': 'http://127.0.0.1/stub_status'}, 'scrape_uri', 'http://127.0.0.1/stub_status'),
    # A URI given: the nginx role's status may be off.
    ({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8081/s', 'nginx_status_enabled': 'false'}, 'scrape_uri',
     'http://127.0.0.1:8081/s'),
    # -e gives strings.
    ({'nginx_exporter_service_enabled': 'false'}, 'service_enabled', False),
    ({'nginx_exporter_textfile_interval': '60'}, 'textfile_interval', 60),
    ({'nginx_exporter_textfile_interval': 3600}, 'textfile_interval', 3600),
    ({'nginx_exporter_apt_cache_valid_time': '0'}, 'apt_cache_valid_time', 0),
    ({'nginx_exporter_textfile': 'true'}, 'textfile_enabled', True),
    ({'nginx_exporter_textfile': 'yes'}, 'textfile_requested', 'true'),
    ({'nginx_exporter_textfile': True}, 'textfile_enabled', True),
    ({'nginx_exporter_textfile': 'false'}, 'textfile_enabled', False),
    ({'nginx_exporter_textfile': 'AUTO'}, 'textfile_requested', 'auto'),
    ({'nginx_exporter_textfile_directory': '/srv/textfiles/'}, 'textfile_path', '/srv/textfiles/websocket_nginx.prom'),
    ({'nginx_websocket_capacity': '20000'}, 'capacity', 20000),
])
def test_accepts(variables, field, value):
    assert build(variables).as_dict()[field] == value


@pytest.mark.parametrize('textfile, node_exporter, enabled', [
    ('auto', None, False),
    ('auto', '1.5.0-1+b6', True),    # Debian's node exporter installed: its textfile directory is in use
    ('false', '1.5.0-1+b6', False),
    ('true', None, True),
])
def test_auto_counts_per_backend_where_the_node_exporter_is_installed(textfile, node_exporter, enabled):
    packages = dict(FRESH, **{'prometheus-node-exporter': node_exporter})
    config = build({'nginx_exporter_textfile': textfile}, packages=packages)
    assert config.textfile_enabled is enabled


def test_the_counter_command_reads_the_status_the_exporter_reads():
    config = build({'nginx_exporter_scrape_uri': 'http://[::1]:8081/s', 'nginx_websocket_capacity': 500,
                    'nginx_exporter_textfile_directory': '/srv/prom'})
    command = config.textfile_command
    assert command[command.index('--output') + 1] == '/srv/prom/websocket_nginx.prom'
    assert command[command.index('--status-url') + 1] == 'http://[::1]:8081/s'
    assert command[command.index('--capacity') + 1] == '500'


@pytest.mark.parametrize('variables', [
    {},
    {'nginx_exporter_listen': '[::]:9113', 'nginx_exporter_telemetry_path': '/a-b/c_d.e~f'},
    {'nginx_exporter_scrape_uri': 'http://[::1]:1/x/y'},
])
def test_no_value_splits_or_quotes_on_a_command_line(variables):
    """The unit passes $ARGS split on spaces, and systemd's ExecStart reads "%", "$", quotes and backslashes."""
    config = build(variables)
    for argument in config.arguments + config.textfile_command:
        assert shlex.split(argument) == [argument]
        assert not set(argument) & set('%$"\'\\;`'), argument


FORM = ('nginx_exporter_listen must be an IP address and a port, such as 127.0.0.1:9113, 10.0.0.5:9113, 0.0.0.0:9113 '
        '(every IPv4 address) or [::]:9113 (every address), got %s')
ADDRESS = ('nginx_exporter_listen: %s is not an IP address (IPv6 goes in brackets, such as [::1]:9113; a host name is '
           'not taken, the exporter would listen wherever it resolves when it starts), got %s')
PORT = 'nginx_exporter_listen: the port must be a number from 1 to 65535, got %s'
TAKEN = ("nginx_exporter_listen %s takes the port of nginx's status server (nginx_status_listen %s); choose another "
         'port')
TELEMETRY = ('nginx_exporter_telemetry_path must be a URL path other than "/", starting with "/" and holding only '
             'letters, digits and "._~/-", got %s')
NOT_HTTP = ("nginx_exporter_scrape_uri must be a plain http:// URL of nginx's stub_status, such as "
            'http://127.0.0.1:8079/stub_status (no https, user, query or fragment), got %s')
NOT_LOOPBACK = ('nginx_exporter_scrape_uri must name a loopback address, 127.0.0.1 or [::1] (nginx serves its status '
                'to this host only), got %s')
SCRAPE_PORT = 'nginx_exporter_scrape_uri: the port must be a number from 1 to 65535, got %s'
SCRAPE_PATH = ('nginx_exporter_scrape_uri: the path must start with "/" and hold only letters, digits and "._~/-", '
               'got %s')
STATUS_OFF = ("nginx_exporter_scrape_uri is empty and nginx_status_enabled is false: the exporter has no status to "
              "read. Turn the nginx role's status on, or set nginx_exporter_scrape_uri")
STATUS_LISTEN = ('nginx_status_listen must be a loopback address with a port, such as 127.0.0.1:8079 or [::1]:8079, so '
                 'that only this host can read the status (or set nginx_status_enabled: false), got %s')
STATUS_PATH = ('nginx_status_path %s cannot be passed to the exporter: it must hold only letters, digits and "._~/-" '
               '(or set nginx_exporter_scrape_uri)')
TEXTFILE = 'nginx_exporter_textfile must be auto, true or false, got %s'
SYSTEMD = ('nginx_exporter_textfile_directory may only hold letters, digits and "_.:@+/-" (it is written into a '
           'systemd unit), got %s')

BAD = [
    # nginx_exporter_listen: the form, the address, the port, and the status server's own port.
    pytest.param({'nginx_exporter_listen': '127.0.0.1'}, FORM % '"127.0.0.1"', id='listen-no-port'),
    pytest.param({'nginx_exporter_listen': '9113'}, FORM % '"9113"', id='listen-port-only'),
    pytest.param({'nginx_exporter_listen': ':9113'}, FORM % '":9113"', id='listen-no-address'),
    pytest.param({'nginx_exporter_listen': ''}, FORM % '""', id='listen-empty'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:9113\n'}, FORM % '"127.0.0.1:9113\\n"', id='listen-newline'),
    pytest.param({'nginx_exporter_listen': '[::1]'}, FORM % '"[::1]"', id='listen-ipv6-no-port'),
    pytest.param({'nginx_exporter_listen': '[::1:9113'}, FORM % '"[::1:9113"', id='listen-ipv6-unclosed'),
    pytest.param({'nginx_exporter_listen': '[::1]9113'}, FORM % '"[::1]9113"', id='listen-ipv6-no-colon'),
    pytest.param({'nginx_exporter_listen': 'localhost:9113'}, ADDRESS % ('"localhost"', '"localhost:9113"'),
                 id='listen-host-name'),
    pytest.param({'nginx_exporter_listen': '10.0.0.256:9113'}, ADDRESS % ('"10.0.0.256"', '"10.0.0.256:9113"'),
                 id='listen-bad-ipv4'),
    pytest.param({'nginx_exporter_listen': '::1:9113'}, ADDRESS % ('"::1"', '"::1:9113"'),
                 id='listen-ipv6-without-brackets'),
    pytest.param({'nginx_exporter_listen': '[127.0.0.1]:9113'}, ADDRESS % ('"127.0.0.1"', '"[127.0.0.1]:9113"'),
                 id='listen-ipv4-in-brackets'),
    pytest.param({'nginx_exporter_listen': '[fe80::1%eth0]:9113'}, ADDRESS % ('"fe80::1%eth0"', '"[fe80::1%eth0]:9113"'),
                 id='listen-ipv6-scope'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1 :9113'}, ADDRESS % ('"127.0.0.1 "', '"127.0.0.1 :9113"'),
                 id='listen-space'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:0'}, PORT % '"127.0.0.1:0"', id='listen-port-0'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:65536'}, PORT % '"127.0.0.1:65536"', id='listen-port-65536'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:http'}, PORT % '"127.0.0.1:http"', id='listen-port-name'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:'}, PORT % '"127.0.0.1:"', id='listen-port-empty'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:-1'}, PORT % '"127.0.0.1:-1"', id='listen-port-negative'),
    pytest.param({'nginx_exporter_listen': '[::1]:99999'}, PORT % '"[::1]:99999"', id='listen-ipv6-port-99999'),
    pytest.param({'nginx_exporter_listen': '127.0.0.1:8079'}, TAKEN % ('"127.0.0.1:8079"', '"127.0.0.1:8079"'),
                 id='listen-status-port'),
    pytest.param({'nginx_exporter_listen': '0.0.0.0:8079'}, TAKEN % ('"0.0.0.0:8079"', '"127.0.0.1:8079"'),
                 id='listen-status-port-wildcard'),
    pytest.param({'nginx_exporter_listen': '[::1]:9000', 'nginx_status_listen': '[::1]:9000'},
                 TAKEN % ('"[::1]:9000"', '"[::1]:9000"'), id='listen-status-port-ipv6'),
    # nginx_exporter_telemetry_path
    pytest.param({'nginx_exporter_telemetry_path': '/'}, TELEMETRY % '"/"', id='telemetry-root'),
    pytest.param({'nginx_exporter_telemetry_path': 'metrics'}, TELEMETRY % '"metrics"', id='telemetry-relative'),
    pytest.param({'nginx_exporter_telemetry_path': '/metrics x'}, TELEMETRY % '"/metrics x"', id='telemetry-space'),
    pytest.param({'nginx_exporter_telemetry_path': '/metrics"'}, TELEMETRY % '"/metrics\\""', id='telemetry-quote'),
    pytest.param({'nginx_exporter_telemetry_path': '/m%i'}, TELEMETRY % '"/m%i"', id='telemetry-specifier'),
    pytest.param({'nginx_exporter_telemetry_path': '/m?x=1'}, TELEMETRY % '"/m?x=1"', id='telemetry-query'),
    pytest.param({'nginx_exporter_telemetry_path': ''}, TELEMETRY % '""', id='telemetry-empty'),
    # nginx_exporter_scrape_uri: not plain http, not loopback, a bad port, a bad path.
    pytest.param({'nginx_exporter_scrape_uri': 'https://127.0.0.1:8079/stub_status'},
                 NOT_HTTP % '"https://127.0.0.1:8079/stub_status"', id='scrape-https'),
    pytest.param({'nginx_exporter_scrape_uri': 'unix:/run/nginx.sock'}, NOT_HTTP % '"unix:/run/nginx.sock"',
                 id='scrape-unix'),
    pytest.param({'nginx_exporter_scrape_uri': '127.0.0.1:8079/stub_status'},
                 NOT_HTTP % '"127.0.0.1:8079/stub_status"', id='scrape-no-scheme'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://u:p@127.0.0.1:8079/stub_status'},
                 NOT_HTTP % '"http://u:p@127.0.0.1:8079/stub_status"', id='scrape-user'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079/stub_status?x=1'},
                 NOT_HTTP % '"http://127.0.0.1:8079/stub_status?x=1"', id='scrape-query'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079/stub_status#x'},
                 NOT_HTTP % '"http://127.0.0.1:8079/stub_status#x"', id='scrape-fragment'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079/stub status'},
                 NOT_HTTP % '"http://127.0.0.1:8079/stub status"', id='scrape-space'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079/s\n'},
                 NOT_HTTP % '"http://127.0.0.1:8079/s\\n"', id='scrape-newline'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://10.0.0.5:8079/stub_status'},
                 NOT_LOOPBACK % '"http://10.0.0.5:8079/stub_status"', id='scrape-not-loopback'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://0.0.0.0:8079/stub_status'},
                 NOT_LOOPBACK % '"http://0.0.0.0:8079/stub_status"', id='scrape-wildcard'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://localhost:8079/stub_status'},
                 NOT_LOOPBACK % '"http://localhost:8079/stub_status"', id='scrape-host-name'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://[2001:db8::1]:8079/stub_status'},
                 NOT_LOOPBACK % '"http://[2001:db8::1]:8079/stub_status"', id='scrape-not-loopback-ipv6'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:0/stub_status'},
                 SCRAPE_PORT % '"http://127.0.0.1:0/stub_status"', id='scrape-port-0'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:70000/stub_status'},
                 SCRAPE_PORT % '"http://127.0.0.1:70000/stub_status"', id='scrape-port-70000'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:http/stub_status'},
                 SCRAPE_PORT % '"http://127.0.0.1:http/stub_status"', id='scrape-port-name'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079'}, SCRAPE_PATH % '"http://127.0.0.1:8079"',
                 id='scrape-no-path'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079/$status'},
                 SCRAPE_PATH % '"http://127.0.0.1:8079/$status"', id='scrape-dollar'),
    pytest.param({'nginx_exporter_scrape_uri': 'http://127.0.0.1:8079/%73'}, SCRAPE_PATH % '"http://127.0.0.1:8079/%73"',
                 id='scrape-percent'),
    # The nginx role's status server, when the URI is derived from it.
    pytest.param({'nginx_status_enabled': False}, STATUS_OFF, id='status-off'),
    pytest.param({'nginx_status_enabled': 'no'}, STATUS_OFF, id='status-off-string'),
    pytest.param({'nginx_status_listen': '10.0.0.5:8079'}, STATUS_LISTEN % '"10.0.0.5:8079"', id='status-listen'),
    pytest.param({'nginx_status_path': '/stub"status'}, STATUS_PATH % '"/stub\\"status"', id='status-path'),
    pytest.param({'nginx_status_enabled': 'maybe'},
                 Contains("argument 'nginx_status_enabled' is of type str and we were unable to convert to bool"),
                 id='status-enabled-not-a-boolean'),
    # nginx_exporter_textfile and its directory and interval.
    pytest.param({'nginx_exporter_textfile': 'sometimes'}, TEXTFILE % '"sometimes"', id='textfile-word'),
    pytest.param({'nginx_exporter_textfile': 2}, TEXTFILE % '"2"', id='textfile-number'),
    pytest.param({'nginx_exporter_textfile': ''}, TEXTFILE % '""', id='textfile-empty'),
    pytest.param({'nginx_exporter_textfile_directory': 'var/lib/prom'},
                 'nginx_exporter_textfile_directory must be an absolute path (start with "/"), got "var/lib/prom"',
                 id='textfile-directory-relative'),
    pytest.param({'nginx_exporter_textfile_directory': '/'},
                 'nginx_exporter_textfile_directory must not be "/" (that would serve the whole file system)',
                 id='textfile-directory-root'),
    pytest.param({'nginx_exporter_textfile_directory': '/var/lib/../etc'},
                 'nginx_exporter_textfile_directory must be a normalized path without ".", ".." or "//", got '
                 '"/var/lib/../etc"', id='textfile-directory-dotdot'),
    pytest.param({'nginx_exporter_textfile_directory': '/var/lib/my prom'}, SYSTEMD % '"/var/lib/my prom"',
                 id='textfile-directory-space'),
    pytest.param({'nginx_exporter_textfile_directory': '/var/lib/prom%i'}, SYSTEMD % '"/var/lib/prom%i"',
                 id='textfile-directory-specifier'),
    pytest.param({'nginx_exporter_textfile_interval': 0}, 'nginx_exporter_textfile_interval must be 1 or more, got 0',
                 id='textfile-interval-0'),
    pytest.param({'nginx_exporter_textfile_interval': '3601'},
                 'nginx_exporter_textfile_interval must be 3600 or less, got 3601', id='textfile-interval-3601'),
    pytest.param({'nginx_exporter_textfile_interval': '15s'},
                 Contains("argument 'nginx_exporter_textfile_interval' is of type str and we were unable to convert to "
                          'int'), id='textfile-interval-unit'),
    # The rest.
    pytest.param({'nginx_exporter_apt_cache_valid_time': -1},
                 'nginx_exporter_apt_cache_valid_time must be 0 or more, got -1', id='apt-cache-negative'),
    pytest.param({'nginx_exporter_service_enabled': 'sometimes'},
                 Contains("argument 'nginx_exporter_service_enabled' is of type str and we were unable to convert to "
                          'bool'), id='service-enabled-not-a-boolean'),
]


@pytest.mark.parametrize('variables, message', BAD)
def test_bad_input_has_one_message(variables, message):
    assert_one_error(variables, message)


def test_several_problems_are_all_reported():
    with pytest.raises(ModelError) as exc:
        build({'nginx_exporter_listen': 'localhost', 'nginx_exporter_telemetry_path': '/',
               'nginx_exporter_scrape_uri': 'http://10.0.0.1/s', 'nginx_exporter_textfile_interval': 0})
    assert exc.value.errors == [
        FORM % '"localhost"', TELEMETRY % '"/"', NOT_LOOPBACK % '"http://10.0.0.1/s"',
        'nginx_exporter_textfile_interval must be 1 or more, got 0',
    ]


def test_variables_of_other_roles_are_read_only_for_the_status_server():
    """nginx_* variables besides the status server's and the capacity do not reach the model, even bad ones."""
    assert build({'nginx_worker_connections': 'lots', 'echo_backend_port': 0}).scrape_uri == \
        'http://127.0.0.1:8079/stub_status'
