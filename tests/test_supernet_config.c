/* The `supernet:` map of a search config (search_supernet_config_read,
 * through search_config_load): defaults, every key, and errors naming the
 * line and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "search.h"
#include "search_config_test_util.h"

#define HEAD "model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: supernet\n"

static void test_defaults(void **state) {
    (void)state;
    search_config c;
    load_ok(&c, HEAD);
    assert_int_equal(c.method, SEARCH_METHOD_SUPERNET);
    assert_int_equal(c.supernet.mode, SEARCH_SUPERNET_SOFTMAX);
    assert_true(c.supernet.tau_start == 1.0 && c.supernet.tau_end == 0.1);
    assert_int_equal(c.supernet.anneal, SEARCH_SUPERNET_ANNEAL_EXP);
    search_config_free(&c);
}

static void test_keys(void **state) {
    (void)state;
    static const char *modes[] = {"softmax", "gumbel", "hard", "hard_gumbel"};
    for (int m = 0; m < 4; m++) {
        char text[512];
        snprintf(text, sizeof text, HEAD "supernet:\n  mode: %s\n  tau_start: 5\n  tau_end: 0.5\n  anneal: linear\n",
                 modes[m]);
        search_config c;
        load_ok(&c, text);
        assert_int_equal(c.supernet.mode, m);
        assert_string_equal(search_supernet_mode_name(c.supernet.mode), modes[m]);
        assert_true(c.supernet.tau_start == 5 && c.supernet.tau_end == 0.5);
        assert_int_equal(c.supernet.anneal, SEARCH_SUPERNET_ANNEAL_LINEAR);
        search_config_free(&c);
    }
    search_config c;
    load_ok(&c, HEAD "supernet: {tau_end: 1}\n"); /* a constant temperature */
    assert_true(c.supernet.tau_start == 1 && c.supernet.tau_end == 1 && c.supernet.mode == SEARCH_SUPERNET_SOFTMAX);
    search_config_free(&c);
}

static void test_errors(void **state) {
    (void)state;
    load_fails(HEAD "supernet:\n  mode: argmax\n", "bad.yaml:5: mode: expected softmax, gumbel, hard or hard_gumbel, found 'argmax'");
    load_fails(HEAD "supernet:\n  tau_start: 0\n", "bad.yaml:5: tau_start");
    load_fails(HEAD "supernet:\n  tau_end: 1e9\n", "bad.yaml:5: tau_end");
    load_fails(HEAD "supernet:\n  tau_end: nan\n", "bad.yaml:5: tau_end");
    load_fails(HEAD "supernet:\n  anneal: cosine\n", "bad.yaml:5: anneal: expected exponential or linear, found 'cosine'");
    load_fails(HEAD "supernet:\n  temperature: 1\n", "bad.yaml:5");
    load_fails(HEAD "supernet: [softmax]\n", "bad.yaml:4");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: pit\nsupernet: {mode: hard}\n",
               "bad.yaml:4: supernet: only with method: supernet");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: odimo\nsupernet: {mode: hard}\n",
               "bad.yaml:4: supernet: only with method: supernet");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
