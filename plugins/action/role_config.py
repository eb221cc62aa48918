# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documented in plugins/modules/role_config.py (where ansible-doc looks for it).

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.websocket.nginx.plugins.plugin_utils import (
    exporter_model, keepalived_model, nginx_values, role_spec, server_models, site_model)

HOST_VARIABLES = (site_model.HOST_ADDRESS_VARIABLE, site_model.HOST_PORT_VARIABLE, 'ansible_host')
# What the keepalived model reads of the other proxies of its group: where their VRRP adverts come from.
KEEPALIVED_HOST_VARIABLES = ('keepalived_address', 'ansible_host')
# The nginx and OpenSSL that Debian's nginx package of each release runs with: what the host will
# run once the nginx role installed it (check mode on a fresh host, where there is no nginx to ask).
DEBIAN_NGINX_BUILDS = {'12': ((1, 22, 1), (3, 0, 0)), '13': ((1, 26, 3), (3, 5, 0))}


# What tls.acme sites need on the host (the role installs it when role_host_info finds it missing).
ACME_CLIENT_PACKAGE = 'certbot'


class _HostVars(object):
    """The few variables the site model reads from other inventory hosts, templated on demand."""

    def __init__(self, hostvars, templar, names=HOST_VARIABLES):
        self._hostvars = hostvars
        self._templar = templar
        self._names = names

    def get(self, name):
        if name not in self._hostvars:
            return None
        host = self._hostvars[name]
        return {key: self._templar.template(host[key]) for key in self._names if key in host}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('role', 'nginx_build', 'proxy_checks'))

    def _host_request(self, role, variables):
        """The arguments of the one websocket.nginx.role_host_info call the role's model needs; {} for none.

        Raises ModelError when the variables it depends on are invalid: nothing is asked of the host then.
        """
        if role == 'nginx_exporter':
            return exporter_model.host_request()
        if role == 'keepalived':
            role_spec.validate_role_variables(role, variables)
            return keepalived_model.host_request()
        if role == 'echo_backend':
            # websocket.nginx.app_service reads the service's state itself.
            return {'nofile_limit': True, 'packages': list(server_models.ECHO_BACKEND_PACKAGES)}
        if role == 'nginx':
            params = role_spec.validate_role_variables(role, variables)
            binary = params['nginx_binary']
            request = {'nofile_limit': True, 'cpus': True, 'services': ['nginx']}
            if server_models.DEBIAN_PACKAGE.fullmatch(params['nginx_package_name']):
                request['packages'] = [params['nginx_package_name']]  # else the model refuses the name
            if _absolute_path(binary):
                request['nginx_binary'] = binary
                # Whether nginx runs the installed binary and the upgrade hooks are in place (nginx_upgrade).
                request['nginx_upgrade'] = True
            return request
        needs = site_model.host_needs(variables)
        if not needs['tls']:
            # Only TLS settings depend on the host's nginx; without TLS sites nothing is read from the host.
            return {}
        request = {'certificates': needs['certificates']} if needs['certificates'] else {}
        if needs['acme']:
            request['packages'] = [ACME_CLIENT_PACKAGE]
        if not nginx_values.parse_nginx_build(self._task.args.get('nginx_build'))[0]:
            # The nginx_build argument (nginx -V run by the caller) is only an override now.
            request['os_release'] = True
            binary = role_spec.validate_role_variables(role, variables)['websocket_proxy_nginx_binary']
            if _absolute_path(binary):
                request['nginx_binary'] = binary
        return request

    def _read_host(self, request, task_vars):
        """One module call for everything in ``request``; {} without a call when the request is empty."""
        if not request:
            return {}
        result = self._execute_module('websocket.nginx.role_host_info', module_args=request, task_vars=task_vars)
        if result.get('failed'):
            # When the module could not run, ansible-core before 2.19 says only "See stdout/stderr for the exact
            # error" and puts the reason (e.g. no such interpreter) in these: the task result keeps them.
            details = {key: result[key] for key in ('rc', 'module_stdout', 'module_stderr') if key in result}
            raise AnsibleActionFail(result.get('msg') or 'websocket.nginx.role_host_info failed on the host', result=details)
        return result

    def _nginx_build(self, host):
        """(nginx, OpenSSL) versions from the nginx_build argument or nginx -V on the host, else from its Debian release."""
        for text in (self._task.args.get('nginx_build'), (host.get('nginx') or {}).get('output')):
            nginx, openssl = nginx_values.parse_nginx_build(text)
            if nginx:
                return nginx, openssl
        return DEBIAN_NGINX_BUILDS.get(host.get('os_version_id'))

    def _keepalived(self, variables, host, task_vars):
        """The keepalived model: the role's variables, the proxies of its group from the inventory (their
        keepalived_address or ansible_host, templated), the host's interfaces, and the websocket_proxy role's
        checks of this host (the proxy_checks argument, the role's tasks pass them)."""
        groups = self._templar.template(task_vars.get('groups', {}))
        group = role_spec.validate_role_variables('keepalived', variables)['keepalived_group']
        reader = _HostVars(task_vars.get('hostvars', {}), self._templar, KEEPALIVED_HOST_VARIABLES)
        hosts = {name: reader.get(name) for name in (groups.get(group) or []) if isinstance(name, str)}
        ansible_host = self._templar.template(task_vars['ansible_host']) if 'ansible_host' in task_vars else None
        return keepalived_model.build_keepalived(
            variables, task_vars.get('inventory_hostname'), groups, hosts, host.get('interfaces'),
            self._task.args.get('proxy_checks') or [], ansible_host=ansible_host)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        role = self._task.args.get('role')
        if role not in role_spec.ROLES:
            raise AnsibleActionFail('role must be one of %s, got %r' % (', '.join(role_spec.ROLES), role))
        spec = role_spec.argument_spec(role)
        # The exporter scrapes the nginx role's status server: it reads where that is from the nginx role's variables.
        names = list(spec) + list(exporter_model.NGINX_VARIABLES if role == 'nginx_exporter' else ())
        variables = self._templar.template({name: task_vars[name] for name in names if name in task_vars})
        try:
            host = self._read_host(self._host_request(role, variables), task_vars)
            summary = _host_summary(host)
            if role == 'websocket_proxy':
                nginx_build = self._nginx_build(host)
                summary['nginx_build'] = nginx_build
                config = site_model.build(variables, _HostVars(task_vars.get('hostvars', {}), self._templar),
                                          self._templar.template(task_vars.get('groups', {})),
                                          nginx_build=nginx_build, certificate_sha1=host.get('certificate_sha1'))
            elif role == 'nginx':
                config = server_models.build_nginx(variables, host['hard_nofile_limit'], host['cpus'])
            elif role == 'nginx_exporter':
                config = exporter_model.build_nginx_exporter(variables, host.get('os_version_id'), host.get('packages'))
            elif role == 'keepalived':
                config = self._keepalived(variables, host, task_vars)
                summary['interfaces'] = host.get('interfaces')
            else:
                config = server_models.build_echo_backend(variables, host['hard_nofile_limit'])
        except role_spec.ModelError as exc:
            result.update(failed=True, errors=exc.errors,
                          msg='%s: invalid variables, nothing was changed: %s' % (role, '; '.join(exc.errors)))
            return result
        result.update(changed=False, config=config.as_dict(), host=summary)
        return result


def _absolute_path(value):
    try:
        return nginx_values.check_absolute_path(value, 'nginx binary', allow_root=False)
    except ValueError:
        return None


def _host_summary(host):
    """What was read from the host, for the result (the model holds what it uses)."""
    summary = {key: host[key] for key in ('hard_nofile_limit', 'cpus', 'os_version_id', 'certificate_sha1', 'packages',
                                          'services', 'nginx_upgrade') if key in host}
    if 'nginx' in host:
        nginx, openssl = nginx_values.parse_nginx_build(host['nginx']['output'])
        summary['nginx'] = {'installed': host['nginx']['installed'],
                            'version': '.'.join(str(part) for part in nginx) if nginx else None,
                            'openssl_version': '.'.join(str(part) for part in openssl) if openssl else None}
    return summary
