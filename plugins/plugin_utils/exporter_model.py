# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nginx_exporter role's variables: validated once, normalized, typed.

Like :mod:`.server_models`, :func:`build_nginx_exporter` returns a dataclass of checked values or
raises :class:`.role_spec.ModelError` with one message per problem. It also reads the nginx role's
status server (``nginx_status_*``, that role's defaults when the play does not set them): the
exporter scrapes it. What it needs from the host (the Debian release, the installed packages, the
textfile counter's unit) comes from role_config's one call of role_host_info.

Every value that reaches the exporter's command line or a systemd unit is made of letters, digits
and a few punctuation characters, so it cannot split into two arguments or carry a quote, ``$``
or ``%``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import urllib.parse

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import format_address
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values as nv
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import ModelError, Problems, validate_role_variables
from ansible_collections.websocket.nginx.plugins.plugin_utils.server_models import check_status_listen

PACKAGE = 'prometheus-nginx-exporter'
NODE_EXPORTER_PACKAGE = 'prometheus-node-exporter'
# The file the package's unit reads its arguments from ($ARGS), a conffile of the package.
ARGUMENTS_FILE = '/etc/default/prometheus-nginx-exporter'
# The nginx role's variables this role reads: where its status server is, and the capacity it is sized for.
NGINX_VARIABLES = ('nginx_status_enabled', 'nginx_status_listen', 'nginx_status_path', 'nginx_websocket_capacity')
# The exporter each Debian release ships, for a host where it is not installed yet (check mode, first run).
DEBIAN_EXPORTER_VERSIONS = {'12': '0.11.0', '13': '1.4.1'}
# 0.x (Go's flag package) exits when nginx does not answer at its start, and systemd gives up after five
# restarts in ten seconds: it waits for nginx instead, this many times this long (1.x waits by itself).
START_RETRIES = 30
START_RETRY_INTERVAL = '2s'
# The per-backend counter: the collection's nginx_status.py and the writer, its units, its metrics file.
TEXTFILE_SERVICE = 'websocket-nginx-textfile'
TEXTFILE_INSTALL_DIR = '/usr/local/lib/websocket-nginx'
TEXTFILE_NAME = 'websocket_nginx.prom'
MAX_TEXTFILE_INTERVAL = 3600

# URL paths passed on the exporter's command line: nothing a shell or systemd reads specially.
URL_PATH = re.compile(r'/[A-Za-z0-9._~/-]*')
IP_TEXT = re.compile(r'[0-9A-Fa-f:.]+')
PORT_TEXT = re.compile(r'[0-9]{1,5}')

LISTEN_FORM = ('nginx_exporter_listen must be an IP address and a port, such as 127.0.0.1:9113, 10.0.0.5:9113, '
               '0.0.0.0:9113 (every IPv4 address) or [::]:9113 (every address), got %s')
LISTEN_ADDRESS = ('nginx_exporter_listen: %s is not an IP address (IPv6 goes in brackets, such as [::1]:9113; a host '
                  'name is not taken, the exporter would listen wherever it resolves when it starts), got %s')
LISTEN_PORT = 'nginx_exporter_listen: the port must be a number from 1 to 65535, got %s'
LISTEN_TAKEN = ("nginx_exporter_listen %s takes the port of nginx's status server (nginx_status_listen %s); choose "
                'another port')
TELEMETRY_PATH = ('nginx_exporter_telemetry_path must be a URL path other than "/", starting with "/" and holding only '
                  'letters, digits and "._~/-", got %s')
SCRAPE_NOT_HTTP = ("nginx_exporter_scrape_uri must be a plain http:// URL of nginx's stub_status, such as "
                   'http://127.0.0.1:8079/stub_status (no https, user, query or fragment), got %s')
SCRAPE_NOT_LOOPBACK = ('nginx_exporter_scrape_uri must name a loopback address, 127.0.0.1 or [::1] (nginx serves its '
                       'status to this host only), got %s')
SCRAPE_PORT = 'nginx_exporter_scrape_uri: the port must be a number from 1 to 65535, got %s'
SCRAPE_PATH = ('nginx_exporter_scrape_uri: the path must start with "/" and hold only letters, digits and "._~/-", '
               'got %s')
STATUS_OFF = ("nginx_exporter_scrape_uri is empty and nginx_status_enabled is false: the exporter has no status to "
              "read. Turn the nginx role's status on, or set nginx_exporter_scrape_uri")
STATUS_PATH = ('nginx_status_path %s cannot be passed to the exporter: it must hold only letters, digits and '
               '"._~/-" (or set nginx_exporter_scrape_uri)')
TEXTFILE = 'nginx_exporter_textfile must be auto, true or false, got %s'


@dataclasses.dataclass
class NginxExporterConfig:
    package: str
    apt_cache_valid_time: int
    # The exporter version the arguments are written for, and where it was learnt: the installed package,
    # the Debian release (not installed yet), or "unknown" (the newest style then).
    exporter_version: str | None
    exporter_version_from: str
    listen: str
    telemetry_path: str
    scrape_uri: str
    # The exporter's command line, in the style of its version; rendered into arguments_file.
    arguments: list
    arguments_file: str
    # Where this host asks for the metrics (a wildcard listen is asked on loopback).
    metrics_url: str
    service_enabled: bool
    # The per-backend counter (textfile collector).
    textfile_enabled: bool
    textfile_requested: str
    textfile_directory: str
    textfile_path: str
    textfile_interval: int
    textfile_service: str
    textfile_install_dir: str
    textfile_command: list
    capacity: int | None

    def as_dict(self):
        return dataclasses.asdict(self)


def host_request():
    """What role_config's one role_host_info call reads for this role: the Debian release (the exporter version
    before it is installed), the installed packages, and the counter's service (installed before or not)."""
    return {'os_release': True, 'packages': [PACKAGE, NODE_EXPORTER_PACKAGE], 'services': [TEXTFILE_SERVICE]}


def parse_listen_address(value):
    """``(address, port)`` of ``nginx_exporter_listen``: an IP address (IPv6 in brackets) and a port."""
    if not isinstance(value, str) or nv.CONTROL.search(value) or ':' not in value:
        raise ValueError(LISTEN_FORM % nv.show(value))
    if value.startswith('['):
        host, bracket, rest = value[1:].partition(']')
        if not bracket or not rest.startswith(':'):
            raise ValueError(LISTEN_FORM % nv.show(value))
        port = rest[1:]
        version = 6
    else:
        host, _colon, port = value.rpartition(':')
        version = 4
    if not host:
        raise ValueError(LISTEN_FORM % nv.show(value))
    try:
        if not IP_TEXT.fullmatch(host):
            raise ValueError(host)
        address = ipaddress.ip_address(host)
        if address.version != version:
            raise ValueError(host)
    except ValueError:
        raise ValueError(LISTEN_ADDRESS % (nv.show(host), nv.show(value)))
    if not PORT_TEXT.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise ValueError(LISTEN_PORT % nv.show(value))
    return address, int(port)


def check_scrape_uri(value):
    """The stub_status URL the exporter reads: plain http on a loopback address, a safe path."""
    if nv.CONTROL.search(value) or ' ' in value:
        raise ValueError(SCRAPE_NOT_HTTP % nv.show(value))
    parts = urllib.parse.urlsplit(value)
    if (parts.scheme != 'http' or not parts.netloc or parts.query or parts.fragment or '#' in value
            or '?' in value or '@' in parts.netloc):
        raise ValueError(SCRAPE_NOT_HTTP % nv.show(value))
    host = parts.hostname or ''
    try:
        if not IP_TEXT.fullmatch(host) or not ipaddress.ip_address(host).is_loopback:
            raise ValueError(host)
    except ValueError:
        raise ValueError(SCRAPE_NOT_LOOPBACK % nv.show(value))
    try:
        port = parts.port  # None when the URL has none (80)
    except ValueError:  # not a number, or above 65535
        port = 0
    if port == 0:
        raise ValueError(SCRAPE_PORT % nv.show(value))
    if not URL_PATH.fullmatch(parts.path):
        raise ValueError(SCRAPE_PATH % nv.show(value))
    return value


def exporter_version(packages, os_version_id):
    """``(version, where it comes from)``: the installed package's upstream version, else its Debian release's."""
    installed = (packages or {}).get(PACKAGE)
    if installed:
        # "0.11.0-1+b4", "1:1.4.1-1": the upstream version, without epoch and Debian revision.
        return installed.split(':', 1)[-1].rsplit('-', 1)[0], 'installed package'
    if os_version_id in DEBIAN_EXPORTER_VERSIONS:
        return DEBIAN_EXPORTER_VERSIONS[os_version_id], 'Debian %s' % os_version_id
    return None, 'unknown'


def exporter_arguments(version, scrape_uri, listen, telemetry_path):
    """The command line of that exporter version: 0.x reads Go's flags (one dash), 1.x kingpin's (two)."""
    major = re.match(r'[0-9]+', version or '')
    if major is not None and int(major.group()) == 0:
        return ['-nginx.scrape-uri=%s' % scrape_uri, '-web.listen-address=%s' % listen,
                '-web.telemetry-path=%s' % telemetry_path, '-nginx.retries=%d' % START_RETRIES,
                '-nginx.retry-interval=%s' % START_RETRY_INTERVAL]
    return ['--nginx.scrape-uri=%s' % scrape_uri, '--web.listen-address=%s' % listen,
            '--web.telemetry-path=%s' % telemetry_path]


def _overlaps(first, second):
    """Whether two listening (address, port) pairs would take the same socket."""
    (address_a, port_a), (address_b, port_b) = first, second
    if port_a != port_b:
        return False
    return address_a == address_b or address_a.is_unspecified or address_b.is_unspecified


def _textfile_mode(value):
    """'auto', True or False from the raw variable (``-e`` gives strings: "false", "auto")."""
    if isinstance(value, str) and value.strip().lower() == 'auto':
        return 'auto'
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise ValueError(TEXTFILE % nv.show(value))


def build_nginx_exporter(variables, os_version_id=None, packages=None):
    """The nginx_exporter role's configuration.

    ``variables`` holds the role's own variables and the nginx role's ``NGINX_VARIABLES`` the play sets;
    ``os_version_id`` and ``packages`` (``{name: installed version or None}``) are what role_host_info read.
    """
    p = validate_role_variables('nginx_exporter', variables)
    problems = Problems()
    check = problems.check
    try:
        nginx = validate_role_variables('nginx', {name: variables[name] for name in NGINX_VARIABLES if name in variables})
    except ModelError as exc:
        for error in exc.errors:
            problems.add('', error)
        nginx = None
    check('', nv.check_int, p['nginx_exporter_apt_cache_valid_time'], 'nginx_exporter_apt_cache_valid_time', 0)
    listen = check('', parse_listen_address, p['nginx_exporter_listen'])
    telemetry_path = p['nginx_exporter_telemetry_path']
    if not URL_PATH.fullmatch(telemetry_path) or telemetry_path == '/':
        problems.add('', TELEMETRY_PATH % nv.show(telemetry_path))
    status_listen = None
    if nginx is not None and nginx['nginx_status_enabled']:
        status_listen = check('', check_status_listen, nginx['nginx_status_listen'])
    scrape_uri = p['nginx_exporter_scrape_uri']
    if scrape_uri:
        scrape_uri = check('', check_scrape_uri, scrape_uri)
    elif nginx is not None and not nginx['nginx_status_enabled']:
        problems.add('', STATUS_OFF)
        scrape_uri = None
    elif status_listen is not None:
        if URL_PATH.fullmatch(nginx['nginx_status_path']):
            scrape_uri = 'http://%s%s' % (status_listen, nginx['nginx_status_path'])
        else:
            problems.add('', STATUS_PATH % nv.show(nginx['nginx_status_path']))
            scrape_uri = None
    else:
        scrape_uri = None  # the nginx variables' problems are reported above
    if listen is not None and status_listen is not None and _overlaps(listen, parse_listen_address(status_listen)):
        problems.add('', LISTEN_TAKEN % (nv.show(p['nginx_exporter_listen']), nv.show(status_listen)))
    mode = check('', _textfile_mode, p['nginx_exporter_textfile'])
    directory = check('', nv.check_absolute_path, p['nginx_exporter_textfile_directory'],
                      'nginx_exporter_textfile_directory', allow_root=False)
    if directory is not None:
        directory = check('', nv.check_systemd_word, directory, 'nginx_exporter_textfile_directory')
    interval = check('', nv.check_int, p['nginx_exporter_textfile_interval'], 'nginx_exporter_textfile_interval', 1,
                     MAX_TEXTFILE_INTERVAL)
    problems.raise_if_any()

    version, version_from = exporter_version(packages, os_version_id)
    address, port = listen
    listen_text = format_address(str(address), port)
    textfile_path = '%s/%s' % (directory, TEXTFILE_NAME)
    capacity = nginx['nginx_websocket_capacity']
    status_command = ['/usr/bin/python3', '%s/nginx_status.py' % TEXTFILE_INSTALL_DIR, '--status-url', scrape_uri]
    if isinstance(capacity, int) and capacity >= 1:
        status_command += ['--capacity', str(capacity)]
    else:
        capacity = None  # the nginx role refuses it; the counts go without a capacity share
    return NginxExporterConfig(
        package=PACKAGE, apt_cache_valid_time=p['nginx_exporter_apt_cache_valid_time'],
        exporter_version=version, exporter_version_from=version_from,
        listen=listen_text, telemetry_path=telemetry_path, scrape_uri=scrape_uri,
        arguments=exporter_arguments(version, scrape_uri, listen_text, telemetry_path), arguments_file=ARGUMENTS_FILE,
        metrics_url='http://%s%s' % (format_address(nv.local_host(str(address)), port), telemetry_path),
        service_enabled=p['nginx_exporter_service_enabled'],
        # auto: when Debian's node exporter is installed, its textfile directory is in use.
        textfile_enabled=bool((packages or {}).get(NODE_EXPORTER_PACKAGE)) if mode == 'auto' else mode,
        textfile_requested=mode if mode == 'auto' else str(mode).lower(),
        textfile_directory=directory, textfile_path=textfile_path, textfile_interval=interval,
        textfile_service=TEXTFILE_SERVICE, textfile_install_dir=TEXTFILE_INSTALL_DIR,
        textfile_command=['/usr/bin/python3', '%s/write_textfile.py' % TEXTFILE_INSTALL_DIR, '--output', textfile_path,
                          '--'] + status_command + ['--format', 'prometheus'],
        capacity=capacity,
    )
