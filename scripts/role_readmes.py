"""Write the "Role variables" section of each role's README.md from its meta/argument_specs.yml.

The section sits between two marker lines; everything else in a README is written by hand. Run
without arguments to rewrite the sections (``make role-docs``); tests/roles/test_role_readmes.py
fails when a README is missing, has no markers, or its section differs from what this renders.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROLES_DIR = Path(__file__).resolve().parents[1] / "roles"
BEGIN = "<!-- BEGIN role variables: generated from meta/argument_specs.yml by scripts/role_readmes.py -->"
END = "<!-- END role variables -->"
# Ansible documentation markup -> Markdown.
_MARKUP = [
    # An option of another role or plugin, O(ns.coll.role#role:main:name): just its name.
    (re.compile(r"O\([\w.]+#(?:role:\w+|\w+):([^()]*)\)"), r"`\1`"),
    (re.compile(r"[COIVM]\(([^()]*(?:\([^()]*\)[^()]*)*)\)"), r"`\1`"),
    (re.compile(r"B\(([^()]*)\)"), r"**\1**"),
]


def markdown(text: str) -> str:
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return text.replace("|", "\\|").replace("\n", " ")


def _description(option: dict) -> str:
    description = option.get("description", "")
    parts = description if isinstance(description, list) else [description]
    return " ".join(markdown(str(part)) for part in parts)


def _default(option: dict) -> str:
    if "default" not in option:
        return "required" if option.get("required") else ""
    value = option["default"]
    return "`%s`" % (value if isinstance(value, str) else json.dumps(value))


def _type(option: dict) -> str:
    kind = option.get("type", "str")
    if kind == "list":
        kind = "list of %s" % option.get("elements", "str")
    if option.get("choices"):
        kind += ": " + ", ".join("`%s`" % choice for choice in option["choices"])
    return kind


def option_rows(options: dict, prefix: str = ""):
    """One row per option, nested options after their parent as ``parent[].child`` or ``parent.child``."""
    for name, option in options.items():
        path = prefix + name
        yield "| `%s` | %s | %s | %s |" % (path, _type(option), _default(option), _description(option))
        if option.get("options"):
            separator = "[]." if option.get("type") == "list" else "."
            yield from option_rows(option["options"], path + separator)


def section(role: str) -> str:
    spec = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    lines = [
        BEGIN,
        "## Role variables",
        "",
        markdown(spec["short_description"]),
        "",
        "Every value is checked before anything on the host changes (`websocket.nginx.role_config`);"
        " `ansible-doc -t role websocket.nginx.%s` shows the same." % role,
        "",
        "| variable | type | default | description |",
        "| --- | --- | --- | --- |",
        *option_rows(spec.get("options", {})),
        END,
    ]
    return "\n".join(lines)


def roles():
    return sorted(path.name for path in ROLES_DIR.iterdir() if (path / "meta" / "argument_specs.yml").is_file())


def rendered(role: str, current: str) -> str:
    """``current`` (a README) with its generated section replaced; ValueError without markers."""
    start, end = current.find(BEGIN), current.find(END)
    if start < 0 or end < start:
        raise ValueError("roles/%s/README.md has no %r ... %r section" % (role, BEGIN, END))
    return current[:start] + section(role) + current[end + len(END):]


def main() -> int:
    for role in roles():
        readme = ROLES_DIR / role / "README.md"
        new = rendered(role, readme.read_text())
        if new != readme.read_text():
            readme.write_text(new)
            print("updated", readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
