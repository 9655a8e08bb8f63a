/* Test helpers for search configs: a temporary directory (made by setup,
 * removed by teardown), config files written into it, and loads that must
 * succeed or fail with a given message. Included by the cmocka tests after
 * <cmocka.h> and "search.h"; header-only (static). */
#ifndef DNAS_TESTS_SEARCH_CONFIG_TEST_UTIL_H
#define DNAS_TESTS_SEARCH_CONFIG_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_test_util.h"
#include "tmpdir_test_util.h"

/* Writes text to DIR/name and returns the path (static buffer). */
static const char *write_cfg(const char *name, const char *text) {
    return ftu_write(dir, name, text);
}

static void load_ok(search_config *c, const char *text) {
    dnas_error err;
    if (search_config_load(c, write_cfg("ok.yaml", text), &err)) fail_msg("%s", err.msg);
}

static void load_fails(const char *text, const char *want) {
    search_config c;
    dnas_error err;
    assert_int_equal(search_config_load(&c, write_cfg("bad.yaml", text), &err), DNAS_ERR_CONFIG);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
    search_config_free(&c);
}

#endif
