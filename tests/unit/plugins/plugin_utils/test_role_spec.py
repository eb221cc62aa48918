# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The roles and their argument specs stay consistent with each other."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.websocket.nginx.plugins.plugin_utils import role_spec

ROLES_DIR = pathlib.Path(role_spec.COLLECTION_ROOT) / 'roles'


def _registered(tasks):
    for task in tasks or []:
        if isinstance(task, dict):
            if 'register' in task:
                yield task['register']
            for key in ('block', 'rescue', 'always'):
                yield from _registered(task.get(key))


@pytest.mark.parametrize('role', role_spec.ROLES)
def test_no_task_registers_a_variable_named_like_an_option(role):
    """A registered result named like an option would replace the option's value for later runs of the role."""
    options = set(role_spec.argument_spec(role))
    registered = set()
    for path in (ROLES_DIR / role).glob('*/*.yml'):
        if path.parent.name in ('tasks', 'handlers'):
            registered.update(_registered(yaml.safe_load(path.read_text())))
    assert registered, role
    assert not registered & options


def test_argument_spec_is_a_fresh_copy():
    spec = role_spec.argument_spec('nginx')
    spec['nginx_user']['default'] = 'changed'
    assert role_spec.argument_spec('nginx')['nginx_user']['default'] == 'www-data'


@pytest.mark.parametrize('role', role_spec.ROLES)
def test_every_option_has_a_default_with_a_comment_and_no_default_is_undocumented(role):
    """defaults/main.yml and the argument spec list the same variables; each default has a comment line above it."""
    lines = (ROLES_DIR / role / 'defaults' / 'main.yml').read_text().splitlines()
    defaults = yaml.safe_load('\n'.join(lines)) or {}
    assert set(defaults) == set(role_spec.argument_spec(role))
    for number, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith(('#', '---')):
            assert number > 0 and lines[number - 1].startswith('#'), '%s: %s has no comment above it' % (role, line)
