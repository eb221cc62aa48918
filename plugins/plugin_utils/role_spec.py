# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A role's variables checked against its own ``meta/argument_specs.yml``.

ansible-core's ArgumentSpecValidator converts types (``"8"`` to 8, ``"false"``
to False, a comma-separated string to a list) and fills nested defaults, so the
spec is the one place where each default lives and the models get typed values.
"""

from __future__ import annotations

import copy
import functools
import os

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = ('nginx', 'websocket_proxy', 'echo_backend', 'nginx_exporter', 'keepalived')


class ModelError(Exception):
    """Variables that cannot be deployed; ``errors`` holds one message per problem."""

    def __init__(self, errors):
        super().__init__('; '.join(errors))
        self.errors = list(errors)


def argument_spec(role, entry_point='main'):
    """The ``options`` of a role's argument spec, read from the collection's own files (a copy)."""
    if role not in ROLES:
        raise ValueError('unknown role %s; one of %s' % (role, ', '.join(ROLES)))
    return copy.deepcopy(_load_argument_spec(role, entry_point))


@functools.lru_cache(maxsize=None)
def _load_argument_spec(role, entry_point):
    path = os.path.join(COLLECTION_ROOT, 'roles', role, 'meta', 'argument_specs.yml')
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)['argument_specs'][entry_point]['options']


def validate_role_variables(role, variables):
    """Return the role's variables typed, with every default filled in; raise ModelError.

    ``variables`` holds the values the play has (only the spec's options are
    read; the others are ignored, as the role's own validation does).
    """
    spec = argument_spec(role)
    provided = {name: value for name, value in variables.items() if name in spec}
    result = ArgumentSpecValidator(spec).validate(provided, validate_role_argument_spec=True)
    if result.error_messages:
        raise ModelError(result.error_messages)
    return result.validated_parameters


class Problems(object):
    """Collects every problem of a model, each under the place it was found."""

    def __init__(self):
        self.errors = []

    def check(self, where, function, *args, **kwargs):
        """Call a ``check_*``; on ValueError note it under ``where`` and return None."""
        try:
            return function(*args, **kwargs)
        except ValueError as exc:
            self.add(where, str(exc))
            return None

    def add(self, where, message):
        self.errors.append('%s: %s' % (where, message) if where else message)

    def raise_if_any(self):
        if self.errors:
            raise ModelError(self.errors)
