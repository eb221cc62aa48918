# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documented in plugins/modules/app_service.py (where ansible-doc looks for it).

from ansible.plugins.action import ActionBase

from ansible_collections.websocket.nginx.plugins.modules.app_service import ARGUMENT_SPEC
from ansible_collections.websocket.nginx.plugins.plugin_utils.controller_files import rendered_files

MODULE = 'websocket.nginx.app_service'


class ActionModule(ActionBase):
    """Render the templates here, then deploy the service in one module call."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        args['files'] = list(args.pop('files')) + rendered_files(self, args.pop('templates'), task_vars)
        args = dict((key, value) for key, value in args.items() if value is not None)
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
