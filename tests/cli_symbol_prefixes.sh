#!/usr/bin/env bash
# Every symbol a module's library exports carries the module's prefix
# (common: dnas_, train: train_, hwcost: hwcost_, search: search_, deploy:
# deploy_, deploy/runtime: dnas_rt_, its DIANA model: dnas_diana_, its pulp/
# runtime: dnas_pulp_ and dnas_gap8_ (checked as dnas_); upper-case constants
# likewise), so the libraries link together, and into generated code, without
# clashes.
# Usage: cli_symbol_prefixes.sh DNAS_BINARY SOURCE_DIR
set -u
build="$(dirname "$(realpath "$1")")"
. "$(dirname "$0")/lib_cli.sh"
command -v nm > /dev/null || skip "nm (binutils) is not installed"

unprefixed() { # LIB PREFIX: exported symbols of LIB without PREFIX (the
    # compiler's and sanitizers' own, __odr_asan.* and the like, excepted)
    nm -g --defined-only "$1" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBR]$/ { print $3 }' |
        grep -v '^__' | grep -v -i "^$2" | tr '\n' ' '
}
for spec in common/libdnas_common.a:dnas_ train/libdnas_train.a:train_ hwcost/libdnas_hwcost.a:hwcost_ \
            search/libdnas_search.a:search_ deploy/libdnas_deploy.a:deploy_ \
            deploy/runtime/libdnas_rt.a:dnas_rt_ deploy/runtime/libdnas_diana.a:dnas_diana_ \
            deploy/runtime/libdnas_pulp.a:dnas_ \
            common/libdnas_h5.a:dnas_h5_; do
    lib="$build/${spec%%:*}" prefix="${spec##*:}"
    check "$lib exists" test -f "$lib"
    bad=$(unprefixed "$lib" "$prefix")
    check "every symbol of ${spec%%:*} starts with $prefix${bad:+ (not: $bad)}" test -z "$bad"
done
finish
