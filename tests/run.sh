#!/usr/bin/env bash
# tests/run.sh [--sanitize] [--long] [ctest args...]
#
# Installs what is missing, builds with warnings as errors, and runs every
# test through ctest: unit tests (cmocka), cluster tests (real mqd
# processes on 127.0.0.1 driven through libmq and mqctl) and the fault
# tests (tests/fault: network namespaces, so root only).
#   --sanitize  build in build-asan with AddressSanitizer and
#               UndefinedBehaviorSanitizer, and run the suite there
#   --long      also run the long tests (label "long")
#
# Without root the fault tests skip themselves, and this script ends with a
# banner saying so and why. With MQ_REQUIRE_FAULT_TESTS=1 in the
# environment (CI sets it: it runs as root) a fault test that cannot run
# fails instead, and so does this script.
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
    skip_cluster="unit|fault"
    skip_fault="unit"
else
    skip_cluster="unit|fault|long"
    skip_fault="unit|long"
fi
# Unit tests in parallel; the others one at a time (each cluster test runs
# three nodes, and the machine may have only two cores).
ctest --output-on-failure -L unit -j"$(nproc)" ${args[@]+"${args[@]}"}
ctest --output-on-failure -LE "$skip_cluster" ${args[@]+"${args[@]}"}

# The fault tests, apart, so that a skip is seen: ctest counts a skipped
# test as passed.
fault_out=$(mktemp)
trap 'rm -f "$fault_out"' EXIT
set +e
ctest --output-on-failure -L fault -LE "$skip_fault" ${args[@]+"${args[@]}"} |
    tee "$fault_out"
fault_rc=${PIPESTATUS[0]}
set -e
if grep -q 'Skipped' "$fault_out"; then
    why=$(grep -h '^SKIPPED:' Testing/Temporary/LastTest.log 2>/dev/null |
        sort -u | sed 's/^SKIPPED: //')
    echo
    echo "=================================================================="
    echo "  THE FAULT TESTS WERE SKIPPED: partitions, kills and snapshot"
    echo "  installs under load were NOT tested."
    echo "  Why: ${why:-see Testing/Temporary/LastTest.log}"
    echo "=================================================================="
    if [ "${MQ_REQUIRE_FAULT_TESTS:-0}" = 1 ]; then
        echo "MQ_REQUIRE_FAULT_TESTS=1: a skipped fault test fails the run" >&2
        exit 1
    fi
fi
exit "$fault_rc"
