# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: backend_checks
short_description: How each proxy checks one backend, from the proxies' websocket_proxy models
version_added: "1.1.0"
description:
  - Takes pairs of a proxy (an inventory host) and the result of M(websocket.nginx.role_config) with
    O(websocket.nginx.role_config#module:role=websocket_proxy) on it, and returns one item per upstream of
    that proxy that has the backend among its servers, with the M(websocket.nginx.upstream_health) arguments
    that check the backend's own servers as the upstream checks its servers (its C(health_check)).
  - The site playbook checks each echo backend it changed from every proxy this way.
positional: _input, backend
options:
  _input:
    description: A list of C([proxy, role_config result]) pairs; a pair whose result has no configuration counts as none.
    type: list
    elements: list
    required: true
  backend:
    description: The backend's inventory host name.
    type: str
    required: true
author:
  - websocket.nginx maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check this backend from every proxy whose upstreams have it
  websocket.nginx.upstream_health:
    min_healthy: 100%
  args: "{{ item.upstream_health_args }}"
  delegate_to: "{{ item.proxy }}"
  loop: >-
    {{ groups['websocket_proxies'] | zip(groups['websocket_proxies'] | map('extract', hostvars, 'proxy_model'))
       | websocket.nginx.backend_checks(inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: One item per proxy and upstream, in the order of the pairs.
  type: list
  elements: dict
  contains:
    proxy:
      description: The proxy to run the check from.
      type: str
    upstream:
      description: The upstream whose check this is.
      type: str
    upstream_health_args:
      description: The arguments of M(websocket.nginx.upstream_health), limited to the backend's servers.
      type: dict
"""

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def backend_checks(pairs, backend):
    if not isinstance(pairs, Sequence) or isinstance(pairs, (str, bytes)):
        raise AnsibleFilterError('backend_checks: expected a list of [proxy, role_config result] pairs')
    found = []
    for pair in pairs:
        if not isinstance(pair, Sequence) or isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise AnsibleFilterError('backend_checks: expected a [proxy, role_config result] pair, got %r' % (pair,))
        proxy, result = pair
        config = result.get('config') if isinstance(result, Mapping) else None
        checks = (config or {}).get('host_checks', {}).get(backend, [])
        for check in checks:
            found.append({'proxy': proxy, 'upstream': check['upstream'],
                          'upstream_health_args': check['upstream_health_args']})
    return found


class FilterModule(object):
    def filters(self):
        return {'backend_checks': backend_checks}
