# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The websocket_proxy role's sites: validated once, normalized, typed.

:func:`build` takes the role's variables and what the inventory says about the
backend hosts, and returns a :class:`ProxyConfig` whose values are all checked
(:mod:`.nginx_values`), or raises :class:`.role_spec.ModelError` with every
problem, one message each. The templates only render what it returns.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re

from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values as nv
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import Problems, validate_role_variables

ROLE = 'websocket_proxy'
BACKUP_METHODS = ('round_robin', 'least_conn')
MAX_CHECK_TIMEOUT = 3600
# Mozilla's "intermediate" TLS profile (server side TLS guideline 6.0): TLS 1.2 and 1.3, forward-secret AEAD
# ciphers for TLS 1.2 (TLS 1.3 suites are OpenSSL's, all fine), no DHE (so no dhparam file).
TLS_PROTOCOLS = ('TLSv1.2', 'TLSv1.3')
TLS_CIPHERS = ('ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
               'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305')
TLS_CURVES = ('X25519MLKEM768', 'X25519', 'prime256v1', 'secp384r1')
# The post-quantum hybrid group needs OpenSSL 3.5 (Debian 13); older OpenSSL refuses the name.
TLS_PQ_CURVE_SINCE_OPENSSL = (3, 5, 0)
# nginx 1.25.1 made http2 a server directive ("listen ... http2" is deprecated from then on).
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)
# nginx 1.23.2 rotates its session ticket keys itself; before, tickets weaken forward secrecy until a restart.
TICKET_KEY_ROTATION_SINCE = (1, 23, 2)
# What the role assumes when it cannot ask nginx (check mode before nginx is installed): Debian 12's build.
DEFAULT_NGINX_BUILD = ((1, 22, 1), (3, 0, 0))
# certificate_sha1 of a certificate the host does not have (yet).
NOT_ON_HOST = 'not on the host'
SHA1 = re.compile(r'[0-9a-f]{40}')
# Per-host inventory variables that place a backend host in an upstream.
HOST_ADDRESS_VARIABLE = 'websocket_backend_address'
HOST_PORT_VARIABLE = 'websocket_backend_port'
# Headers a static location sets itself (expires, cache_control, nosniff): not repeated from the server block.
STATIC_OWN_HEADERS = ('cache-control', 'expires', 'x-content-type-options')
# tls.acme: certbot on the host proves the names with HTTP-01, which the CA sends to port 80 over plain HTTP.
ACME_CHALLENGE_PORT = 80
ACME_DEFAULT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory'
# The local part of an ACME contact: dot-separated words of letters, digits and "_+-" (stricter than RFC 5322:
# the address goes on certbot's command line, whose --email also takes a comma-separated list).
ACME_CONTACT_LOCAL = re.compile(r'[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*')
# An https:// URL: host name, IPv4 or [IPv6], optional port, a path of unreserved and a few safe characters.
ACME_DIRECTORY = re.compile(r'https://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?'
                            r'(/[A-Za-z0-9._~%/:@+=,&?-]*)?', re.IGNORECASE)
# A systemd calendar expression (OnCalendar=): its characters only, such as "*-*-* 03,15:27:00" or "Mon..Fri 03:00".
SYSTEMD_CALENDAR = re.compile(r'[A-Za-z0-9 *:,./~-]+')


@dataclasses.dataclass
class Server:
    address: str
    port: int | None = None
    weight: int = 1
    max_fails: int = 1
    fail_timeout: str = '10s'
    backup: bool = False
    down: bool = False
    # The inventory host this server is, when known: filled from a backend group, or a listed
    # server whose address names a host of websocket_proxy_down_servers.
    inventory_host: str | None = None
    # At most this many connections at once (0: no limit); nginx answers 502 when every server is full.
    max_conns: int = 0


@dataclasses.dataclass
class Upstream:
    name: str
    method: str
    hash_key: str | None
    hash_consistent: bool
    keepalive: int
    servers: list
    # None when its health check is turned off.
    health_check: UpstreamCheck | None = None
    # Primary servers not marked down: 0 means the upstream has nothing to send new connections to.
    in_rotation: int = 0
    # The inventory hosts among its servers (see Server.inventory_host).
    inventory_hosts: list = dataclasses.field(default_factory=list)
    # TLS to the servers (proxy_pass https://): {server_name, verify, ca_path}; None for plain connections.
    tls: dict | None = None


@dataclasses.dataclass
class ProxyLocation:
    path: str
    upstream: str
    websocket: bool
    read_timeout: str
    send_timeout: str | None
    connect_timeout: str
    next_upstream: list
    # proxy_buffer_size of a WebSocket location (None for plain HTTP ones, which keep nginx's).
    buffer_size: str | None = None
    # The location's own settings of the check through nginx; None when off (or not a WebSocket location).
    check: dict | None = None
    # Its upstream's TLS settings (Upstream.tls).
    upstream_tls: dict | None = None
    # Origin allowlist: lower-cased origins, or None for no check; the map variable that is 1 for a refused request.
    origins: list | None = None
    allow_missing_origin: bool = True
    origin_denied_variable: str | None = None
    # Per-client limits: {zone, connections} / {zone, rate, burst}; status for both.
    limit_conn: dict | None = None
    limit_req: dict | None = None
    limit_status: int = 429
    # Its session log: {file, format (Site.session_log_format), site, location}, the last two as set values
    # (nginx_values.script_literal); None when it keeps nginx's access log.
    session_log: dict | None = None


@dataclasses.dataclass
class StaticLocation:
    path: str
    root: str | None
    alias: str | None
    index: list
    # The words of its expires directive. ["off"] when cache_control is set with a fixed expires time: that
    # time is then a max-age in cache_control, since expires would write a second Cache-Control header.
    expires: list
    # The value of its one "add_header Cache-Control": cache_control, then the max-age (or no-cache) its
    # expires time stands for, as nginx writes it (nothing when expires was set off). None without cache_control.
    cache_control: str | None
    gzip: bool
    gzip_types: list
    # The add_header directives of the server block (HSTS, extra_directives) as argument lists. A location
    # with add_header directives of its own (every static one: X-Content-Type-Options) does not inherit
    # the server's, so it repeats them.
    server_headers: list = dataclasses.field(default_factory=list)
    # As ProxyLocation.session_log (off unless the location asks for it).
    session_log: dict | None = None


@dataclasses.dataclass
class Listen:
    address: str
    params: list
    key: str


@dataclasses.dataclass
class ProxyCheck:
    """The check through nginx of one WebSocket location after the reload (upstream_health options)."""
    site: str
    location: str
    path: str
    address: str
    host_header: str | None
    echo: bool
    subprotocols: list | None
    timeout: float
    tls: bool = False
    ca_path: str | None = None
    origin: str | None = None


@dataclasses.dataclass
class UpstreamCheck:
    """How upstream_health checks an upstream's servers before a change (those in rotation, TCP only)."""
    upstream: str
    servers: list
    type: str
    path: str
    host_header: str | None
    expected_status: list
    subprotocols: list | None
    tls: bool
    validate_certs: bool
    ca_path: str | None
    timeout: float
    # The same check as upstream_health's arguments: its option names as keys, unset ones left out, so a task
    # passes it whole ("args:") and adds what the caller decides (min_healthy; servers or timeout of its own).
    upstream_health_args: dict = dataclasses.field(init=False)

    def __post_init__(self):
        args = {'servers': list(self.servers), 'check': self.type, 'path': self.path, 'host_header': self.host_header,
                'expected_status': list(self.expected_status), 'subprotocols': self.subprotocols, 'tls': self.tls,
                'validate_certs': self.validate_certs, 'ca_path': self.ca_path, 'timeout': self.timeout}
        self.upstream_health_args = {key: value for key, value in args.items() if value not in (None, '', [])
                                     or key == 'servers'}


