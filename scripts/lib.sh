# Shared shell helpers for the setup scripts (sourced, not run).
# shellcheck shell=bash

die() { echo "${0##*/}: ERROR: $*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_install PACKAGE...: install Debian packages, refreshing the index first.
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
    echo "${0##*/}: installing $* with apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install $* failed"
}
