# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The C(templates) option of the modules whose action plugin renders templates on the controller."""

    DOCUMENTATION = r"""
options:
  templates:
    description:
      - Templates rendered on the controller by the action plugin (role or playbook template search path, C(ansible_managed)
        and every variable, as M(ansible.builtin.template) renders them) and written as O(files).
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description: The template, found as M(ansible.builtin.template) finds it.
        type: str
        required: true
      dest:
        description: Absolute path of the file on the host.
        type: path
        required: true
      vars:
        description: Variables added for this template only.
        type: dict
        default: {}
      mode:
        description: Octal mode.
        type: str
        default: "0644"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
"""
