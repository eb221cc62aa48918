"""Galaxy's own importer (galaxy-importer, pinned in requirements.txt) accepts the built tarball with no
error and no warning: ansible-doc on every plugin, the documentation, the metadata Galaxy requires.

It runs offline with its defaults (no ansible-test container), except its ansible-lint run: that is the
ansible-lint of this virtualenv with the production profile and some rules left out, on the tarball's files, and
make lint already runs it with the production profile and every rule on all of them (the last test here keeps
it so). Each import took about 20 s more with it."""

import io
import json
import os
import sys
import tarfile
from pathlib import Path

import yaml
from build_support import run

REPO = Path(__file__).resolve().parents[2]


def import_collection(tarball, cwd):
    env = dict(os.environ, GALAXY_IMPORTER_RUN_ANSIBLE_LINT="false")
    result = run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], check_rc=False, cwd=cwd, env=env)
    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    return result.returncode, output, problems


def test_galaxy_importer_accepts_the_tarball_without_a_warning(tarball, tmp_path):
    returncode, output, problems = import_collection(tarball, tmp_path)
    assert returncode == 0 and problems == [], output
    assert "Importer processing completed successfully" in output, output


def without_repository(tarball, destination):
    """The same tarball, its MANIFEST.json without ``repository`` (as a galaxy.yml without it builds)."""
    with tarfile.open(tarball) as source, tarfile.open(destination, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == "MANIFEST.json":
                manifest = json.loads(data)
                manifest["collection_info"]["repository"] = None
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)


def test_galaxy_importer_refuses_a_collection_without_a_repository(tarball, tmp_path):
    """The check above can fail: the importer's verdict on what galaxy.yml lacked before 1.0.0."""
    broken = tmp_path / tarball.name
    without_repository(tarball, broken)
    returncode, output, problems = import_collection(broken, tmp_path)
    assert returncode != 0 or problems, output
    assert "Invalid collection metadata. 'repository' is required" in output, output


def test_make_lint_runs_every_rule_the_importers_ansible_lint_would():
    """What the importer's lint would report, make lint reports: the production profile, no rule skipped."""
    config = yaml.safe_load((REPO / ".ansible-lint").read_text(encoding="utf-8"))
    assert config["profile"] == "production", config
    assert not set(config) & {"skip_list", "warn_list", "enable_list", "tags"}, config
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "\tansible-lint --profile production\n" in makefile
