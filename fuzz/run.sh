#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: builds the libFuzzer targets (clang, in
# build-fuzz) and runs each for SECONDS (default 30) on top of its seed
# corpus (fuzz/corpus/<target>, replayed first; new inputs go to a scratch
# directory, never into the seeds). A crash, a sanitizer report or a failed
# check stops the run with the target's output and the input, under
# build-fuzz/findings/<target>/. .ci/run calls it.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
targets=(pub_scan fsm_apply fsm_restore peer_decode segscan storeseg token
    peer_hello http_request)
build="$top/build-fuzz"

MQ_DEPS_SANITIZE=1 "$top/deploy/deps.sh"
CC=clang cmake -S "$top" -B "$build" -DMQ_FUZZ=ON -DMQ_TESTS=OFF \
    -DCMAKE_C_FLAGS=-Wno-unknown-warning-option >/dev/null
cmake --build "$build" -j"$(nproc)" --target \
    $(printf 'fuzz_%s ' "${targets[@]}")

failed=0
for t in "${targets[@]}"; do
    work=$(mktemp -d)
    findings="$build/findings/$t"
    mkdir -p "$findings"
    echo "fuzz: $t for ${seconds}s"
    if ! "$build/bin/fuzz_$t" "$work" "$top/fuzz/corpus/$t" \
        -max_total_time="$seconds" -artifact_prefix="$findings/" \
        -print_final_stats=1 >"$findings/log" 2>&1; then
        echo "fuzz: $t FAILED (inputs in $findings):" >&2
        tail -40 "$findings/log" >&2
        failed=1
    else
        grep -E '^stat::number_of_executed_units' "$findings/log" || true
    fi
    rm -rf "$work"
done
exit "$failed"
