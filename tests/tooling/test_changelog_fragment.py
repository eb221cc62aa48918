"""scripts/check_changelog_fragment.py against throw-away git repositories: a change to the
collection since the last release needs a fragment; other changes do not; where git cannot say
(no repository, a shallow clone) the check is skipped, not passed silently."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_changelog_fragment.py"
_SPEC = importlib.util.spec_from_file_location("check_changelog_fragment", SCRIPT)
fragment_check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fragment_check)

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root, *args):
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=GIT_ENV).stdout


def write(root, path, text="x\n"):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(root, message="change"):
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def release(root, version):
    write(root, "changelogs/changelog.yaml", f"ancestor: null\nreleases:\n  {version}:\n    release_date: '2026-01-01'\n")
    write(root, "galaxy.yml", f"namespace: a\nname: b\nversion: {version}\n")
    commit(root, f"Release {version}")


@pytest.fixture
def released(tmp_path):
    """A collection whose last commit is the release of 1.0.0."""
    root = tmp_path / "collection"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "plugins/modules/thing.py")
    write(root, "changelogs/fragments/.keep", "")  # not a fragment
    write(root, "README.md")
    commit(root, "Start")
    release(root, "1.0.0")
    return root


def test_no_change_since_the_release_passes(released):
    status, message = fragment_check.check(released)
    assert status == 0 and "unchanged" in message, message


@pytest.mark.parametrize("path", ["plugins/modules/thing.py", "roles/r/tasks/main.yml", "playbooks/p.yml",
                                  "meta/runtime.yml", "galaxy.yml"])
def test_a_committed_content_change_without_fragment_fails(released, path):
    write(released, path, "changed\n")
    commit(released)
    status, message = fragment_check.check(released)
    assert status == 1, message
    assert path in message and "no fragment" in message


def test_an_uncommitted_or_untracked_change_counts_too(released):
    write(released, "roles/new/tasks/main.yml")  # untracked
    status, message = fragment_check.check(released)
    assert status == 1 and "roles/new/tasks/main.yml" in message, message


def test_a_fragment_makes_it_pass(released):
    write(released, "plugins/modules/thing.py", "changed\n")
    write(released, "changelogs/fragments/thing.yml", "bugfixes:\n  - thing - fixed.\n")
    commit(released)
    status, message = fragment_check.check(released)
    assert status == 0 and "thing.yml" in message, message


def test_changes_outside_the_collection_content_need_no_fragment(released):
    write(released, "README.md", "more\n")
    write(released, "tests/unit/test_thing.py")
    write(released, "extensions/molecule/default/converge.yml")
    commit(released)
    status, message = fragment_check.check(released)
    assert status == 0 and "unchanged" in message, message


def test_a_release_tag_is_the_base_when_there_is_one(released):
    """The tag wins over the commit of changelog.yaml: a change between the two needs a fragment."""
    git(released, "tag", "v1.0.0")
    write(released, "plugins/modules/thing.py", "changed after the tag\n")
    commit(released)
    write(released, "changelogs/changelog.yaml", "ancestor: null\nreleases:\n  1.0.0:\n    release_date: '2026-01-02'\n")
    commit(released, "Reformat the changelog")
    status, message = fragment_check.check(released)
    assert status == 1 and "tag v1.0.0" in message, message


def test_the_next_release_resets_the_base(released):
    write(released, "plugins/modules/thing.py", "changed\n")
    commit(released)
    assert fragment_check.check(released)[0] == 1
    release(released, "1.1.0")
    status, message = fragment_check.check(released)
    assert status == 0 and "unchanged" in message, message


def test_outside_git_the_check_is_skipped_with_its_reason(tmp_path):
    write(tmp_path, "changelogs/changelog.yaml", "releases: {}\n")
    status, message = fragment_check.check(tmp_path)
    assert status == 0 and "skipped" in message and "not a git work tree" in message, message


def test_a_shallow_clone_is_skipped_with_its_reason(released, tmp_path):
    write(released, "plugins/modules/thing.py", "changed\n")
    commit(released)  # would fail in the full repository (see above)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{released}", str(clone)],
                   check=True, env=GIT_ENV, capture_output=True)
    status, message = fragment_check.check(clone)
    assert status == 0 and "skipped" in message and "shallow" in message, message


def test_a_full_clone_is_checked(released, tmp_path):
    """The control for the shallow clone: CI's plain git clone has the history and is checked."""
    write(released, "plugins/modules/thing.py", "changed\n")
    commit(released)
    clone = tmp_path / "full"
    subprocess.run(["git", "clone", "-q", f"file://{released}", str(clone)], check=True, env=GIT_ENV, capture_output=True)
    status, message = fragment_check.check(clone)
    assert status == 1 and "plugins/modules/thing.py" in message, message


def test_the_script_exits_with_the_status(released):
    write(released, "meta/runtime.yml", "changed\n")
    result = subprocess.run([sys.executable, str(SCRIPT), str(released)], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "meta/runtime.yml" in result.stderr, result
