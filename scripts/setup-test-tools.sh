#!/usr/bin/env bash
# Host tools the test suite runs for real: nginx (the module's unit tests parse a real
# "nginx -T") and shellcheck (ansible-test sanity checks the shell scripts with it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi
