/* A cmocka test group's temporary folder: `dir`, made by the group setup
 * and removed with everything in it by the group teardown
 * (cmocka_run_group_tests(tests, setup, teardown)). Header-only (static). */
#ifndef DNAS_TESTS_TMPDIR_TEST_UTIL_H
#define DNAS_TESTS_TMPDIR_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dnas_testXXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
