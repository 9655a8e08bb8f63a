# Shared by the tests/cli_*.sh scripts (sourced): a temporary directory
# removed on exit, `check NAME COMMAND...` counting passes and failures, and
# `finish` printing "N passed, M failed" with a failing exit status if any.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
check() {
    local name="$1"; shift
    if "$@"; then passes=$((passes+1)); else echo "FAIL: $name"; fails=$((fails+1)); fi
}
finish() { echo "$passes passed, $fails failed"; exit $((fails > 0)); }
