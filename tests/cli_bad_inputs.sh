#!/usr/bin/env bash
# Table-driven bad inputs: every row of tests/bad_inputs/*.tsv runs one dnas
# command on a malformed file (or a bad option) and must exit with the
# row's code, print the row's message fragment, finish within 30 s and
# never crash (a signal, or an ASan/UBSan report, fails the row).
#
# Row format (tab-separated; '#' lines are comments):
#   EXIT <TAB> FRAGMENT <TAB> ARGUMENTS
# ARGUMENTS are split on spaces; in them {B} is tests/bad_inputs/files,
# {S} the source root, {T} a fresh temporary directory, {LONG} a directory
# path of about 2,000 characters under {T} that does not exist (nine
# components of 220), {GEN:NAME} the path
# of a file that tests/bad_inputs/gen.sh NAME writes into {T} (for inputs
# too large or too binary to keep in the repository). FRAGMENT is a fixed
# string searched in stdout + stderr.
# Usage: cli_bad_inputs.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
SRC="$src" . "$(dirname "$0")/lib_mpi.sh" # MPI_ENV for the dnas sweep rows
dir="$src/tests/bad_inputs"

run_row() { # file lineno exit fragment args
    local where="$1:$2" want="$3" frag="$4" args="$5"
    local t="$tmp/row$2_$(basename "$1" .tsv)"
    mkdir -p "$t"
    args="${args//\{LONG\}/$t$long}"
    args="${args//\{B\}/$dir/files}"; args="${args//\{S\}/$src}"; args="${args//\{T\}/$t}"
    frag="${frag//\{B\}/$dir/files}"; frag="${frag//\{S\}/$src}"; frag="${frag//\{T\}/$t}"
    while [[ "$args" =~ \{GEN:([A-Za-z0-9_.]+)\} ]]; do
        local name="${BASH_REMATCH[1]}"
        bash "$dir/gen.sh" "$name" "$t" > /dev/null || { echo "    gen.sh $name failed"; return 1; }
        args="${args//\{GEN:$name\}/$t/$name}"
    done
    local -a argv; read -r -a argv <<< "$args"
    local -a envs=()
    [ "${argv[0]:-}" = sweep ] && envs=("${MPI_ENV[@]}")
    (cd "$t" && env "${envs[@]}" timeout 30 "$dnas" "${argv[@]}") > "$t/out" 2>&1
    local got=$?
    if [ $got -ne "$want" ]; then
        echo "    dnas $args: exit $got, expected $want"; sed 's/^/    /' "$t/out" | head -20; return 1
    fi
    if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'LeakSanitizer' "$t/out"; then
        echo "    sanitizer report"; sed 's/^/    /' "$t/out" | head -20; return 1
    fi
    if ! grep -qF -- "$frag" "$t/out"; then
        echo "    dnas $args: output lacks '$frag'"; sed 's/^/    /' "$t/out" | head -10; return 1
    fi
    return 0
}

long=$(printf '/%0220d' 1 2 3 4 5 6 7 8 9 | tr 0-9 d)
rows=0
for f in "$dir"/*.tsv; do
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n+1))
        case "$line" in ''|'#'*) continue;; esac
        IFS=$'\t' read -r code frag args <<< "$line"
        rows=$((rows+1))
        check "$(basename "$f"):$n" run_row "$(basename "$f")" "$n" "$code" "$frag" "$args"
    done < "$f"
done
check "table has rows ($rows)" test "$rows" -gt 0
finish
