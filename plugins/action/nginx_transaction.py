# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documented in plugins/modules/nginx_transaction.py (where ansible-doc looks for it).

import base64

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.websocket.nginx.plugins.modules.nginx_transaction import ARGUMENT_SPEC
from ansible_collections.websocket.nginx.plugins.plugin_utils.controller_files import read_copy, rendered_files

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

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        files = list(args.pop('files')) + rendered_files(self, args.pop('templates'), task_vars)
        private_files = list(args.pop('private_files'))
        for item in args.pop('copies'):
            data = read_copy(self, item)
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
