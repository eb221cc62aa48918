"""Every role has a README whose "Role variables" section is its argument spec, rendered by
scripts/role_readmes.py (``make role-docs`` rewrites it), a galaxy description, and docs that
``ansible-doc -t role`` shows."""

import importlib.util
import subprocess

import pytest
import yaml

from test_bad_variables import ENV, REPO

_SPEC = importlib.util.spec_from_file_location("role_readmes", REPO / "scripts" / "role_readmes.py")
role_readmes = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_readmes)
ROLES = role_readmes.roles()


def test_every_role_is_found():
    assert ROLES == ["apt_index", "echo_backend", "keepalived", "nginx", "nginx_exporter", "websocket_proxy"]


@pytest.mark.parametrize("role", ROLES)
def test_readme_variables_are_the_argument_spec(role):
    readme = REPO / "roles" / role / "README.md"
    assert readme.is_file(), f"roles/{role} has no README.md"
    current = readme.read_text()
    assert role_readmes.rendered(role, current) == current, f"roles/{role}/README.md is stale: run make role-docs"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_in_the_readme(role):
    """The control: the rendered section names every option of the spec, nested ones included."""
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    section = role_readmes.section(role)

    def names(options, prefix=""):
        for name, option in options.items():
            yield prefix + name
            if option.get("options"):
                yield from names(option["options"], prefix + name + ("[]." if option.get("type") == "list" else "."))

    for name in names(spec["argument_specs"]["main"]["options"]):
        assert f"| `{name}` |" in section, name


@pytest.mark.parametrize("role", ROLES)
def test_galaxy_description_and_ansible_doc(role):
    meta = yaml.safe_load((REPO / "roles" / role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["description"].strip()
    result = subprocess.run(["ansible-doc", "-t", "role", f"websocket.nginx.{role}"], capture_output=True,
                            text=True, env=ENV, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    short = spec["argument_specs"]["main"]["short_description"]
    assert " ".join(short.split()[:4]) in " ".join(result.stdout.split()), result.stdout[:500]
