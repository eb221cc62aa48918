# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What systemd says about services (``systemctl show``), for role_host_info and app_service."""

from __future__ import annotations

import re

SHOW_PROPERTIES = '--property=Id,LoadState,ActiveState,UnitFileState'
# A unit name without its ".service" suffix; never an option.
SERVICE_NAME = re.compile(r'[A-Za-z0-9:_.@][A-Za-z0-9:_.@-]*')


def service_states(module, names):
    """``{name: {load, active, enabled}}`` of systemd units (systemctl show), None for each without systemd."""
    states = dict((name, None) for name in names)
    systemctl = module.get_bin_path('systemctl')
    if systemctl is None:
        return states
    rc, out, err = module.run_command([systemctl, 'show', SHOW_PROPERTIES, '--'] + ['%s.service' % name for name in names],
                                      check_rc=False)
    del err
    if rc != 0:
        return states  # no running systemd (a plain container): the roles then ask systemd themselves
    return parse_systemctl_show(out, names)


def parse_systemctl_show(text, names):
    """The output of ``systemctl show --property=Id,LoadState,ActiveState,UnitFileState NAME.service ...``:
    one block of KEY=value lines per unit, separated by an empty line, matched to ``names`` by their Id."""
    states = dict((name, None) for name in names)
    for block in text.strip().split('\n\n'):
        fields = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
        name = fields.get('Id', '')[:-len('.service')] if fields.get('Id', '').endswith('.service') else None
        if name in states:
            states[name] = {'load': fields.get('LoadState'), 'active': fields.get('ActiveState'),
                            'enabled': fields.get('UnitFileState') or None}
    return states
