#!/usr/bin/env bash
# Host tools the test suite runs for real: nginx (the module's unit tests parse a real
# "nginx -T"), shellcheck (ansible-test sanity checks the shell scripts with it), Debian's
# headless Chromium with its WebDriver (the cluster scenario opens the demo page in a browser;
# selenium is given /usr/bin/chromedriver, so it never downloads a driver), and Debian's pebble
# (a test ACME server, with pebble-challtestsrv for its DNS) and certbot: the acme_certificate
# tests issue and renew certificates for real on loopback; keepalived, whose config test (keepalived -t)
# checks the keepalived role's rendered configurations (it does not start without a configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -x /usr/bin/pebble-challtestsrv ] || missing+=(pebble)
[ -x /usr/bin/certbot ] || missing+=(certbot)
[ -x /usr/sbin/keepalived ] || missing+=(keepalived)
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi
