#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and the pinned requirements.
# Re-running is cheap: pip is skipped when requirements.txt has not changed.
# The same for another venv (make compat: ansible-core 2.17, which runs on Python 3.10 to 3.12):
#   VENV=.venv-ansible-2.17 REQUIREMENTS=requirements-ansible-2.17.txt MAX_MINOR=12 scripts/setup-venv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
REQUIREMENTS=${REQUIREMENTS:-requirements.txt}
MIN_MINOR=12
MAX_MINOR=${MAX_MINOR:-99}
WANTED="Python 3.$MIN_MINOR or newer"
[ "$MAX_MINOR" = 99 ] || WANTED="Python 3.$MIN_MINOR to 3.$MAX_MINOR"

is_new_enough() {
    "$1" -c "import sys; sys.exit(0 if (3, $MIN_MINOR) <= sys.version_info[:2] <= (3, $MAX_MINOR) else 1)" 2>/dev/null
}

find_python() {
    local candidate version prefix
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 && is_new_enough "$candidate"; then
            command -v "$candidate"; return 0
        fi
    done
    # pyenv keeps other versions out of PATH; ask it for the newest that fits.
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.[0-9]+(\.[0-9]+)?$' | sort -t. -k2,2nr -k3,3nr); do
            prefix=$(pyenv prefix "$version" 2>/dev/null) || continue
            for candidate in "$prefix/bin/python3" "$prefix/bin/python"; do
                if [ -x "$candidate" ] && is_new_enough "$candidate"; then
                    echo "$candidate"; return 0
                fi
            done
        done
    fi
    return 1
}

if [ -x "$VENV/bin/python" ] && ! is_new_enough "$VENV/bin/python"; then
    echo "setup-venv: $VENV is not on $WANTED; recreating it" >&2
    rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! python=$(find_python); then
        echo "setup-venv: ERROR: no $WANTED found for $VENV." >&2
        echo "  $REQUIREMENTS needs it. Looked at \$PYTHON, python3.13," >&2
        echo "  python3.12, python3 on PATH and at every version pyenv knows." >&2
        echo "  Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
        exit 1
    fi
    echo "setup-venv: creating $VENV with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "setup-venv: installing $REQUIREMENTS into $VENV"
    # This machine's pip config names local wheel folders that may be absent; drop that noise.
    # --no-compile: Python compiles what is imported on first use; compiling every file of the ansible
    # package up front made a fresh install take 39 s instead of 13 s.
    if ! "$VENV/bin/python" -m pip install --quiet --no-compile --disable-pip-version-check -r "$REQUIREMENTS" \
            2> >(grep -v "^WARNING: Location 'file:" >&2); then
        echo "setup-venv: ERROR: pip could not install $REQUIREMENTS (see above)" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi

# Make this checkout visible to Ansible as websocket.nginx (ansible.cfg names .venv's; make compat uses it too),
# and ansible.posix of the ansible package beside it, so that make compat's ansible-core finds the tests' json
# callback there without an ansible package of its own.
[ "$VENV" = .venv ] || exit 0
collections="$VENV/collections/ansible_collections"
mkdir -p "$collections/websocket" "$collections/ansible"
ln -sfn "$PWD" "$collections/websocket/nginx"
posix=$(echo "$VENV"/lib/python3.*/site-packages/ansible_collections/ansible/posix)
if [ ! -d "$posix" ]; then
    echo "setup-venv: ERROR: ansible.posix is not in $VENV (the ansible package of $REQUIREMENTS)" >&2
    exit 1
fi
ln -sfn "$PWD/$posix" "$collections/ansible/posix"