@dataclasses.dataclass
class SiteTLS:
    """TLS termination of a site, rendered for the nginx build on the host."""
    # Where nginx reads them on the host; the *_src files (on the controller) are copied there.
    certificate: str
    certificate_key: str
    certificate_src: str | None
    certificate_key_src: str | None
    http2: bool
    # nginx >= 1.25.1 takes "http2 on;"; older ones a listen parameter.
    http2_directive: bool
    session_tickets_off: bool
    protocols: list
    ciphers: str
    ecdh_curve: str
    # Strict-Transport-Security value, None when off.
    hsts: str | None
    # Plain-HTTP listens of a server that redirects every request to https.
    redirect_listen: list
    # The https port the redirect names when it is not 443.
    redirect_port: int | None
    check_ca_path: str | None
    # SHA-1 (hex) of a certificate already on the host (no certificate_src), written in a comment of the site
    # file so that a renewed one changes the file; NOT_ON_HOST when the host has none. None with certificate_src.
    # (ACME sites: only says whether the host has the certificate; the renewal on the host reloads nginx itself.)
    certificate_sha1: str | None = None
    # Certificate from an ACME server (tls.acme), checked: {names, contact, directory, directory_ca_path,
    # key_type, webroot (websocket_proxy_acme_webroot, which the challenge location serves)}; None otherwise.
    acme: dict | None = None
    # An ACME site whose certificate the host does not have yet: its file holds only the plain-HTTP server (which
    # answers the challenge), since nginx -t fails on a missing certificate, and it has no proxy_checks.
    acme_pending: bool = False


@dataclasses.dataclass
class Site:
    name: str
    state: str
    file: str
    listen: list
    default_server: bool
    server_name: list
    upstreams: list
    websocket_locations: list
    proxy_locations: list
    static_locations: list
    extra_directives: list
    proxy_checks: list
    # No location covers "/" (nor a root or "location /" in extra_directives): the site gets a
    # "location / { return 404; }" so nginx never serves its compiled-in root (the
    # "Welcome to nginx!" page) for paths the site does not know.
    not_found_fallback: bool = False
    tls: SiteTLS | None = None
    # Trusted proxies that may set the client address (realip): {from, header, recursive}; None when off.
    real_ip: dict | None = None
    # http-level definitions the locations use: origin maps and limit zones.
    origin_maps: list = dataclasses.field(default_factory=list)
    limit_zones: list = dataclasses.field(default_factory=list)
    # Name of the site's session log format, when a location writes the session log.
    session_log_format: str | None = None


@dataclasses.dataclass
class ProxyConfig:
    config_dir: str
    map_file: str
    nginx_binary: str
    tls_dir: str
    check_upstreams: bool
    allow_unhealthy_upstreams: bool
    check_through_proxy: bool
    rollback_on_failed_check: bool
    sites: list
    removed_sites: list
    upstream_checks: list
    proxy_checks: list
    # Inventory host -> the checks of the upstreams it serves in, limited to its own servers
    # (down or not): how the drain playbook checks a backend before putting it back.
    host_checks: dict
    # The upstreams as proxy_status (and nginx_status.py) take them: name, server addresses, and whether a
    # WebSocket location passes to it (the status playbook, the demo's status service).
    status_upstreams: list
    # What certbot on the host does for the tls.acme sites: {config_dir, webroot, renew_calendar, sites}, each site
    # {name, names, contact, directory, directory_ca_path, key_type, certificate, certificate_key, pending,
    # check_address, server_name} (see _acme); sites is empty when no site uses ACME.
    acme: dict = dataclasses.field(default_factory=dict)
    # The arguments of the role's one websocket.nginx.nginx_transaction call: templates (with each
    # site), copies from the controller, directories, files to remove, upstream checks before the
    # change and checks through nginx after it (empty when turned off).
    transaction: dict = dataclasses.field(default_factory=dict)

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BackendHost:
    """What the inventory says about one host of a backend group."""
    name: str
    address: str
    port: object
    # Every name under which the host can appear in a listed server's address.
    aliases: list = dataclasses.field(default_factory=list)


def backend_hosts(hostvars, names, default_port):
    """:class:`BackendHost` for inventory hosts from their variables (any mapping per host).

    The address is ``websocket_backend_address``, else ``ansible_host``, else the
    inventory name; the port is ``websocket_backend_port``, else ``default_port``.
    """
    hosts = {}
    for name in names:
        variables = hostvars.get(name) or {}
        address = variables.get(HOST_ADDRESS_VARIABLE) or variables.get('ansible_host') or name
        port = variables.get(HOST_PORT_VARIABLE)
        aliases = [str(alias) for alias in (name, variables.get(HOST_ADDRESS_VARIABLE), variables.get('ansible_host')) if alias]
        hosts[name] = BackendHost(name, str(address), default_port if port in (None, '') else port, aliases)
    return hosts


def _port(address):
    """The port of a checked server address; None for unix sockets, 80 when none is written."""
    if address.startswith('unix:'):
        return None
    tail = address.rsplit(']', 1)[-1]
    return int(tail.rsplit(':', 1)[1]) if ':' in tail else 80


def check_timeout(value, what='timeout'):
    """Seconds a check may take: a finite number in (0, MAX_CHECK_TIMEOUT]."""
    if not 0 < value <= MAX_CHECK_TIMEOUT:
        raise ValueError('%s must be greater than 0 and at most %d seconds, got %s' % (what, MAX_CHECK_TIMEOUT, value))
    return value


def _variable_part(name):
    """A site name as part of an nginx variable name ([A-Za-z0-9_] only), distinct for distinct names."""
    return name.replace('_', '__').replace('.', '_d').replace('-', '_h')


def _where(*parts):
    return ', '.join(parts)


def _listen_port(listen):
    """The TCP port of a parsed listen; None for a unix socket."""
    return None if listen.key.startswith('unix:') else int(listen.key.rsplit(':', 1)[1])


def is_acme_name(name):
    """A name an ACME certificate can hold and HTTP-01 prove: a host name with a dot, not an IP address."""
    return (isinstance(name, str) and len(name) <= 253 and '.' in name and not name.endswith('.')
            and bool(nv.HOST_NAME.fullmatch(name)) and max(len(label) for label in name.split('.')) <= 63
            and not _is_ip_address(name))


def _is_ip_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_acme_name(value, what='name'):
    """A name for tls.acme.names; returned lower-cased (DNS names are case-insensitive, as certbot writes them)."""
    if isinstance(value, str) and ('*' in value or value.startswith('.')):
        raise ValueError('%s %s is a wildcard name, which the HTTP-01 challenge cannot prove (wildcard certificates '
                         'need DNS-01): list each host name' % (what, nv.show(value)))
    if not is_acme_name(value):
        raise ValueError('%s %s is not a host name such as chat.example.com (with a dot; an IP address is not one '
                         'here)' % (what, nv.show(value)))
    return value.lower()


def check_acme_contact(value, what='contact'):
    """One email address, local@host.name, for the ACME account."""
    error = ValueError('%s must be one email address such as admin@example.com (no "mailto:", spaces, commas or '
                       'control characters), got %s' % (what, nv.show(value)))
    if not isinstance(value, str) or len(value) > 254 or value.count('@') != 1:
        raise error
    local, domain = value.split('@')
    if len(local) > 64 or not ACME_CONTACT_LOCAL.fullmatch(local) or not is_acme_name(domain):
        raise error
    return value


def check_acme_directory(value, what='directory'):
    """An ACME directory URL (RFC 8555: https://)."""
    match = ACME_DIRECTORY.fullmatch(value) if isinstance(value, str) else None
    valid = match is not None
    if match:
        host = match.group(1)
        try:
            nv.check_host(host[1:-1] if host.startswith('[') else host)
            if match.group(2) is not None:
                nv.check_int(match.group(2), 'port', 1, 65535)
        except ValueError:
            valid = False
    if not valid:
        raise ValueError('%s %s is not an https:// URL with a host: RFC 8555 directories are https:// URLs, such as %s'
                         % (what, nv.show(value), ACME_DEFAULT_DIRECTORY))
    return value


def check_systemd_calendar(value, what='calendar'):
    """A systemd calendar expression (OnCalendar=), as far as its characters go; systemd reads the rest."""
    if not isinstance(value, str) or not SYSTEMD_CALENDAR.fullmatch(value) or not value.strip(' '):
        raise ValueError('%s must be a systemd calendar expression (OnCalendar=) such as daily or "*-*-* 03,15:27:00": '
                         'letters, digits, spaces and *-:,./~ only, got %s' % (what, nv.show(value)))
    return value


def _check_address(listen):
    """Where the proxy itself reaches a site: its first TCP listen, on loopback for wildcards."""
    for item in listen:
        if item.key.startswith('unix:'):
            continue
        host, port = item.key.rsplit(':', 1)
        return nv.format_address(nv.local_host(host.strip('[]')), int(port))
    return None


