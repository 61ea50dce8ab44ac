#!/usr/bin/env bash
# tests/check_layers.sh SOURCE_DIR BUILD_DIR
#
# The node's layers, lowest first: base <- fsm <- store <- auth <- tls <- raft
# <- rpc <- http <- node.c and main.c (store and tls use only base; fsm,
# auth and tls use nothing of tls, and tls nothing of them). A layer may include its own headers and
# those of layers below it, never those of a layer above. Each layer's CMake
# library already puts only its own folder and the folders below it that it
# links on the include path; this check also catches a relative path
# ("../rpc/rpc.h") and, since system headers sit on the default include
# path, the libraries a layer must not use: base takes no nng, no libuv and
# no raft; fsm takes no nng and no libuv (libraft's plain <raft.h>, its data
# types and heap, is allowed; <raft/uv.h> is not); auth takes no nng and no
# <raft/uv.h> (libuv for its thread pool and mbedTLS are its own); tls takes
# no libuv and no raft (nng's TLS and mbedTLS are its purpose); store takes
# no nng and no raft (plain file I/O).
#
# It asks the compiler, with each file's own command from the build's
# compile_commands.json, for every header the file reaches (-M, system
# headers and headers included by headers too), so that nothing hides behind
# an indirect include. Before that it checks itself: a file placed in fsm/
# that includes <uv.h> and <nng/nng.h> must be refused.
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
db="$build/compile_commands.json"
[ -f "$db" ] || {
    echo "check_layers: $db is missing (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2
    exit 1
}

layers=(base fsm store auth tls raft rpc http)
upper_dirs=(sqs) # layers above http, as they arrive

# Extended regex of the headers a file of layer $1 must not reach.
forbidden() {
    local layer=$1 i above=() found=0
    for i in "${!layers[@]}"; do
        if [ "$found" = 1 ]; then
            above+=("$src/node/${layers[$i]}/")
        fi
        [ "${layers[$i]}" = "$layer" ] && found=1
    done
    for i in "${upper_dirs[@]}"; do
        above+=("$src/node/$i/")
    done
    local re="^($(
        IFS='|'
        echo "${above[*]}"
    ))|^$src/node/[a-z_]+\.h$"
    case $layer in
    base) re="$re|/nng/|/uv\.h$|/uv/|/raft\.h$|/raft/" ;;
    fsm) re="$re|/nng/|/uv\.h$|/uv/|/raft/uv\.h$" ;;
    auth) re="$re|/nng/|/raft/uv\.h$" ;;
    tls) re="$re|/uv\.h$|/uv/|/raft\.h$|/raft/" ;;
    store) re="$re|/nng/|/raft\.h$|/raft/" ;;
    esac
    echo "$re"
}

# Prints the headers that the compile command $2 (run in $1) reaches.
headers_of() {
    local dir=$1 cmd=$2
    # -M lists every header (system ones too) on stdout instead of
    # compiling; the object file name is replaced by stdout.
    cmd=$(echo "$cmd" | sed -E 's/ -o [^ ]+/ -o \/dev\/stdout/')
    local deps
    deps=$(cd "$dir" && eval "$cmd -M") || return 1
    echo "$deps" | tr ' \\' '\n\n' | grep -E '\.h$' | while read -r h; do
        case $h in
        /*) realpath -m "$h" ;;
        *) realpath -m "$dir/$h" ;;
        esac
    done
}

# Checks one file; prints what it reaches that it must not. Returns 1 then.
check_file() {
    local layer=$1 dir=$2 cmd=$3 file=$4 bad all
    if ! all=$(headers_of "$dir" "$cmd"); then
        echo "check_layers: ${file#"$src"/} (layer $layer) does not" \
            "compile with its layer's include path (above)" >&2
        return 1
    fi
    bad=$(echo "$all" | grep -E "$(forbidden "$layer")" | sort -u || true)
    if [ -n "$bad" ]; then
        echo "check_layers: ${file#"$src"/} (layer $layer) reaches:" >&2
        echo "$bad" | sed 's/^/    /' >&2
        return 1
    fi
}

# compile_commands.json as "directory<TAB>command<TAB>file" lines.
entries() {
    sed -n -E 's/^ *"(directory|command|file)": "(.*)",?$/\1\t\2/p' "$db" |
        awk -F'\t' '
            $1 == "directory" { d = $2 }
            $1 == "command" { c = $2 }
            $1 == "file" { print d "\t" c "\t" $2 }'
}

failed=0
checked=0
fsm_example=""
while IFS=$'\t' read -r dir cmd file; do
    case $file in
    "$src"/node/*/*.c)
        rel=${file#"$src"/node/}
        layer=${rel%%/*}
        ;;
    *) continue ;;
    esac
    # Only the node's own libraries (the fuzzers compile fsm/ again with
    # other include paths; they are not a layer).
    case $cmd in
    *CMakeFiles/mq_"$layer".dir/*) ;;
    *) continue ;;
    esac
    if [ "$layer" = fsm ] && [ -z "$fsm_example" ]; then
        fsm_example="$dir"$'\t'"$cmd"$'\t'"$file"
    fi
    check_file "$layer" "$dir" "$cmd" "$file" || failed=1
    checked=$((checked + 1))
done < <(entries)

# The check must be able to fail: a file in fsm/ that includes libuv and
# nng, compiled with an fsm file's own command.
IFS=$'\t' read -r dir cmd file <<<"$fsm_example"
probe="$src/node/fsm/.layer_probe_$$.c"
trap 'rm -f "$probe"' EXIT
printf '#include <uv.h>\n#include <nng/nng.h>\nint layer_probe;\n' >"$probe"
if check_file fsm "$dir" "${cmd//$file/$probe}" "$probe" 2>/dev/null; then
    echo "check_layers: the check did not refuse libuv and nng in fsm/" >&2
    exit 1
fi

if [ "$checked" -lt 40 ]; then
    echo "check_layers: only $checked files checked; is the build there?" >&2
    exit 1
fi
[ "$failed" = 0 ] || exit 1
echo "check_layers: $checked files of node/ keep to their layers"
