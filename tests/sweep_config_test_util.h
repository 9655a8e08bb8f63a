/* Test helpers for campaign configs (search/sweep.h): config files written
 * into the group's temporary directory and loads that must fail with a
 * given message. Included by the cmocka tests after <cmocka.h> and
 * "sweep.h"; header-only (static). */
#ifndef DNAS_TESTS_SWEEP_CONFIG_TEST_UTIL_H
#define DNAS_TESTS_SWEEP_CONFIG_TEST_UTIL_H

#include <string.h>

#include "file_test_util.h"
#include "tmpdir_test_util.h"

/* Writes text to DIR/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text) {
    return ftu_write(dir, name, text);
}

static void load_fails(const char *text, const char *want) {
    search_sweep_config sc;
    dnas_error err;
    assert_int_not_equal(search_sweep_config_load(&sc, write_file("bad.yaml", text), &err),
                         DNAS_OK);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
    search_sweep_config_free(&sc);
}

#endif
