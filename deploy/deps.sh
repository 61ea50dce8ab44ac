#!/usr/bin/env bash
# Installs, with apt-get, whichever Debian 12 packages mq needs that are
# missing. Used by deploy/cluster.sh, tests/run.sh and .ci/run.
set -euo pipefail

# prometheus brings promtool and the server the cluster tests run;
# systemd brings systemd-analyze (it works without a running systemd);
# jq reads the Grafana dashboard in tests/check_deploy.sh; libfuse3-dev
# and fuse3 build and mount the fault tests' power-loss file system; gdb
# prints the threads of a node that does not stop in a test. (On a machine
# that runs systemd, Debian enables and starts its prometheus service on
# :9090; `systemctl disable --now prometheus` if it is not wanted.)
pkgs=(build-essential cmake pkg-config libnng-dev libprotobuf-c-dev
      protobuf-c-compiler libraft-dev libuv1-dev libcmocka-dev
      libmbedtls-dev openssl clang-format iproute2 nftables procps prometheus
      systemd jq libfuse3-dev fuse3 gdb)
if [ "${MQ_DEPS_SANITIZE:-0}" = 1 ]; then
    pkgs+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    }
    sudo=sudo
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
