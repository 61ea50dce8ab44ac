#!/usr/bin/env bash
# tests/run.sh [--sanitize] [--long] [ctest args...]
#
# Installs what is missing, builds with warnings as errors, and runs every
# test through ctest: unit tests (cmocka) and cluster tests (real mqd
# processes on 127.0.0.1 driven through libmq and mqctl).
#   --sanitize  build in build-asan with AddressSanitizer and
#               UndefinedBehaviorSanitizer, and run the suite there
#   --long      also run the long tests (label "long")
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
long=0
args=()
for a in "$@"; do
    case "$a" in
    --sanitize) sanitize=1 ;;
    --long) long=1 ;;
    *) args+=("$a") ;;
    esac
done

"$top/deploy/deps.sh"

if [ "$sanitize" = 1 ]; then
    build="$top/build-asan"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMQ_WERROR=ON \
        -DMQ_SANITIZE=address,undefined >/dev/null
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}
else
    build="$top/build"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMQ_WERROR=ON >/dev/null
fi
cmake --build "$build" -j"$(nproc)"

cd "$build"
if [ "$long" = 1 ]; then
    others="unit"
else
    others="unit|long"
fi
# Unit tests in parallel; the others one at a time (each cluster test runs
# three nodes, and the machine may have only two cores).
ctest --output-on-failure -L unit -j"$(nproc)" ${args[@]+"${args[@]}"}
ctest --output-on-failure -LE "$others" ${args[@]+"${args[@]}"}
