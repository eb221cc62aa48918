# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Certificates from an ACME CA for the sites with tls.acme: certbot gets and renews them, this deploys them.

certbot (Debian's package) keeps its own directories (``--config-dir --work-dir --logs-dir``, not
/etc/letsencrypt), proves the names with HTTP-01 through the webroot that each site's plain-HTTP server
serves at /.well-known/acme-challenge/, and keeps one lineage per site, named after the site
(``<config_dir>/live/<site>/fullchain.pem, privkey.pem``). For each site, :func:`ensure`:

1. issues (``certbot certonly``) when the site has no lineage, or its lineage was made for other names,
   another directory, key type or webroot (read from ``<config_dir>/renewal/<site>.conf``); with
   ``renew`` (the renewal timer) it runs ``certbot renew --cert-name <site>`` on a lineage that matches,
   which renews it when it is due (or always, with ``force``). A certificate the CA refuses changes nothing:
   the site fails with certbot's words, the other sites go on;
2. deploys the lineage when its files differ from the site's certificate and key, as one small
   transaction: the previous files are kept in memory, the key (0600) then the certificate (0644) are
   written atomically. A site whose certificate was not on the host yet (``pending``: nginx does not serve
   its TLS server) stops there: the role renders that server next. Otherwise ``nginx -t``, a reload that
   waits until the new workers serve (nginx_reload.py), and a TLS handshake through nginx that must get the
   new certificate; when a step fails, the previous files are put back (and nginx reloaded when it was).

Deploys hold the lock of the configuration transactions (config_transaction.py), so that a renewal by the
timer never lands in the middle of a change by the role.

Standard library only (beside nginx_reload.py): besides websocket.nginx.acme_certificate, this file runs as a
plain script on the hosts, from the renewal timer's service:

    python3 acme_certbot.py renew --settings FILE [--force]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import socket
import ssl
import subprocess
import sys

try:
    from ansible_collections.websocket.nginx.plugins.module_utils import nginx_reload
except ImportError:  # a plain script on the host, beside its copy of nginx_reload.py
    import nginx_reload  # pylint: disable=import-error

ReloadError = nginx_reload.ReloadError

DEFAULTS = {
    'config_dir': '/etc/websocket-nginx/acme',
    'work_dir': '/var/lib/websocket-nginx/acme',
    'logs_dir': '/var/log/websocket-nginx/acme',
    'webroot': '/var/lib/websocket-nginx/acme-challenge',
    'nginx_binary': '/usr/sbin/nginx',
    'nginx_config': '/etc/nginx/nginx.conf',
    'pid_file': '/run/nginx.pid',
    'certbot': '/usr/bin/certbot',
    # config_transaction.py's DEFAULT_STATE_DIR: deploys take its lock (StateLock).
    'state_dir': '/var/lib/websocket-nginx/transaction',
    'reload_timeout': 30.0,
}
PATH_SETTINGS = ('config_dir', 'work_dir', 'logs_dir', 'webroot', 'nginx_binary', 'nginx_config', 'pid_file', 'certbot',
                 'state_dir')
SCRIPT_FILES = ('acme_certbot.py', 'nginx_reload.py')
KEY_TYPES = ('ecdsa', 'rsa')
CERTBOT_TIMEOUT = 600
NGINX_TEST_TIMEOUT = 60
LOCK = 'lock'
LOCK_TIMEOUT = 120.0
CHECK_TIMEOUT = 10.0
# certbot's default renew_before_expiry: what check mode takes as "due".
RENEW_BEFORE = datetime.timedelta(days=30)
OUTPUT_LINES = 20
# certbot's logs (in logs_dir) are rotated at each run, keeping the logs of this many runs before it: Debian's
# /etc/letsencrypt/cli.ini turns that off (max-log-backups = 0) for its logrotate rule, which covers only
# /var/log/letsencrypt.
LOG_BACKUPS = 20

