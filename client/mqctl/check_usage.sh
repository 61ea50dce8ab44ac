#!/bin/sh
# mqctl ($1) exit codes without a cluster: 0 for --help, 2 and a usage line
# for usage errors, 1 with one "mqctl: <what failed>: ..." line when no node
# answers.
set -u
mqctl=$1
fail() { echo "check_usage: $*" >&2; exit 1; }

"$mqctl" --help >/dev/null || fail "--help did not exit 0"
"$mqctl" queue create --help | grep -q -- '--retention' ||
    fail "queue create --help did not print the flags"
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
    grep -q '^usage: ' /tmp/check_usage.$$ || fail "mqctl $args: no usage"
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
