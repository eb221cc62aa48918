#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nginx_transaction
short_description: Change nginx's configuration files as one transaction that puts everything back when a step fails
version_added: "1.0.0"
description:
  - "In one call on the host: checks the upstream servers (all at once; nothing changes when one has too few healthy
    servers), saves the previous version of every file it will touch, writes each changed file atomically (a temporary
    file in the same directory renamed over it), runs C(nginx -t), reloads nginx and waits until the new workers serve
    (as M(websocket.nginx.nginx_reload) does), then checks each WebSocket location through nginx."
  - When a step fails, every file is put back, C(nginx -t) accepts them and, when nginx may have loaded the candidate, nginx
    reloads with them; only then are the saved copies deleted. When putting back fails, the saved copies stay in
    O(state_dir) and the error names them.
  - A transaction that was interrupted (the process killed, the connection lost) leaves its journal in O(state_dir); the next
    call puts its saved copies back before anything else and says so in a warning and in RV(recovered).
  - With O(reload=false) the call stops after C(nginx -t) and leaves the transaction pending; the next call with the same
    O(transaction_id) takes its files into its own transaction and reloads for both, so that nginx reloads once. The
    action plugin sets O(transaction_id) to the play's, so two roles of one play share one reload.
  - Check mode changes nothing; it reports the files that would change (with a diff each in diff mode) and runs
    C(nginx -t) on the candidate in a scratch copy of the configuration tree, so a candidate nginx would refuse fails in
    check mode too.
  - The action plugin of the same name renders O(templates) on the controller exactly as M(ansible.builtin.template) would
    and reads O(copies) there, so the whole change is one module call per host.
  - Used by the roles of this collection; it can be used on its own for any nginx configuration files.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  copies:
    description:
      - Files read on the controller by the action plugin (found as M(ansible.builtin.copy) finds O(copies[].src)) and
        written as O(files), or as O(private_files) when O(copies[].private=true).
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description: The file on the controller.
        type: str
        required: true
      dest:
        description: Absolute path of the file on the host.
        type: path
        required: true
      private:
        description: A private key, never logged and never shown in a diff.
        type: bool
        default: false
      mode:
        description: Octal mode; V(0600) for private files when not given.
        type: str
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
  files:
    description: Files to write, with their content.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file on the host.
        type: path
        required: true
      content:
        description: The content as text.
        type: str
      content_base64:
        description: The content, base64-encoded (instead of O(files[].content)).
        type: str
      mode:
        description: Octal mode.
        type: str
        default: "0644"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
  private_files:
    description: Files whose content is never logged, returned or shown in a diff (private keys).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file on the host.
        type: path
        required: true
      content:
        description: The content as text.
        type: str
      content_base64:
        description: The content, base64-encoded.
        type: str
      mode:
        description: Octal mode, set before any byte is written.
        type: str
        default: "0600"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
  remove:
    description: Files to remove (put back when the transaction fails).
    type: list
    elements: path
    default: []
  directories:
    description: Directories created when missing, before the files; removed again on rollback when they are empty.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Octal mode.
        type: str
        default: "0755"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
  log_files:
    description:
      - Log files the new configuration names (the websocket_proxy role's session log), created empty with this
        mode and owner when missing, before C(nginx -t) opens them. nginx itself would create them as root,
        mode 0644, readable by every user of the host.
      - Never written, truncated or removed; left in place when the transaction is rolled back.
      - Only created when the transaction writes files, and only in a directory that exists.
    type: list
    elements: dict
    default: []
    version_added: 1.1.0
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Octal mode.
        type: str
        default: "0640"
      owner:
        description: Owner (Debian's logrotate for nginx creates its logs as C(www-data)).
        type: str
        default: www-data
      group:
        description: Group.
        type: str
        default: adm
  upstream_checks:
    description:
      - Checks of upstream servers before anything changes, as M(websocket.nginx.upstream_health) makes them; every server of
        every check is checked at once.
      - Nothing changes when a check has fewer than O(upstream_checks[].min_healthy) healthy servers; unhealthy servers are
        reported as warnings. In check mode nothing fails (on a fresh deployment the backends may not run yet).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The upstream's name, for messages.
        type: str
        required: true
      servers:
        description: C(host:port) (or a C(ws://), C(wss://), C(http://), C(https://) URL) of each server.
        type: list
        elements: str
        required: true
      check:
        description: How each server is checked.
        type: str
        choices: [tcp, http, websocket]
        default: websocket
      path:
        description: Request path.
        type: str
        default: /
      host_header:
        description: Host header (and TLS server name).
        type: str
      expected_status:
        description: Status codes that count as healthy (C(http)).
        type: list
        elements: int
        default: [200]
      subprotocols:
        description: WebSocket subprotocols offered.
        type: list
        elements: str
      tls:
        description: Connect with TLS.
        type: bool
        default: false
      validate_certs:
        description: Verify the server's certificate.
        type: bool
        default: true
      ca_path:
        description: CA certificates to verify with (else the system's).
        type: path
      timeout:
        description: Seconds one server's check may take.
        type: float
        default: 5.0
      min_healthy:
        description: Healthy servers required.
        type: int
        default: 1
  proxy_checks:
    description:
      - WebSocket opening handshakes (and an echo when asked) through the reloaded nginx, one per location; the first answer
        counts (the reload returned once the new workers serve). When one fails, the previous files come back and nginx
        reloads with them, unless O(rollback_on_failed_check=false).
      - Run on every call, also when nothing changed (then a failure changes nothing).
    type: list
    elements: dict
    default: []
    suboptions:
      site:
        description: The site, for messages.
        type: str
        required: true
      location:
        description: The location, for messages.
        type: str
        required: true
      address:
        description: C(host:port) nginx listens on.
        type: str
        required: true
      path:
        description: Request path.
        type: str
        required: true
      host_header:
        description: Host header (and TLS server name).
        type: str
      echo:
        description: Also send a message and expect it back.
        type: bool
        default: false
      subprotocols:
        description: WebSocket subprotocols offered.
        type: list
        elements: str
      origin:
        description: Origin header.
        type: str
      tls:
        description: wss:// (verified with O(proxy_checks[].ca_path), else the system's CAs).
        type: bool
        default: false
      ca_path:
        description: CA certificates to verify with.
        type: path
      timeout:
        description: Seconds the check may take.
        type: float
        default: 5.0
  rollback_on_failed_check:
    description: When a check through nginx fails, put the previous files back and reload nginx before failing.
    type: bool
    default: true
  reload:
    description:
      - Reload nginx when a file changed. V(false) stops after C(nginx -t) and leaves the transaction pending for the next
        call with the same O(transaction_id).
    type: bool
    default: true
  nginx_binary:
    description: The nginx executable.
    type: path
    default: /usr/sbin/nginx
  nginx_config:
    description: The main configuration file (C(nginx -t -c)); its directory is copied for the check-mode test.
    type: path
    default: /etc/nginx/nginx.conf
  pid_file:
    description: nginx's pid file (the master to reload).
    type: path
    default: /run/nginx.pid
  service:
    description: The systemd unit started when nginx is not running.
    type: str
    default: nginx
  reload_timeout:
    description: Seconds allowed for nginx to take the new configuration.
    type: float
    default: 30.0
  state_dir:
    description: Where the journal and the saved copies of a running transaction are kept (mode 0700).
    type: path
    default: /var/lib/websocket-nginx/transaction
  transaction_id:
    description: Identifies a pending transaction (see O(reload)); the action plugin sets it to the play's.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - websocket.nginx.controller_templates
attributes:
  action:
    description: The action plugin renders the templates and reads the copies on the controller.
    support: full
  check_mode:
    support: full
    details: Reports what would change and tests the candidate with C(nginx -t) in a scratch copy; changes nothing.
  diff_mode:
    support: full
    details: One diff per changed file; private files show none.
  platform:
    platforms: posix
    details: Linux (the reload reads C(/proc)).
notes:
  - Run as root (C(become)); the saved copies of private files are kept mode 0600 in O(state_dir), itself mode 0700.
seealso:
  - module: websocket.nginx.nginx_reload
  - module: websocket.nginx.upstream_health
"""

EXAMPLES = r"""
- name: Write a site from a template, test it, reload nginx and check its WebSocket location through nginx
  websocket.nginx.nginx_transaction:
    templates:
      - src: chat.conf.j2
        dest: /etc/nginx/conf.d/chat.conf
    copies:
      - src: files/chat.key
        dest: /etc/nginx/tls/chat.key
        private: true
    upstream_checks:
      - name: chat
        servers: [10.0.0.5:3000, 10.0.0.6:3000]
    proxy_checks:
      - site: chat
        location: /socket/
        address: 127.0.0.1:80
        path: /socket/
  become: true
  register: change

- name: Show what happened
  ansible.builtin.debug:
    msg: "reloaded {{ change.reloaded }}, rolled back {{ change.rolled_back }}, stages {{ change.seconds }}"
"""

RETURN = r"""
files:
  description: Each file and what happened to it (V(created), V(updated), V(attributes), V(removed), V(unchanged)).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/nginx/conf.d/chat.conf", "state": "updated"}]
adopted:
  description: The files of a pending transaction of the same O(transaction_id) (an earlier call with O(reload=false))
    that this call took over, tested and reloaded with its own.
  returned: always
  type: list
  elements: str
  sample: ["/etc/nginx/nginx.conf"]
reloaded:
  description: Whether nginx reloaded (with the new files, or with the previous ones after a rollback).
  returned: always
  type: bool
rolled_back:
  description: Whether the previous files were put back.
  returned: always
  type: bool
pending_reload:
  description: With O(reload=false), whether the files changed and wait for a later call's reload.
  returned: always
  type: bool
recovered:
  description: The interrupted transaction that was put back first (its id, start, state and files), or null.
  returned: always
  type: dict
test:
  description: The verdict of C(nginx -t) on the candidate (C(accepted), C(output)); null when nothing was tested.
  returned: always
  type: dict
upstream_checks:
  description: Each upstream check with C(healthy), C(total) and the result of each server.
  returned: always
  type: list
  elements: dict
proxy_checks:
  description: Each check through nginx with C(healthy) (0 or 1) and the server result (C(stage), C(error), C(status)).
  returned: always
  type: list
  elements: dict
reload:
  description: What M(websocket.nginx.nginx_reload) would return for the reload.
  returned: when nginx was reloaded or refused the reload
  type: dict
seconds:
  description: Seconds each stage took (C(recover), C(upstream_checks), C(write), C(test), C(reload), C(proxy_checks),
    C(rollback), C(total)).
  returned: always
  type: dict
  sample: {"upstream_checks": 0.012, "write": 0.004, "test": 0.031, "reload": 0.109, "proxy_checks": 0.008, "total": 0.171}
state_dir:
  description: Where a failed rollback leaves the saved copies.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_reload
from ansible_collections.websocket.nginx.plugins.module_utils.config_transaction import (
    Transaction,
    TransactionError,
    Wanted,
    decode_content,
)
from ansible_collections.websocket.nginx.plugins.module_utils.file_options import DIRECTORIES, LOG_FILES, OWNERSHIP, TEMPLATES


def _file_options(mode, secret):
    return dict(path=dict(type='path', required=True), content=dict(type='str', no_log=secret),
                content_base64=dict(type='str', no_log=secret), mode=dict(type='str', default=mode), **OWNERSHIP)


ARGUMENT_SPEC = dict(
    templates=TEMPLATES,
    copies=dict(type='list', elements='dict', default=[], options=dict(
        src=dict(type='str', required=True), dest=dict(type='path', required=True), private=dict(type='bool', default=False),
        mode=dict(type='str'), **OWNERSHIP)),
    files=dict(type='list', elements='dict', default=[], options=_file_options('0644', False),
               mutually_exclusive=[('content', 'content_base64')]),
    private_files=dict(type='list', elements='dict', default=[], options=_file_options('0600', True),
                       mutually_exclusive=[('content', 'content_base64')]),
    remove=dict(type='list', elements='path', default=[]),
    directories=DIRECTORIES,
    log_files=LOG_FILES,
    upstream_checks=dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True),
        servers=dict(type='list', elements='str', required=True),
        check=dict(type='str', default='websocket', choices=['tcp', 'http', 'websocket']),
        path=dict(type='str', default='/'),
        host_header=dict(type='str'),
        expected_status=dict(type='list', elements='int', default=[200]),
        subprotocols=dict(type='list', elements='str'),
        tls=dict(type='bool', default=False),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=5.0),
        min_healthy=dict(type='int', default=1),
    )),
    proxy_checks=dict(type='list', elements='dict', default=[], options=dict(
        site=dict(type='str', required=True),
        location=dict(type='str', required=True),
        address=dict(type='str', required=True),
        path=dict(type='str', required=True),
        host_header=dict(type='str'),
        echo=dict(type='bool', default=False),
        subprotocols=dict(type='list', elements='str'),
        origin=dict(type='str'),
        tls=dict(type='bool', default=False),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=5.0),
    )),
    rollback_on_failed_check=dict(type='bool', default=True),
    reload=dict(type='bool', default=True),
    nginx_binary=dict(type='path', default='/usr/sbin/nginx'),
    nginx_config=dict(type='path', default='/etc/nginx/nginx.conf'),
    pid_file=dict(type='path', default='/run/nginx.pid'),
    service=dict(type='str', default='nginx'),
    reload_timeout=dict(type='float', default=30.0),
    state_dir=dict(type='path', default='/var/lib/websocket-nginx/transaction'),
    transaction_id=dict(type='str'),
)


