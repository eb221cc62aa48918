#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_service
short_description: Install a small application as a systemd service and check that it answers, in one call
version_added: "1.0.0"
description:
  - "In one call on the host, in this order: makes sure the system group and user the service runs as exist, creates
    its directories, writes its files (the program and its systemd unit) atomically, runs C(systemctl daemon-reload) when
    a unit file changed, enables or disables the service, starts, restarts or reloads (when a file changed, see
    O(on_change)) or stops it, and finally asks its health check URL until it answers as expected."
  - What already is as asked is left alone, so a second run changes nothing and runs no C(systemctl) command that changes
    anything.
  - Check mode changes nothing and reports what would change (a diff per file in diff mode), including the service
    actions of a unit that is not installed yet; it skips the health check.
  - The action plugin of the same name renders O(templates) on the controller exactly as M(ansible.builtin.template)
    would, so the whole deployment is one module call per host.
  - The echo_backend role of this collection deploys its test server with it.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  name:
    description: The systemd service, without C(.service).
    type: str
    required: true
  account:
    description:
      - A system user (and its group) the service runs as, created with C(groupadd --system) and C(useradd --system)
        when missing, and corrected with C(usermod) when its group, shell, home or comment differ. It owns no home
        directory.
      - Left out, no account is managed.
    type: dict
    suboptions:
      user:
        description: The user name.
        type: str
        required: true
      group:
        description: Its primary group, created as a system group when missing; the user name when not given.
        type: str
      comment:
        description: The user's comment (GECOS) field.
        type: str
        default: ""
      shell:
        description: Its login shell.
        type: path
        default: /usr/sbin/nologin
      home:
        description: Its home directory, which is not created.
        type: path
        default: /nonexistent
  directories:
    description: Directories created (with missing parents) before the files are written, and given this owner and mode.
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
  files:
    description:
      - Files to write, with their content. A file under C(/etc/systemd/) is a unit file; when one changes,
        C(systemctl daemon-reload) runs before the service is touched.
      - When any file changed and the service is to be started, a running service is restarted (or reloaded, see
        O(on_change)).
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
        required: true
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
  state:
    description: Whether the service runs (V(started)) or not (V(stopped)).
    type: str
    choices: [started, stopped]
    default: started
  on_change:
    description:
      - What a running service gets when a file changed and O(state=started).
      - V(restart) (C(systemctl restart)) stops and starts it.
      - V(reload) (C(systemctl reload)) runs the unit's C(ExecReload=), such as a C(SIGHUP) that makes the service
        read its files again without stopping (keepalived keeps its state and a master its addresses); the unit
        must have one. A service that does not run is started either way.
    type: str
    choices: [restart, reload]
    default: restart
    version_added: "1.1.0"
  enabled:
    description: Whether the service starts at boot.
    type: bool
    default: true
  health_check:
    description:
      - A plain HTTP(S) URL asked with GET (no proxy) after the service was started or restarted, and on every run while it
        runs, until it answers with O(health_check.status) (and O(health_check.content) when given) or
        O(health_check.timeout) seconds have passed; then the module fails with the last answer.
      - Left out, or with O(state=stopped), nothing is asked.
    type: dict
    suboptions:
      url:
        description: The URL; an IPv6 address in brackets, such as V(http://[::1]:8765/health), works.
        type: str
        required: true
      status:
        description: The HTTP status expected.
        type: int
        default: 200
      content:
        description: The exact body expected; any body when not given.
        type: str
      timeout:
        description: Seconds to keep asking.
        type: float
        default: 15
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - websocket.nginx.controller_templates
attributes:
  check_mode:
    support: full
    details: Reports what would change, including the service actions of a unit not installed yet; no health check.
  diff_mode:
    support: full
    details: One diff per file written.
  platform:
    platforms: posix
notes:
  - Needs systemd on the host (C(systemctl)); run it with C(become).
  - Files are written as M(websocket.nginx.nginx_transaction) writes them (a temporary file renamed over the old one), but
    nothing is rolled back when a later step fails; the next run picks up where this one stopped.
seealso:
  - module: websocket.nginx.nginx_transaction
  - module: ansible.builtin.systemd_service
  - module: ansible.builtin.user
"""

EXAMPLES = r"""
- name: A small WebSocket application, run by its own system user and checked on its health URL
  websocket.nginx.app_service:
    name: chat
    account:
      user: chat
      comment: Chat server
    directories:
      - path: /opt/chat
    templates:
      - src: chat.py.j2
        dest: /opt/chat/chat.py
      - src: chat.service.j2
        dest: /etc/systemd/system/chat.service
    health_check:
      url: http://127.0.0.1:9000/health
      content: "ok\n"
  become: true
"""

RETURN = r"""
account:
  description: What was done to the group and the user.
  returned: when O(account) is given
  type: dict
  sample: {"group": "created", "user": "created"}
directories:
  description: Each directory of O(directories) and what was done to it (V(created), V(changed) or V(unchanged)).
  returned: always
  type: dict
  sample: {"/opt/websocket-echo": "unchanged"}
files:
  description: Each file and what was done to it (V(created), V(changed) or V(unchanged)); in check mode what would be.
  returned: always
  type: dict
  sample: {"/opt/websocket-echo/echo_server.py": "changed", "/etc/systemd/system/websocket-echo.service": "unchanged"}
service:
  description: The service before this run (as C(systemctl show) said) and the C(systemctl) actions run (or, in check mode,
    that would run).
  returned: always
  type: dict
  contains:
    before:
      description: C(load), C(active) and C(enabled) as systemd reported them before any change.
      type: dict
      sample: {"load": "loaded", "active": "active", "enabled": "enabled"}
    actions:
      description: In order, from V(daemon-reload), V(enable), V(disable), V(start), V(restart), V(reload), V(stop).
      type: list
      elements: str
      sample: ["daemon-reload", "restart"]
health:
  description: The health check's last answer and how long it took to get the expected one.
  returned: when the health check ran
  type: dict
  sample: {"url": "http://127.0.0.1:8765/health", "status": 200, "content": "ok backend-1\n", "attempts": 1, "seconds": 0.01}
"""

import grp
import os
import pwd
import stat
import time
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.websocket.nginx.plugins.module_utils.config_transaction import (
    Link, _ids, file_diff, parse_mode, read_state, write_atomic)
from ansible_collections.websocket.nginx.plugins.module_utils.file_options import DIRECTORIES, OWNERSHIP, TEMPLATES
from ansible_collections.websocket.nginx.plugins.module_utils.systemd_units import (
    SERVICE_NAME, SHOW_PROPERTIES, parse_systemctl_show)

UNIT_DIRECTORY = '/etc/systemd/'
HEALTH_REQUEST_TIMEOUT = 2.0
HEALTH_RETRY_DELAY = 0.25

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    account=dict(type='dict', options=dict(
        user=dict(type='str', required=True),
        group=dict(type='str'),
        comment=dict(type='str', default=''),
        shell=dict(type='path', default='/usr/sbin/nologin'),
        home=dict(type='path', default='/nonexistent'),
    )),
    directories=DIRECTORIES,
    templates=TEMPLATES,
    files=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True), content=dict(type='str', required=True), mode=dict(type='str', default='0644'),
        **OWNERSHIP)),
    state=dict(type='str', choices=['started', 'stopped'], default='started'),
    on_change=dict(type='str', choices=['restart', 'reload'], default='restart'),
    enabled=dict(type='bool', default=True),
    health_check=dict(type='dict', options=dict(
        url=dict(type='str', required=True),
        status=dict(type='int', default=200),
        content=dict(type='str'),
        timeout=dict(type='float', default=15),
    )),
)


class ServiceError(Exception):
    """A step failed; ``msg`` says which and why."""

    def __init__(self, msg):
        super().__init__(msg)
        self.msg = msg


class AppService(object):
    """One run: account, directories, files, systemd, health; ``result`` says what was done."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.result = dict(changed=False, directories={}, files={}, service=dict(before=None, actions=[]))
        self.diffs = []

    def command(self, argv, what):
        """Run a command that changes the host (not in check mode); ServiceError with its words when it fails."""
        if self.check_mode:
            return
        rc, out, err = self.module.run_command(argv, check_rc=False)
        if rc != 0:
            raise ServiceError('%s failed (%s, exit status %d): %s' % (what, ' '.join(argv), rc, (err or out).strip()))
        self.result['changed'] = True

    # -- the account ----------------------------------------------------------
    def ensure_account(self):
        account = self.params['account']
        if not account:
            return
        user, group = account['user'], account['group'] or account['user']
        for name, what in ((user, 'account.user'), (group, 'account.group')):
            if not name or name.startswith('-') or any(char in name for char in ':,/ \t\n') or len(name) > 32:
                raise ServiceError('%s must be a user or group name, got %r' % (what, name))
        done = self.result['account'] = {}
        try:
            group_id = grp.getgrnam(group).gr_gid
            done['group'] = 'unchanged'
        except KeyError:
            self.command([self.module.get_bin_path('groupadd', required=True), '--system', group], 'creating the group')
            group_id = None  # a new group: the user's primary group cannot be it yet
            done['group'] = 'created'
        wanted = (account['comment'], account['home'], account['shell'])
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            self.command([self.module.get_bin_path('useradd', required=True), '--system', '--gid', group, '--no-create-home',
                          '--comment', wanted[0], '--home-dir', wanted[1], '--shell', wanted[2], user], 'creating the user')
            done['user'] = 'created'
            return
        if (entry.pw_gecos, entry.pw_dir, entry.pw_shell) == wanted and entry.pw_gid == group_id:
            done['user'] = 'unchanged'
            return
        self.command([self.module.get_bin_path('usermod', required=True), '--gid', group, '--comment', wanted[0],
                      '--home', wanted[1], '--shell', wanted[2], user], 'changing the user')
        done['user'] = 'changed'

    # -- directories and files ---------------------------------------------------
    def _ids(self, item, what):
        try:
            return _ids(item['owner'], item['group'])
        except ValueError as exc:
            if self.check_mode and self.result.get('account', {}).get('user') == 'created':
                return None  # the account this run would create
            raise ServiceError('%s: %s' % (what, exc))

    def ensure_directories(self):
        for item in self.params['directories']:
            path = item['path']
            mode = self.mode(item['mode'], path)
            ids = self._ids(item, path)
            try:
                info = os.stat(path)
            except FileNotFoundError:
                info = None
            if info is not None and not stat.S_ISDIR(info.st_mode):
                raise ServiceError('%s exists and is not a directory' % path)
            if info is not None and stat.S_IMODE(info.st_mode) == mode and ids == (info.st_uid, info.st_gid):
                self.result['directories'][path] = 'unchanged'
                continue
            self.result['directories'][path] = 'created' if info is None else 'changed'
            self.result['changed'] = True
            if self.check_mode:
                continue
            try:
                if info is None:
                    os.makedirs(path, mode)
                os.chmod(path, mode)
                os.chown(path, *ids)
            except OSError as exc:
                raise ServiceError('cannot create %s: %s' % (path, exc.strerror or exc))

    def mode(self, value, path):
        try:
            return parse_mode(value, path)
        except ValueError as exc:
            raise ServiceError(str(exc))

    def write_files(self):
        """Write the files that differ; the paths written."""
        written = []
        for item in self.params['files']:
            path = item['path']
            if not os.path.isabs(path):
                raise ServiceError('files: %s is not an absolute path' % path)
            data = to_bytes(item['content'], errors='surrogate_or_strict')
            mode = self.mode(item['mode'], path)
            ids = self._ids(item, path)
            try:
                current = read_state(path)
            except (ValueError, OSError) as exc:
                raise ServiceError('cannot read %s: %s' % (path, exc))
            if isinstance(current, Link):
                raise ServiceError('%s is a symbolic link; it is not replaced' % path)
            if current is not None and current == (data, mode) + (ids or (None, None)):
                self.result['files'][path] = 'unchanged'
                continue
            self.result['files'][path] = 'created' if current is None else 'changed'
            self.result['changed'] = True
            written.append(path)
            if self.module._diff:
                self.diffs.append(file_diff(path, None if current is None else current[0], data, False))
            if self.check_mode:
                continue
            try:
                write_atomic(path, data, mode, *ids)
            except OSError as exc:
                raise ServiceError('cannot write %s: %s' % (path, exc.strerror or exc))
        return written

    # -- systemd ------------------------------------------------------------------
    def service_state(self, systemctl):
        name = self.params['name']
        rc, out, err = self.module.run_command([systemctl, 'show', SHOW_PROPERTIES, '--', '%s.service' % name],
                                               check_rc=False)
        if rc != 0:
            raise ServiceError('systemd does not answer (systemctl show %s.service, exit status %d): %s'
                               % (name, rc, (err or out).strip()))
        return parse_systemctl_show(out, [name])[name] or {}

    def ensure_service(self, written):
        name, params = self.params['name'], self.params
        systemctl = self.module.get_bin_path('systemctl')
        if systemctl is None:
            raise ServiceError('systemctl was not found: this module needs systemd on the host')
        state = self.result['service']['before'] = self.service_state(systemctl)
        actions = self.result['service']['actions']
        unit = '%s.service' % name

        def act(action):
            actions.append(action)
            self.command([systemctl, action] + ([] if action == 'daemon-reload' else ['--', unit]), 'systemctl %s' % action)

        if any(path.startswith(UNIT_DIRECTORY) for path in written):
            act('daemon-reload')
            if not self.check_mode:
                state = self.service_state(systemctl)
        if state.get('load') != 'loaded' and not (self.check_mode and written):
            raise ServiceError('systemd does not know %s (%s): install its unit file with this module or before it'
                               % (unit, state.get('load') or 'no such unit'))
        enabled = state.get('enabled') == 'enabled'
        if params['enabled'] != enabled:
            act('enable' if params['enabled'] else 'disable')
        active = state.get('active') == 'active'
        if params['state'] == 'started' and not active:
            act('start')
        elif params['state'] == 'started' and written:
            act(params['on_change'])
        elif params['state'] == 'stopped' and active:
            act('stop')
        if actions:
            self.result['changed'] = True

    # -- health ---------------------------------------------------------------------
    def check_health(self):
        check = self.params['health_check']
        if not check or self.params['state'] != 'started' or self.check_mode:
            return
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        started = time.monotonic()
        deadline = started + check['timeout']
        attempts = 0
        while True:
            attempts += 1
            status, content = self.ask(opener, check['url'])
            if status == check['status'] and (check['content'] is None or content == check['content']):
                self.result['health'] = dict(url=check['url'], status=status, content=content, attempts=attempts,
                                             seconds=round(time.monotonic() - started, 3))
                return
            if time.monotonic() + HEALTH_RETRY_DELAY >= deadline:
                expected = '%d%s' % (check['status'], '' if check['content'] is None else ' %r' % check['content'])
                got = '%s %r' % (status, content) if status is not None else content
                raise ServiceError('%s.service did not pass its health check within %g s: %s answered %s, expected %s '
                                   '(journalctl -u %s.service tells why)'
                                   % (self.params['name'], check['timeout'], check['url'], got, expected,
                                      self.params['name']))
            time.sleep(HEALTH_RETRY_DELAY)

    @staticmethod
    def ask(opener, url):
        """``(status, body)``, or ``(None, the error)`` when there was no HTTP answer."""
        try:
            with opener.open(url, timeout=HEALTH_REQUEST_TIMEOUT) as response:
                return response.status, to_text(response.read(65536), errors='replace')
        except urllib.error.HTTPError as exc:
            return exc.code, to_text(exc.read(65536), errors='replace')
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return None, 'no answer (%s)' % to_text(getattr(exc, 'reason', exc))

    def run(self):
        if not SERVICE_NAME.fullmatch(self.params['name']):
            raise ServiceError('name must be a systemd unit name without .service, got %r' % self.params['name'])
        self.ensure_account()
        self.ensure_directories()
        written = self.write_files()
        self.ensure_service(written)
        self.check_health()
        if self.module._diff and self.diffs:
            self.result['diff'] = self.diffs
        return self.result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if module.params['templates']:
        module.fail_json(msg='templates are rendered on the controller by the action plugin websocket.nginx.app_service; '
                             'this module was called without it')
    service = AppService(module)
    try:
        result = service.run()
    except ServiceError as exc:
        module.fail_json(msg=exc.msg, **service.result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
