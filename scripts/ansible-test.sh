#!/usr/bin/env bash
# Run `ansible-test sanity` and `ansible-test units` on this collection.
#
# ansible-test only works inside an ansible_collections/NAMESPACE/NAME tree,
# so the collection's files (git-tracked plus untracked files that are not
# ignored; outside git: every file but .git, .venv, .cache, tests/output) are
# copied into a temporary one and the tests run there with --local: ansible-test
# and the unit tests run in .venv (see scripts/setup-venv.sh), whose pinned
# requirements.txt has what they need (pytest-xdist, websockets, hypothesis, ...).
# Each sanity test still gets a virtual environment of ansible-test's own, with
# the requirements ansible-test pins, cached in ~/.ansible/test/venv; see below.
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
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# ansible-test makes each sanity test's virtual environment without pip, whatever
# --local/--venv say, and puts pip in with a get-pip script that it downloads
# from a host outside the package index. Its documented way round (its own
# error message; ansible/ansible#77304) is that script saved in its cache:
# scripts/get_pip_bootstrap.py does the job with Python's bundled pip. The pip
# version in the file name is the one ansible-test --explain says it would use
# (asked with an empty HOME: with a cached environment it would say nothing).
bootstrap_pip() {
    local pip_version cache
    mkdir -p "$work/explain-home"
    pip_version=$(cd "$dest" && HOME=$work/explain-home "$ANSIBLE_TEST" sanity --explain -vvv --test pep8 "${common[@]}" 2>&1 \
        | sed -n 's/^ *"pip_version": "\([0-9][0-9.]*\)".*/\1/p' | head -n 1)
    if [ -z "$pip_version" ]; then
        echo "ansible-test.sh: ERROR: ansible-test --explain named no pip version to bootstrap" >&2
        exit 1
    fi
    cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
    if [ ! -e "$cache" ]; then
        mkdir -p "$(dirname "$cache")"
        cp "$ROOT/scripts/get_pip_bootstrap.py" "$cache.tmp"
        mv "$cache.tmp" "$cache"
        echo "ansible-test.sh: saved scripts/get_pip_bootstrap.py as $cache (pip $pip_version)"
    fi
}

status=0
run() {
    echo "ansible-test.sh: ansible-test $*"
    if ! (cd "$dest" && "$ANSIBLE_TEST" "$@"); then
        echo "ansible-test.sh: FAILED: ansible-test $*" >&2
        status=1
    fi
}

common=(--local --python "$pyver" --python-interpreter "$PYTHON" --color no)
if [ "$what" = sanity ] || [ "$what" = all ]; then
    bootstrap_pip
    run sanity "${common[@]}" "$@"
fi
if [ "$what" = units ] || [ "$what" = all ]; then
    run units "${common[@]}" "$@"
fi

# This run's results only: an earlier run's failure reports would read as this run's.
rm -rf "$ROOT/tests/output/ansible-test"
if [ -d "$dest/tests/output" ]; then
    mkdir -p "$ROOT/tests/output/ansible-test"
    (cd "$dest/tests/output" && tar --exclude=./.tmp -cf - .) | tar -xf - -C "$ROOT/tests/output/ansible-test"
fi

if [ "$status" -eq 0 ]; then
    echo "ansible-test.sh: all passed"
fi
exit "$status"
