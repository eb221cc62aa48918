# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: nginx_arg
short_description: Render a value as exactly one nginx argument
version_added: "0.2.0"
description:
  - Writes the value bare when nginx's tokenizer gives none of its characters a meaning, otherwise in double
    quotes with C(\\) and C(") escaped, so that it can never end a directive, open or close a block, or start a
    comment.
  - Refuses control characters (the roles' checks never let one through).
  - Used by the templates of this collection on every value they write into nginx configuration.
positional: _input
options:
  _input:
    description: A string or an integer.
    type: raw
    required: true
author:
  - websocket.nginx maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: A server name with a space is one quoted argument
  ansible.builtin.debug:
    msg: "server_name {{ 'a b' | websocket.nginx.nginx_arg }};"  # server_name "a b";
"""

RETURN = r"""
_value:
  description: The value as one nginx argument.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.websocket.nginx.plugins.plugin_utils.nginx_values import nginx_arg


def _nginx_arg(value):
    try:
        return nginx_arg(value)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {'nginx_arg': _nginx_arg}
