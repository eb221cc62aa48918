#!/usr/bin/env bash
# Make a Docker engine available and build the local Debian base images.
# Nothing is pulled from a registry: images come from mmdebstrap using the
# mirror Debian's own tools default to (the same one this machine's apt uses).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE_REPO=${WSN_IMAGE_REPO:-websocket-nginx/debian}
RELEASES=${WSN_RELEASES:-"bookworm trixie"}
# Packages every test container needs: systemd as PID 1, python3 (and sudo for become) for Ansible.
INCLUDE=systemd,systemd-sysv,python3,python3-apt,sudo,ca-certificates,iproute2,procps
# Bump when INCLUDE or the build changes, so stale images are rebuilt.
IMAGE_REVISION=2

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi
command -v docker >/dev/null || die "docker client missing after installing docker.io"

if ! docker info >/dev/null 2>&1; then
    echo "setup-docker: starting dockerd"
    if [ -d /run/systemd/system ]; then
        as_root systemctl start docker || true
    fi
    if ! docker info >/dev/null 2>&1; then
        as_root mkdir -p /var/log
        as_root nohup dockerd >/var/log/websocket-nginx-dockerd.log 2>&1 &
    fi
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 \
        || die "dockerd did not come up in 60 s; see /var/log/websocket-nginx-dockerd.log"
fi

build_image() {
    local release=$1 tag="$IMAGE_REPO:$1"
    if [ "$(docker image inspect -f '{{ index .Config.Labels "websocket-nginx.revision" }}' "$tag" 2>/dev/null)" = "$IMAGE_REVISION" ]; then
        echo "setup-docker: $tag is up to date"
        return 0
    fi
    echo "setup-docker: building $tag with mmdebstrap (about 30 s)"
    local log
    log=$(mktemp)
    # shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook, not here
    if ! mmdebstrap --quiet --variant=minbase --include="$INCLUDE" \
            --customize-hook='rm -f "$1"/etc/machine-id; touch "$1"/etc/machine-id' \
            "$release" - 2>"$log" \
        | docker import \
            --change 'CMD ["/lib/systemd/systemd"]' \
            --change 'ENV container=docker' \
            --change "LABEL websocket-nginx.revision=$IMAGE_REVISION" \
            - "$tag" >/dev/null; then
        cat "$log" >&2
        rm -f "$log"
        die "building $tag failed (mmdebstrap output above)"
    fi
    rm -f "$log"
}

pids=()
for release in $RELEASES; do
    build_image "$release" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || die "an image build failed"; done
echo "setup-docker: docker is running; images: $(docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" | tr '\n' ' ')"
