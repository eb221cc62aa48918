# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: nginx_upstreams
short_description: The upstream blocks and their servers in the output of nginx -T
version_added: "0.2.0"
description:
  - Parses the output of C(nginx -T) with the same parser as M(websocket.nginx.upstream_health) (nginx's own
    tokenizer rules) and returns every upstream with its servers, so that a playbook reads the configuration
    once for all upstreams.
  - Blocks of the same name (in C(http) and C(stream)) are merged, servers in the order found.
positional: _input
options:
  _input:
    description: The output of C(nginx -T).
    type: str
    required: true
author:
  - websocket.nginx maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read nginx's configuration once
  ansible.builtin.command: nginx -T
  register: nginx_t
  changed_when: false

- name: Names of the upstreams
  ansible.builtin.debug:
    msg: "{{ (nginx_t.stdout | websocket.nginx.nginx_upstreams).upstreams | map(attribute='name') }}"
"""

RETURN = r"""
_value:
  description: The upstreams and the parts of the text that could not be parsed.
  type: dict
  contains:
    upstreams:
      description: One item per upstream name, sorted by name.
      type: list
      elements: dict
      contains:
        name:
          description: The upstream's name.
          type: str
        servers:
          description: Its servers with C(address), C(host), C(port), C(unix), C(down), C(backup), C(weight), C(params), C(source), C(line).
          type: list
          elements: dict
    errors:
      description: Parse errors; the other sections are still used.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.websocket.nginx.plugins.module_utils.nginx_config import find_upstreams


def nginx_upstreams(text):
    if not isinstance(text, str):
        raise AnsibleFilterError('nginx_upstreams takes the text printed by nginx -T')
    found, errors = find_upstreams(text)
    upstreams = [
        {'name': name, 'servers': [server for block in blocks for server in block['servers']]}
        for name, blocks in sorted(found.items())
    ]
    return {'upstreams': upstreams, 'errors': errors}


class FilterModule(object):
    def filters(self):
        return {'nginx_upstreams': nginx_upstreams}
