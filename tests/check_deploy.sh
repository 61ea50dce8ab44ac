#!/usr/bin/env bash
# tests/check_deploy.sh SOURCE_DIR BUILD_DIR
#
# Checks what deploy/ ships, with the tools that will read it:
# - the systemd unit (deploy/mqd@.service.in, pointed at the built mqd):
#   `systemd-analyze verify` passes, `systemd-analyze security` rates its
#   exposure at most 3.0 (offline: no running systemd needed), and it is
#   Type=notify, with its own user, a StateDirectory and
#   RestartPreventExitStatus=2;
# - the Prometheus examples: `promtool check config`, `promtool check
#   rules` and the rules' own unit tests (`promtool test rules`);
# - the Grafana dashboard is JSON (jq);
# - every example config passes `mqd --check-config`, and a bad one exits
#   2 naming the key;
# - `cmake --install` to a scratch prefix installs mqd, mqctl, libmq, the
#   header, the unit with that prefix's paths and the examples, and runs
#   ldconfig.
# Each check first proves it can fail where that is cheap (a unit with a
# missing binary, a weaker sandbox, a broken rule).
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "check_deploy: $*" >&2
    exit 1
}
need() {
    command -v "$1" >/dev/null || fail "$1 is missing (deploy/deps.sh installs it)"
}
need systemd-analyze
need promtool
need jq

# The unit, as installed, with the built mqd.
sed -e "s|@MQD_PATH@|$build/bin/mqd|" -e "s|@MQ_CONF_DIR@|/etc/mq|g" \
    "$src/deploy/mqd@.service.in" >"$tmp/mqd@.service"
cp "$tmp/mqd@.service" "$tmp/mqd@1.service"
for key in 'Type=notify' 'RestartPreventExitStatus=2' 'DynamicUser=yes' \
    'User=mq' 'StateDirectory=mq/node%i'; do
    grep -qx "$key" "$tmp/mqd@.service" || fail "the unit lacks $key"
done
systemd-analyze verify "$tmp/mqd@.service" "$tmp/mqd@1.service" ||
    fail "systemd-analyze verify refused the unit"
sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/mqd|' "$tmp/mqd@1.service" \
    >"$tmp/broken@1.service"
if systemd-analyze verify "$tmp/broken@1.service" 2>/dev/null; then
    fail "systemd-analyze verify accepted a unit without its binary"
fi
# --threshold is in tenths: 30 is an exposure of 3.0.
exposure=$(systemd-analyze security --offline=true "$tmp/mqd@1.service" |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
systemd-analyze security --offline=true --threshold=30 \
    "$tmp/mqd@1.service" >/dev/null ||
    fail "the unit's exposure is $exposure, above 3.0"
grep -v -e '^ProtectSystem=' -e '^SystemCallFilter=' -e '^PrivateUsers=' \
    -e '^CapabilityBoundingSet=' -e '^RestrictAddressFamilies=' \
    "$tmp/mqd@1.service" >"$tmp/weak@1.service"
if systemd-analyze security --offline=true --threshold=30 \
    "$tmp/weak@1.service" >/dev/null 2>&1; then
    fail "the exposure check passed a weaker sandbox"
fi
echo "check_deploy: unit verified, exposure $exposure"

# Prometheus.
promtool check config "$src/deploy/prometheus/prometheus.yml" >/dev/null ||
    fail "promtool check config deploy/prometheus/prometheus.yml"
promtool check rules "$src/deploy/prometheus/mq-alerts.yml" >/dev/null ||
    fail "promtool check rules deploy/prometheus/mq-alerts.yml"
(cd "$src/deploy/prometheus" && promtool test rules mq-alerts.test.yml) ||
    fail "promtool test rules deploy/prometheus/mq-alerts.test.yml"
sed 's/mq_raft_is_leader{job="mq"}) == 0/mq_raft_is_leader{job="mq"} == 0/' \
    "$src/deploy/prometheus/mq-alerts.yml" >"$tmp/broken-alerts.yml"
if promtool check rules "$tmp/broken-alerts.yml" >/dev/null 2>&1; then
    fail "promtool check rules passed a broken rule"
fi
jq -e '.panels | length > 10' "$src/deploy/grafana/mq-dashboard.json" \
    >/dev/null || fail "deploy/grafana/mq-dashboard.json is not a dashboard"

# Configs.
for f in "$src"/deploy/node[123].conf; do
    "$build/bin/mqd" --check-config "$f" >/dev/null ||
        fail "mqd --check-config $f"
done
{ cat "$src/deploy/node1.conf"; echo "http_timeout_ms 5"; } >"$tmp/bad.conf"
set +e
out=$("$build/bin/mqd" --check-config "$tmp/bad.conf" 2>&1)
rv=$?
set -e
[ "$rv" = 2 ] || fail "a bad config exits $rv, not 2"
case $out in
*"bad.conf:"*"http_timeout_ms"*) ;;
*) fail "a bad config's message does not name file and key: $out" ;;
esac

# cmake --install to a scratch prefix (no DESTDIR: ldconfig runs).
cmake -S "$src" -B "$tmp/b" -DCMAKE_BUILD_TYPE=Release -DMQ_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX="$tmp/prefix" >/dev/null
cmake --build "$tmp/b" -j2 >/dev/null
log=$(cmake --install "$tmp/b" 2>&1) || fail "cmake --install: $log"
for f in bin/mqd bin/mqctl include/mq.h lib/systemd/system/mqd@.service \
    share/mq/examples/node1.conf share/mq/examples/mqd.conf \
    share/mq/examples/prometheus/mq-alerts.yml \
    share/mq/examples/grafana/mq-dashboard.json; do
    [ -e "$tmp/prefix/$f" ] || fail "cmake --install did not install $f"
done
ls "$tmp"/prefix/lib*/libmq.so* >/dev/null 2>&1 ||
    ls "$tmp"/prefix/lib/*/libmq.so* >/dev/null 2>&1 ||
    fail "cmake --install did not install libmq.so"
grep -q "^ExecStart=$tmp/prefix/bin/mqd --config /etc/mq/node%i.conf" \
    "$tmp/prefix/lib/systemd/system/mqd@.service" ||
    fail "the installed unit does not run the installed mqd"
case $log in
*"Ran ldconfig"* | *"ldconfig failed"*) ;;
*) fail "cmake --install did not run ldconfig: $log" ;;
esac
echo "check_deploy: prometheus rules, dashboard, configs and install checked"