SITE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,199}')
DNS_NAME = re.compile(r'(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?')
CONTACT = re.compile(r'[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+')
DIRECTORY = re.compile(r'https://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~%/:@+=,&?-]*)?')
ADDRESS = re.compile(r'(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z.-]+):([0-9]{1,5})')
PEM_CERTIFICATE = re.compile(rb'-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----')


class AcmeError(Exception):
    """A step failed; ``msg`` says which and why."""

    def __init__(self, msg):
        super(AcmeError, self).__init__(msg)
        self.msg = msg


def _text(value):
    return nginx_reload.to_text(value, errors='surrogate_or_replace')


# ---------------------------------------------------------------------------
# The settings
# ---------------------------------------------------------------------------

def _path(value, what, problems):
    if not isinstance(value, str) or not value.startswith('/') or os.path.normpath(value) != value or value == '/' \
            or any(ord(char) < 32 or ord(char) == 127 for char in value):
        problems.append('%s must be a normalized absolute path (not "/", no control characters), got %r' % (what, value))
    return value


def _site(raw, index, problems):
    where = 'sites[%d]' % index
    if not isinstance(raw, dict):
        problems.append('%s must be a dict, got %r' % (where, raw))
        return None
    site = dict(raw)
    name = site.get('name')
    if not isinstance(name, str) or not SITE_NAME.fullmatch(name):
        problems.append("%s.name must be letters, digits, '.', '_' and '-' (starting with a letter or digit), got %r"
                        % (where, name))
    else:
        where = 'site %s' % name
    names = site.get('names')
    if not isinstance(names, list) or not names or \
            not all(isinstance(item, str) and DNS_NAME.fullmatch(item) for item in names):
        problems.append('%s: names must be a non-empty list of lower-case host names with a dot, got %r' % (where, names))
    elif len(set(names)) != len(names):
        problems.append('%s: names must not repeat a name, got %r' % (where, names))
    contact = site.get('contact')
    if not isinstance(contact, str) or len(contact) > 254 or not CONTACT.fullmatch(contact):
        problems.append('%s: contact must be one email address, got %r' % (where, contact))
    directory = site.get('directory')
    if not isinstance(directory, str) or not DIRECTORY.fullmatch(directory):
        problems.append('%s: directory must be an https:// URL, got %r' % (where, directory))
    site.setdefault('directory_ca_path', None)
    if site['directory_ca_path'] is not None:
        _path(site['directory_ca_path'], '%s: directory_ca_path' % where, problems)
    site.setdefault('key_type', 'ecdsa')
    if site['key_type'] not in KEY_TYPES:
        problems.append('%s: key_type must be one of %s, got %r' % (where, ', '.join(KEY_TYPES), site['key_type']))
    for key in ('certificate', 'certificate_key'):
        _path(site.get(key), '%s: %s' % (where, key), problems)
    if site.get('certificate') is not None and site.get('certificate') == site.get('certificate_key'):
        problems.append('%s: certificate and certificate_key must be two files' % where)
    site.setdefault('pending', False)
    if not isinstance(site['pending'], bool):
        problems.append('%s: pending must be true or false, got %r' % (where, site['pending']))
    site.setdefault('check_address', None)
    address = site['check_address']
    if address is not None and (not isinstance(address, str) or not ADDRESS.fullmatch(address)
                                or not 0 < int(ADDRESS.fullmatch(address).group(2)) < 65536):
        problems.append('%s: check_address must be host:port (or [IPv6]:port), got %r' % (where, address))
    if site.get('server_name') is None and isinstance(names, list) and names:
        site['server_name'] = names[0]
    if not isinstance(site.get('server_name'), str) or not DNS_NAME.fullmatch(site['server_name']):
        problems.append('%s: server_name must be a host name, got %r' % (where, site.get('server_name')))
    return site


