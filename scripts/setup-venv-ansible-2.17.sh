#!/usr/bin/env bash
# Create .venv-ansible-2.17 (Python 3.12) with requirements-ansible-2.17.txt, for `make compat`: the tests
# run there with the lowest ansible-core the collection claims. Re-running is cheap: pip is skipped when
# requirements-ansible-2.17.txt has not changed (as scripts/setup-venv.sh does for .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-ansible-2.17
REQUIREMENTS=requirements-ansible-2.17.txt
# ansible-core 2.17 runs on controller Python 3.10 to 3.12: the newest of them.
WANTED_MINOR=12

is_wanted() {
    "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] == (3, $WANTED_MINOR) else 1)" 2>/dev/null
}

find_python() {
    local candidate version prefix
    for candidate in "${PYTHON_ANSIBLE_2_17:-}" "python3.$WANTED_MINOR"; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 && is_wanted "$candidate"; then
            command -v "$candidate"; return 0
        fi
    done
    # pyenv keeps other versions out of PATH; ask it for its newest 3.12.
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | grep -E "^3\.$WANTED_MINOR(\.[0-9]+)?$" | sort -t. -k3,3nr); do
            prefix=$(pyenv prefix "$version" 2>/dev/null) || continue
            for candidate in "$prefix/bin/python3" "$prefix/bin/python"; do
                if [ -x "$candidate" ] && is_wanted "$candidate"; then
                    echo "$candidate"; return 0
                fi
            done
        done
    fi
    return 1
}

if [ -x "$VENV/bin/python" ] && ! is_wanted "$VENV/bin/python"; then
    echo "setup-venv-ansible-2.17: $VENV is not on Python 3.$WANTED_MINOR; recreating it" >&2
    rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! python=$(find_python); then
        echo "setup-venv-ansible-2.17: ERROR: no Python 3.$WANTED_MINOR found." >&2
        echo "  ansible-core 2.17 runs on Python 3.10 to 3.12. Looked at \$PYTHON_ANSIBLE_2_17, python3.$WANTED_MINOR" >&2
        echo "  on PATH and at every version pyenv knows. Install one (e.g. 'pyenv install 3.$WANTED_MINOR') or" >&2
        echo "  set PYTHON_ANSIBLE_2_17=/path/to/python3.$WANTED_MINOR." >&2
        exit 1
    fi
    echo "setup-venv-ansible-2.17: creating $VENV with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "setup-venv-ansible-2.17: installing $REQUIREMENTS"
    # This machine's pip config names local wheel folders that may be absent; drop that noise.
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
            2> >(grep -v "^WARNING: Location 'file:" >&2); then
        echo "setup-venv-ansible-2.17: ERROR: pip could not install $REQUIREMENTS (see above)" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi
