# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of the ``nginx -T`` upstream parser."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config as nc

# Shaped like real `nginx -T` output: each file after a "# configuration file" line,
# included files printed as their own sections.
NGINX_T = textwrap.dedent('''\
    # configuration file /etc/nginx/nginx.conf:
    user www-data;
    worker_processes auto;
    pid /run/nginx.pid;
    include /etc/nginx/modules-enabled/*.conf;

    events {
    \tworker_connections 768;
    \t# multi_accept on;
    }

    http {
    \tmap $http_upgrade $connection_upgrade {
    \t\tdefault upgrade;
    \t\t''      close;
    \t}
    \tlog_format ws '$remote_addr "$request" {upstream=$upstream_addr}; ${request_time}s';
    \tinclude /etc/nginx/conf.d/*.conf;
    \tinclude /etc/nginx/sites-enabled/*;
    }

    stream {
    \tupstream websocket_backend {   # same name in the stream context
    \t\tserver 10.0.0.9:9000;
    \t}
    }

    # configuration file /etc/nginx/modules-enabled/50-mod-stream.conf:
    load_module modules/ngx_stream_module.so;

    # configuration file /etc/nginx/conf.d/upstreams.conf:
    # } a brace in a comment { must not count
    upstream websocket_backend {
        zone websocket_backend 64k;
        hash $remote_addr consistent;
        server 10.0.0.11:8080 weight=3 max_fails=2 fail_timeout=10s;
        server 10.0.0.12:8080 max_conns=100;  # trailing comment
        server [2001:db8::13]:8080 backup;
        server [2001:db8::14] down;
        server app.internal resolve;
        server "10.0.0.15:8081" slow_start=30s;
        server unix:/run/app.sock;
        server
            10.0.0.16:8082
            weight=1;
        keepalive 32;
    }

    upstream "static_files" {
        server 127.0.0.1:8001;
    }

    # configuration file /etc/nginx/sites-enabled/default:
    server {
    \tlisten 80 default_server;
    \tlocation /ws {
    \t\tproxy_pass http://websocket_backend;
    \t\tproxy_set_header Connection $connection_upgrade;
    \t\treturn 200 "a ; and a { in a string";
    \t}
    \tlocation ~ "^/(img|js)/.{1,3}$" {
    \t\troot /var/www;
    \t}
    }
''')


def test_split_sections():
    sections = nc.split_sections(NGINX_T)
    assert [path for path, _content in sections] == [
        '/etc/nginx/nginx.conf',
        '/etc/nginx/modules-enabled/50-mod-stream.conf',
        '/etc/nginx/conf.d/upstreams.conf',
        '/etc/nginx/sites-enabled/default',
    ]
    assert sections[1][1].strip() == 'load_module modules/ngx_stream_module.so;'


def test_text_without_markers_is_one_file():
    assert nc.split_sections('upstream a { server b; }') == [('<config>', 'upstream a { server b; }')]


def test_find_upstreams():
    upstreams, errors = nc.find_upstreams(NGINX_T)
    assert errors == []
    assert sorted(upstreams) == ['static_files', 'websocket_backend']
    stream_block, http_block = upstreams['websocket_backend']
    assert (stream_block['context'], stream_block['source'], stream_block['line']) == ('stream', '/etc/nginx/nginx.conf', 22)
    assert (http_block['context'], http_block['source'], http_block['line']) == (None, '/etc/nginx/conf.d/upstreams.conf', 2)
    servers = http_block['servers']
    assert [s['address'] for s in servers] == [
        '10.0.0.11:8080', '10.0.0.12:8080', '[2001:db8::13]:8080', '[2001:db8::14]:80', 'app.internal:80',
        '10.0.0.15:8081', 'unix:/run/app.sock', '10.0.0.16:8082',
    ]
    assert [s['host'] for s in servers][:3] == ['10.0.0.11', '10.0.0.12', '2001:db8::13']
    assert [s['port'] for s in servers] == [8080, 8080, 8080, 80, 80, 8081, None, 8082]
    assert [s['down'] for s in servers] == [False, False, False, True, False, False, False, False]
    assert [s['backup'] for s in servers] == [False, False, True, False, False, False, False, False]
    assert [s['resolve'] for s in servers] == [False, False, False, False, True, False, False, False]
    assert [s['weight'] for s in servers] == [3, 1, 1, 1, 1, 1, 1, 1]
    assert servers[0]['params'] == ['weight=3', 'max_fails=2', 'fail_timeout=10s']
    assert servers[6]['unix'] == '/run/app.sock'
    assert [s['line'] for s in servers] == [5, 6, 7, 8, 9, 10, 11, 12]