def check_settings(settings):
    """The settings with their defaults, checked again (the site model checked them; certbot gets them as arguments,
    without a shell, so they must be what they claim to be). Raises AcmeError naming every problem."""
    if not isinstance(settings, dict):
        raise AcmeError('the settings must be a dict, got %r' % (settings,))
    problems = []
    checked = dict(DEFAULTS)
    checked.update((key, value) for key, value in settings.items() if value is not None)
    for key in PATH_SETTINGS:
        _path(checked[key], key, problems)
    timeout = checked['reload_timeout']
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= nginx_reload.MAX_TIMEOUT:
        problems.append('reload_timeout must be seconds, more than 0 and at most %d, got %r' % (nginx_reload.MAX_TIMEOUT, timeout))
    sites = checked.get('sites')
    if not isinstance(sites, list):
        problems.append('sites must be a list, got %r' % (sites,))
        sites = []
    checked['sites'] = [_site(raw, index, problems) for index, raw in enumerate(sites)]
    names = [site['name'] for site in checked['sites'] if site is not None]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append('site %s is listed more than once' % name)
    files = [site[key] for site in checked['sites'] if site is not None for key in ('certificate', 'certificate_key')]
    for path in sorted({path for path in files if isinstance(path, str) and files.count(path) > 1}):
        problems.append('%s is the certificate or key of more than one site' % path)
    if problems:
        raise AcmeError('invalid settings: ' + '; '.join(problems))
    return checked


# ---------------------------------------------------------------------------
# Certificates (DER read just far enough for the serial number and the end of validity)
# ---------------------------------------------------------------------------

def _der_item(data, offset):
    """``(tag, start of the content, end)`` of the DER item at ``offset``."""
    if offset + 2 > len(data):
        raise ValueError('truncated')
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7f
        if not 1 <= count <= 4:
            raise ValueError('bad length')
        length = int.from_bytes(data[offset:offset + count], 'big')
        offset += count
    if offset + length > len(data):
        raise ValueError('truncated')
    return tag, offset, offset + length


def _der_time(tag, text):
    if tag == 0x17:  # UTCTime, YYMMDDHHMMSSZ (RFC 5280: 50-99 are 19xx)
        year = int(text[:2])
        text = '%d%s' % (year + (1900 if year >= 50 else 2000), text[2:])
    return datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ').replace(tzinfo=datetime.timezone.utc)


def certificate_info(der):
    """``{'serial': lower-case hex, 'not_after': datetime (UTC)}`` of a DER certificate; raises ValueError."""
    _tag, start, _end = _der_item(der, 0)                # Certificate
    _tag, position, _end = _der_item(der, start)         # TBSCertificate
    tag, start, end = _der_item(der, position)
    if tag == 0xa0:                                      # [0] version
        tag, start, end = _der_item(der, end)
    if tag != 0x02:
        raise ValueError('no serial number')
    serial = int.from_bytes(der[start:end], 'big')
    _tag, _start, end = _der_item(der, end)              # signature algorithm
    _tag, _start, end = _der_item(der, end)              # issuer
    _tag, start, _end = _der_item(der, end)              # validity
    _tag, _start, end = _der_item(der, start)            # notBefore
    tag, start, end = _der_item(der, end)                # notAfter
    return {'serial': format(serial, 'x'), 'not_after': _der_time(tag, der[start:end].decode('ascii'))}


def leaf_der(pem):
    """DER of the first certificate in the PEM bytes ``pem`` (a fullchain's leaf), or None."""
    match = PEM_CERTIFICATE.search(pem or b'')
    if match is None:
        return None
    try:
        return ssl.PEM_cert_to_DER_cert(match.group(0).decode('ascii'))
    except ValueError:
        return None


def _info(pem):
    der = leaf_der(pem)
    try:
        return certificate_info(der) if der else None
    except ValueError:
        return None


def _iso(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ') if when else None


def served_certificate(address, server_name, timeout=CHECK_TIMEOUT):
    """DER of the leaf certificate nginx serves at ``address`` (host:port) for ``server_name`` (SNI), unverified:
    the caller compares it with the one it deployed. Raises OSError."""
    host, port = ADDRESS.fullmatch(address).groups()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host.strip('[]'), int(port)), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True)


