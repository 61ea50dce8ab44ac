#!/usr/bin/env bash
# deploy/cluster.sh up|down|status [DIR]
#
# up:     installs what is missing, builds, and starts a local three-node
#         cluster on 127.0.0.1 (clients at tcp://127.0.0.1:7001-7003, peers at
#         7101-7103, HTTP (/metrics, /livez, /readyz, /healthz) at
#         http://127.0.0.1:7201-7203) with its data, configs and logs in DIR;
#         waits until a leader is elected and prints the mqctl line to use
#         and the HTTP URLs.
# down:   stops the nodes started in DIR (by the PIDs recorded there).
# status: shows what each node says.
# DIR defaults to ${TMPDIR:-/tmp}/mq-cluster.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
dir=${2:-${TMPDIR:-/tmp}/mq-cluster}
build=${MQ_BUILD_DIR:-$top/build}
urls="tcp://127.0.0.1:7001,tcp://127.0.0.1:7002,tcp://127.0.0.1:7003"
members="1=tcp://127.0.0.1:7101,2=tcp://127.0.0.1:7102,3=tcp://127.0.0.1:7103"

usage() {
    echo "usage: deploy/cluster.sh up|down|status [DIR]" >&2
    exit 2
}

mqctl() {
    "$build/bin/mqctl" -s "$urls" "$@"
}

build() {
    "$top/deploy/deps.sh"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j"$(nproc)" >/dev/null
}

running() { # pid file -> 0 if that process is alive
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

up() {
    build
    mkdir -p "$dir"
    for i in 1 2 3; do
        if running "$dir/n$i.pid"; then
            echo "node $i already running (pid $(cat "$dir/n$i.pid"))"
            continue
        fi
        sed -e "s|@ID@|$i|g" -e "s|@DIR@|$dir/n$i|g" \
            -e "s|@MEMBERS@|$members|g" \
            "$top/deploy/node.conf.in" >"$dir/n$i.conf"
        nohup "$build/bin/mqd" --config "$dir/n$i.conf" \
            >>"$dir/n$i.log" 2>&1 </dev/null &
        echo $! >"$dir/n$i.pid"
    done
    for _ in $(seq 1 150); do
        for i in 1 2 3; do
            if ! running "$dir/n$i.pid"; then
                echo "cluster.sh: node $i did not start (port in use by" \
                    "another cluster?); the end of $dir/n$i.log:" >&2
                tail -n 5 "$dir/n$i.log" >&2
                down >/dev/null
                exit 1
            fi
        done
        if mqctl --json status 2>/dev/null | grep -q '"role": *"leader"'; then
            mqctl status
            echo
            echo "cluster up in $dir; use:"
            echo "  $build/bin/mqctl -s $urls status"
            echo "HTTP (/metrics, /livez, /readyz, /healthz?verbose):"
            for i in 1 2 3; do
                echo "  http://127.0.0.1:720$i"
            done
            return 0
        fi
        sleep 0.2
    done
    echo "cluster.sh: no leader after 30 s; logs in $dir/n*.log" >&2
    exit 1
}

down() {
    for i in 1 2 3; do
        f="$dir/n$i.pid"
        if running "$f"; then
            kill -TERM "$(cat "$f")"
        fi
    done
    for i in 1 2 3; do
        f="$dir/n$i.pid"
        for _ in $(seq 1 100); do
            running "$f" || break
            sleep 0.1
        done
        if running "$f"; then
            kill -KILL "$(cat "$f")"
        fi
        rm -f "$f"
    done
    echo "cluster in $dir stopped (data kept; rm -rf $dir to wipe it)"
}

case "$cmd" in
up) up ;;
down) down ;;
status) mqctl status ;;
*) usage ;;
esac
