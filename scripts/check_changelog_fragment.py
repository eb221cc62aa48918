"""Fail when the collection changed since its last release and no changelog fragment says how.

The last release is the git tag of the newest version in changelogs/changelog.yaml (``0.3.0`` or
``v0.3.0``), else the last commit that changed that file (``antsibull-changelog release`` changes it,
and nothing else should). The collection's content is plugins/, roles/, playbooks/, meta/ and
galaxy.yml; a change is anything between that commit and the work tree, untracked files included.
A fragment is a .yml/.yaml file in changelogs/fragments/ (a release deletes them).

Where git cannot answer (no git, not a repository, a shallow clone, changelog.yaml never
committed) the check is skipped with the reason printed, and exits 0.

Usage: python scripts/check_changelog_fragment.py [REPOSITORY]   (default: this checkout)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

CONTENT = ("plugins/", "roles/", "playbooks/", "meta/", "galaxy.yml")
CHANGELOG = "changelogs/changelog.yaml"
FRAGMENTS = "changelogs/fragments"


class Skip(Exception):
    """Git cannot tell what changed since the release."""


def git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise Skip("git is not installed") from None
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, ["git", *args], result.stdout, result.stderr)
    return result.stdout


def latest_release(root: Path) -> str | None:
    releases = (yaml.safe_load((root / CHANGELOG).read_text()) or {}).get("releases") or {}
    versions = []
    for name in releases:
        try:
            versions.append((Version(str(name)), str(name)))
        except InvalidVersion:
            continue
    return max(versions)[1] if versions else None


def release_commit(root: Path) -> tuple[str, str]:
    """``(commit, how it was found)`` of the last release."""
    version = latest_release(root)
    for tag in ([version, "v" + version] if version else []):
        try:
            return git(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}").strip(), f"tag {tag}"
        except subprocess.CalledProcessError:
            continue
    commit = git(root, "log", "-1", "--format=%H", "--", CHANGELOG).strip()
    if not commit:
        raise Skip(f"{CHANGELOG} has never been committed")
    return commit, f"the last commit that changed {CHANGELOG}"


def changed_content(root: Path, base: str) -> list[str]:
    tracked = git(root, "diff", "--name-only", "--no-renames", base, "--", *CONTENT).splitlines()
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", *CONTENT).splitlines()
    return sorted(set(tracked) | set(untracked))


def fragments(root: Path) -> list[str]:
    directory = root / FRAGMENTS
    if not directory.is_dir():
        return []
    return sorted(path.name for path in directory.iterdir() if path.is_file() and path.suffix in (".yml", ".yaml"))


def check(root: Path) -> tuple[int, str]:
    """``(exit status, message)``."""
    try:
        if not (root / CHANGELOG).is_file():
            return 1, f"{CHANGELOG} is missing"
        try:
            if git(root, "rev-parse", "--show-toplevel").strip() != str(root.resolve()):
                raise Skip(f"{root} is not the top of a git work tree")
            if git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
                raise Skip("this is a shallow clone, so the release commit may be missing")
        except subprocess.CalledProcessError:
            raise Skip(f"{root} is not a git work tree") from None
        base, found = release_commit(root)
        changed = changed_content(root, base)
    except Skip as reason:
        return 0, f"changelog fragment check skipped: {reason}"
    present = fragments(root)
    since = f"since {base[:12]} ({found})"
    if not changed:
        return 0, f"changelog fragments: the collection is unchanged {since}"
    if present:
        return 0, f"changelog fragments: {len(changed)} changed file(s) {since}, fragments: {', '.join(present)}"
    listing = "\n  ".join(changed[:20]) + ("\n  ..." if len(changed) > 20 else "")
    return 1, (f"changelog fragments: these files changed {since} and {FRAGMENTS}/ has no fragment:\n  {listing}\n"
               f"Add one (see README.md, \"Changelog fragments\"), e.g. {FRAGMENTS}/my-change.yml:\n"
               "  bugfixes:\n    - upstream_health - what was wrong and what it does now.")


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1]).resolve()
    status, message = check(root)
    print(message, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
