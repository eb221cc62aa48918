"""The collection builds into a tarball and installs from it, and from a git checkout
(``ansible-galaxy collection install git+file://...``); each installed copy (not this checkout)
serves playbooks that use websocket.nginx.* by FQCN."""

import os
import socket
import sys
import tarfile

import pytest

from build_support import REPO, run

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


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    collections = tmp_path_factory.mktemp("collections")
    run(["ansible-galaxy", "collection", "install", "--force", "--collections-path", str(collections), str(tarball)])
    return tarball, collections


@pytest.fixture(scope="module")
def installed_from_git(tmp_path_factory):
    """The README's install from a git checkout. ansible-galaxy clones the repository, so this is
    the committed HEAD: uncommitted changes are not in it."""
    if run(["git", "-C", str(REPO), "rev-parse", "--show-toplevel"], check_rc=False).stdout.strip() != str(REPO):
        pytest.skip(f"{REPO} is not a git checkout")
    head = run(["git", "-C", str(REPO), "rev-parse", "HEAD"]).stdout.strip()
    collections = tmp_path_factory.mktemp("git-collections")
    run(["ansible-galaxy", "collection", "install", "--collections-path", str(collections), f"git+file://{REPO},{head}"])
    return collections


def installed_files(collections):
    root = collections / "ansible_collections" / "websocket" / "nginx"
    return {path.relative_to(root).as_posix() for path in root.rglob("*")}


WANTED = ["MANIFEST.json", "roles/nginx/meta/argument_specs.yml", "roles/websocket_proxy/tasks/main.yml",
          "roles/echo_backend/tasks/main.yml", "plugins/action/role_config.py", "plugins/plugin_utils/site_model.py",
          "playbooks/site.yml", "meta/runtime.yml", "README.md", "changelogs/changelog.yaml"]
UNWANTED = [".venv", "extensions", ".ci", "scripts", ".git", "ansible.cfg", ".config", "changelogs/fragments"]


def test_tarball_holds_the_collection_and_no_development_files(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    for wanted in WANTED:
        assert wanted in names, wanted
    for unwanted in UNWANTED:
        assert not any(name == unwanted or name.startswith(unwanted + "/") for name in names), unwanted


def test_git_install_holds_the_collection_and_no_development_files(installed_from_git):
    """Installed from git as from the tarball: build_ignore applies."""
    names = installed_files(installed_from_git)
    for wanted in WANTED:
        assert wanted in names, wanted
    for unwanted in UNWANTED:
        assert not any(name == unwanted or name.startswith(unwanted + "/") for name in names), unwanted


@pytest.mark.parametrize("source", ["tarball", "git"])
def test_installed_collection_serves_fqcn_playbook(source, request, tmp_path):
    collections = request.getfixturevalue("installed")[1] if source == "tarball" else request.getfixturevalue("installed_from_git")
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
