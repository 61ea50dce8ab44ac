#!/bin/sh
# mqctl ($1) without a cluster: help per command, --version, the manual page
# and completion; usage errors exit 2 with one line and a hint naming the
# flag; 1 with one "mqctl: <what failed>: ..." line when no node answers.
set -u
mqctl=$1
err=/tmp/check_usage.$$
fail() { echo "check_usage: $*" >&2; rm -f "$err"; exit 1; }

"$mqctl" --help >/dev/null || fail "--help did not exit 0"
"$mqctl" --version | grep -q '^mqctl [0-9]' || fail "--version"
# Each flag of queue create with its meaning and default.
out=$("$mqctl" queue create --help) || fail "queue create --help did not exit 0"
for flag in --retention --discard --max-messages --max-bytes --max-age \
            --max-message-bytes --duplicate-window --ack-timeout \
            --max-deliveries --delay --max-delay --dead-letter-queue \
            --status-ttl --status-max; do
    printf '%s\n' "$out" | grep -q -- "^  $flag " ||
        fail "queue create --help lacks $flag"
done
printf '%s\n' "$out" | tr -s ' \n' '  ' |
    grep -qF -- '--max-bytes SIZE most bytes of messages kept, such as 512MiB or 1GB (default: unlimited)' ||
    fail "queue create --help: --max-bytes has no meaning or default"
"$mqctl" help queue create | grep -q -- '--max-age DUR' ||
    fail "help queue create"
"$mqctl" queue --help | grep -q 'queue redrive DLQ' || fail "queue --help"
"$mqctl" --man | grep -q '^\.TH MQCTL 1' || fail "--man"
"$mqctl" --man | grep -q 'max\\-message\\-bytes' || fail "--man flags"
"$mqctl" --completion bash | grep -q '^complete -F _mqctl mqctl' ||
    fail "--completion bash"
# Usage errors: one line naming what is wrong, one hint line, exit 2.
usage_error() { # ARGS... ; the words the error line must hold follow "--"
    args=""
    while [ "$1" != "--" ]; do args="$args $1"; shift; done
    shift
    # shellcheck disable=SC2086
    "$mqctl" $args >/dev/null 2>"$err"
    rc=$?
    [ $rc -eq 2 ] || fail "mqctl$args: exit $rc, want 2"
    [ "$(wc -l <"$err")" -eq 2 ] || fail "mqctl$args: not two lines: $(cat "$err")"
    sed -n 1p "$err" | grep -q '^mqctl: ' || fail "mqctl$args: $(cat "$err")"
    sed -n 2p "$err" | grep -q '^hint: ' || fail "mqctl$args: no hint"
    for w in "$@"; do
        sed -n 1p "$err" | grep -qF -- "$w" ||
            fail "mqctl$args: \"$(sed -n 1p "$err")\" lacks \"$w\""
    done
}
usage_error queue create q --max-bytes 1G -- "--max-bytes" "say GB or GiB"
usage_error queue create q --max-bytes 5x -- "--max-bytes" "unknown unit"
usage_error queue create q --max-age 1.5ms -- "--max-age" "whole number"
usage_error queue create q --max-message-bytes 16MiB -- \
    "--max-message-bytes" "more than"
usage_error queue create q --bogus 1 -- "unknown flag --bogus"
usage_error queue create -- "queue create: missing NAME"
usage_error queue create a b -- "too many arguments"
usage_error queue create q --retention nope -- "--retention" "limits or work"
usage_error consume q s --wait soon -- "--wait" "soon"
usage_error --timeout 5 status -- "--timeout" "no unit"
usage_error queue frob -- "unknown command frob"
for args in "" "nosuch" "queue" "queue create" "queue create a b" \
            "queue create q --retention nope" "queue create q --max-age 5x" \
            "sub create q" "sub create q s --start 0" "publish q" \
            "consume q s --count 0" "--timeout 5" "-s" "status extra" \
            "queue create q --bogus 1" "queue create q --delay 5x" \
            "publish q e d --delay soon" "read" "read q --count 0" \
            "read q --from-seq 1 --from-time -5m" "read q --from-time 5x" \
            "message" "message status" "message cancel a b" \
            "queue purge" "queue redrive q" "queue redrive q --to r --rate 0" \
            "queue redrive q --to r --rate 10/s --batch 11" \
            "sub create q s --start time:yesterday" "--ns" \
            "node" "node join 4" "node add" "node add 4" \
            "node add 0 tcp://127.0.0.1:7104" "node remove" "node remove x" \
            "node remove 4294967296" "node list extra" "leader" \
            "leader transfer 1 2" "leader transfer -1" "leader move" \
            "key" "key create" "key create a b" "key create a --allow prd" \
            "key create a --allow prd:pub" "key create a --expires-in 5x" \
            "key update a" "key update a --expires-in 1d --no-expiry" \
            "key rotate" "key rotate a b" "key revoke" "key info" \
            "key list x" "key nosuch" "--token" "--token-file" \
            "--token a --token-file b status"; do
    # shellcheck disable=SC2086
    "$mqctl" $args >/dev/null 2>/tmp/check_usage.$$
    rc=$?
    [ $rc -eq 2 ] || fail "mqctl $args: exit $rc, want 2"
    [ "$(wc -l </tmp/check_usage.$$)" -eq 2 ] ||
        fail "mqctl $args: not one line and a hint: $(cat /tmp/check_usage.$$)"
    grep -q '^hint: ' /tmp/check_usage.$$ || fail "mqctl $args: no hint"
done
"$mqctl" -s "not a url" status >/dev/null 2>/tmp/check_usage.$$
[ $? -eq 2 ] || fail "a bad -s did not exit 2"
# Nothing listens on port 1: one error line, exit 1.
"$mqctl" -s tcp://127.0.0.1:1 --timeout 300ms queue info q \
    >/dev/null 2>/tmp/check_usage.$$
rc=$?
[ $rc -eq 1 ] || fail "unreachable node: exit $rc, want 1"
[ "$(wc -l </tmp/check_usage.$$)" -eq 1 ] || fail "not one error line"
grep -q '^mqctl: get queue q: ' /tmp/check_usage.$$ ||
    fail "error line: $(cat /tmp/check_usage.$$)"
# A bad namespace is a usage error too, named by libmq.
"$mqctl" --ns "a/b" queue info q >/dev/null 2>/tmp/check_usage.$$
[ $? -eq 2 ] || fail "a bad --ns did not exit 2"
grep -q '^mqctl: open client: namespace ' /tmp/check_usage.$$ ||
    fail "bad --ns: $(cat /tmp/check_usage.$$)"
rm -f /tmp/check_usage.$$
echo "check_usage: ok"