class _Builder(object):
    def __init__(self, params, groups, hosts, nginx_build=None, certificate_sha1=None):
        self.p = params
        self.groups = groups
        self.hosts = hosts
        self.certificate_sha1 = certificate_sha1 or {}
        self.problems = Problems()
        nginx_version, openssl_version = nginx_build or (None, None)
        self.nginx_version = nginx_version or DEFAULT_NGINX_BUILD[0]
        self.openssl_version = openssl_version or DEFAULT_NGINX_BUILD[1]

    def check(self, where, function, *args, **kwargs):
        return self.problems.check(where, function, *args, **kwargs)

    # -- settings ---------------------------------------------------------
    def settings(self):
        p = self.p
        self.config_dir = self.check('', nv.check_absolute_path, p['websocket_proxy_config_dir'],
                                     'websocket_proxy_config_dir', allow_root=False)
        prefix = p['websocket_proxy_file_prefix']
        if prefix and self.check('', nv.check_name, prefix, 'websocket_proxy_file_prefix') is None:
            prefix = None
        self.prefix = prefix
        self.nginx_binary = self.check('', nv.check_absolute_path, p['websocket_proxy_nginx_binary'],
                                       'websocket_proxy_nginx_binary', allow_root=False)
        # Checked once here; locations and upstreams that do not set their own inherit them as checked.
        self.defaults = {}
        for name in ('websocket_proxy_read_timeout', 'websocket_proxy_send_timeout', 'websocket_proxy_connect_timeout',
                     'websocket_proxy_http_read_timeout'):
            self.defaults[name] = self.check('', nv.check_time, p[name], name, allow_zero=False)
        self.defaults['websocket_proxy_buffer_size'] = self.check(
            '', nv.check_buffer_size, p['websocket_proxy_buffer_size'], 'websocket_proxy_buffer_size')
        self.defaults['websocket_proxy_next_upstream'] = self.check(
            '', nv.check_next_upstream, p['websocket_proxy_next_upstream'], 'websocket_proxy_next_upstream')
        self.defaults['websocket_proxy_upstream_keepalive'] = self.check(
            '', nv.check_int, p['websocket_proxy_upstream_keepalive'], 'websocket_proxy_upstream_keepalive', 0)
        self.check('', nv.check_int, p['websocket_proxy_backend_port'], 'websocket_proxy_backend_port', 1, 65535)
        self.defaults['websocket_proxy_static_expires'] = self.check(
            '', self._static_expires, p['websocket_proxy_static_expires'], 'websocket_proxy_static_expires')
        for mime in p['websocket_proxy_gzip_types']:
            self.check('', nv.check_mime_type, mime, 'websocket_proxy_gzip_types item')
        for name, check in (('websocket_proxy_check_path', nv.check_request_path),
                            ('websocket_proxy_check_timeout', check_timeout)):
            self.defaults[name] = self.check('', check, p[name], name)
        for name in p['websocket_proxy_down_servers']:
            self.check('', nv.check_text, name, 'websocket_proxy_down_servers item')
        self.check('', nv.check_text, p['websocket_proxy_backend_group'], 'websocket_proxy_backend_group')
        self.tls_dir = self.check('', nv.check_absolute_path, p['websocket_proxy_tls_dir'], 'websocket_proxy_tls_dir',
                                  allow_root=False)
        self.acme_config_dir = self.check('', nv.check_absolute_path, p['websocket_proxy_acme_config_dir'],
                                          'websocket_proxy_acme_config_dir', allow_root=False)
        self.acme_webroot = self.check('', nv.check_absolute_path, p['websocket_proxy_acme_webroot'],
                                       'websocket_proxy_acme_webroot', allow_root=False)
        self.acme_renew_calendar = self.check('', check_systemd_calendar, p['websocket_proxy_acme_renew_calendar'],
                                              'websocket_proxy_acme_renew_calendar')
        sources = [self.check('', nv.check_real_ip_source, item, 'websocket_proxy_real_ip_from item')
                   for item in p['websocket_proxy_real_ip_from']]
        header = p['websocket_proxy_real_ip_header']
        if header != 'proxy_protocol':
            header = self.check('', nv.check_header_name, header, 'websocket_proxy_real_ip_header')
        self.real_ip = {'from': sources, 'header': header, 'recursive': p['websocket_proxy_real_ip_recursive']} \
            if sources else None
        self.session_log_default = p['websocket_proxy_session_log']
        self.session_log_file = self.check('', self.session_log_path, p['websocket_proxy_session_log_file'])

    @staticmethod
    def session_log_path(value, what='websocket_proxy_session_log_file'):
        if value == 'off':
            raise ValueError('%s must be a file path, got "off"; set websocket_proxy_session_log: false to turn the '
                             'session log off' % what)
        return nv.check_log_file(value, what)

    def session_log(self, site_name, log_format, location, own, default):
        """``location.session_log``, or None; ``own``: the location's session_log setting (None: ``default``).

        The site and location are written into the location with ``set``, whose value is a script
        (hence script_literal: a path may hold "$"), and the log format reads them back.
        """
        wanted = default if own is None else own
        if not wanted or self.session_log_file is None or site_name is None or location.path is None:
            return None
        return {'file': self.session_log_file, 'format': log_format, 'site': nv.script_literal(site_name),
                'location': nv.script_literal(location.path)}

    @staticmethod
    def _static_expires(value, what):
        """``expires``: off, epoch, max, [modified] [+-]time, @time; returned as its words."""
        text = str(value)
        if text in ('off', 'epoch', 'max'):
            return [text]
        words = text.split(' ')
        if len(words) == 2 and words[0] == 'modified':
            words, time = ['modified'], words[1]
        else:
            words, time = [], text
        if time.startswith('@'):
            if words:
                raise ValueError('%s cannot combine "modified" with a daily time (@...), got %s' % (what, nv.show(text)))
            if nv.parse_time(time[1:], what, seconds=True) > 86400000:
                raise ValueError('%s daily time (@...) must be 24 hours at most, got %s' % (what, nv.show(text)))
        else:
            nv.parse_time(time[1:] if time[:1] in '+-' and time[1:] else time, what, seconds=True)
        return words + [time]

    def upstream_check(self, where, raw, name, servers, upstream_tls=None):
        """The upstream's health check (its own settings over the globals and the upstream's TLS); None when off."""
        raw = raw or {}
        if raw.get('enabled') is False:
            return None
        where = _where(where, 'health_check')
        # A TLS upstream is checked over TLS, verified as nginx verifies it, with its server name (SNI).
        tls_defaults = {'tls': True, 'validate_certs': upstream_tls['verify'], 'ca_path': upstream_tls['ca_path'],
                        'host_header': upstream_tls['server_name']} if upstream_tls else {}

        def own_or_default(key, default):
            if raw.get(key) is None:
                return tls_defaults.get(key, default)
            return raw[key]

        check_type = own_or_default('type', self.p['websocket_proxy_check_type'])
        path = self.defaults['websocket_proxy_check_path']
        if raw.get('path') is not None:
            path = self.check(where, nv.check_request_path, raw['path'], 'path')
        timeout = self.defaults['websocket_proxy_check_timeout']
        if raw.get('timeout') is not None:
            timeout = self.check(where, check_timeout, raw['timeout'], 'timeout')
        host_header = raw.get('host_header')
        if host_header is not None:
            host_header = self.check(where, nv.check_host_header, host_header, 'host_header')
        else:
            host_header = tls_defaults.get('host_header')
        expected_status = own_or_default('expected_status', [200])
        self.check(where, nv.check_status_codes, expected_status, 'expected_status')
        subprotocols = raw.get('subprotocols')
        if subprotocols is not None:
            self.check(where, nv.check_subprotocols, subprotocols, 'subprotocols')
        ca_path = raw.get('ca_path')
        if ca_path is not None:
            ca_path = self.check(where, nv.check_absolute_path, ca_path, 'ca_path', allow_root=False)
        else:
            ca_path = tls_defaults.get('ca_path')
        tls = own_or_default('tls', False)
        if not tls:
            for key in ('ca_path', 'validate_certs'):
                if raw.get(key) not in (None, True):
                    self.problems.add(where, '%s is only used with tls: true' % key)
        for key, only_for in (('expected_status', ('http',)), ('subprotocols', ('websocket',)), ('path', ('http', 'websocket'))):
            if raw.get(key) is not None and check_type not in only_for and raw.get(key) != [200]:
                self.problems.add(where, '%s is not used by type %s' % (key, check_type))
        return UpstreamCheck(
            upstream=name, type=check_type, path=path, host_header=host_header, expected_status=expected_status,
            subprotocols=subprotocols, tls=tls, validate_certs=own_or_default('validate_certs', True),
            ca_path=ca_path, timeout=timeout,
            servers=[server.address for server in servers if not server.down and not server.address.startswith('unix:')])

    def location_check(self, where, raw, location_path):
        """The location's settings of the check through nginx; None when turned off."""
        raw = raw or {}
        if raw.get('enabled') is False:
            return None
        where = _where(where, 'check')
        path = location_path
        if raw.get('path') is not None:
            path = self.check(where, nv.check_request_path, raw['path'], 'path')
            if path and location_path and not path.startswith(location_path):
                self.problems.add(where, 'path %s must start with the location path %s, or it checks another location'
                                  % (nv.show(path), nv.show(location_path)))
        subprotocols = raw.get('subprotocols')
        if subprotocols is not None:
            self.check(where, nv.check_subprotocols, subprotocols, 'subprotocols')
        return {'path': path, 'echo': bool(raw.get('echo')), 'subprotocols': subprotocols}

    # -- down servers -------------------------------------------------------
    def down_names(self):
        """Inventory host of each name under which a down server can appear in an address."""
        names = {}
        for host in self.p['websocket_proxy_down_servers']:
            names[str(host)] = str(host)
            for alias in self.hosts[host].aliases if host in self.hosts else []:
                names[alias] = str(host)
        return names

    # -- upstreams ------------------------------------------------------------
    def upstream(self, site_where, raw, down_names):
        where = _where(site_where, 'upstream %s' % nv.show(raw['name']))
        name = self.check(where, nv.check_name, raw['name'], 'name')
        method = raw['method']
        hash_key = raw['hash_key']
        if method == 'hash':
            if not hash_key:
                self.problems.add(where, 'method "hash" needs hash_key, such as $remote_addr')
            else:
                self.check(where, nv.check_variables, hash_key, 'hash_key')
        elif hash_key:
            self.problems.add(where, 'hash_key is only used with method "hash" (method is %s)' % method)
        if raw['hash_consistent'] and method != 'hash':
            self.problems.add(where, 'hash_consistent is only used with method "hash" (method is %s)' % method)
        keepalive = raw['keepalive']
        if keepalive is None:
            keepalive = self.defaults['websocket_proxy_upstream_keepalive']
        else:
            keepalive = self.check(where, nv.check_int, keepalive, 'keepalive', 0)

        servers = []
        if raw['servers'] is None:
            group = raw['backend_group'] or self.p['websocket_proxy_backend_group']
            members = self.groups.get(group) or []
            if not members:
                self.problems.add(where, 'no servers; list them in "servers" or put hosts in the inventory group %s' % group)
            for host in members:
                backend = self.hosts[host]
                address = self.check(_where(where, 'inventory host %s' % nv.show(host)), nv.backend_address,
                                     backend.address, backend.port)
                if address:
                    servers.append(Server(address=address, port=_port(address), down=host in down_names,
                                          inventory_host=host))
        else:
            if not raw['servers']:
                self.problems.add(where, 'servers is empty; list at least one, or leave it out to use the inventory group')
            for item in raw['servers']:
                server = self.server(where, item, method, down_names)
                if server:
                    servers.append(server)
        tls = self.upstream_tls(where, raw['tls'])
        return Upstream(name=name, method=method, hash_key=hash_key if method == 'hash' else None,
                        hash_consistent=raw['hash_consistent'], keepalive=keepalive, servers=servers, tls=tls,
                        health_check=self.upstream_check(where, raw['health_check'], name, servers, tls),
                        in_rotation=sum(1 for server in servers if not server.down and not server.backup),
                        inventory_hosts=[server.inventory_host for server in servers if server.inventory_host])

    def upstream_tls(self, where, raw):
        """TLS to the upstream's servers; None when off."""
        if not raw or not raw['enabled']:
            return None
        where = _where(where, 'tls')
        server_name = raw['server_name']
        if server_name is not None:
            server_name = self.check(where, nv.check_host, server_name, 'server_name')
        elif raw['verify']:
            self.problems.add(where, 'server_name is needed when verify is on: nginx checks the servers\' certificate '
                                     'against it (and sends it as SNI); the upstream name is not a host name')
        ca_path = self.check(where, nv.check_absolute_path, raw['ca_path'], 'ca_path', allow_root=False)
        return {'server_name': server_name, 'verify': raw['verify'], 'ca_path': ca_path}

    def server(self, upstream_where, raw, method, down_names):
        where = _where(upstream_where, 'server %s' % nv.show(raw['address']))
        address = self.check(where, nv.check_server_address, raw['address'], 'address')
        weight = self.check(where, nv.check_int, raw['weight'], 'weight', 1)
        max_fails = self.check(where, nv.check_int, raw['max_fails'], 'max_fails', 0)
        fail_timeout = self.check(where, nv.check_time, raw['fail_timeout'], 'fail_timeout', seconds=True)
        max_conns = self.check(where, nv.check_int, raw['max_conns'], 'max_conns', 0)
        if raw['backup'] and method not in BACKUP_METHODS:
            self.problems.add(where, 'backup servers work only with methods round_robin and least_conn, not %s' % method)
        if address is None:
            return None
        host = address[1:].split(']')[0] if address.startswith('[') else address.split(':', 1)[0]
        return Server(address=address, port=_port(address), weight=weight, max_fails=max_fails,
                      fail_timeout=fail_timeout, backup=raw['backup'], down=raw['down'] or host in down_names,
                      inventory_host=down_names.get(host), max_conns=max_conns or 0)

    # -- locations ----------------------------------------------------------------
    def location_path(self, where, path):
        nv.check_text(path, 'location path')
        if not path.startswith('/'):
            raise ValueError('location path %s must start with "/"' % nv.show(path))
        return path

    def proxy_location(self, site_where, raw, websocket, upstreams, ident):
        """``upstreams``: the site's upstreams by the names as written; ``ident``: the location's part of the
        names of its map variable and limit zones."""
        upstream_names = list(upstreams)
        where = _where(site_where, 'location %s' % nv.show(raw['path']))
        path = self.check(site_where, self.location_path, site_where, raw['path'])
        if raw['upstream'] not in upstream_names:
            self.problems.add(where, 'upstream %s is not an upstream of this site (%s)'
                              % (nv.show(raw['upstream']), ', '.join(upstream_names) or 'it has none'))

        def own_or_default(key, default_name, check, **kwargs):
            if raw[key] is None:
                return self.defaults[default_name]
            return self.check(where, check, raw[key], key, **kwargs)

        return ProxyLocation(
            path=path, upstream=raw['upstream'], websocket=websocket,
            read_timeout=own_or_default('read_timeout', 'websocket_proxy_read_timeout' if websocket
                                        else 'websocket_proxy_http_read_timeout', nv.check_time, allow_zero=False),
            send_timeout=own_or_default('send_timeout', 'websocket_proxy_send_timeout', nv.check_time,
                                        allow_zero=False) if websocket else None,
            connect_timeout=own_or_default('connect_timeout', 'websocket_proxy_connect_timeout', nv.check_time,
                                           allow_zero=False),
            next_upstream=own_or_default('next_upstream', 'websocket_proxy_next_upstream', nv.check_next_upstream),
            buffer_size=own_or_default('buffer_size', 'websocket_proxy_buffer_size', nv.check_buffer_size)
            if websocket else None,
            check=self.location_check(where, raw['check'], path) if websocket else None,
            upstream_tls=upstreams[raw['upstream']].tls if raw['upstream'] in upstreams else None,
            **(self.client_rules(where, raw, ident) if websocket else {})
        )

    def client_rules(self, where, raw, ident):
        """A WebSocket location's Origin allowlist and per-client limits, as ProxyLocation fields."""
        rules = {'allow_missing_origin': raw['allow_missing_origin']}
        if raw['allowed_origins']:
            rules['origins'] = [origin for origin in (self.check(where, nv.check_origin, item, 'allowed_origins item')
                                                      for item in raw['allowed_origins']) if origin]
            rules['origin_denied_variable'] = '$websocket_proxy_origin_denied_%s' % ident
        elif not raw['allow_missing_origin']:
            self.problems.add(where, 'allow_missing_origin: false needs allowed_origins (the origins that may connect)')
        limits = raw['client_limits']
        if limits:
            where = _where(where, 'client_limits')
            if limits['connections'] is None and limits['rate'] is None:
                self.problems.add(where, 'set connections, rate or both (or leave client_limits out)')
            if limits['connections'] is not None:
                connections = self.check(where, nv.check_int, limits['connections'], 'connections', 1)
                rules['limit_conn'] = {'zone': 'websocket_proxy_conn_%s' % ident, 'connections': connections}
            if limits['rate'] is not None:
                rate = self.check(where, nv.check_request_rate, limits['rate'], 'rate')
                burst = self.check(where, nv.check_int, limits['burst'], 'burst', 0)
                rules['limit_req'] = {'zone': 'websocket_proxy_req_%s' % ident, 'rate': rate, 'burst': burst}
            elif limits['burst']:
                self.problems.add(where, 'burst is only used with rate')
            rules['limit_status'] = limits['status']
        return rules

    def static_location(self, site_where, raw):
        where = _where(site_where, 'static location %s' % nv.show(raw['path']))
        path = self.check(site_where, self.location_path, site_where, raw['path'])
        root, alias = raw['root'], raw['alias']
        if bool(root) == bool(alias):
            self.problems.add(where, 'set exactly one of root and alias')
        elif root:
            root = self.check(where, nv.check_absolute_path, root, 'root', allow_root=False)
        else:
            alias = self.check(where, nv.check_absolute_path, alias, 'alias', allow_root=False)
            if path and not path.endswith('/'):
                self.problems.add(where, 'an alias location path must end with "/" (%s/), or a request such as %s../x '
                                         'would reach outside the alias directory' % (path, path))
            if alias:
                alias += '/'
        index = []
        for name in raw['index']:
            checked = self.check(where, nv.check_text, name, 'index file', allow_dollar=False)
            if checked is not None:
                if '/' in checked.strip('/') or checked in ('.', '..'):
                    self.problems.add(where, 'index file %s must be a file name, not a path' % nv.show(name))
                index.append(checked)
        if not raw['index']:
            self.problems.add(where, 'index needs at least one file name, such as index.html')
        from_default = raw['expires'] is None
        if from_default:
            expires = self.defaults['websocket_proxy_static_expires']
        else:
            expires = self.check(where, self._static_expires, raw['expires'], 'expires')
        cache_control = raw['cache_control']
        if cache_control:
            cache_control = self.check(where, nv.check_header_tokens, cache_control, 'cache_control')
        if cache_control and expires:
            expires, cache_control = self.static_cache_control(where, expires, from_default, cache_control)
        return StaticLocation(
            path=path, root=root or None, alias=alias or None, index=index,
            expires=expires or [],
            cache_control=cache_control or None, gzip=raw['gzip'],
            gzip_types=list(self.p['websocket_proxy_gzip_types']),
        )

    def static_cache_control(self, where, expires, from_default, cache_control):
        """``(expires, cache_control)`` of a static location that sets both: one Cache-Control value.

        nginx's expires always writes a Cache-Control header of its own, and add_header only adds
        another one, so where cache_control is set the max-age expires stands for goes into
        cache_control and expires is off. Only a time that gives every response the same max-age
        can: "modified ..." and "@..." are refused, and so is a cache_control that has its own
        max-age, no-cache or no-store next to the one expires would add. (None, None) on a problem.
        """
        if expires == ['off']:
            return expires, cache_control
        shown = 'expires %s%s' % (nv.show(' '.join(expires)), ' (websocket_proxy_static_expires)' if from_default else '')
        changes = None
        if expires[0] == 'modified':
            changes = "each file's modification time"
        elif expires[0].startswith('@'):
            changes = 'the time of day'
        if changes:
            self.problems.add(where, '%s cannot be combined with cache_control %s: the max-age nginx gives it changes with '
                                     '%s, and the location sends one Cache-Control header written in advance; use a fixed '
                                     'time such as 1h, or expires: off to send cache_control as it is'
                              % (shown, nv.show(cache_control), changes))
            return None, None
        directive = nv.expires_cache_control(expires[0])
        own = {part.split('=', 1)[0].strip(' ').lower() for part in cache_control.split(',')}
        clash = ' and '.join(name for name in ('max-age', 'no-cache', 'no-store') if name in own)
        if clash:
            self.problems.add(where, 'cache_control %s has its own %s, and %s would add %s to the same Cache-Control '
                                     'header; set expires: off in this location to send cache_control as it is, or take '
                                     '%s out of cache_control'
                              % (nv.show(cache_control), clash, shown, directive, clash))
            return None, None
        return ['off'], '%s, %s' % (cache_control, directive)

    def server_headers(self, where, site, extra_directives):
        """The server block's add_header directives, which the static locations repeat (StaticLocation.server_headers).

        HSTS, and the add_header directives at the top of extra_directives, except Cache-Control, Expires
        and X-Content-Type-Options: a static location's own (from expires and cache_control) stand for those.
        """
        headers = [['Strict-Transport-Security', site.tls.hsts, 'always']] if site.tls and site.tls.hsts else []
        for index, directives in extra_directives:
            for item in directives:
                if item.name != 'add_header' or item.children is not None or not item.args:
                    continue
                if item.args[0].lower() in STATIC_OWN_HEADERS:
                    continue
                if any(nv.CONTROL.search(arg) for arg in item.args):
                    self.problems.add(_where(where, 'extra_directives[%d]' % index),
                                      'add_header %s cannot be repeated in the static locations (a location with '
                                      'add_header of its own does not inherit the server\'s): its arguments hold a '
                                      'control character (an escape such as \\n), got %s'
                                      % (nv.show(item.args[0]), nv.show(' '.join(item.args))))
                    continue
                headers.append(list(item.args))
        return headers

    # -- sites --------------------------------------------------------------------
    def site(self, raw, down_names):
        where = 'site %s' % nv.show(raw['name'])
        name = self.check(where, nv.check_name, raw['name'], 'name')
        file = None
        if name and self.config_dir and self.prefix is not None:
            file = '%s/%s%s.conf' % (self.config_dir, self.prefix, name)
        site = Site(name=name, state=raw['state'], file=file, listen=[], default_server=raw['default_server'],
                    server_name=[], upstreams=[], websocket_locations=[], proxy_locations=[], static_locations=[],
                    extra_directives=[], proxy_checks=[])
        if raw['state'] == 'absent':
            return site
        if not raw['listen']:
            self.problems.add(where, 'listen needs at least one value, such as 80 or 127.0.0.1:8080')
        for value in raw['listen']:
            parsed = self.check(where, nv.parse_listen, value, 'listen value %s' % nv.show(value))
            if parsed:
                site.listen.append(Listen(key=parsed[0], address=parsed[1], params=parsed[2]))
        for server_name in raw['server_name']:
            if self.check(where, nv.check_text, server_name, 'server_name', allow_empty=True) is None:
                continue
            if server_name.startswith('~'):
                if ' ' in server_name:
                    self.problems.add(where, 'server_name regex %s must not contain spaces' % nv.show(server_name))
                    continue
            elif server_name not in ('_', '') and not nv.HOST_NAME.fullmatch(
                    server_name.removeprefix('*.').removeprefix('.').removesuffix('.*') or '-'):
                self.problems.add(where, 'server_name %s must be a host name such as example.com, *.example.com, '
                                         'example.*, "_" or a regex starting with "~"' % nv.show(server_name))
                continue
            site.server_name.append(server_name)
        site.tls = self.site_tls(where, raw, site.listen, site.server_name)
        site.real_ip = self.real_ip
        site.upstreams = [self.upstream(where, upstream, down_names) for upstream in raw['upstreams']]
        # By the names as written: a badly named upstream is reported once, not again by its locations.
        upstreams = {item['name']: upstream for item, upstream in zip(raw['upstreams'], site.upstreams)}
        ident = _variable_part(name or '')
        site.websocket_locations = [self.proxy_location(where, item, True, upstreams, '%s_%d' % (ident, index))
                                    for index, item in enumerate(raw['websocket_locations'])]
        site.proxy_locations = [self.proxy_location(where, item, False, upstreams, None) for item in raw['proxy_locations']]
        for location in site.websocket_locations:
            if location.origins is not None:
                site.origin_maps.append({'variable': location.origin_denied_variable, 'origins': location.origins,
                                         'allow_missing': location.allow_missing_origin})
            if location.limit_conn:
                site.limit_zones.append({'directive': 'limit_conn_zone', 'zone': location.limit_conn['zone'], 'rate': None})
            if location.limit_req:
                site.limit_zones.append({'directive': 'limit_req_zone', 'zone': location.limit_req['zone'],
                                         'rate': location.limit_req['rate']})
        site.static_locations = [self.static_location(where, item) for item in raw['static_locations']]
        # On by default where WebSockets are proxied; plain HTTP and static locations keep nginx's access log.
        log_format = 'websocket_proxy_session_%s' % ident
        for items, locations, default in ((raw['websocket_locations'], site.websocket_locations, self.session_log_default),
                                          (raw['proxy_locations'], site.proxy_locations, False),
                                          (raw['static_locations'], site.static_locations, False)):
            for item, location in zip(items, locations):
                location.session_log = self.session_log(name, log_format, location, item['session_log'], default)
                if location.session_log:
                    site.session_log_format = log_format
        paths = [location.path for location in site.websocket_locations + site.proxy_locations + site.static_locations]
        for path in sorted({path for path in paths if path and paths.count(path) > 1}):
            self.problems.add(where, 'location path %s is used more than once' % nv.show(path))
        covers_root = '/' in paths
        parsed_extra = []
        for index, text in enumerate(raw['extra_directives']):
            directives = self.check(_where(where, 'extra_directives[%d]' % index), nv.check_raw_directives, text)
            if directives is not None:
                parsed_extra.append((index, directives))
                # Only nginx's own whitespace is trimmed: str.strip() would also drop characters
                # (\x0c, \x85, ...) that nginx reads as part of a word.
                site.extra_directives.append(text.strip(nv.NGINX_WHITESPACE))
                covers_root = covers_root or any(
                    item.name == 'root' or (item.name == 'location' and item.args == ['/']) for item in directives)
        site.not_found_fallback = not covers_root
        if site.static_locations:
            headers = self.server_headers(where, site, parsed_extra)
            for location in site.static_locations:
                location.server_headers = [list(header) for header in headers]
        address = _check_address(site.listen)
        host_header = next((name for name in site.server_name if name not in ('_', '') and not name.startswith(('~', '*', '.'))
                            and not name.endswith('.*')), None)
        if address and not (site.tls and site.tls.acme_pending):
            site.proxy_checks = [
                ProxyCheck(site=name, location=location.path, path=location.check['path'], address=address,
                           host_header=host_header, echo=location.check['echo'],
                           subprotocols=location.check['subprotocols'],
                           timeout=self.defaults['websocket_proxy_check_timeout'],
                           tls=site.tls is not None, ca_path=site.tls.check_ca_path if site.tls else None,
                           # An allowed origin, so that the check passes the allowlist the way a browser does.
                           origin=location.origins[0] if location.origins else None)
                for location in site.websocket_locations if location.check]
        return site

    def site_tls(self, where, raw, listen, server_names):
        """The site's TLS termination (SiteTLS), or None; every listen of a TLS site gets "ssl"."""
        tls = raw['tls']
        if not tls:
            for item in listen:
                if 'ssl' in item.params:
                    self.problems.add(where, 'listen %s has "ssl" but the site has no tls settings (certificate and '
                                             'key)' % nv.show(' '.join([item.address] + item.params)))
            return None
        where = _where(where, 'tls')
        files = {}
        for key, suffix in (('certificate', '.crt'), ('certificate_key', '.key')):
            on_host, on_controller = tls[key], tls[key + '_src']
            if tls['acme'] is not None:
                # Where the host side puts what certbot got, as for the _src files.
                if self.tls_dir and raw['name'] and nv.NAME.fullmatch(raw['name']):
                    files[key] = '%s/%s%s' % (self.tls_dir, raw['name'], suffix)
            elif (on_host is None) == (on_controller is None):
                self.problems.add(where, 'set exactly one of %s (a file on the host) and %s_src (a file on the '
                                         'controller, copied to the host)' % (key, key))
            elif on_host is not None:
                files[key] = self.check(where, nv.check_absolute_path, on_host, key, allow_root=False)
            else:
                self.check(where, nv.check_text, on_controller, key + '_src')
                files[key + '_src'] = on_controller
                if self.tls_dir and raw['name'] and nv.NAME.fullmatch(raw['name']):
                    files[key] = '%s/%s%s' % (self.tls_dir, raw['name'], suffix)
        if tls['acme'] is not None:
            given = [key for key in ('certificate', 'certificate_key', 'certificate_src', 'certificate_key_src')
                     if tls[key] is not None]
            if given:
                self.problems.add(where, 'acme gets the certificate and its key from the ACME server itself: '
                                         'leave out %s' % ', '.join(given))
        new_http2 = self.nginx_version >= HTTP2_DIRECTIVE_SINCE
        for item in listen:
            if item.key.startswith('unix:'):
                continue
            if 'http2' in item.params:
                self.problems.add(where, 'listen %s: leave "http2" out and use tls.http2, which is written the way '
                                         'this nginx takes it' % nv.show(' '.join([item.address] + item.params)))
                continue
            if 'ssl' not in item.params:
                item.params.append('ssl')
            if tls['http2'] and not new_http2:
                item.params.append('http2')
        max_age = self.check(where, nv.check_int, tls['hsts_max_age'], 'hsts_max_age', 0)
        hsts = None
        if tls['hsts']:
            hsts = 'max-age=%d%s' % (max_age or 0, '; includeSubDomains' if tls['hsts_include_subdomains'] else '')
        redirect = []
        for value in tls['redirect_http']:
            parsed = self.check(where, nv.parse_listen, value, 'redirect_http value %s' % nv.show(value))
            if parsed:
                if set(parsed[2]) & {'ssl', 'http2', 'quic'}:
                    self.problems.add(where, 'redirect_http value %s is plain HTTP: no ssl, http2 or quic'
                                      % nv.show(value))
                redirect.append(Listen(key=parsed[0], address=parsed[1], params=parsed[2]))
        tls_ports = [int(item.key.rsplit(':', 1)[1]) for item in listen if not item.key.startswith('unix:')]
        for item in redirect:
            if item.key in [other.key for other in listen]:
                self.problems.add(where, 'redirect_http %s is also a TLS listen of this site' % nv.show(item.key))
        check_ca_path = tls['check_ca_path']
        if check_ca_path is not None:
            check_ca_path = self.check(where, nv.check_absolute_path, check_ca_path, 'check_ca_path', allow_root=False)
        curves = [curve for curve in TLS_CURVES
                  if curve != 'X25519MLKEM768' or self.openssl_version >= TLS_PQ_CURVE_SINCE_OPENSSL]
        checksum = None
        if 'certificate_src' not in files and files.get('certificate'):
            checksum = self.certificate_sha1.get(files['certificate']) or NOT_ON_HOST
            if checksum != NOT_ON_HOST and not (isinstance(checksum, str) and SHA1.fullmatch(checksum)):
                self.problems.add(where, 'the host gave %s as the SHA-1 of certificate %s'
                                  % (nv.show(checksum), files['certificate']))
        acme = None
        if tls['acme'] is not None:
            acme = self.site_acme(_where(where, 'acme'), tls['acme'], server_names, redirect,
                                  len(redirect) == len(tls['redirect_http']))
        return SiteTLS(
            certificate=files.get('certificate'), certificate_key=files.get('certificate_key'),
            certificate_src=files.get('certificate_src'), certificate_key_src=files.get('certificate_key_src'),
            certificate_sha1=checksum,
            http2=tls['http2'], http2_directive=new_http2, session_tickets_off=self.nginx_version < TICKET_KEY_ROTATION_SINCE,
            protocols=list(TLS_PROTOCOLS), ciphers=':'.join(TLS_CIPHERS), ecdh_curve=':'.join(curves), hsts=hsts,
            redirect_listen=redirect, redirect_port=None if not tls_ports or tls_ports[0] == 443 else tls_ports[0],
            check_ca_path=check_ca_path, acme=acme, acme_pending=acme is not None and checksum == NOT_ON_HOST)

    def site_acme(self, where, raw, server_names, redirect, redirect_parsed):
        """SiteTLS.acme of a site with tls.acme: its checked settings.

        ``redirect``: the site's parsed tls.redirect_http listens (``redirect_parsed``: every value parsed, so that
        a bad value is not also reported as a missing port 80).
        """
        contact = raw['contact']
        if contact in (None, ''):
            self.problems.add(where, 'contact is required: the email address of the ACME account, to which the CA '
                                     'writes about certificates that are about to expire and about problems')
        else:
            contact = self.check(where, check_acme_contact, contact, 'contact')
        if raw['names']:
            names = [self.check(where, check_acme_name, value, 'names item') for value in raw['names']]
        else:
            names = [name.lower() for name in server_names if is_acme_name(name)]
            if not names:
                self.problems.add(where, 'names is empty and server_name has no host name to take them from (only "_", '
                                         'regexes, wildcards, IP addresses or names without a dot): list the '
                                         "certificate's names in acme.names")
        directory = self.check(where, check_acme_directory, raw['directory'], 'directory')
        ca_path = raw['directory_ca_path']
        if ca_path is not None:
            ca_path = self.check(where, nv.check_absolute_path, ca_path, 'directory_ca_path', allow_root=False)
        if redirect_parsed and ACME_CHALLENGE_PORT not in [_listen_port(item) for item in redirect]:
            self.problems.add(where, 'the HTTP-01 challenge comes over plain HTTP to port %d, where this site does not '
                                     'listen: add %d to tls.redirect_http' % (ACME_CHALLENGE_PORT, ACME_CHALLENGE_PORT))
        return {'names': list(dict.fromkeys(name for name in names if name)), 'contact': contact,
                'directory': directory, 'directory_ca_path': ca_path, 'key_type': raw['key_type'],
                'webroot': self.acme_webroot}

    def across_sites(self, sites):
        names = [site.name for site in sites if site.name]
        for name in sorted({name for name in names if names.count(name) > 1}):
            self.problems.add('site %s' % nv.show(name), 'defined more than once')
        present = [site for site in sites if site.state == 'present']
        upstreams = [upstream.name for site in present for upstream in site.upstreams if upstream.name]
        for name in sorted({name for name in upstreams if upstreams.count(name) > 1}):
            self.problems.add('', 'upstream %s is defined more than once; upstream names must be unique across all sites'
                              % nv.show(name))
        defaults = {}
        names_on = {}
        for site in present:
            for listen in site.listen + (site.tls.redirect_listen if site.tls else []):
                if site.default_server:
                    if listen.key in defaults and defaults[listen.key] != site.name:
                        self.problems.add('site %s' % nv.show(site.name), 'is the default server of %s, and so is site %s; '
                                          'only one site may be' % (listen.key, nv.show(defaults[listen.key])))
                    defaults.setdefault(listen.key, site.name)
                for server_name in site.server_name:
                    key = (listen.key, server_name.lower())
                    other = names_on.setdefault(key, site.name)
                    if other != site.name:
                        self.problems.add('site %s' % nv.show(site.name), 'server_name %s on %s is also served by site %s'
                                          % (nv.show(server_name), listen.key, nv.show(other)))


