/* common/: strict number parsing, checked arithmetic, the memory check and
 * the YAML loader's checks and typed getters. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"

static void expect_msg(const dnas_error *err, const char *want) {
    if (!strstr(err->msg, want)) fail_msg("message '%s' lacks '%s'", err->msg, want);
}

static void test_parse_long_is_strict(void **state) {
    (void)state;
    long v = 0;
    assert_int_equal(dnas_parse_long("42", 1, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(dnas_parse_long("1x", 1, 100, &v), -1);
    assert_int_equal(dnas_parse_long("", 1, 100, &v), -1);
    assert_int_equal(dnas_parse_long(" ", 1, 100, &v), -1);
    assert_int_equal(dnas_parse_long(" 5", 1, 100, &v), -1);
    assert_int_equal(dnas_parse_long("\t5", 1, 100, &v), -1);
    assert_int_equal(dnas_parse_long("4294967297", 1, INT_MAX, &v), -1);
    assert_int_equal(dnas_parse_long("99999999999999999999999", LONG_MIN, LONG_MAX, &v), -1);
    assert_int_equal(dnas_parse_long("0", 1, 100, &v), -1);
    assert_int_equal(v, 42); /* untouched on failure */
    double d = 0;
    assert_int_equal(dnas_parse_double("inf", -1e308, 1e308, &d), -1);
    assert_int_equal(dnas_parse_double("nan", -1e308, 1e308, &d), -1);
    assert_int_equal(dnas_parse_double("1e400", -1e308, 1e308, &d), -1);
    assert_int_equal(dnas_parse_double("0.5", 0, 1, &d), 0);
    assert_true(d == 0.5);
}

static void test_checked_arithmetic(void **state) {
    (void)state;
    int64_t r = 0;
    assert_int_equal(dnas_mul64(INT64_MAX / 2, 2, &r), 0);
    assert_int_equal(dnas_mul64(INT64_MAX / 2 + 1, 2, &r), -1);
    assert_int_equal(dnas_mul64(-1, 2, &r), -1);
    assert_int_equal(dnas_mul64(0, INT64_MAX, &r), 0);
    assert_int_equal(r, 0);
    assert_int_equal(dnas_add64(INT64_MAX, 1, &r), -1);
    assert_int_equal(dnas_add64(INT64_MIN, -1, &r), -1);
    assert_int_equal(dnas_add64(3, 4, &r), 0);
    assert_int_equal(r, 7);
}

static void test_check_bytes_names_what(void **state) {
    (void)state;
    dnas_error err;
    setenv("DNAS_MEMORY_LIMIT", "1000", 1);
    assert_int_equal(dnas_memory_limit(), 1000);
    assert_int_equal(dnas_check_bytes(1000, "x", &err), DNAS_OK);
    assert_int_equal(dnas_check_bytes(1001, "data.h5: dataset 'x'", &err), DNAS_ERR_NOMEM);
    expect_msg(&err, "data.h5: dataset 'x' would need 1,001 bytes, more than this machine's 1,000 bytes");
    unsetenv("DNAS_MEMORY_LIMIT");
    assert_true(dnas_memory_limit() > 1000);
}

/* Loads text expecting an error whose message holds want. */
static void load_fails(const char *text, const char *want) {
    dnas_yaml y;
    dnas_error err;
    assert_int_not_equal(dnas_yaml_load_string(&y, text, "t.yaml", &err), DNAS_OK);
    assert_int_equal(y.loaded, 0);
    expect_msg(&err, want);
}

static void test_yaml_load_checks(void **state) {
    (void)state;
    load_fails("a: 1\nb: 2\na: 3\n", "t.yaml:3: key 'a' given twice (first at line 1)");
    /* a mapping large enough for the sorted check */
    char big[4096] = "";
    for (int i = 0; i < 40; i++) snprintf(big + strlen(big), sizeof big - strlen(big), "k%d: 1\n", i);
    strcat(big, "k7: 2\n");
    load_fails(big, "t.yaml:41: key 'k7' given twice (first at line 8)");
    load_fails("a: 1\n---\nb: 2\n", "t.yaml:2: a second YAML document");
    load_fails("", "t.yaml: empty YAML document");
    load_fails("a: [1, 2\n", "YAML syntax error");
    char deep[300];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = 0;
    load_fails(deep, "nested deeper than 64 levels");
    load_fails("a: 1\nb: caf\xe9\n", "t.yaml:2:7: byte 0xe9 is not UTF-8");
    load_fails("a: \xc0\xafx\n", "t.yaml:1:4: byte 0xc0 is not UTF-8");     /* overlong '/' */
    load_fails("a: \xed\xa0\x80\n", "t.yaml:1:4: byte 0xed is not UTF-8"); /* a surrogate */
    load_fails("a: \xe2\x82\n", "t.yaml:1:4: byte 0xe2 is not UTF-8");     /* cut short */
    /* aliases are fine and each node is checked once */
    dnas_yaml y;
    dnas_error err;
    assert_int_equal(dnas_yaml_load_string(&y, "a: &x {p: 1, q: 2}\nb: *x\nc: *x\n", "t.yaml", &err), DNAS_OK);
    dnas_yaml_free(&y);
    assert_int_equal(dnas_yaml_load_string(&y, "a: caf\xc3\xa9\n", "t.yaml", &err), DNAS_OK);
    dnas_yaml_free(&y);
}

