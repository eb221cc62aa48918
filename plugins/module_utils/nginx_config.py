# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read ``upstream`` blocks out of the output of ``nginx -T``.

``nginx -T`` prints every configuration file it loaded, each one after a line
``# configuration file PATH:``. Included files are printed as their own
sections, so each section is tokenized and parsed on its own, with the rules
of nginx's own tokenizer (comments, quotes, escapes, ``${var}``).
"""

from __future__ import annotations

import re

from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import (
    format_address,
    split_host_port,
)

NGINX_DEFAULT_PORT = 80

_SECTION = re.compile(r'^# configuration file (.+):[ \t]*\r?$', re.MULTILINE)
_FLAG_PARAMS = ('backup', 'down', 'resolve', 'drain')
_ESCAPES = {'"': '"', "'": "'", '\\': '\\', 't': '\t', 'r': '\r', 'n': '\n'}


class NginxConfigError(Exception):
    """The configuration text could not be parsed."""


class Directive(object):
    """One directive: ``name args...;`` or ``name args... { children }``."""

    __slots__ = ('name', 'args', 'children', 'source', 'line')

    def __init__(self, name, args, children, source, line):
        self.name = name
        self.args = args
        self.children = children
        self.source = source
        self.line = line

    def __repr__(self):
        return 'Directive(%r, %r, block=%s, %s:%d)' % (self.name, self.args, self.children is not None, self.source, self.line)


def split_sections(text):
    """Split ``nginx -T`` output into ``[(path, content), ...]``.

    Text without any section marker is taken as one configuration file
    called ``<config>``; text before the first marker (for example the
    ``syntax is ok`` lines when stderr was merged in) is ignored.
    """
    markers = list(_SECTION.finditer(text))
    if not markers:
        return [('<config>', text)]
    sections = []
    for index, match in enumerate(markers):
        start = match.end() + 1
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        sections.append((match.group(1), text[start:end]))
    return sections


def _unescape(raw):
    """Undo the escapes nginx undoes in every token: \\" \\' \\\\ \\t \\r \\n."""
    out = []
    index = 0
    size = len(raw)
    while index < size:
        char = raw[index]
        if char == '\\' and index + 1 < size and raw[index + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return ''.join(out)


def tokenize(text, source='<config>'):
    """Yield ``(kind, value, line)``; kind is ``word`` or one of ``; { }``.

    A transcription of ngx_conf_read_token, so that a text splits here exactly as
    nginx splits it: ``#`` starts a comment only where a token may start; a quote
    groups a token only at its start, and must be followed by a space, ``;`` or
    ``{``; a backslash hides the next character; ``{`` right after ``$`` belongs
    to the word; ``}`` ends a block only where a token may start (``a}`` is one
    word); escapes are undone in quoted and bare words alike.
    """
    line = 1
    index = 0
    size = len(text)
    last_space = True
    need_space = False
    escaped = False
    quote = None
    comment = False
    variable = False
    start = 0
    start_line = 1
    while index < size:
        char = text[index]
        index += 1
        if char == '\n':
            line += 1
        if comment:
            if char == '\n':
                comment = False
            continue
        if escaped:
            escaped = False
            continue
        if need_space:
            need_space = False
            if char in ' \t\r\n':
                last_space = True
                continue
            if char in ';{':
                last_space = True
                yield char, char, line
                continue
            if char != ')':
                raise NginxConfigError('%s:%d: unexpected "%s" after a quoted string' % (source, line, char))
            last_space = True
        if last_space:
            start = index - 1
            start_line = line
            if char in ' \t\r\n':
                continue
            if char in ';{}':
                yield char, char, line
                continue
            last_space = False
            if char == '#':
                comment = True
                last_space = True
            elif char == '\\':
                escaped = True
            elif char in '"\'':
                start = index
                quote = char
            elif char == '$':
                variable = True
            continue
        if char == '{' and variable:
            continue
        variable = False
        if char == '\\':
            escaped = True
            continue
        if char == '$':
            variable = True
            continue
        if quote:
            if char == quote:
                quote = None
                need_space = True
                yield 'word', _unescape(text[start:index - 1]), start_line
            continue
        if char in ' \t\r\n;{':
            last_space = True
            yield 'word', _unescape(text[start:index - 1]), start_line
            if char in ';{':
                yield char, char, line
    if quote:
        raise NginxConfigError('%s:%d: unterminated quoted string' % (source, start_line))
    if not last_space and not need_space:
        yield 'word', _unescape(text[start:]), start_line


def parse(text, source='<config>'):
    """Parse one configuration file into a list of :class:`Directive`."""
    root = []
    stack = [root]
    opened = []
    current = []
    current_line = 0
    for kind, value, line in tokenize(text, source):
        if kind == 'word':
            if not current:
                current_line = line
            current.append(value)
        elif kind == ';':
            if not current:
                raise NginxConfigError("%s:%d: unexpected ';'" % (source, line))
            stack[-1].append(Directive(current[0], current[1:], None, source, current_line))
            current = []
        elif kind == '{':
            if not current:
                raise NginxConfigError('%s:%d: block without a directive name' % (source, line))
            block = Directive(current[0], current[1:], [], source, current_line)
            stack[-1].append(block)
            stack.append(block.children)
            opened.append(block)
            current = []
        else:  # '}'
            if current:
                raise NginxConfigError("%s:%d: directive '%s' is not terminated by ';'" % (source, current_line, current[0]))
            if len(stack) == 1:
                raise NginxConfigError("%s:%d: unexpected '}'" % (source, line))
            stack.pop()
            opened.pop()
    if current:
        raise NginxConfigError("%s:%d: directive '%s' is not terminated by ';'" % (source, current_line, current[0]))
    if opened:
        raise NginxConfigError("%s:%d: block '%s' is not closed" % (source, opened[-1].line, opened[-1].name))
    return root


def _walk(directives, context):
    for directive in directives:
        yield directive, context
        if directive.children is not None:
            yield from _walk(directive.children, context + (directive.name,))


def parse_server_directive(directive):
    """Turn an upstream ``server`` directive into a dict.

    Keys: ``address``, ``host``, ``port``, ``unix`` (socket path or None),
    ``down``, ``backup``, ``resolve``, ``weight``, ``params`` (all parameters
    as written), ``source``, ``line``.
    """
    if not directive.args:
        raise NginxConfigError('%s:%d: server directive without an address' % (directive.source, directive.line))
    raw = directive.args[0]
    params = list(directive.args[1:])
    entry = {
        'address': raw,
        'host': None,
        'port': None,
        'unix': None,
        'down': False,
        'backup': False,
        'resolve': False,
        'weight': 1,
        'params': params,
        'source': directive.source,
        'line': directive.line,
    }
    for param in params:
        if param in _FLAG_PARAMS:
            entry[param] = True
        elif param.startswith('weight='):
            try:
                entry['weight'] = int(param[len('weight='):])
            except ValueError:
                raise NginxConfigError('%s:%d: invalid %s' % (directive.source, directive.line, param))
    if raw.startswith('unix:'):
        entry['unix'] = raw[len('unix:'):]
        return entry
    try:
        host, port = split_host_port(raw)
    except ValueError as exc:
        raise NginxConfigError('%s:%d: invalid server address: %s' % (directive.source, directive.line, exc))
    entry['host'] = host
    entry['port'] = NGINX_DEFAULT_PORT if port is None else port
    entry['address'] = format_address(host, entry['port'])
    return entry


def find_upstreams(text):
    """Return ``(upstreams, errors)`` for ``nginx -T`` output.

    ``upstreams`` maps each upstream name to a list of blocks in the order
    found, each block a dict with ``name``, ``context`` (``http``, ``stream``
    or None when the block sits in an included file), ``source``, ``line`` and
    ``servers`` (see :func:`parse_server_directive`). ``errors`` lists
    sections that could not be parsed; the other sections are still used.
    """
    upstreams = {}
    errors = []
    for source, content in split_sections(text):
        try:
            directives = parse(content, source)
        except NginxConfigError as exc:
            errors.append(str(exc))
            continue
        for directive, context in _walk(directives, ()):
            if directive.name != 'upstream' or directive.children is None:
                continue
            if len(directive.args) != 1:
                errors.append('%s:%d: upstream block needs exactly one name' % (source, directive.line))
                continue
            kind = None
            for outer in reversed(context):
                if outer in ('http', 'stream'):
                    kind = outer
                    break
            block = {'name': directive.args[0], 'context': kind, 'source': source, 'line': directive.line, 'servers': []}
            for child in directive.children:
                if child.name == 'server' and child.children is None:
                    try:
                        block['servers'].append(parse_server_directive(child))
                    except NginxConfigError as exc:
                        errors.append(str(exc))
            upstreams.setdefault(block['name'], []).append(block)
    return upstreams, errors


def upstream_servers(text, name):
    """Servers of every ``upstream NAME`` block, in order; raises KeyError when none."""
    upstreams, errors = find_upstreams(text)
    if name not in upstreams:
        raise KeyError(name)
    servers = []
    for block in upstreams[name]:
        for server in block['servers']:
            item = dict(server)
            item['context'] = block['context']
            servers.append(item)
    return servers, errors