def test_upstream_servers_merges_blocks_in_order():
    servers, errors = nc.upstream_servers(NGINX_T, 'websocket_backend')
    assert errors == []
    assert servers[0]['address'] == '10.0.0.9:9000'
    assert servers[0]['context'] == 'stream'
    assert len(servers) == 9
    with pytest.raises(KeyError):
        nc.upstream_servers(NGINX_T, 'nope')


def test_tokenizer_quotes_escapes_variables():
    text = 'a "b c" \'d;e\' "x\\"y" f${g}h {\n i "\\t"; }\n# comment { ; }\nj k#l;'
    tokens = [(kind, value) for kind, value, _line in nc.tokenize(text)]
    assert tokens == [
        ('word', 'a'), ('word', 'b c'), ('word', 'd;e'), ('word', 'x"y'), ('word', 'f${g}h'), ('{', '{'),
        ('word', 'i'), ('word', '\t'), (';', ';'), ('}', '}'), ('word', 'j'), ('word', 'k#l'), (';', ';'),
    ]


def test_parse_tree_and_lines():
    tree = nc.parse('http {\n  upstream u {\n    server a;\n  }\n}\n', 'f.conf')
    assert tree[0].name == 'http'
    upstream = tree[0].children[0]
    assert (upstream.name, upstream.args, upstream.line) == ('upstream', ['u'], 2)
    assert (upstream.children[0].name, upstream.children[0].args, upstream.children[0].line) == ('server', ['a'], 3)


@pytest.mark.parametrize('text, message', [
    ('upstream u { server a; ', "f.conf:1: block 'upstream' is not closed"),
    ('upstream u { server a }', "f.conf:1: directive 'server' is not terminated by ';'"),
    ('}', "f.conf:1: unexpected '}'"),
    ('a "b;', 'f.conf:1: unterminated quoted string'),
    ('\n{ }', 'f.conf:2: block without a directive name'),
    ('user www-data', "f.conf:1: directive 'user' is not terminated by ';'"),
])
def test_parse_errors(text, message):
    with pytest.raises(nc.NginxConfigError) as exc:
        nc.parse(text, 'f.conf')
    assert str(exc.value) == message


def test_broken_section_does_not_hide_the_others():
    text = textwrap.dedent('''\
        # configuration file /etc/nginx/nginx.conf:
        http { include conf.d/*.conf; }

        # configuration file /etc/nginx/conf.d/lua.conf:
        server { location / { content_by_lua_block { ngx.say("}") } } }

        # configuration file /etc/nginx/conf.d/up.conf:
        upstream u { server 10.1.1.1:81; server 10.1.1.2:81 weight=x; }
    ''')
    upstreams, errors = nc.find_upstreams(text)
    assert [s['address'] for s in upstreams['u'][0]['servers']] == ['10.1.1.1:81']
    assert len(errors) == 2
    assert errors[0].startswith('/etc/nginx/conf.d/lua.conf:')
    assert errors[1] == '/etc/nginx/conf.d/up.conf:1: invalid weight=x'


def test_bad_server_address_is_reported():
    upstreams, errors = nc.find_upstreams('upstream u { server 10.0.0.1:99999; server; }')
    assert upstreams['u'][0]['servers'] == []
    assert errors == [
        "<config>:1: invalid server address: invalid port '99999': must be an integer between 1 and 65535",
        '<config>:1: server directive without an address',
    ]


def test_header_lines_before_first_marker_are_ignored():
    text = ('nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n'
            '# configuration file /etc/nginx/nginx.conf:\nhttp { upstream u { server h:1; } }\n')
    upstreams, errors = nc.find_upstreams(text)
    assert errors == []
    assert upstreams['u'][0]['servers'][0]['address'] == 'h:1'
    assert upstreams['u'][0]['context'] == 'http'


def _nginx():
    return shutil.which('nginx') or ('/usr/sbin/nginx' if os.access('/usr/sbin/nginx', os.X_OK) else None)


@pytest.mark.skipif(_nginx() is None, reason='nginx is not installed (apt-get install nginx-light)')
def test_real_nginx_t_output(tmp_path):
    """The parser on what a real nginx prints for a configuration spread over files."""
    (tmp_path / 'conf.d').mkdir()
    (tmp_path / 'nginx.conf').write_text(textwrap.dedent('''\
        pid {tmp}/nginx.pid;
        error_log {tmp}/error.log;
        events {{ }}
        http {{
            map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
            include {tmp}/conf.d/*.conf;
        }}
    ''').format(tmp=tmp_path))
    (tmp_path / 'conf.d' / '1-up.conf').write_text(
        'upstream ws { server 127.0.0.1:8081 weight=2; server [::1]:8082 backup;  # comment {\n'
        '  server 127.0.0.1:8083 down; server unix:/tmp/x.sock; }\n')
    (tmp_path / 'conf.d' / '2-other.conf').write_text('upstream other { server localhost:9000 max_fails=3; }\n')
    proc = subprocess.run([_nginx(), '-T', '-c', str(tmp_path / 'nginx.conf')], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    upstreams, errors = nc.find_upstreams(proc.stdout)
    assert errors == []
    assert sorted(upstreams) == ['other', 'ws']
    assert [(s['address'], s['backup'], s['down'], s['weight']) for s in upstreams['ws'][0]['servers']] == [
        ('127.0.0.1:8081', False, False, 2), ('[::1]:8082', True, False, 1),
        ('127.0.0.1:8083', False, True, 1), ('unix:/tmp/x.sock', False, False, 1),
    ]
    assert upstreams['ws'][0]['source'] == str(tmp_path / 'conf.d' / '1-up.conf')
    assert upstreams['other'][0]['servers'][0]['address'] == 'localhost:9000'


# Tokenizer cases, each as nginx's ngx_conf_read_token splits it (the structural ones were
# checked with nginx 1.22 `nginx -t`: "a}" is one argument, "a"b is refused, "a") is two
# arguments, and so on). Each case: text, then [(kind, value, line)] or the error message.
@pytest.mark.parametrize('text, expected', [
    # "}" ends a block only where a token may start
    ('a}', [('word', 'a}', 1)]),
    ('a} ;', [('word', 'a}', 1), (';', ';', 1)]),
    ('a }', [('word', 'a', 1), ('}', '}', 1)]),
    ('{}', [('{', '{', 1), ('}', '}', 1)]),
    # "{" right after "$" belongs to the word; after anything else it opens a block
    ('${a}', [('word', '${a}', 1)]),
    ('x ${a;};', [('word', 'x', 1), ('word', '${a', 1), (';', ';', 1), ('}', '}', 1), (';', ';', 1)]),
    ('x ${{a;', [('word', 'x', 1), ('word', '${{a', 1), (';', ';', 1)]),
    ('$a{b}', [('word', '$a', 1), ('{', '{', 1), ('word', 'b}', 1)]),
    ('a${;', [('word', 'a${', 1), (';', ';', 1)]),
    ('$;', [('word', '$', 1), (';', ';', 1)]),
    ('a{b', [('word', 'a', 1), ('{', '{', 1), ('word', 'b', 1)]),
    # quotes group a token only at its start, and must be followed by space, ";", "{" or ")"
    ('"a b";', [('word', 'a b', 1), (';', ';', 1)]),
    ("'a;b'{", [('word', 'a;b', 1), ('{', '{', 1)]),
    ('"";', [('word', '', 1), (';', ';', 1)]),
    ("'';", [('word', '', 1), (';', ';', 1)]),
    ('\'a"b\';', [('word', 'a"b', 1), (';', ';', 1)]),
    ('"a\'b";', [('word', "a'b", 1), (';', ';', 1)]),
    ('"a"\tb;', [('word', 'a', 1), ('word', 'b', 1), (';', ';', 1)]),
    ('"a"\r\n;', [('word', 'a', 1), (';', ';', 2)]),
    ('x "a");', [('word', 'x', 1), ('word', 'a', 1), ('word', ')', 1), (';', ';', 1)]),
    ('a"b c";', [('word', 'a"b', 1), ('word', 'c"', 1), (';', ';', 1)]),
    ('"a$"{', [('word', 'a$', 1), ('{', '{', 1)]),
    ('"${a}";', [('word', '${a}', 1), (';', ';', 1)]),
    ('"a\nb" c;', [('word', 'a\nb', 1), ('word', 'c', 2), (';', ';', 2)]),
    ('"a"b', '<config>:1: unexpected "b" after a quoted string'),
    ("'a'b", '<config>:1: unexpected "b" after a quoted string'),
    ('"a"}', '<config>:1: unexpected "}" after a quoted string'),
    ('"a"#c', '<config>:1: unexpected "#" after a quoted string'),
    ('"a${"}', '<config>:1: unexpected "}" after a quoted string'),
    ('x\n"abc', '<config>:2: unterminated quoted string'),
    ("'abc", '<config>:1: unterminated quoted string'),
    # a backslash hides the next character; \" \' \\ \t \r \n are undone in every token
    ('\\"a b;', [('word', '"a', 1), ('word', 'b', 1), (';', ';', 1)]),
    ('a\\;b;', [('word', 'a\\;b', 1), (';', ';', 1)]),
    ('\\;;', [('word', '\\;', 1), (';', ';', 1)]),
    ('a\\ b;', [('word', 'a\\ b', 1), (';', ';', 1)]),
    ('a\\xb;', [('word', 'a\\xb', 1), (';', ';', 1)]),
    ('a\\\\b;', [('word', 'a\\b', 1), (';', ';', 1)]),
    ("a\\'b;", [('word', "a'b", 1), (';', ';', 1)]),
    ('a\\tb\\rc\\nd;', [('word', 'a\tb\rc\nd', 1), (';', ';', 1)]),
    ('"a\\tb";', [('word', 'a\tb', 1), (';', ';', 1)]),
    ('"a\\\\";', [('word', 'a\\', 1), (';', ';', 1)]),
    ('"a\\"b";', [('word', 'a"b', 1), (';', ';', 1)]),
    ('a$\\;;', [('word', 'a$\\;', 1), (';', ';', 1)]),
    ('a\\', [('word', 'a\\', 1)]),
    # "#" starts a comment only where a token may start
    ('k#l;', [('word', 'k#l', 1), (';', ';', 1)]),
    ('# c { } ; "\n', []),
    ('a # c\n;', [('word', 'a', 1), (';', ';', 2)]),
    ('"x" # c\n;', [('word', 'x', 1), (';', ';', 2)]),
    # separators: space, tab, CR, LF; lines counted at the start of each token
    ('a\tb\r\nc;', [('word', 'a', 1), ('word', 'b', 1), ('word', 'c', 2), (';', ';', 2)]),
    ('a\n\n  b\n;', [('word', 'a', 1), ('word', 'b', 3), (';', ';', 4)]),
    ('a;;', [('word', 'a', 1), (';', ';', 1), (';', ';', 1)]),
])
def test_tokenizer_cases(text, expected):
    if isinstance(expected, str):
        with pytest.raises(nc.NginxConfigError) as exc:
            list(nc.tokenize(text))
        assert str(exc.value) == expected
    else:
        assert list(nc.tokenize(text)) == expected


@pytest.mark.parametrize('text, message', [
    (';', "<config>:1: unexpected ';'"),                    # nginx: unexpected ";"
    ('a;;', "<config>:1: unexpected ';'"),
    ('x ${a;};', "<config>:1: unexpected '}'"),             # "${a" ends at ";", then "}" closes nothing
    ('a} }', "<config>:1: directive 'a}' is not terminated by ';'"),
    ('a "b"c;', '<config>:1: unexpected "c" after a quoted string'),
    ('{ a; }', '<config>:1: block without a directive name'),
])
def test_parse_errors_from_tokenizer_cases(text, message):
    with pytest.raises(nc.NginxConfigError) as exc:
        nc.parse(text)
    assert str(exc.value) == message
