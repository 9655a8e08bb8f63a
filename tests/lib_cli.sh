# Shared by the tests/cli_*.sh scripts (sourced): a temporary directory
# removed on exit, `check NAME COMMAND...` counting passes and failures, and
# `finish` printing "N passed, M failed" with a failing exit status if any.
# A script that exits without reaching `finish` (or `skip REASON`) fails.
tmp=$(mktemp -d); finished=0
trap 'rm -rf "$tmp"; [ "$finished" = 1 ] || { echo "FAIL: $0 ended before finish"; exit 1; }' EXIT
fails=0; passes=0
check() {
    local name="$1"; shift
    if "$@"; then passes=$((passes+1)); else echo "FAIL: $name"; fails=$((fails+1)); fi
}
skip() { finished=1; echo "SKIP: $*"; exit 77; }   # ctest SKIP_RETURN_CODE
finish() { finished=1; echo "$passes passed, $fails failed"; exit $((fails > 0)); }
