#!/usr/bin/env bash
# deploy/runtime is portable C99 (dnas_rt.h): every source compiles with
#   -std=c99 -Wall -Wextra -Wconversion -Werror -pedantic
# exactly (no project flags or defines), unoptimized and at -O2, with the
# build's compiler and, when present, clang for Cortex-M (thumbv7em, the
# freestanding headers only), -m32 -ffreestanding (32-bit size_t) and
# arm-none-eabi-gcc. Includes are only <stdint.h>, <stddef.h> and the
# runtime's own headers; linked together, the objects need no symbol from
# outside (no libc: malloc, stdio, memcpy...) and export only dnas_rt_*.
# Usage: rt_portable.sh CC SOURCE_DIR
set -uo pipefail
cc="$1"
rt="$2/deploy/runtime"
flags=(-std=c99 -Wall -Wextra -Wconversion -Werror -pedantic)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

shopt -s nullglob
srcs=("$rt"/*.c)
[ ${#srcs[@]} -gt 0 ] || bad "no sources in $rt"

# Includes: only the two freestanding headers and the runtime's own.
allowed='#[[:space:]]*include[[:space:]]*(<stdint\.h>|<stddef\.h>|"dnas_rt\.h"|"rt_internal\.h")'
while IFS= read -r line; do
  bad "include outside <stdint.h>/<stddef.h>/runtime headers: $line"
done < <(grep -Hn '^[[:space:]]*#[[:space:]]*include' "$rt"/*.c "$rt"/*.h | grep -v -E "$allowed")

# compile NAME CC [extra flags...]: every source with the exact flags, at -O0
# and -O2; the -O0 objects are linked into one relocatable object whose
# undefined symbols must be none.
compile() {
  local name="$1" c="$2"
  shift 2
  local objs=() failed=$fail
  fail=0
  for opt in "" -O2; do
    for src in "${srcs[@]}"; do
      local obj="$tmp/$name$opt-$(basename "$src" .c).o"
      if ! "$c" "${flags[@]}" $opt "$@" -c "$src" -o "$obj" 2> "$tmp/err"; then
        bad "$name $opt: $(basename "$src")"
        cat "$tmp/err"
      fi
      [ -z "$opt" ] && objs+=("$obj")
    done
  done
  [ $fail -eq 0 ] && echo "ok: compiled with $name"
  fail=$((fail | failed))
  if [ "$name" = host ] && command -v ld > /dev/null && command -v nm > /dev/null; then
    if ld -r "${objs[@]}" -o "$tmp/all.o"; then
      local undef
      undef=$(nm -u "$tmp/all.o")
      if [ -z "$undef" ]; then
        echo "ok: no external symbols"
      else
        bad "symbols from outside the runtime: $undef"
      fi
      local foreign
      foreign=$(nm -g --defined-only "$tmp/all.o" | awk '{print $3}' | grep -v '^dnas_rt_')
      if [ -z "$foreign" ]; then
        echo "ok: every exported symbol starts with dnas_rt_"
      else
        bad "exported symbols without the dnas_rt_ prefix: $foreign"
      fi
    else
      bad "ld -r"
    fi
  fi
}

compile host "$cc"
if command -v clang > /dev/null; then
  compile cortex-m4 clang --target=thumbv7em-none-eabi -mcpu=cortex-m4 -ffreestanding
fi
if printf '#include <stdint.h>\nint32_t x;\n' |
    "$cc" -m32 -ffreestanding -x c -c - -o "$tmp/m32.o" 2> /dev/null; then
  compile m32 "$cc" -m32 -ffreestanding
fi
if command -v arm-none-eabi-gcc > /dev/null; then
  compile arm-none-eabi arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -ffreestanding
fi
exit $fail