# ---------------------------------------------------------------------------
# Lineages
# ---------------------------------------------------------------------------

def lineage(config_dir, name):
    """What certbot keeps for the lineage ``name``, or None: ``{'fullchain', 'privkey'}`` (bytes, None when missing)
    and from its renewal configuration ``server``, ``key_type``, ``authenticator``, ``names`` (its
    ``[[webroot_map]]``, sorted) and ``webroots`` (the webroots that map names to)."""
    conf = nginx_reload.read_bytes(os.path.join(config_dir, 'renewal', name + '.conf'))
    if conf is None:
        return None
    found = {'server': None, 'key_type': None, 'authenticator': None, 'names': [], 'webroots': []}
    section = None
    for line in _text(conf).splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            section = line.strip('[] ')
            continue
        key, equals, value = line.partition('=')
        if not equals:
            continue
        key, value = key.strip(), value.strip()
        if section == 'renewalparams' and key in ('server', 'key_type', 'authenticator'):
            found[key] = value
        elif section == 'webroot_map':
            found['names'].append(key.lower())
            found['webroots'].append(value.rstrip('/') or '/')
    found['names'].sort()
    found['webroots'] = sorted(set(found['webroots']))
    live = os.path.join(config_dir, 'live', name)
    found['fullchain'] = nginx_reload.read_bytes(os.path.join(live, 'fullchain.pem'))
    found['privkey'] = nginx_reload.read_bytes(os.path.join(live, 'privkey.pem'))
    return found


def differences(found, site, webroot):
    """Why the lineage ``found`` is not the site's: a list of reasons, empty when it is."""
    if found is None:
        return ['there is no certificate for it yet']
    reasons = []
    if found['fullchain'] is None or found['privkey'] is None:
        reasons.append('its lineage has no fullchain.pem or privkey.pem')
    if found['names'] != sorted(site['names']):
        reasons.append('its names are %s instead of %s' % (', '.join(found['names']) or 'none', ', '.join(site['names'])))
    if found['server'] != site['directory']:
        reasons.append('it comes from %s instead of %s' % (found['server'], site['directory']))
    if found['key_type'] is not None and found['key_type'] != site['key_type']:
        reasons.append('its key is %s instead of %s' % (found['key_type'], site['key_type']))
    if found['authenticator'] != 'webroot' or found['webroots'] != [webroot]:
        reasons.append('certbot renews it with %s instead of the webroot %s' % (
            found['authenticator'] if found['authenticator'] != 'webroot' else 'the webroot ' + ', '.join(found['webroots']),
            webroot))
    return reasons


def _certbot_env(site):
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('PYTHON'))
    env.update(LANG='C.UTF-8', LC_ALL='C.UTF-8')
    if site['directory_ca_path']:
        # The directory's TLS certificate is signed by a private CA: certbot (python-requests) trusts it this way.
        env['REQUESTS_CA_BUNDLE'] = site['directory_ca_path']
    return env


def _dirs(settings):
    return ['--config-dir', settings['config_dir'], '--work-dir', settings['work_dir'], '--logs-dir', settings['logs_dir'],
            '--max-log-backups=%d' % LOG_BACKUPS]


def certonly_command(settings, site, force=False):
    """``certbot certonly`` for the site (a list: no shell; every value after "=" so none is read as an option)."""
    command = [settings['certbot'], 'certonly'] + _dirs(settings) + [
        '--non-interactive', '--agree-tos', '--no-eff-email', '--email=' + site['contact'],
        '--webroot', '--webroot-path=' + settings['webroot'], '--cert-name=' + site['name']]
    command += ['--domains=' + name for name in site['names']]
    command += ['--server=' + site['directory'], '--key-type=' + site['key_type']]
    return command + (['--force-renewal'] if force else [])


