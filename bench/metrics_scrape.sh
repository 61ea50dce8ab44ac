#!/usr/bin/env bash
# bench/metrics_scrape.sh [--queues N] [--scrapes N] [--dir DIR]
#
# How long a Prometheus scrape of /metrics takes on a node holding many
# queues. Starts a fresh local cluster with deploy/cluster.sh in DIR
# (default ${TMPDIR:-/tmp}/mq-scrape; ports 7001-7003, 7101-7103,
# 7201-7203 must be free), creates --queues queues (default 10000) with a
# subscription each and messages spread over them (mqbench many-queues
# --keep), then GETs each node's /metrics --scrapes times (default 50)
# with curl, one after the other, and prints per node the time of a
# scrape (p50, p99, max: connect, the loop's snapshot of the figures,
# rendering, transfer), the page's size and its number of series. The
# cluster is stopped and DIR removed at the end. The nodes run with their
# defaults (metrics_max_queues 50: the other queues are summed).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
queues=10000
scrapes=50
dir=${TMPDIR:-/tmp}/mq-scrape
while [ $# -gt 0 ]; do
    case $1 in
    --queues) queues=$2; shift 2 ;;
    --scrapes) scrapes=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: bench/metrics_scrape.sh [--queues N] [--scrapes N] [--dir DIR]" >&2; exit 2 ;;
    esac
done
build=${MQ_BUILD_DIR:-$top/build}
command -v curl >/dev/null || { echo "metrics_scrape: curl is missing" >&2; exit 1; }

cleanup() {
    "$top/deploy/cluster.sh" down "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
rm -rf "$dir"
"$top/deploy/cluster.sh" up "$dir" >/dev/null
echo "metrics_scrape: creating $queues queues (mqbench many-queues --keep)" >&2
"$build/bin/mqbench" --case many-queues --queues "$queues" --keep \
    --duration 1 --producers 8 --timeout 600 >/dev/null

for i in 1 2 3; do
    url="http://127.0.0.1:720$i/metrics"
    page=$(curl -sf "$url")
    series=$(printf '%s\n' "$page" | grep -vc '^#')
    total=$(printf '%s\n' "$page" | sed -n 's/^mq_queues \([0-9]*\)$/\1/p')
    for _ in $(seq "$scrapes"); do
        curl -sf -o /dev/null -w '%{time_total}\n' "$url"
        sleep 0.15 # past the 100 ms a snapshot is reused: every scrape takes one
    done | sort -n | awk -v node="$i" -v bytes="${#page}" -v series="$series" \
        -v total="$total" '
        { t[NR] = $1 * 1000 }
        END {
            p50 = t[int((NR + 1) * 0.50)]; p99 = t[int(NR * 0.99 + 0.5)]
            if (p99 == "") p99 = t[NR]
            printf "node %s: %s queues, %d scrapes: p50 %.1f ms, p99 %.1f ms, max %.1f ms; page %d bytes, %d series\n",
                node, total, NR, p50, p99, t[NR], bytes, series
        }'
done
