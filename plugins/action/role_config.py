# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
author:
  - websocket.nginx maintainers (!UNKNOWN)
attributes:
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

import base64

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values, role_spec, server_models, site_model

HOST_VARIABLES = (site_model.HOST_ADDRESS_VARIABLE, site_model.HOST_PORT_VARIABLE, 'ansible_host')


class _HostVars(object):
    """The few variables the site model reads from other inventory hosts, templated on demand."""

    def __init__(self, hostvars, templar):
        self._hostvars = hostvars
        self._templar = templar

    def get(self, name):
        if name not in self._hostvars:
            return None
        host = self._hostvars[name]
        return {key: self._templar.template(host[key]) for key in HOST_VARIABLES if key in host}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('role',))

    def _hard_nofile_limit(self, task_vars):
        result = self._execute_module('ansible.builtin.slurp', module_args={'src': '/proc/1/limits'}, task_vars=task_vars)
        if result.get('failed'):
            raise AnsibleActionFail('cannot read /proc/1/limits on the host: %s' % result.get('msg'))
        return nginx_values.parse_proc_limits(to_text(base64.b64decode(result['content'])))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        role = self._task.args.get('role')
        if role not in role_spec.ROLES:
            raise AnsibleActionFail('role must be one of %s, got %r' % (', '.join(role_spec.ROLES), role))
        spec = role_spec.argument_spec(role)
        variables = self._templar.template({name: task_vars[name] for name in spec if name in task_vars})
        try:
            if role == 'websocket_proxy':
                config = site_model.build(variables, _HostVars(task_vars.get('hostvars', {}), self._templar),
                                          self._templar.template(task_vars.get('groups', {})))
            elif role == 'nginx':
                config = server_models.build_nginx(variables, self._hard_nofile_limit(task_vars))
            else:
                config = server_models.build_echo_backend(variables, self._hard_nofile_limit(task_vars))
        except role_spec.ModelError as exc:
            result.update(failed=True, errors=exc.errors,
                          msg='%s: invalid variables, nothing was changed: %s' % (role, '; '.join(exc.errors)))
            return result
        result.update(changed=False, config=config.as_dict())
        return result
