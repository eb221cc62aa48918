"""nginx_transaction's action plugin renders the role templates to the same bytes as ansible.builtin.template.

One ansible-playbook run on localhost: websocket_proxy in check mode with --diff (its one
nginx_transaction call reports the text each file would get), then ansible.builtin.template
renders the same templates from the same model into a temporary directory. Nothing outside that
directory changes: check mode, and the role's configuration directory is the temporary one.
"""

import json
import subprocess
import sys

from test_bad_variables import BASE_ENV, REPO

TEMPLATES = REPO / "roles" / "websocket_proxy" / "templates"
SITES = [
    {"name": "demo", "default_server": True,
     "upstreams": [{"name": "echo", "servers": [{"address": "127.0.0.1:8765"}, {"address": "127.0.0.2:8765", "weight": 2}]}],
     "websocket_locations": [{"path": "/ws/", "upstream": "echo"}],
     "proxy_locations": [{"path": "/api/", "upstream": "echo"}],
     "static_locations": [{"path": "/", "root": "/var/www/démo", "cache_control": "public"}]},
    {"name": "chat", "listen": [8081], "server_name": ["chat.example"],
     "upstreams": [{"name": "chat", "method": "least_conn", "servers": [{"address": "127.0.0.1:3000"}]}],
     "websocket_locations": [{"path": "/socket.io/", "upstream": "chat", "allowed_origins": ["https://chat.example"]}]},
]


def test_the_action_plugin_writes_what_ansible_builtin_template_writes(tmp_path):
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    copies = tmp_path / "template"
    copies.mkdir()
    variables = {"websocket_proxy_sites": SITES, "websocket_proxy_config_dir": str(conf_d),
                 "websocket_proxy_check_upstreams": False, "websocket_proxy_check_through_proxy": False}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    playbook = [{
        "hosts": "localhost", "gather_facts": False, "vars_files": ["vars.json"],
        "roles": [{"role": "websocket.nginx.websocket_proxy"}],
        "post_tasks": [
            {"name": "Render each site with ansible.builtin.template", "check_mode": False, "diff": False,
             "ansible.builtin.template": {"src": str(TEMPLATES / "site.conf.j2"), "dest": str(copies) + "/{{ site.file | basename }}"},
             "loop": "{{ websocket_proxy_model.config.sites }}", "loop_control": {"loop_var": "site"}},
            {"name": "Render the upgrade map with ansible.builtin.template", "check_mode": False, "diff": False,
             "ansible.builtin.template": {"src": str(TEMPLATES / "upgrade_map.conf.j2"),
                                          "dest": str(copies) + "/{{ websocket_proxy_model.config.map_file | basename }}"}},
        ],
    }]
    (tmp_path / "play.json").write_text(json.dumps(playbook))
    env = {**BASE_ENV, "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}
    result = subprocess.run(
        ["ansible-playbook", "--check", "--diff", "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", "play.json"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    tasks = json.loads(result.stdout)["plays"][0]["tasks"]
    [transaction] = [task["hosts"]["localhost"] for task in tasks if "Check the upstreams, write" in task["task"]["name"]]
    rendered = {entry["after_header"]: entry["after"] for entry in transaction["diff"]}
    assert sorted(rendered) == sorted(str(conf_d / path.name) for path in copies.iterdir())
    assert len(rendered) == len(SITES) + 1
    for path in copies.iterdir():
        # Compared as bytes: what the module writes is this text encoded as UTF-8.
        assert rendered[str(conf_d / path.name)].encode("utf-8") == path.read_bytes(), path.name
    assert "/var/www/démo" in rendered[str(conf_d / "websocket-proxy-demo.conf")]
    assert list(conf_d.iterdir()) == []  # check mode wrote nothing
