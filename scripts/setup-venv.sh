#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and the pinned requirements.
# Re-running is cheap: pip is skipped when requirements.txt has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
MIN_MINOR=12

is_new_enough() {
    "$1" -c "import sys; sys.exit(0 if sys.version_info >= (3, $MIN_MINOR) else 1)" 2>/dev/null
}

find_python() {
    local candidate version prefix
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 && is_new_enough "$candidate"; then
            command -v "$candidate"; return 0
        fi
    done
    # pyenv keeps other versions out of PATH; ask it for the newest 3.12+.
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
    echo "setup-venv: $VENV has an old Python; recreating it" >&2
    rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! python=$(find_python); then
        echo "setup-venv: ERROR: no Python >= 3.$MIN_MINOR found." >&2
        echo "  ansible-core 2.21 and molecule 26 need it. Looked at \$PYTHON, python3.13," >&2
        echo "  python3.12, python3 on PATH and at every version pyenv knows." >&2
        echo "  Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
        exit 1
    fi
    echo "setup-venv: creating $VENV with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "setup-venv: installing pinned requirements"
    # This machine's pip config names local wheel folders that may be absent; drop that noise.
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt \
            2> >(grep -v "^WARNING: Location 'file:" >&2); then
        echo "setup-venv: ERROR: pip could not install requirements.txt (see above)" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi

# Make this checkout visible to Ansible as websocket.nginx.
collections="$VENV/collections/ansible_collections/websocket"
mkdir -p "$collections"
ln -sfn "$PWD" "$collections/nginx"
