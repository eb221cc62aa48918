#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done on the controller by the action plugin of the same name
# (plugins/action/role_config.py); this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: role_config
short_description: Validate and normalize the variables of a websocket.nginx role
version_added: "0.2.0"
description:
  - Used by the roles of this collection as their first task; not meant to be called from playbooks.
  - Reads the role's variables from the play, checks them against the role's own C(meta/argument_specs.yml) with
    ansible-core's ArgumentSpecValidator (which converts C("8") to 8 and C("false") to false and fills nested
    defaults), then checks every value that reaches a configuration file and the rules between fields.
  - Returns the normalized configuration in RV(config); the role's templates render only that.
  - Fails with one message per problem before anything on the host changes.
  - Runs on the controller. What the model needs from the host is read in one call of
    M(websocket.nginx.role_host_info) (read-only, so also in check mode), and only what that role needs. For
    O(role=nginx) the hard open-files limit that services get (C(/proc/1/limits)), the online CPUs and
    C(nginx -V) of C(nginx_binary); for O(role=echo_backend) the open-files limit; for O(role=nginx_exporter)
    C(VERSION_ID) of C(/etc/os-release), the installed C(prometheus-nginx-exporter) and C(prometheus-node-exporter)
    and the state of its counter's service (O(role=nginx_exporter) also reads the nginx role's C(nginx_status_*)
    variables and C(nginx_websocket_capacity)); for O(role=keepalived) the network interfaces of the host with
    their addresses and the installed C(keepalived) (O(role=keepalived) also reads C(keepalived_address) and
    C(ansible_host) of the hosts of C(keepalived_group) from the inventory); for O(role=websocket_proxy),
    only when a site has TLS, C(nginx -V) of C(websocket_proxy_nginx_binary) and C(VERSION_ID) of
    C(/etc/os-release) (the TLS settings are written the way that nginx takes them), and the SHA-1 of each
    certificate file on the host that a site names (without C(certificate_src)), written in a comment of its
    site file so that a renewed certificate changes the file and reloads nginx.
  - Variables that do not match the role's argument spec fail before the host is asked.
options:
  role:
    description: The role whose variables are checked.
    type: str
    required: true
    choices: [nginx, websocket_proxy, echo_backend, nginx_exporter, keepalived]
  nginx_build:
    description:
      - For O(role=websocket_proxy), an override of the nginx build the TLS settings are written for, the output
        of C(nginx -V). Not needed. Without it (or without a version in it) C(nginx -V) runs on the host in the
        same call as the other reads, and when nginx is not installed yet (check mode on a fresh host) the
        versions of the host's Debian release are used, read from C(/etc/os-release).
    type: str
  proxy_checks:
    description:
      - For O(role=keepalived), the checks through nginx that websocket.nginx.websocket_proxy built for this host
        (C(websocket_proxy_model.config.proxy_checks)), run through the local nginx by keepalived's track script
        when C(keepalived_track_checks) is empty. The keepalived role passes them; ignored for the other roles.
    type: list
    elements: dict
    version_added: "1.1.0"
author:
  - websocket.nginx maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  action:
    description: Indicates this has a corresponding action plugin, which does the work on the controller.
    support: full
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Check the variables and build the configuration
  websocket.nginx.role_config:
    role: websocket_proxy
  register: websocket_proxy_model
"""

RETURN = r"""
config:
  description: The role's configuration, every value checked and every default filled in.
  returned: success
  type: dict
errors:
  description: One message per problem.
  returned: failure
  type: list
  elements: str
host:
  description: What was read from the host (the keys of what the role needed; empty when nothing was).
  returned: success
  type: dict
  contains:
    hard_nofile_limit:
      description: The hard open-files limit of PID 1 (null when unlimited); for O(role=nginx) and O(role=echo_backend).
      type: int
      sample: 20000
    cpus:
      description: The online CPUs; for O(role=nginx).
      type: int
      sample: 2
    os_version_id:
      description: C(VERSION_ID) of C(/etc/os-release); null when there is none.
      type: str
      sample: "12"
    nginx:
      description: What C(nginx -V) said (C(installed) false when the binary is missing).
      type: dict
      sample: {"installed": true, "version": "1.22.1", "openssl_version": "3.0.15"}
    nginx_build:
      description: For O(role=websocket_proxy), the nginx and OpenSSL versions the TLS settings were written for;
        null when unknown (Debian 12's are assumed then).
      type: list
      elements: list
      sample: [[1, 22, 1], [3, 0, 15]]
    certificate_sha1:
      description: Each certificate file on the host that a TLS site names, and the SHA-1 of its content (null when
        the host does not have it).
      type: dict
      sample: {"/etc/ssl/certs/chat.pem": "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}
"""


from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            role=dict(type='str', required=True,
                      choices=['nginx', 'websocket_proxy', 'echo_backend', 'nginx_exporter', 'keepalived']),
            nginx_build=dict(type='str'),
            proxy_checks=dict(type='list', elements='dict'),
        ),
        supports_check_mode=True,
    )
    module.fail_json(msg='websocket.nginx.role_config runs on the controller as an action plugin; '
                         'this module file only documents it')


if __name__ == '__main__':
    main()
