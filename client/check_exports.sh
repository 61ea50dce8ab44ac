#!/bin/sh
# Fails when libmq.so ($1) exports a symbol that is not part of the public
# API: every defined dynamic symbol must start with mq_ and a letter (the
# generated protobuf code's mq__v1__ names must not leak).
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{ print $NF }')
if [ -z "$syms" ]; then
    echo "check_exports: $lib exports nothing" >&2
    exit 1
fi
bad=$(printf '%s\n' "$syms" | grep -v '^mq_[a-z]' || true)
if [ -n "$bad" ]; then
    echo "check_exports: $lib exports symbols outside the API:" >&2
    printf '  %s\n' $bad >&2
    exit 1
fi
# Every MQ_API function of mq.h ($2) is exported.
wants=$(sed -n 's/^MQ_API [^(]*[ *]\(mq_[a-z_]*\)(.*/\1/p' "$2")
[ -n "$wants" ] || { echo "check_exports: no MQ_API in $2" >&2; exit 1; }
for want in $wants; do
    if ! printf '%s\n' "$syms" | grep -qx "$want"; then
        echo "check_exports: $lib does not export $want" >&2
        exit 1
    fi
done
echo "check_exports: $(printf '%s\n' "$syms" | wc -l) symbols, all public mq_*"
