"""The collection builds into a tarball, and the installed tarball (not this checkout) serves
playbooks that use websocket.nginx.* by FQCN."""

import os
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
  tasks:
    - name: Run a role's validation and templating in check mode
      ansible.builtin.import_role:
        name: websocket.nginx.websocket_proxy
      vars:
        websocket_proxy_config_dir: {config_dir}
        websocket_proxy_check_upstreams: false  # no backend runs here
        websocket_proxy_sites:
          - name: installed
            upstreams: [{{name: echo, servers: [{{address: "127.0.0.1:8765"}}]}}]
            websocket_locations: [{{path: /ws/, upstream: echo}}]
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
                   "playbooks/site.yml", "meta/runtime.yml", "README.md"]:
        assert wanted in names or (wanted == "galaxy.yml" and "MANIFEST.json" in names), wanted
    for unwanted in [".venv", "molecule", ".ci", "scripts", ".git"]:
        assert not any(name == unwanted or name.startswith(unwanted + "/") for name in names), unwanted


def test_installed_collection_serves_fqcn_playbook(installed, tmp_path):
    collections = installed[1]
    playbook = tmp_path / "use_fqcn.yml"
    playbook.write_text(PLAYBOOK.format(config_dir=tmp_path / "conf.d"))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_NOCOLOR": "1"}
    result = run(["ansible-playbook", "--check", "-i", "localhost,", "-c", "local",
                  "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
                 env=env, cwd=tmp_path)
    assert "websocket.nginx.websocket_proxy : Write site configurations" in result.stdout
    assert "failed=0" in result.stdout
    listing = run(["ansible-galaxy", "collection", "list", "websocket.nginx"], env=env, cwd=tmp_path)
    assert str(collections) in listing.stdout
