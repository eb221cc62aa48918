"""The collection builds into a tarball, and the installed tarball (not this checkout) serves
playbooks that use websocket.nginx.* by FQCN."""

import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PLAYBOOK = """\
- name: Use the installed collection by FQCN
  hosts: localhost
  gather_facts: false
  vars:
    websocket_proxy_sites:
      - name: installed
        upstreams: [{{name: echo, servers: [{{address: "127.0.0.1:{port}"}}]}}]
        websocket_locations: [{{path: /ws/, upstream: echo}}]
  tasks:
    # The role's model (action plugin, plugin_utils, argument spec) from the tarball; no nginx needed.
    - name: Check the variables and build the site configuration
      websocket.nginx.role_config:
        role: websocket_proxy
      register: installed_model
    - name: Check the upstream server with the module
      websocket.nginx.upstream_health:
        servers: "{{{{ installed_model.config.sites[0].upstreams[0].servers | map(attribute='address') }}}}"
        check: tcp
      register: installed_health
    - name: Render a value with the collection's filter
      ansible.builtin.assert:
        that:
          - installed_health.healthy == 1
          - ("a b" | websocket.nginx.nginx_arg) == '"a b"'
"""


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("build")
    run(["ansible-galaxy", "collection", "build", "--output-path", str(build_dir), str(REPO)])
    tarballs = list(build_dir.glob("websocket-nginx-*.tar.gz"))
    assert len(tarballs) == 1
    collections = tmp_path_factory.mktemp("collections")
    run(["ansible-galaxy", "collection", "install", "--force", "--collections-path", str(collections), str(tarballs[0])])
    return tarballs[0], collections


def test_tarball_holds_the_collection_and_no_development_files(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    for wanted in ["galaxy.yml", "MANIFEST.json", "roles/nginx/meta/argument_specs.yml",
                   "roles/websocket_proxy/tasks/main.yml", "roles/echo_backend/tasks/main.yml",
                   "plugins/action/role_config.py", "plugins/plugin_utils/site_model.py",
                   "playbooks/site.yml", "meta/runtime.yml", "README.md"]:
        assert wanted in names or (wanted == "galaxy.yml" and "MANIFEST.json" in names), wanted
    for unwanted in [".venv", "molecule", ".ci", "scripts", ".git"]:
        assert not any(name == unwanted or name.startswith(unwanted + "/") for name in names), unwanted


def test_installed_collection_serves_fqcn_playbook(installed, tmp_path):
    collections = installed[1]
    listener = socket.create_server(("127.0.0.1", 0))  # the upstream the module checks
    playbook = tmp_path / "use_fqcn.yml"
    playbook.write_text(PLAYBOOK.format(port=listener.getsockname()[1]))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_NOCOLOR": "1"}
    result = run(["ansible-playbook", "--check", "-i", "localhost,", "-c", "local",
                  "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
                 env=env, cwd=tmp_path)
    listener.close()
    assert "Check the variables and build the site configuration" in result.stdout
    assert "failed=0" in result.stdout
    listing = run(["ansible-galaxy", "collection", "list", "websocket.nginx"], env=env, cwd=tmp_path)
    assert str(collections) in listing.stdout
