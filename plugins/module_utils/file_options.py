# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument-spec pieces of the modules that write files (nginx_transaction, app_service)."""

from __future__ import annotations

OWNERSHIP = dict(owner=dict(type='str', default='root'), group=dict(type='str', default='root'))
# Rendered by the action plugin on the controller (doc fragment websocket.nginx.controller_templates).
TEMPLATES = dict(type='list', elements='dict', default=[], options=dict(
    src=dict(type='str', required=True), dest=dict(type='path', required=True), vars=dict(type='dict', default={}),
    mode=dict(type='str', default='0644'), **OWNERSHIP))
# Files nginx itself writes (logs): created empty when missing, never written or removed.
LOG_FILES = dict(type='list', elements='dict', default=[], options=dict(
    path=dict(type='path', required=True), mode=dict(type='str', default='0640'),
    owner=dict(type='str', default='www-data'), group=dict(type='str', default='adm')))
DIRECTORIES = dict(type='list', elements='dict', default=[], options=dict(
    path=dict(type='path', required=True), mode=dict(type='str', default='0755'), **OWNERSHIP))