def host_needs(variables):
    """What :func:`build` needs to know about the host for these variables; raises ModelError like build.

    ``tls``: a site to deploy has TLS, whose settings depend on the host's nginx build.
    ``acme``: a site to deploy has tls.acme (the role then installs certbot unless the host has it).
    ``certificates``: the certificate files on the host that TLS sites name (those without
    ``certificate_src``), whose SHA-1 goes into their site files, and those of ACME sites
    (``<websocket_proxy_tls_dir>/<site>.crt``), whose SHA-1 says whether the host has them yet.
    Paths that are not valid are left out: build refuses them.
    """
    params = validate_role_variables(ROLE, variables)
    tls_sites = [site for site in params['websocket_proxy_sites'] if site['state'] == 'present' and site['tls']]
    try:
        tls_dir = nv.check_absolute_path(params['websocket_proxy_tls_dir'], 'websocket_proxy_tls_dir', allow_root=False)
    except ValueError:
        tls_dir = None
    certificates = []
    for site in tls_sites:
        item = site['tls']
        path = None
        if item['acme'] is not None:
            if tls_dir and nv.NAME.fullmatch(site['name']):
                path = '%s/%s.crt' % (tls_dir, site['name'])
        elif item['certificate_src'] is None and item['certificate'] is not None:
            try:
                path = nv.check_absolute_path(item['certificate'], 'certificate', allow_root=False)
            except ValueError:
                pass
        if path and path not in certificates:
            certificates.append(path)
    return {'tls': bool(tls_sites), 'acme': any(site['tls']['acme'] is not None for site in tls_sites),
            'certificates': certificates}


