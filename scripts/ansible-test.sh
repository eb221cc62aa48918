#!/usr/bin/env bash
# Run `ansible-test sanity` and `ansible-test units` on this collection.
#
# ansible-test only works inside an ansible_collections/NAMESPACE/NAME tree,
# so the collection's files (git-tracked plus untracked files that are not
# ignored; outside git: every file but .git, .venv, .cache, tests/output) are
# copied into a temporary one and the tests run there with the Python of
# .venv (see scripts/setup-venv.sh). `--venv` makes ansible-test install what
# each test needs from PyPI into its own cached virtual environments
# (~/.ansible/test/venv), so only the first run downloads anything.
#
# Usage: scripts/ansible-test.sh [sanity|units|all] [extra ansible-test arguments]
#   e.g. scripts/ansible-test.sh sanity --test pep8
# Environment: VENV (default .venv), KEEP_TMP=1 keeps the temporary tree.
# Results (junit, lint output) are copied to tests/output/ansible-test/.
# Exits non-zero when any test fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PYTHON=$VENV/bin/python
ANSIBLE_TEST=$VENV/bin/ansible-test

what=${1:-all}
if [ $# -gt 0 ]; then shift; fi
case "$what" in
    sanity|units|all) ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ansible-test.sh: unknown command '$what' (use sanity, units or all)" >&2; exit 2 ;;
esac

if [ ! -x "$PYTHON" ] || [ ! -x "$ANSIBLE_TEST" ]; then
    echo "ansible-test.sh: ERROR: $VENV has no python/ansible-test; run scripts/setup-venv.sh first" >&2
    exit 1
fi

read -r namespace name < <("$PYTHON" - "$ROOT/galaxy.yml" <<'EOF'
import sys
import yaml
with open(sys.argv[1]) as handle:
    meta = yaml.safe_load(handle)
print(meta['namespace'], meta['name'])
EOF
)
pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# ansible-test makes its virtual environments without pip and then runs a
# "get-pip" bootstrap script that it downloads from a host outside PyPI. Where
# that host cannot be reached, put a stand-in in its cache: it installs the
# pip wheel that ships with Python (ensurepip) and lets that pip install the
# requested pip version from the package index. An existing file is kept.
pip_version=$("$PYTHON" - "$pyver" <<'EOF'
import sys
from ansible_test._internal.python_requirements import get_venv_packages


class Python:  # the only attribute get_venv_packages reads
    version = sys.argv[1]


print(get_venv_packages(Python())['pip'])
EOF
)
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -e "$get_pip" ]; then
    mkdir -p "$(dirname "$get_pip")"
    cat > "$get_pip.tmp" <<'EOF'
"""Stand-in for get-pip.py written by websocket.nginx scripts/ansible-test.sh.

Bootstraps pip from the wheel bundled with this Python (ensurepip), then
installs what ansible-test asked for (for example pip==25.2) with it.
"""
import ensurepip
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args))
EOF
    mv "$get_pip.tmp" "$get_pip"
    echo "ansible-test.sh: wrote a pip bootstrap stand-in to $get_pip"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ansible-test.XXXXXX")
if [ "${KEEP_TMP:-0}" = 1 ]; then
    trap 'echo "ansible-test.sh: kept $work"' EXIT
else
    trap 'rm -rf "$work"' EXIT
fi
dest=$work/ansible_collections/$namespace/$name
mkdir -p "$dest"

# List the files to copy, NUL separated, relative to $ROOT.
list_files() {
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z -co --exclude-standard
    else
        (cd "$ROOT" && find . \( -path ./.git -o -path ./.venv -o -path ./.cache -o -path ./tests/output \) -prune \
            -o \( -type f -o -type l \) -print0 | sed -z 's|^\./||')
    fi
}

# Keep only paths that exist (a tracked file may be deleted in the work tree),
# and leave out tool caches that may not be in .gitignore: ansible-lint and
# molecule keep a .ansible/ folder with a link back to this collection.
(cd "$ROOT" && list_files | while IFS= read -r -d '' file; do
    case "$file" in
        .ansible/*|.venv/*|.cache/*|tests/output/*|.git/*) continue ;;
    esac
    if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
done) > "$work/files"
(cd "$ROOT" && tar --null -T "$work/files" -cf -) | tar -xf - -C "$dest"
echo "ansible-test.sh: copied $(tr -cd '\0' < "$work/files" | wc -c) files to $dest"

# ansible-test looks at git to list the collection's files: give the copy its own repository.
if command -v git >/dev/null 2>&1; then
    git -C "$dest" init -q
    git -C "$dest" add -A
fi

status=0
run() {
    echo "ansible-test.sh: ansible-test $*"
    if ! (cd "$dest" && "$ANSIBLE_TEST" "$@"); then
        echo "ansible-test.sh: FAILED: ansible-test $*" >&2
        status=1
    fi
}

common=(--venv --python "$pyver" --color no)
if [ "$what" = sanity ] || [ "$what" = all ]; then
    run sanity "${common[@]}" "$@"
fi
if [ "$what" = units ] || [ "$what" = all ]; then
    run units "${common[@]}" --requirements "$@"
fi

if [ -d "$dest/tests/output" ]; then
    mkdir -p "$ROOT/tests/output/ansible-test"
    cp -R "$dest/tests/output/." "$ROOT/tests/output/ansible-test/"
fi

if [ "$status" -eq 0 ]; then
    echo "ansible-test.sh: all passed"
fi
exit "$status"
