#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nginx_reload
short_description: Reload nginx and wait until it really serves the new configuration
version_added: "0.3.0"
description:
  - C(systemctl reload nginx) (and M(ansible.builtin.systemd_service) with C(state=reloaded)) only sends C(SIGHUP) to
    the nginx master process and returns at once. A check through nginx right after it can still be answered by the
    old worker processes, and a reload that the master rejects at reload time, for example because a new C(listen)
    address is already in use (C(nginx -t) does not bind, so it passes), goes unnoticed - the old workers keep serving
    the old configuration.
  - "This module sends C(SIGHUP) to the master named in O(pid_file) and waits until the reload has taken effect: none of
    the worker processes that ran before the reload still accepts connections (each one has exited or is titled
    C(nginx: worker process is shutting down), which nginx sets right before it closes its listening sockets), the
    master is still alive and at least one new worker process runs."
  - It does not wait for the old workers to exit. They finish the requests and WebSocket connections they hold, as
    long as nginx lets them (C(worker_shutdown_timeout)).
  - When nginx did not take the new configuration within O(timeout) seconds, the task fails, says that nginx keeps
    serving the previous configuration, and quotes the last lines that nginx wrote to its error log since the reload
    when the log is a file.
  - When nginx is not running at all (no O(pid_file), an empty one, or one that names a process that is gone), there
    is nothing to reload - like M(ansible.builtin.systemd_service) with C(state=reloaded) the module starts the systemd
    unit O(service) with C(systemctl start), then waits until the pid file names a running master with a worker process.
  - The module finds the processes in C(/proc) and only needs the Python standard library on the managed host.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  pid_file:
    description:
      - The file in which nginx writes the process ID of its master process (the C(pid) directive).
      - "The process it names must be running with the title C(nginx: master process ...), otherwise the task fails
        without signalling anything."
    type: path
    default: /run/nginx.pid
  service:
    description:
      - The systemd unit started with C(systemctl start) when nginx is not running.
      - A unit name only (letters, digits and C(:_.@-), not starting with C(-)).
    type: str
    default: nginx
  timeout:
    description:
      - Seconds allowed for the new configuration to take effect after C(SIGHUP) (and, before it, for the master to have
        a worker process, when it has none yet).
      - When nginx was not running, the time allowed for C(systemctl start) and the first worker process together;
        C(systemctl) is killed when it has not finished by then (the start job it queued may still go on).
      - Must be a finite number greater than 0 and at most 3600 (one hour); V(inf), V(nan) and larger values are refused.
      - A reload the master refuses (it writes C([emerg]) to its error log and keeps the previous workers) fails about
        2 seconds after nginx's last C([emerg]) line, without waiting for the timeout.
    type: float
    default: 30.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module only reads the pid file and C(/proc) and reports C(changed=true), the reload (or
      start) that would happen.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Linux only; the processes are read from C(/proc).
notes:
  - Signalling the master needs the rights of its user, usually root (C(become)).
  - The module does not test the configuration; run C(nginx -t) first (for example with the C(validate) option of
    M(ansible.builtin.template)). A configuration that C(nginx -t) accepts can still be refused at reload time.
  - The module always reports C(changed=true), like a reload by M(ansible.builtin.systemd_service); use it in a
    handler or with C(when).
  - Without a running systemd (for example in a plain container) C(systemctl start) fails and so does the task when
    nginx is not running; a running nginx is reloaded without systemd.
seealso:
  - module: ansible.builtin.systemd_service
  - module: websocket.nginx.upstream_health
"""

EXAMPLES = r"""
- name: Reload nginx and wait until the new configuration is served
  websocket.nginx.nginx_reload:
  become: true

- name: Reload an nginx with its own pid file, allow 10 seconds
  websocket.nginx.nginx_reload:
    pid_file: /run/nginx-edge.pid
    service: nginx-edge
    timeout: 10
  become: true
  register: reload

- name: Show how long the reload took
  ansible.builtin.debug:
    msg: "new workers {{ reload.new_workers }} after {{ reload.seconds }} s"

# As a handler, instead of ansible.builtin.systemd_service with state=reloaded
- name: Reload nginx
  websocket.nginx.nginx_reload:
  listen: reload nginx
  become: true
"""

RETURN = r"""
master_pid:
  description: Process ID of the nginx master; null in check mode when nginx is not running.
  returned: always
  type: int
  sample: 1234
started:
  description: Whether nginx was not running and was started with C(systemctl start) (in check mode, would be started).
  returned: always
  type: bool
  sample: false
old_workers:
  description: Process IDs of the worker processes that ran before the reload; empty when nginx was started.
  returned: always
  type: list
  elements: int
  sample: [1301, 1302]
new_workers:
  description: Process IDs of the worker processes that serve the new configuration; empty in check mode.
  returned: always
  type: list
  elements: int
  sample: [1417, 1418]
shutting_down:
  description:
    - "Those of RV(old_workers) that were still alive, titled C(nginx: worker process is shutting down), when the reload
      had taken effect. They no longer accept connections and finish the ones they hold."
  returned: always
  type: list
  elements: int
  sample: [1301]
seconds:
  description: Seconds from C(SIGHUP) (or C(systemctl start)) until the new configuration was served; null in check mode.
  returned: always
  type: float
  sample: 0.108
error_log:
  description: The file the master writes its error log to (its standard error), null when that is not a file.
  returned: always
  type: str
  sample: /var/log/nginx/error.log
still_accepting:
  description:
    - Those of RV(old_workers) that still accepted connections when O(timeout) expired, so nginx kept serving the
      previous configuration.
  returned: when nginx did not take the new configuration in time
  type: list
  elements: int
  sample: [1301, 1302]
error_log_lines:
  description: The last lines nginx wrote to RV(error_log) after the reload (at most 10).
  returned: when the reload failed
  type: list
  elements: str
  sample: ["2026/01/05 10:00:00 [emerg] 1234#1234: bind() to 127.0.0.1:8080 failed (98: Address already in use)"]
msg:
  description: Summary.
  returned: always
  type: str
  sample: "nginx reloaded (master process 1234): 2 new workers serve the new configuration after 0.108 s, 1 old worker is shutting down"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.websocket.nginx.plugins.module_utils.nginx_reload import ReloadError, reload_and_wait


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pid_file=dict(type='path', default='/run/nginx.pid'),
            service=dict(type='str', default='nginx'),
            timeout=dict(type='float', default=30.0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = reload_and_wait(params['pid_file'], params['timeout'], params['service'], check_mode=module.check_mode,
                                 run_command=module.run_command)
    except ReloadError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