def build(variables, hostvars=None, groups=None, nginx_build=None, certificate_sha1=None):
    """Validate and normalize the websocket_proxy role's variables.

    ``variables``: the play's values of the role's variables (as the role sees
    them). ``groups``: inventory group name -> host names. ``hostvars``: host name
    -> its variables (only ``websocket_backend_address``, ``ansible_host`` and
    ``websocket_backend_port`` are read). ``nginx_build``: ``(nginx_version, openssl_version)``
    tuples of the host's nginx (:func:`.nginx_values.parse_nginx_build`), for the TLS settings it
    takes; DEFAULT_NGINX_BUILD when unknown. ``certificate_sha1``: path -> SHA-1 (hex) of the
    certificate files on the host (:func:`host_needs`), None or missing for those it does not have.
    Returns a :class:`ProxyConfig`; raises ModelError listing every problem.
    """
    params = validate_role_variables(ROLE, variables)
    groups = groups or {}
    hostvars = hostvars or {}
    wanted = set(params['websocket_proxy_down_servers'])
    for site in params['websocket_proxy_sites']:
        for upstream in site['upstreams']:
            if upstream['servers'] is None:
                wanted.update(groups.get(upstream['backend_group'] or params['websocket_proxy_backend_group']) or [])
    hosts = backend_hosts(hostvars, sorted(wanted), params['websocket_proxy_backend_port'])
    builder = _Builder(params, groups, hosts, nginx_build, certificate_sha1)
    builder.settings()
    down_names = builder.down_names()
    sites = [builder.site(raw, down_names) for raw in params['websocket_proxy_sites']]
    builder.across_sites(sites)
    if params['websocket_proxy_reuseport']:
        _spread_over_workers(sites)
    builder.problems.raise_if_any()
    present = [site for site in sites if site.state == 'present']
    config = ProxyConfig(
        config_dir=builder.config_dir,
        map_file='%s/%supgrade-map.conf' % (builder.config_dir, builder.prefix),
        nginx_binary=builder.nginx_binary,
        tls_dir=builder.tls_dir,
        check_upstreams=params['websocket_proxy_check_upstreams'],
        allow_unhealthy_upstreams=params['websocket_proxy_allow_unhealthy_upstreams'],
        check_through_proxy=params['websocket_proxy_check_through_proxy'],
        rollback_on_failed_check=params['websocket_proxy_rollback_on_failed_check'],
        sites=present,
        removed_sites=[site for site in sites if site.state == 'absent'],
        upstream_checks=[upstream.health_check for site in present for upstream in site.upstreams
                         if upstream.health_check and upstream.health_check.servers],
        proxy_checks=[check for site in present for check in site.proxy_checks],
        host_checks=_host_checks(present),
        status_upstreams=[{'name': upstream.name, 'servers': [server.address for server in upstream.servers],
                           'websocket': any(location.upstream == upstream.name for location in site.websocket_locations)}
                          for site in present for upstream in site.upstreams],
        acme=_acme(builder, present),
    )
    config.transaction = _transaction(config)
    return config


