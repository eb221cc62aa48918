# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the action plugins read on the controller before their one module call: rendered templates and copies."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.loader import lookup_loader


def render_template(action, item, task_vars):
    """The text ansible.builtin.template would write for ``item`` (src, dest, vars): the template lookup renders
    with the same search path (the role's or playbook's templates/), ansible_managed and every variable."""
    variables = dict(task_vars)
    variables.update(item.get('vars') or {})
    lookup = lookup_loader.get('ansible.builtin.template', loader=action._loader, templar=action._templar)
    try:
        rendered = lookup.run([item['src']], variables=variables)[0]
    except AnsibleError as exc:
        raise AnsibleActionFail('cannot render the template %s for %s: %s' % (item['src'], item['dest'], to_text(exc)))
    return to_text(rendered)


def rendered_files(action, templates, task_vars):
    """The ``files`` entries (path, content, mode, owner, group) the modules write for their ``templates`` option."""
    return [dict(path=item['dest'], content=render_template(action, item, task_vars), mode=item['mode'],
                 owner=item['owner'], group=item['group']) for item in templates]


def read_copy(action, item):
    """The bytes of ``item['src']``, found as ansible.builtin.copy finds it (files/ search path, vault decrypted)."""
    try:
        source = action._find_needle('files', item['src'])
        real = action._loader.get_real_file(source, decrypt=True)
        with open(real, 'rb') as handle:
            return handle.read()
    except (AnsibleError, OSError) as exc:
        raise AnsibleActionFail('cannot read %s on the controller for %s: %s' % (item['src'], item['dest'], to_text(exc)))