def renew_command(settings, site, force=False):
    command = [settings['certbot'], 'renew'] + _dirs(settings) + [
        '--cert-name=' + site['name'], '--non-interactive', '--no-random-sleep-on-renew']
    return command + (['--force-renewal'] if force else [])


# Lines of certbot's output that say nothing about what went wrong: rulers, progress, its summary of paths.
CERTBOT_NOISE = re.compile(r'- - -|Saving debug log|Ask for help or search for solutions|Processing |/\S+\.conf$'
                           r'|Renewing an existing certificate|Requesting a certificate|All renewals failed'
                           r'|\s+/\S+ \((failure|success|skipped)\)$|[0-9]+ renew failure')


def certbot_words(output, settings=None):
    """What certbot said that matters (at most OUTPUT_LINES lines), and where its log is."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip() and not CERTBOT_NOISE.match(line)]
    words = '\n'.join(lines[-OUTPUT_LINES:]) or 'no output'
    if settings is not None:
        words += '\n(certbot\'s log: %s)' % os.path.join(settings['logs_dir'], 'letsencrypt.log')
    return words


# ---------------------------------------------------------------------------
# Deploying: files, nginx -t, reload, the check through nginx
# ---------------------------------------------------------------------------

def _put_back(saved):
    """Put every ``{path: (bytes, mode)}`` back (remove those that were missing); returns the errors."""
    errors = []
    for path, (data, mode) in saved.items():
        try:
            if data is None:
                if os.path.lexists(path):
                    os.unlink(path)
            else:
                nginx_reload.write_file(path, data, mode)
        except OSError as exc:
            errors.append('cannot put %s back: %s' % (path, exc.strerror or exc))
    return errors


@contextlib.contextmanager
def _lock(state_dir):
    """The change transactions' lock (config_transaction.StateLock's file): one change of nginx at a time."""
    try:
        with nginx_reload.HostLock(os.path.join(state_dir, LOCK), LOCK_TIMEOUT):
            yield
    except nginx_reload.LockTimeout as exc:
        raise AcmeError('another change of nginx on this host held %s for %.0f s' % (exc.path, exc.timeout))


def nginx_test(settings, run):
    """``(accepted, output)`` of ``nginx -t -c nginx_config``."""
    try:
        status, output = run([settings['nginx_binary'], '-t', '-c', settings['nginx_config']], NGINX_TEST_TIMEOUT,
                             dict(os.environ, LANG='C', LC_ALL='C'))
    except subprocess.TimeoutExpired:
        return False, '%s -t did not finish within %d s' % (settings['nginx_binary'], NGINX_TEST_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, 'cannot run %s -t: %s' % (settings['nginx_binary'], exc)
    return status == 0, output


def _check(site, der):
    """None when nginx serves ``der`` for the site, else why not (nginx_reload made sure that only new workers
    accept connections: one handshake tells)."""
    if site['check_address'] is None:
        return None
    try:
        served = served_certificate(site['check_address'], site['server_name'])
    except (OSError, ValueError) as exc:
        return 'a TLS handshake with %s (server name %s) failed: %s' % (site['check_address'], site['server_name'], exc)
    if served == der:
        return None
    try:
        serial = certificate_info(served)['serial'] if served else 'none'
    except ValueError:
        serial = 'unreadable'
    return 'nginx serves another certificate at %s for %s (serial %s)' % (site['check_address'], site['server_name'], serial)


def deploy(settings, site, fullchain, privkey, run=nginx_reload.run_command):
    """Put the lineage's ``fullchain`` and ``privkey`` in the site's files, then (a live site) make nginx serve them.

    Returns a sentence on what was done; raises AcmeError after putting the previous files back.
    """
    saved = {site['certificate_key']: nginx_reload.file_state(site['certificate_key']), site['certificate']: nginx_reload.file_state(site['certificate'])}
    try:
        nginx_reload.write_file(site['certificate_key'], privkey, 0o600)
        nginx_reload.write_file(site['certificate'], fullchain, 0o644)
    except OSError as exc:
        errors = _put_back(saved)
        raise AcmeError('cannot write the certificate of site %s: %s%s' % (
            site['name'], exc.strerror or exc, ''.join('; ' + error for error in errors)))
    if site['pending']:
        return ('written to %s and %s; nginx serves the site over TLS once its server is rendered'
                % (site['certificate'], site['certificate_key']))
    accepted, output = nginx_test(settings, run)
    if not accepted:
        errors = _put_back(saved)
        raise AcmeError('nginx -t refused the new certificate of site %s, the previous files are back%s: %s' % (
            site['name'], ''.join('; ' + error for error in errors), output))
    try:
        master, why = nginx_reload.read_pid_file(settings['pid_file'])
        if master is None:
            return ('written to %s and %s (nginx -t accepts them); nginx is not running (%s): it serves them when it '
                    'starts' % (site['certificate'], site['certificate_key'], why))
        reloaded = nginx_reload.reload_and_wait(settings['pid_file'], settings['reload_timeout'])
    except ReloadError as exc:
        raise AcmeError(_undo(settings, saved, 'nginx did not reload with the new certificate of site %s: %s'
                              % (site['name'], exc.msg)))
    why = _check(site, leaf_der(fullchain))
    if why is not None:
        raise AcmeError(_undo(settings, saved, 'the check through nginx failed after the new certificate of site %s: '
                                               '%s' % (site['name'], why)))
    checked = ('; nginx serves it at %s for %s' % (site['check_address'], site['server_name'])
               if site['check_address'] else ' (the site has no TCP listen to check)')
    return 'deployed, %s%s' % (reloaded['msg'], checked)


def _undo(settings, saved, msg):
    """Put the previous files back and reload nginx with them; returns ``msg`` with what that gave."""
    errors = _put_back(saved)
    if errors:
        return '%s; %s' % (msg, '; '.join(errors))
    try:
        nginx_reload.reload_and_wait(settings['pid_file'], settings['reload_timeout'])
    except ReloadError as exc:
        return '%s; the previous files are back, but reloading nginx with them failed too: %s' % (msg, exc.msg)
    return '%s; the previous files are back and nginx serves them again' % msg


# ---------------------------------------------------------------------------
# One site, every site
# ---------------------------------------------------------------------------

def _site_result(site, **values):
    result = dict(name=site['name'], issued=False, renewed=False, deployed=False, pending=site['pending'], serial=None,
                  serial_before=None, not_after=None, failed=False, msg='')
    result.update(values)
    return result


def _certbot(command, site, run):
    try:
        return run(command, CERTBOT_TIMEOUT, _certbot_env(site))
    except subprocess.TimeoutExpired:
        return None, 'certbot did not finish within %d s' % CERTBOT_TIMEOUT
    except (OSError, subprocess.SubprocessError) as exc:
        return None, 'cannot run %s: %s' % (command[0], exc)


def ensure_site(settings, site, check_mode=False, renew=False, force=False, run=nginx_reload.run_command):
    """Issue or renew, then deploy, the certificate of one site; returns its result (``failed`` set on failure)."""
    before = nginx_reload.read_bytes(site['certificate'])
    if before is not None and site['pending']:
        # Its certificate is on the host after all: the role rendered its TLS server after writing it, and these
        # settings (the renewal service's file) are older than that.
        site = dict(site, pending=False)
    info_before = _info(before)
    serial_before = info_before['serial'] if info_before else None
    # Until something else is deployed, the site's certificate is the one it had.
    result = _site_result(site, serial_before=serial_before, serial=serial_before,
                          not_after=_iso(info_before['not_after']) if info_before else None)
    found = lineage(settings['config_dir'], site['name'])
    reasons = differences(found, site, settings['webroot'])
    done = []
    if reasons:
        action = 'issue' if found is None else 'issue anew'
        if check_mode:
            return _check_mode_result(result, 'would %s a certificate for %s (certbot certonly): %s' % (
                action, ', '.join(site['names']), '; '.join(reasons)), issued=True, deployed=True)
        previous = found['fullchain'] if found else None
        status, output = _certbot(certonly_command(settings, site, force=found is not None), site, run)
        found = lineage(settings['config_dir'], site['name'])
        if status != 0 or found is None or found['fullchain'] is None or found['privkey'] is None:
            return _failed(result, 'certbot could not %s its certificate (%s): %s' % (
                action, '; '.join(reasons), certbot_words(output, settings)))
        result['issued'] = found['fullchain'] != previous
        done.append('certificate issued for %s' % ', '.join(site['names']) if result['issued'] else
                    'certbot had nothing to issue')
    elif renew or force:
        info = _info(found['fullchain'])
        if check_mode:
            due = force or info is None or info['not_after'] - datetime.datetime.now(datetime.timezone.utc) < RENEW_BEFORE
            return _check_mode_result(result, 'certbot renew would %s (it expires %s)' % (
                'renew it' if due else 'find it not due yet', _iso(info['not_after']) if info else 'at an unknown time'),
                renewed=due, deployed=due or found['fullchain'] != before, found=found)
        previous = found['fullchain']
        status, output = _certbot(renew_command(settings, site, force), site, run)
        found = lineage(settings['config_dir'], site['name'])
        if status != 0 or found is None or found['fullchain'] is None or found['privkey'] is None:
            return _failed(result, 'certbot could not renew its certificate, which stays as it was: %s' % (
                certbot_words(output, settings)))
        result['renewed'] = found['fullchain'] != previous
        info = _info(found['fullchain'])
        done.append('renewed' if result['renewed'] else 'not due for renewal (it expires %s)' % (
            _iso(info['not_after']) if info else 'at an unknown time'))
    if found['fullchain'] != before or found['privkey'] != nginx_reload.read_bytes(site['certificate_key']):
        if check_mode:
            return _check_mode_result(result, 'would deploy its certificate from %s' % os.path.join(
                settings['config_dir'], 'live', site['name']), deployed=True, found=found)
        try:
            with _lock(settings['state_dir']):
                done.append(deploy(settings, site, found['fullchain'], found['privkey'], run))
        except AcmeError as exc:
            return _failed(result, '; '.join(done + [exc.msg]), issued=result['issued'], renewed=result['renewed'])
        except OSError as exc:
            return _failed(result, '; '.join(done + ['cannot take the lock in %s: %s' % (settings['state_dir'], exc)]),
                           issued=result['issued'], renewed=result['renewed'])
        result['deployed'] = True
    elif not done:
        done.append('up to date')
    info = _info(found['fullchain'])
    result.update(serial=info['serial'] if info else None, not_after=_iso(info['not_after']) if info else None,
                  msg='; '.join(done))
    return result


def _check_mode_result(result, msg, found=None, **values):
    result.update(values, msg=msg)
    info = _info(found['fullchain']) if found else None
    if info:
        result.update(serial=info['serial'], not_after=_iso(info['not_after']))
    return result


def _failed(result, msg, **values):
    result.update(values, failed=True, msg=msg)
    return result


def ensure(settings, check_mode=False, renew=False, force=False, run=nginx_reload.run_command):
    """Every site's certificate issued (or renewed, with ``renew``; always, with ``force``) and deployed.

    Returns ``{'changed', 'failed', 'msg', 'now_issued', 'sites'}``: ``sites`` the result of each site,
    ``now_issued`` the names of the sites that were pending and have their certificate now (the role renders their
    TLS server next). Raises AcmeError when the settings are not valid (nothing ran then).
    """
    settings = check_settings(settings)
    sites = []
    for site in settings['sites']:
        try:
            sites.append(ensure_site(settings, site, check_mode, renew, force, run))
        except (OSError, ValueError) as exc:
            sites.append(_failed(_site_result(site), 'unexpected error: %s' % exc))
    now_issued = [site['name'] for site, result in zip(settings['sites'], sites) if site['pending'] and not result['failed']
                  and (_has_files(site) or check_mode and result['deployed'])]
    failed = [result for result in sites if result['failed']]
    changed = any(result['issued'] or result['renewed'] or result['deployed'] for result in sites)
    if not sites:
        msg = 'no site gets its certificate from an ACME CA'
    else:
        msg = '; '.join('site %s: %s' % (result['name'], result['msg']) for result in sites)
    if failed:
        msg = '%s of %s failed: %s' % (nginx_reload.plural(len(failed), 'site'), len(sites), msg)
    return {'changed': changed, 'failed': bool(failed), 'msg': msg, 'now_issued': now_issued, 'sites': sites}


def _has_files(site):
    return os.path.isfile(site['certificate']) and os.path.isfile(site['certificate_key'])


# ---------------------------------------------------------------------------
# The files of the renewal service
# ---------------------------------------------------------------------------

def own_sources():
    """``{file name: bytes}`` of this file and nginx_reload.py as the module running now carries them."""
    return nginx_reload.sources(__name__, __file__, SCRIPT_FILES)


def settings_json(settings, now_issued=()):
    """The settings file the renewal service reads (``renew --settings FILE``): stable, one key per line. The sites of
    ``now_issued`` are no longer pending there: the role renders their TLS server next, so a renewal reloads nginx."""
    settings = check_settings(settings)
    settings['sites'] = [dict(site, pending=site['pending'] and site['name'] not in now_issued) for site in settings['sites']]
    return (json.dumps(settings, indent=2, sort_keys=True) + '\n').encode('utf-8')


def install(directory, settings, sources, now_issued=(), check_mode=False):
    """Write the renewal service's files into ``directory``: acme_certbot.py and nginx_reload.py (0644) and
    settings.json (0600, see settings_json). Returns the list of changes (empty when they were in place)."""
    files = {os.path.join(directory, name): (sources[name], 0o644) for name in SCRIPT_FILES}
    files[os.path.join(directory, 'settings.json')] = (settings_json(settings, now_issued), 0o600)
    changes = []
    for path, (content, mode) in sorted(files.items()):
        data, current = nginx_reload.file_state(path)
        if data != content or current != mode:
            changes.append('%s %s' % ('create' if data is None else 'update', path))
            if not check_mode:
                if not os.path.isdir(directory):
                    os.makedirs(directory, mode=0o755)
                nginx_reload.write_file(path, content, mode)
    return changes


# ---------------------------------------------------------------------------
# The script
# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description='Renew and deploy the ACME certificates of the websocket.nginx sites.')
    commands = parser.add_subparsers(dest='command', required=True)
    renew = commands.add_parser('renew', help='certbot renew each site (when due), then deploy what changed')
    renew.add_argument('--settings', required=True, metavar='FILE', help='the JSON settings the role wrote')
    renew.add_argument('--force', action='store_true', help='renew every certificate now, due or not')
    args = parser.parse_args(argv)
    try:
        with open(args.settings, 'rb') as handle:
            settings = json.loads(_text(handle.read()))
        result = ensure(settings, renew=True, force=args.force)
    except (OSError, ValueError) as exc:
        sys.stderr.write('websocket.nginx: cannot read the settings %s: %s\n' % (args.settings, exc))
        return 2
    except AcmeError as exc:
        sys.stderr.write('websocket.nginx: %s: %s\n' % (args.settings, exc.msg))
        return 2
    for site in result['sites']:
        line = 'websocket.nginx: site %s: %s\n' % (site['name'], site['msg'])
        (sys.stderr if site['failed'] else sys.stdout).write(line)
    if not result['sites']:
        sys.stdout.write('websocket.nginx: %s\n' % result['msg'])
    return 1 if result['failed'] else 0


if __name__ == '__main__':
    raise SystemExit(main())