def _acme(builder, sites):
    """ProxyConfig.acme: what certbot on the host needs, for each site with tls.acme."""
    return {
        'config_dir': builder.acme_config_dir,
        'webroot': builder.acme_webroot,
        'renew_calendar': builder.acme_renew_calendar,
        'sites': [{
            'name': site.name, 'names': list(site.tls.acme['names']), 'contact': site.tls.acme['contact'],
            'directory': site.tls.acme['directory'], 'directory_ca_path': site.tls.acme['directory_ca_path'],
            'key_type': site.tls.acme['key_type'],
            'certificate': site.tls.certificate, 'certificate_key': site.tls.certificate_key,
            'pending': site.tls.acme_pending,
            # Where a check through nginx reaches the site (as its ProxyCheck), and the name to ask for (SNI).
            'check_address': _check_address(site.listen), 'server_name': site.tls.acme['names'][0],
        } for site in sites if site.tls and site.tls.acme],
    }


def _transaction(config):
    """The role's change as nginx_transaction arguments (see ProxyConfig.transaction)."""
    copies = []
    for site in config.sites:
        if site.tls and site.tls.certificate_src:
            copies.append({'src': site.tls.certificate_src, 'dest': site.tls.certificate, 'mode': '0644'})
        if site.tls and site.tls.certificate_key_src:
            copies.append({'src': site.tls.certificate_key_src, 'dest': site.tls.certificate_key, 'private': True})
    min_healthy = 0 if config.allow_unhealthy_upstreams else 1
    return {
        'templates': [{'src': 'upgrade_map.conf.j2', 'dest': config.map_file}]
        + [{'src': 'site.conf.j2', 'dest': site.file, 'vars': {'site': site}} for site in config.sites],
        'copies': copies,
        # The host side writes the ACME sites' keys there too.
        'directories': [{'path': config.tls_dir, 'mode': '0700'}] if copies or config.acme['sites'] else [],
        'remove': [site.file for site in config.removed_sites],
        # Created www-data:adm 0640 (as Debian's own nginx logs) before nginx would create them root's and readable by all.
        'log_files': [{'path': path} for path in sorted({location.session_log['file'] for site in config.sites
                                                         for location in site.websocket_locations + site.proxy_locations
                                                         + site.static_locations if location.session_log})],
        'upstream_checks': [dict(check.upstream_health_args, name=check.upstream, min_healthy=min_healthy)
                            for check in config.upstream_checks] if config.check_upstreams else [],
        'proxy_checks': list(config.proxy_checks) if config.check_through_proxy else [],
    }


