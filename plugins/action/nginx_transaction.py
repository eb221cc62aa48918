# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documented in plugins/modules/nginx_transaction.py (where ansible-doc looks for it).

import base64

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.websocket.nginx.plugins.modules.nginx_transaction import ARGUMENT_SPEC

MODULE = 'websocket.nginx.nginx_transaction'


def play_id(task):
    """The uuid of the play ``task`` runs in (new for every play of every ansible-playbook run)."""
    parent = getattr(task, '_parent', None)
    while parent is not None:
        play = getattr(parent, '_play', None)
        if play is not None:
            return 'play-%s' % play._uuid
        parent = getattr(parent, '_parent', None)
    return None


class ActionModule(ActionBase):
    """Render the templates and read the copies here, then change the host in one module call."""

    TRANSFERS_FILES = False

    def render(self, item, task_vars):
        """The text ansible.builtin.template would write: the template lookup renders with the same search
        path (the role's or playbook's templates/), ansible_managed and every variable."""
        variables = dict(task_vars)
        variables.update(item['vars'] or {})
        lookup = lookup_loader.get('ansible.builtin.template', loader=self._loader, templar=self._templar)
        try:
            rendered = lookup.run([item['src']], variables=variables)[0]
        except AnsibleError as exc:
            raise AnsibleActionFail('cannot render the template %s for %s: %s' % (item['src'], item['dest'], to_text(exc)))
        return to_text(rendered)

    def read_copy(self, item):
        try:
            source = self._find_needle('files', item['src'])
            real = self._loader.get_real_file(source, decrypt=True)
            with open(real, 'rb') as handle:
                return handle.read()
        except (AnsibleError, OSError) as exc:
            raise AnsibleActionFail('cannot read %s on the controller for %s: %s' % (item['src'], item['dest'], to_text(exc)))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        files = list(args.pop('files'))
        private_files = list(args.pop('private_files'))
        for item in args.pop('templates'):
            files.append(dict(path=item['dest'], content=self.render(item, task_vars), mode=item['mode'],
                              owner=item['owner'], group=item['group']))
        for item in args.pop('copies'):
            data = self.read_copy(item)
            entry = dict(path=item['dest'], content_base64=to_text(base64.b64encode(data)), owner=item['owner'],
                         group=item['group'], mode=item['mode'] or ('0600' if item['private'] else '0644'))
            (private_files if item['private'] else files).append(entry)
        args.update(files=files, private_files=private_files)
        if not args.get('transaction_id'):
            args['transaction_id'] = play_id(self._task)
        # Unset options (None after validation) are left to the module's own defaults.
        args = dict((key, value) for key, value in args.items() if value is not None)
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