static void test_yaml_load_file_errors(void **state) {
    (void)state;
    dnas_yaml y;
    dnas_error err;
    assert_int_equal(dnas_yaml_load_file(&y, "/nonexistent/x.yaml", &err), DNAS_ERR_IO);
    expect_msg(&err, "/nonexistent/x.yaml: cannot open: No such file or directory");
    assert_int_equal(dnas_yaml_load_file(&y, "/tmp", &err), DNAS_ERR_IO);
    expect_msg(&err, "/tmp: is a directory, expected a file");
}

static void test_yaml_getters(void **state) {
    (void)state;
    dnas_yaml y;
    dnas_error err;
    assert_int_equal(dnas_yaml_load_string(&y,
                                           "n: 4294967300\nm: 1x\nf: inf\ng: 0\nb: yes\nc: 1\nl: [1, 2]\n"
                                           "s: word\np: [3, 70000]\n",
                                           "t.yaml", &err),
                     DNAS_OK);
    yaml_node_t *root = dnas_yaml_root(&y);
    long v;
    double d;
    int b;
    assert_int_equal(dnas_yaml_int(&y, dnas_yaml_get(&y, root, "n"), "n", 1, 1 << 24, &v, &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:1: n: 4294967300 is out of range: expected 1..16777216");
    assert_int_equal(dnas_yaml_int(&y, dnas_yaml_get(&y, root, "m"), "m", 1, 9, &v, &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:2: m: expected an integer in 1..9, found '1x'");
    assert_int_equal(dnas_yaml_float(&y, dnas_yaml_get(&y, root, "f"), "f", 0, 1e300, 1, &d, &err),
                     DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:3: f: expected a finite number, found 'inf'");
    assert_int_equal(dnas_yaml_float(&y, dnas_yaml_get(&y, root, "g"), "g", 0, 1e300, 1, &d, &err),
                     DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:4: g: 0 is out of range: expected a number > 0");
    assert_int_equal(dnas_yaml_bool(&y, dnas_yaml_get(&y, root, "b"), "b", &b, &err), DNAS_OK);
    assert_int_equal(b, 1);
    assert_int_equal(dnas_yaml_bool(&y, dnas_yaml_get(&y, root, "c"), "c", &b, &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:6: c: expected true or false, found '1'");
    assert_null(dnas_yaml_str(&y, dnas_yaml_get(&y, root, "l"), "l", &err));
    expect_msg(&err, "t.yaml:7: l: expected a single value, found a list");
    int len = 0;
    assert_int_equal(dnas_yaml_seq(&y, dnas_yaml_get(&y, root, "s"), "s", 1, 4, &len, &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:8: s: expected a list of 1..4 items, found a single value");
    assert_int_equal(dnas_yaml_seq(&y, dnas_yaml_get(&y, root, "l"), "l", 3, 3, &len, &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "l: expected a list of 3 items, found 2");
    assert_int_equal(dnas_yaml_map(&y, dnas_yaml_get(&y, root, "l"), "l", &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "l: expected a mapping of key: value, found a list");
    long a, c;
    assert_int_equal(dnas_yaml_pair(&y, dnas_yaml_get(&y, root, "p"), "p", 1, 65535, &a, &c, &err),
                     DNAS_ERR_CONFIG);
    expect_msg(&err, "p: 70000 is out of range: expected 1..65535");
    static const char *const keys[] = {"n", "m", NULL};
    assert_int_equal(dnas_yaml_check_keys(&y, root, keys, "test", &err), DNAS_ERR_CONFIG);
    expect_msg(&err, "t.yaml:3: test: unknown key 'f' (expected one of: n, m)");
    dnas_yaml_free(&y);
}

static void test_fmt_thousands(void **state) {
    (void)state;
    char buf[48];
    assert_string_equal(dnas_fmt_thousands(1234567, buf, sizeof buf), "1,234,567");
    assert_string_equal(dnas_fmt_thousands(-1000, buf, sizeof buf), "-1,000");
    assert_string_equal(dnas_fmt_thousands(999, buf, sizeof buf), "999");
    assert_string_equal(dnas_fmt_thousands(1e30, buf, sizeof buf), "1e+30");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_long_is_strict),  cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_check_bytes_names_what), cmocka_unit_test(test_yaml_load_checks),
        cmocka_unit_test(test_yaml_load_file_errors), cmocka_unit_test(test_yaml_getters),
        cmocka_unit_test(test_fmt_thousands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