def wanted_files(params):
    """Wanted objects of ``files`` and ``private_files``; ValueError naming a bad entry."""
    wanted = []
    seen = set()
    for key, secret in (('files', False), ('private_files', True)):
        for item in params[key]:
            if item['path'] in seen:
                raise ValueError('%s: %s is given twice' % (key, item['path']))
            seen.add(item['path'])
            wanted.append(Wanted(item['path'], decode_content(item), item['mode'], item['owner'], item['group'], secret))
    for path in params['remove']:
        if path in seen:
            raise ValueError('remove: %s is also a file to write' % path)
    return wanted


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    if params['templates'] or params['copies']:
        module.fail_json(msg='templates and copies are read on the controller by the action plugin '
                             'websocket.nginx.nginx_transaction; this module was called without it')
    try:
        files = wanted_files(params)
        nginx_reload.validate(params['pid_file'], params['reload_timeout'], params['service'])
    except (ValueError, TypeError) as exc:
        module.fail_json(msg=to_text(exc))
    except nginx_reload.ReloadError as exc:
        module.fail_json(msg='reload_timeout, pid_file or service: %s' % exc.msg)
    proxy_checks = [dict(check, servers=[check['address']], check='websocket') for check in params['proxy_checks']]
    transaction = Transaction(
        files=files, remove=params['remove'], directories=params['directories'], log_files=params['log_files'],
        upstream_checks=params['upstream_checks'], proxy_checks=proxy_checks,
        nginx_binary=params['nginx_binary'], nginx_config=params['nginx_config'], reload=params['reload'],
        pid_file=params['pid_file'], service=params['service'], reload_timeout=params['reload_timeout'],
        rollback_on_failed_check=params['rollback_on_failed_check'], state_dir=params['state_dir'],
        transaction_id=params['transaction_id'], check_mode=module.check_mode, diff=module._diff,
        run_command=module.run_command)
    failure = None
    try:
        result = transaction.run()
    except TransactionError as exc:
        result, failure = exc.result, exc.msg
    for warning in result.pop('warnings', []):
        module.warn(warning)
    if failure is not None:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
