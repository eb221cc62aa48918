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
  - Runs on the controller; for O(role=nginx) and O(role=echo_backend) it reads C(/proc/1/limits) on the host
    to know the open-files hard limit that services get there.
options:
  role:
    description: The role whose variables are checked.
    type: str
    required: true
    choices: [nginx, websocket_proxy, echo_backend]
  nginx_build:
    description:
      - For O(role=websocket_proxy), the output of C(nginx -V) on the host; TLS settings are written the way that
        nginx and its OpenSSL take them. Without a version in it (nginx not installed yet, in check mode), the
        versions of the host's Debian release are used, read from C(/etc/os-release).
    type: str
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
"""


from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            role=dict(type='str', required=True, choices=['nginx', 'websocket_proxy', 'echo_backend']),
            nginx_build=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    module.fail_json(msg='websocket.nginx.role_config runs on the controller as an action plugin; '
                         'this module file only documents it')


if __name__ == '__main__':
    main()
