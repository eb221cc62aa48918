#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nginx_upgrade
short_description: Move a running nginx to its upgraded binary on the fly, keeping every open WebSocket
version_added: "1.1.0"
description:
  - An upgrade (or downgrade) of the nginx package replaces the binary, but the running nginx still runs the previous
    one, and Debian's packages restart nginx to load it, which closes every open connection.
  - "With O(upgrade), when the master named in O(pid_file) runs a binary other than the file O(binary), this module
    moves nginx to it on the fly (U(https://nginx.org/en/docs/control.html#upgrade)): C(USR2) to the master starts
    the new binary as a new master that inherits the listening sockets; once the new master runs the installed binary
    and has its worker processes, C(QUIT) to the old master, whose workers finish their open connections (WebSockets
    up to C(worker_shutdown_timeout)) and exit. systemd then takes the new master from the pid file as the service's
    main process."
  - It proves the new master runs the installed binary before it reports success. When the new master does not start
    (or does not serve within O(timeout)), the task fails with the lines nginx wrote to its error log, and the old
    master keeps serving.
  - "With O(hooks=present), upgrades by apt outside Ansible (C(apt upgrade), unattended-upgrades) go the same way: a
    C(/usr/sbin/policy-rc.d) layer denies the restart and Debian's C(upgrade) action that nginx's packages ask for in
    their maintainer scripts (nothing else: other services, and an administrator's C(systemctl restart nginx), are
    not affected; a policy-rc.d the host already had keeps answering for everything else), and an apt
    C(DPkg::Post-Invoke) hook runs the same procedure once dpkg is done, writing what happened to the journal
    (C(SYSLOG_IDENTIFIER=websocket-nginx-upgrade)). O(hooks=absent) removes them and gives the previous policy-rc.d
    back."
  - Standard library only on the managed host; it reads the processes from C(/proc) and must run as root.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  binary:
    description: The installed nginx executable the running nginx should run.
    type: path
    default: /usr/sbin/nginx
  pid_file:
    description: The file nginx writes its master's process ID to (the C(pid) directive).
    type: path
    default: /run/nginx.pid
  timeout:
    description: Seconds the new master has to run its workers after C(USR2); at most 3600.
    type: float
    default: 60.0
  upgrade:
    description:
      - Move nginx to O(binary) when it runs another binary. Nothing happens when nginx is not running (its next start
        runs the installed binary) or already runs it.
    type: bool
    default: true
  hooks:
    description:
      - V(present) installs the hooks that make upgrades by apt outside Ansible replace the binary on the fly,
        V(absent) removes them; left out, they are left as they are.
    type: str
    choices: [present, absent]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether nginx would be moved to the installed binary and what would change in the hooks.
  diff_mode:
    support: none
  platform:
    platforms: debian
notes:
  - The websocket.nginx.nginx role runs it after every change of the nginx package, and installs the hooks unless
    C(nginx_graceful_upgrades) is false.
"""

EXAMPLES = r"""
- name: Upgrade nginx without dropping a WebSocket
  ansible.builtin.apt:
    name: nginx
    state: latest
  notify: Move nginx to the upgraded binary

# The handler
- name: Move nginx to the upgraded binary
  websocket.nginx.nginx_upgrade:
  become: true

- name: Make upgrades by apt and unattended-upgrades keep open connections too
  websocket.nginx.nginx_upgrade:
    hooks: present
    upgrade: false
  become: true
"""

RETURN = r"""
master_pid:
  description: Process ID of the nginx master that serves (the new one after an upgrade); null when nginx is not running.
  returned: always
  type: int
  sample: 2345
old_master_pid:
  description: The master that ran the previous binary, now finishing its open connections; null without an upgrade.
  returned: always
  type: int
  sample: 1234
version:
  description: The version of O(binary) (C(nginx -v)); null when nginx is not running.
  returned: always
  type: str
  sample: nginx/1.22.1
version_before:
  description: The version of the binary nginx ran before; null without an upgrade.
  returned: always
  type: str
  sample: nginx/1.22.1
seconds:
  description: Seconds from C(USR2) until the new master's workers ran; null without an upgrade.
  returned: always
  type: float
  sample: 0.131
old_workers:
  description: The old master's worker processes, which finish their open connections.
  returned: always
  type: list
  elements: int
  sample: [1301, 1302]
new_workers:
  description: The new master's worker processes.
  returned: always
  type: list
  elements: int
  sample: [2351, 2352]
error_log:
  description: The file the old master writes its error log to (its standard error), null when that is not a file.
  returned: always
  type: str
  sample: /var/log/nginx/error.log
error_log_lines:
  description: The last lines nginx wrote to RV(error_log) after C(USR2) (at most 10).
  returned: when the upgrade failed
  type: list
  elements: str
hooks:
  description: What changed (in check mode, would change) in the hooks; empty when they were as asked.
  returned: always
  type: list
  elements: str
  sample: ["create /etc/apt/apt.conf.d/80websocket-nginx-upgrade"]
msg:
  description: Summary.
  returned: always
  type: str
  sample: "nginx moved on the fly from nginx/1.22.1 to nginx/1.22.1 (/usr/sbin/nginx): the new master process 2345 serves ..."
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_upgrade


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type='path', default=nginx_upgrade.DEFAULT_BINARY),
            pid_file=dict(type='path', default=nginx_upgrade.DEFAULT_PID_FILE),
            timeout=dict(type='float', default=nginx_upgrade.DEFAULT_TIMEOUT),
            upgrade=dict(type='bool', default=True),
            hooks=dict(type='str', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    params = module.params
    hooks = []
    try:
        if params['hooks'] == 'present':
            hooks = nginx_upgrade.install_hooks(nginx_upgrade.own_sources(), check_mode=module.check_mode)
        elif params['hooks'] == 'absent':
            hooks = nginx_upgrade.remove_hooks(check_mode=module.check_mode)
    except OSError as exc:
        module.fail_json(msg='cannot change the upgrade hooks: %s' % exc, hooks=hooks)
    result = nginx_upgrade.empty_result(msg='nginx was not looked at (upgrade is off)')
    if params['upgrade']:
        try:
            result = nginx_upgrade.upgrade(params['pid_file'], params['binary'], params['timeout'],
                                           check_mode=module.check_mode)
        except nginx_upgrade.ReloadError as exc:
            module.fail_json(msg=exc.msg, hooks=hooks, **exc.details)
    if hooks:
        result['msg'] = '%s; hooks: %s' % (result['msg'], ', '.join(hooks))
    result.update(changed=result['changed'] or bool(hooks), hooks=hooks)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
