/* The sweep's deploy stage, its parts that need no campaign: the
 * `deploy:` section of a campaign config (selection, targets and their
 * labels, samples; its errors), and the deploy library's `make check`
 * runner (job.h) on Makefiles that print what a generated test prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy.h"
#include "file_test_util.h"
#include "sweep.h"
#include "sweep_config_test_util.h"
#include "tmpdir_test_util.h"

#define SEARCH                                                                                     \
    "search:\n  model: m.yaml\n  data: {format: fashion-mnist, val_split: 100}\n  method: pit\n" \
    "  int_bits: 8\nmu: [0]\n"

static int ends_with(const char *s, const char *end) {
    size_t n = strlen(s), m = strlen(end);
    return n >= m && !strcmp(s + n - m, end);
}

static void test_config_front(void **state) {
    (void)state;
    search_sweep_config sc;
    dnas_error err;
    const char *p = write_file("f.yaml", SEARCH "deploy:\n  targets:\n    - c\n"
                                                "    - {backend: c, target: cortex_m4, l1: 100}\n"
                                                "    - gap8\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    const search_sweep_deploy *d = &sc.deploy;
    assert_int_equal(d->select, SEARCH_DEPLOY_FRONT);
    assert_string_equal(d->front, "params_vs_int_test_acc"); /* the first front, integer accuracy */
    assert_int_equal(d->ntargets, 3);
    assert_string_equal(d->t[0].label, "c");
    assert_string_equal(d->t[0].desc, "");
    assert_string_equal(d->t[1].label, "c-cortex_m4-l1_100");
    assert_true(ends_with(d->t[1].desc, "configs/targets/cortex_m4.yaml"));
    assert_int_equal(d->t[1].l1, 100);
    assert_string_equal(d->t[2].label, "gap8");
    assert_string_equal(d->t[2].desc, ""); /* the backend's own */
    assert_int_equal(d->vectors, 8);
    assert_int_equal(d->images, 0);
    search_sweep_config_free(&sc);
    /* a named front of test accuracy, random vectors */
    p = write_file("f2.yaml", SEARCH "fronts: [params, macs]\ndeploy:\n  front: macs_vs_test_acc\n"
                                     "  targets: [diana]\n  vectors: 3\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_string_equal(sc.deploy.front, "macs_vs_test_acc");
    assert_int_equal(sc.deploy.vectors, 3);
    search_sweep_config_free(&sc);
    /* no deploy: section */
    p = write_file("none.yaml", SEARCH);
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sc.deploy.select, SEARCH_DEPLOY_NONE);
    search_sweep_config_free(&sc);
}

static void test_config_best(void **state) {
    (void)state;
    search_sweep_config sc;
    dnas_error err;
    if (access("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        skip(); /* images: needs the test set (Debian package dataset-fashion-mnist) */
    }
    const char *p = write_file("b.yaml", SEARCH "deploy:\n  select: best_within_budget\n"
                                                "  targets: [{backend: gap8, latency_ms: 5}, cortex-m]\n"
                                                "  images: 16\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sc.deploy.select, SEARCH_DEPLOY_BEST);
    assert_true(sc.deploy.t[0].latency_ms == 5 && sc.deploy.t[1].latency_ms == 0);
    assert_string_equal(sc.deploy.t[1].label, "cortex-m");
    assert_true(sc.deploy.images == 1 && sc.deploy.vectors == 16);
    search_sweep_config_free(&sc);
}

static void test_config_errors(void **state) {
    (void)state;
    load_fails(SEARCH "deploy:\n  targets: [c, c]\n", "bad.yaml:8: targets: c is given twice");
    load_fails(SEARCH "deploy:\n  targets: [c, {backend: c, l1: 4}]\n", "l1: backend c has no tiled memory");
    load_fails(SEARCH "deploy:\n  select: best_within_budget\n  front: params_vs_test_acc\n  targets: [c]\n",
               "bad.yaml:9: front: only with select: front");
    load_fails(SEARCH "deploy:\n  targets: [c]\n  vector: 3\n", "unknown key 'vector'");
    load_fails(SEARCH "deploy:\n  targets: []\n", "bad.yaml:8: targets: expected a list of 1..8");
    load_fails(SEARCH "deploy:\n  targets: [{target: gap8}]\n", "deploy target: missing 'backend'");
    load_fails(SEARCH "deploy:\n  targets: [c]\n  vectors: 0\n", "vectors: 0 is out of range");
    load_fails(SEARCH "deploy: [c]\n", "bad.yaml:7:");
    load_fails(SEARCH "deploy:\n  targets: [{backend: c, target: nosuch.yaml}]\n", "bad.yaml:8: target: ");
}

/* A folder whose Makefile's check target runs `recipe`. */
static const char *fake(const char *name, const char *recipe) {
    static char sub[128];
    char mk[32], text[256];
    snprintf(sub, sizeof sub, "%s/%.16s", dir, name);
    mkdir(sub, 0777);
    snprintf(mk, sizeof mk, "%.16s/Makefile", name);
    snprintf(text, sizeof text, "check:\n\t%.200s\n", recipe);
    write_file(mk, text);
    return sub;
}

static void test_check_run(void **state) {
    (void)state;
    deploy_check_result r;
    deploy_check_run(fake("eq", "@echo '8 samples: equal (0 values differ)'"), &r);
    assert_int_equal(r.status, DEPLOY_CHECK_EQUAL);
    assert_true(r.samples == 8 && r.differ == 0 && !r.reason[0]);
    assert_string_equal(deploy_check_name(r.status), "equal");
    deploy_check_run(fake("diff", "@echo '3 samples: DIFFERENT (5 values differ)'; exit 1"), &r);
    assert_int_equal(r.status, DEPLOY_CHECK_DIFFER);
    assert_true(r.samples == 3 && r.differ == 5);
    assert_non_null(strstr(r.reason, "5 values of 3 samples differ"));
    deploy_check_run(fake("broken", "@echo 'network.c:1: error'; exit 2"), &r);
    assert_int_equal(r.status, DEPLOY_CHECK_FAILED);
    assert_non_null(strstr(r.reason, "without comparing the samples"));
    /* equal outputs, then a failing float-input check: not equal */
    deploy_check_run(fake("late", "@echo '2 samples: equal (0 values differ)'; exit 1"), &r);
    assert_int_equal(r.status, DEPLOY_CHECK_FAILED);
    assert_string_equal(deploy_check_name(r.status), "failed");
    char log[160];
    snprintf(log, sizeof log, "%s/broken/check.log", dir);
    assert_int_equal(access(log, R_OK), 0); /* make's output is kept */
}

static void test_paths(void **state) {
    (void)state;
    char buf[4096];
    const char *p = deploy_target_path("gap8", buf, sizeof buf);
    assert_non_null(p);
    assert_true(ends_with(p, "configs/targets/gap8.yaml"));
    assert_null(deploy_target_path("no_such_target", buf, sizeof buf));
    assert_string_equal(deploy_target_path("x/y.yaml", buf, sizeof buf), "x/y.yaml");
    assert_true(deploy_on_path("sh"));
    assert_false(deploy_on_path("dnas-no-such-program"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_front), cmocka_unit_test(test_config_best),
        cmocka_unit_test(test_config_errors), cmocka_unit_test(test_check_run),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