# Listen parameters that set options of the socket: nginx takes them on one listen per address.
SOCKET_OPTIONS = ('backlog', 'rcvbuf', 'sndbuf', 'ipv6only', 'so_keepalive', 'fastopen', 'setfib', 'accept_filter',
                  'deferred', 'bind', 'reuseport')


def _spread_over_workers(sites):
    """Give each TCP address the sites listen on "reuseport", once (nginx refuses it twice).

    Each worker then accepts from a socket of its own and the kernel spreads new connections
    over them evenly; without it, most connections of a burst go to whichever worker wakes first,
    and that one runs out of connections while the others have room. It goes on the listen that
    already sets socket options for that address, or on the first one.
    """
    by_address = {}
    for site in sites:
        if site.state != 'present':
            continue
        # A pending ACME site's TLS listens are not written yet (only its plain-HTTP server is).
        listens = [] if site.tls and site.tls.acme_pending else site.listen
        for listen in listens + (site.tls.redirect_listen if site.tls else []):
            if not listen.key.startswith('unix:') and 'quic' not in listen.params:
                by_address.setdefault(listen.key, []).append(listen)
    for listens in by_address.values():
        if any('reuseport' in listen.params for listen in listens):
            continue
        with_options = [listen for listen in listens
                        if any(param.split('=', 1)[0] in SOCKET_OPTIONS for param in listen.params)]
        (with_options or listens)[0].params.append('reuseport')


def _host_checks(sites):
    checks = {}
    for upstream in (upstream for site in sites for upstream in site.upstreams if upstream.health_check):
        for host in dict.fromkeys(upstream.inventory_hosts):
            servers = [server.address for server in upstream.servers
                       if server.inventory_host == host and not server.address.startswith('unix:')]
            if servers:
                checks.setdefault(host, []).append(dataclasses.replace(upstream.health_check, servers=servers))
    return checks
