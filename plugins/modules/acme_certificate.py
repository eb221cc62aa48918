#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: acme_certificate
short_description: Get, renew and deploy the certificates of sites from an ACME CA (certbot), proven through nginx
version_added: "1.1.0"
description:
  - For each site of O(sites), gets its certificate from an ACME CA (Let's Encrypt, or any RFC 8555 directory) with
    C(certbot), proving the names with the HTTP-01 challenge that the site's plain-HTTP server answers from
    O(webroot), then deploys it to the site's certificate and key files and proves that nginx serves it.
  - "Why certbot: the certificates must be renewed on the host every few weeks, also when no controller runs Ansible.
    Debian's C(certbot) package renews them from a systemd timer (the role installs one that runs this module's code as
    a plain script, see O(install_dir)), is maintained and updated by Debian, and keeps its account and lineages in
    its own directories (O(config_dir), O(work_dir), O(logs_dir)), apart from C(/etc/letsencrypt) and from Debian's own
    C(certbot.timer), which does not look there."
  - "Issuing: when a site has no lineage (certbot's files named after the site, in C(<config_dir>/live/<site>/)), or
    its lineage was made for other names, another directory, another key type or another webroot (as its
    C(<config_dir>/renewal/<site>.conf) says), C(certbot certonly --webroot) gets a certificate for the site's names.
    Otherwise certbot is not run, unless O(renew) or O(force_renewal): then C(certbot renew --cert-name <site>) renews
    the certificate when it is due (30 days before it expires), or always with O(force_renewal)."
  - "Deploying, when the lineage's C(fullchain.pem) and C(privkey.pem) differ from the site's O(sites[].certificate) and
    O(sites[].certificate_key): one small transaction per site. The previous files are kept, the key (mode 0600) then the
    certificate (0644) are written atomically (their directory is made 0700 when missing). For a site that was
    O(sites[].pending) (nginx does not serve its TLS server yet, as its certificate was not on the host) that is all:
    the role renders its TLS server next (RV(now_issued)). For the other sites C(nginx -t), a reload that waits until the
    new worker processes serve (as M(websocket.nginx.nginx_reload)), then a TLS handshake through nginx to
    O(sites[].check_address) with the server name O(sites[].server_name), which must be answered with the new
    certificate. When a step fails, the previous files are put back (and nginx reloaded with them when it had been
    reloaded) and the site fails with nginx's words."
  - A certificate the CA refuses (a challenge that fails, a rate limit) changes nothing on the host; the site fails
    with certbot's words, and the other sites go on. The module fails when any site failed, with every site's result.
  - Deploys take the lock of M(websocket.nginx.nginx_transaction) (in O(state_dir)), so that a renewal never lands in
    the middle of a configuration change.
  - Standard library only on the managed host, beside certbot; runs as root.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  sites:
    description:
      - The sites whose certificate comes from an ACME CA, as the site model of the websocket.nginx.proxy role builds
        them (its C(tls.acme)).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The site's name; also the name of its certbot lineage (C(--cert-name)).
          - Letters, digits, C(.), C(_) and C(-), starting with a letter or digit.
        type: str
        required: true
      names:
        description: The host names the certificate holds (lower case, with a dot; no wildcards, which HTTP-01 cannot prove).
        type: list
        elements: str
        required: true
      contact:
        description:
          - The email address of the ACME account, to which the CA writes about expiring certificates and problems.
          - certbot registers one account per directory, with the contact of the first site that uses it.
        type: str
        required: true
      directory:
        description: The ACME directory URL (C(https://)).
        type: str
        default: https://acme-v02.api.letsencrypt.org/directory
      directory_ca_path:
        description:
          - A CA bundle (PEM) that signs the directory's own TLS certificate, for a private ACME CA; certbot gets it as
            C(REQUESTS_CA_BUNDLE) at every issuance and renewal. Left out, the system's trusted CAs.
        type: path
      key_type:
        description: The certificate's key.
        type: str
        choices: [ecdsa, rsa]
        default: ecdsa
      certificate:
        description: The site's certificate file that nginx reads (C(ssl_certificate)); the full chain is written there.
        type: path
        required: true
      certificate_key:
        description: The site's key file that nginx reads (C(ssl_certificate_key)).
        type: path
        required: true
      pending:
        description:
          - The certificate was not on the host when nginx's configuration was rendered, so nginx serves only the site's
            plain-HTTP server (which answers the challenge), not its TLS server. The files are written, nginx is not
            reloaded, and the site is listed in RV(now_issued).
          - Ignored when the site's certificate file is on the host (the settings of the renewal service may be older
            than the role's run that rendered the site's TLS server).
        type: bool
        default: false
      check_address:
        description:
          - C(host:port) (C([IPv6]:port)) where nginx serves the site over TLS, for the check after a deploy; left out,
            there is no check (nginx -t and the reload still prove that nginx took the files).
        type: str
      server_name:
        description: The server name (SNI) of the check; defaults to the first of O(sites[].names).
        type: str
  config_dir:
    description: certbot's C(--config-dir) (account, lineages, renewal configurations).
    type: path
    default: /etc/websocket-nginx/acme
  work_dir:
    description: certbot's C(--work-dir).
    type: path
    default: /var/lib/websocket-nginx/acme
  logs_dir:
    description:
      - certbot's C(--logs-dir). certbot starts a new C(letsencrypt.log) at each run and keeps the logs of the 20 runs
        before it.
    type: path
    default: /var/log/websocket-nginx/acme
  webroot:
    description:
      - Where certbot writes the challenge files (C(--webroot-path)), which every site's plain-HTTP server serves at
        C(/.well-known/acme-challenge/). It must exist and nginx's workers must be able to read it.
    type: path
    default: /var/lib/websocket-nginx/acme-challenge
  certbot:
    description: The certbot executable.
    type: path
    default: /usr/bin/certbot
  nginx_binary:
    description: The nginx executable, for C(nginx -t).
    type: path
    default: /usr/sbin/nginx
  nginx_config:
    description: nginx's main configuration file, for C(nginx -t -c).
    type: path
    default: /etc/nginx/nginx.conf
  pid_file:
    description: nginx's pid file; a deploy reloads the master named there. When nginx is not running, a deploy stops after C(nginx -t).
    type: path
    default: /run/nginx.pid
  reload_timeout:
    description: Seconds the reload after a deploy has to serve with new workers.
    type: float
    default: 30.0
  state_dir:
    description: The state directory of M(websocket.nginx.nginx_transaction), whose lock deploys take.
    type: path
    default: /var/lib/websocket-nginx/transaction
  renew:
    description:
      - Also run C(certbot renew) on the lineages that are the sites', which renews them when they are due. This is what
        the renewal timer does; without it, a lineage that matches its site is left to the timer.
    type: bool
    default: false
  force_renewal:
    description: Renew every site's certificate now, due or not (C(certbot renew --force-renewal)); implies O(renew).
    type: bool
    default: false
  install_dir:
    description:
      - "When set, the files the renewal timer's service runs are written into this directory (made 0755 when missing):
        C(acme_certbot.py) and C(nginx_reload.py) (0644), and C(settings.json) (0600), these options as JSON. The
        service then runs C(/usr/bin/python3 <install_dir>/acme_certbot.py renew --settings <install_dir>/settings.json),
        which does what this module does with O(renew), prints one line per site, writes failures to its standard
        error and exits with 1 when a site failed (2 when the settings cannot be used)."
      - They are written after the certificates are looked at, also when a site failed. The sites in RV(now_issued)
        are written as no longer pending (the role renders their TLS server next), so that their renewals reload nginx.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Runs neither certbot nor nginx; says for each site what would be issued, renewed or deployed.
  diff_mode:
    support: none
  platform:
    platforms: debian
requirements:
  - certbot (Debian's package) on the managed host
notes:
  - The websocket.nginx.proxy role runs it for the sites with C(tls.acme), after the configuration change that makes
    their plain-HTTP servers answer the challenge, and renders the TLS server of the sites in RV(now_issued) next.
  - The CA must reach every name on port 80 of this host (HTTP-01).
seealso:
  - name: certbot
    description: certbot's documentation.
    link: https://eff-certbot.readthedocs.io/
  - module: websocket.nginx.nginx_transaction
"""

EXAMPLES = r"""
- name: Certificates from Let's Encrypt for the chat site
  websocket.nginx.acme_certificate:
    sites:
      - name: chat
        names: [chat.example.com]
        contact: admin@example.com
        certificate: /etc/nginx/websocket-tls/chat.crt
        certificate_key: /etc/nginx/websocket-tls/chat.key
        check_address: 127.0.0.1:443
    install_dir: /usr/local/lib/websocket-nginx/acme
  become: true
  register: acme

- name: From a private ACME CA, renewed now
  websocket.nginx.acme_certificate:
    sites:
      - name: internal
        names: [ws.internal.example, ws2.internal.example]
        contact: pki@example.com
        directory: https://acme.internal.example/directory
        directory_ca_path: /usr/local/share/ca-certificates/internal-root.crt
        key_type: rsa
        certificate: /etc/nginx/websocket-tls/internal.crt
        certificate_key: /etc/nginx/websocket-tls/internal.key
        check_address: 127.0.0.1:443
    force_renewal: true
  become: true
"""

RETURN = r"""
sites:
  description: What happened to each site, in the order of O(sites).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The site.
      type: str
      sample: chat
    issued:
      description: certbot issued a certificate for it (C(certbot certonly)); in check mode, would.
      type: bool
    renewed:
      description: certbot renewed its certificate (C(certbot renew)); in check mode, would.
      type: bool
    deployed:
      description: Its certificate and key files were written (and, unless pending, nginx serves them); in check mode, would be.
      type: bool
    pending:
      description: The site was pending (O(sites[].pending), and its certificate file was not on the host).
      type: bool
    serial:
      description: Serial number (hex) of the site's certificate now, the one nginx serves after a deploy; null when it has none.
      type: str
      sample: 4a1d2b9e0c77f3a1
    serial_before:
      description: Serial number (hex) of the certificate in the site's file before; null when there was none.
      type: str
    not_after:
      description: When RV(sites[].serial) expires (UTC, ISO 8601).
      type: str
      sample: "2026-06-01T10:00:00Z"
    failed:
      description: This site failed; its files are as they were.
      type: bool
    msg:
      description: What was done, or why it failed (with certbot's or nginx's words).
      type: str
now_issued:
  description:
    - The sites given as pending that have their certificate files now; their TLS server can be rendered.
    - In check mode, those that would have them.
  returned: always
  type: list
  elements: str
  sample: [chat]
installed:
  description: What changed (in check mode, would change) in O(install_dir); empty without it.
  returned: always
  type: list
  elements: str
  sample: ["create /usr/local/lib/websocket-nginx/acme/settings.json"]
msg:
  description: Summary, a sentence per site.
  returned: always
  type: str
  sample: "site chat: certificate issued for chat.example.com; deployed, nginx reloaded ..."
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.websocket.nginx.plugins.module_utils import acme_certbot

SITE_OPTIONS = dict(
    name=dict(type='str', required=True),
    names=dict(type='list', elements='str', required=True),
    contact=dict(type='str', required=True),
    directory=dict(type='str', default='https://acme-v02.api.letsencrypt.org/directory'),
    directory_ca_path=dict(type='path'),
    key_type=dict(type='str', choices=list(acme_certbot.KEY_TYPES), default='ecdsa'),
    certificate=dict(type='path', required=True),
    certificate_key=dict(type='path', required=True),
    pending=dict(type='bool', default=False),
    check_address=dict(type='str'),
    server_name=dict(type='str'),
)

ARGUMENT_SPEC = dict(
    sites=dict(type='list', elements='dict', required=True, options=SITE_OPTIONS),
    config_dir=dict(type='path', default=acme_certbot.DEFAULTS['config_dir']),
    work_dir=dict(type='path', default=acme_certbot.DEFAULTS['work_dir']),
    logs_dir=dict(type='path', default=acme_certbot.DEFAULTS['logs_dir']),
    webroot=dict(type='path', default=acme_certbot.DEFAULTS['webroot']),
    certbot=dict(type='path', default=acme_certbot.DEFAULTS['certbot']),
    nginx_binary=dict(type='path', default=acme_certbot.DEFAULTS['nginx_binary']),
    nginx_config=dict(type='path', default=acme_certbot.DEFAULTS['nginx_config']),
    pid_file=dict(type='path', default=acme_certbot.DEFAULTS['pid_file']),
    reload_timeout=dict(type='float', default=acme_certbot.DEFAULTS['reload_timeout']),
    state_dir=dict(type='path', default=acme_certbot.DEFAULTS['state_dir']),
    renew=dict(type='bool', default=False),
    force_renewal=dict(type='bool', default=False),
    install_dir=dict(type='path'),
)

NOT_SETTINGS = ('renew', 'force_renewal', 'install_dir')


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    settings = dict((key, value) for key, value in params.items() if key not in NOT_SETTINGS)
    try:
        result = acme_certbot.ensure(settings, check_mode=module.check_mode,
                                     renew=params['renew'] or params['force_renewal'], force=params['force_renewal'])
    except acme_certbot.AcmeError as exc:
        module.fail_json(msg=exc.msg, sites=[], now_issued=[], installed=[])
    installed = []
    if params['install_dir']:
        try:
            installed = acme_certbot.install(params['install_dir'], settings, acme_certbot.own_sources(),
                                             now_issued=result['now_issued'], check_mode=module.check_mode)
        except OSError as exc:
            result.update(failed=True, msg='%s; cannot write the renewal files into %s: %s' % (
                result['msg'], params['install_dir'], exc.strerror or exc))
    if installed:
        result['msg'] = '%s; renewal files: %s' % (result['msg'], ', '.join(installed))
    result.update(installed=installed, changed=result['changed'] or bool(installed))
    if result.pop('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
