# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documented in plugins/modules/role_config.py (where ansible-doc looks for it).

import base64

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values, role_spec, server_models, site_model

HOST_VARIABLES = (site_model.HOST_ADDRESS_VARIABLE, site_model.HOST_PORT_VARIABLE, 'ansible_host')
# The nginx and OpenSSL that Debian's nginx package of each release runs with: what the host will
# run once the nginx role installed it (check mode on a fresh host, where there is no nginx to ask).
DEBIAN_NGINX_BUILDS = {'12': ((1, 22, 1), (3, 0, 0)), '13': ((1, 26, 3), (3, 5, 0))}


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
    _VALID_ARGS = frozenset(('role', 'nginx_build'))

    def _read_host_file(self, path, task_vars):
        result = self._execute_module('ansible.builtin.slurp', module_args={'src': path}, task_vars=task_vars)
        if result.get('failed'):
            raise AnsibleActionFail('cannot read %s on the host: %s' % (path, result.get('msg')))
        return to_text(base64.b64decode(result['content']))

    def _hard_nofile_limit(self, task_vars):
        return nginx_values.parse_proc_limits(self._read_host_file('/proc/1/limits', task_vars))

    def _cpus(self, task_vars):
        """The host's online CPUs, as nginx counts them for "worker_processes auto"."""
        return nginx_values.parse_cpu_list(self._read_host_file('/sys/devices/system/cpu/online', task_vars))

    def _nginx_build(self, task_vars, variables):
        """(nginx, OpenSSL) versions from the nginx_build argument (nginx -V), else from the Debian release.

        Only TLS sites depend on them: without one, nothing is read from the host.
        """
        nginx, openssl = nginx_values.parse_nginx_build(self._task.args.get('nginx_build'))
        if nginx:
            return nginx, openssl
        sites = variables.get('websocket_proxy_sites')
        if not isinstance(sites, list) or not any(isinstance(site, dict) and site.get('tls') for site in sites):
            return None
        result = self._execute_module('ansible.builtin.slurp', module_args={'src': '/etc/os-release'}, task_vars=task_vars)
        if not result.get('failed'):
            release = to_text(base64.b64decode(result['content']))
            for line in release.splitlines():
                if line.startswith('VERSION_ID='):
                    return DEBIAN_NGINX_BUILDS.get(line.split('=', 1)[1].strip('"'))
        return None

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
                                          self._templar.template(task_vars.get('groups', {})),
                                          nginx_build=self._nginx_build(task_vars, variables))
            elif role == 'nginx':
                config = server_models.build_nginx(variables, self._hard_nofile_limit(task_vars), self._cpus(task_vars))
            else:
                config = server_models.build_echo_backend(variables, self._hard_nofile_limit(task_vars))
        except role_spec.ModelError as exc:
            result.update(failed=True, errors=exc.errors,
                          msg='%s: invalid variables, nothing was changed: %s' % (role, '; '.join(exc.errors)))
            return result
        result.update(changed=False, config=config.as_dict())
        return result
