/* The sweep's pure parts (search/sweep.h): Pareto fronts and their
 * hypervolume against values worked out by hand, and the campaign config
 * (μ grids, constraint sets, seeds, the jobs' order and their configs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "file_test_util.h"
#include "sweep.h"

static void expect_front(const search_front *f, const char *const *ids, int n) {
    assert_int_equal(f->n, n);
    for (int i = 0; i < n; i++) assert_string_equal(f->p[i].id, ids[i]);
    for (int i = 1; i < n; i++) assert_true(f->p[i].cost > f->p[i - 1].cost && f->p[i].acc > f->p[i - 1].acc);
}

static void test_front_dominance(void **state) {
    (void)state;
    search_front f;
    search_front_init(&f);
    assert_int_equal(search_front_add(&f, "a", 4, 0.80), 1);
    assert_int_equal(search_front_add(&f, "b", 2, 0.70), 1);
    assert_int_equal(search_front_add(&f, "c", 3, 0.60), 0);  /* b is cheaper and better */
    assert_int_equal(search_front_add(&f, "d", 4, 0.80), 0);  /* a tie keeps the first */
    assert_int_equal(search_front_add(&f, "e", 5, 0.80), 0);  /* as accurate as a, costlier */
    assert_int_equal(search_front_add(&f, "g", 1, NAN), 0);   /* not finite: ignored */
    assert_int_equal(search_front_add(&f, "h", INFINITY, 1), 0);
    expect_front(&f, (const char *[]){"b", "a"}, 2);
    assert_int_equal(search_front_add(&f, "i", 6, 0.90), 1);
    assert_int_equal(search_front_add(&f, "j", 1, 0.50), 1);
    expect_front(&f, (const char *[]){"j", "b", "a", "i"}, 4);
    /* k dominates b and a (cheaper than a, at least as accurate as both) */
    assert_int_equal(search_front_add(&f, "k", 2, 0.85), 1);
    expect_front(&f, (const char *[]){"j", "k", "i"}, 3);
    /* same cost as j, more accurate: replaces it */
    assert_int_equal(search_front_add(&f, "l", 1, 0.60), 1);
    expect_front(&f, (const char *[]){"l", "k", "i"}, 3);
    /* dominates everything */
    assert_int_equal(search_front_add(&f, "m", 0.5, 0.95), 1);
    expect_front(&f, (const char *[]){"m"}, 1);
    search_front_free(&f);
}

static void test_hypervolume(void **state) {
    (void)state;
    search_front f;
    search_front_init(&f);
    search_front_add(&f, "a", 1, 0.5);
    search_front_add(&f, "b", 2, 0.8);
    /* boxes [1,4]x[0,0.5] and [2,4]x[0,0.8]: 3*0.5 + 2*(0.8-0.5) = 2.1 */
    assert_float_equal(search_front_hypervolume(&f, 4, 0), 2.1, 1e-12);
    /* reference accuracy 0.6: a is below it; only [2,4]x[0.6,0.8] = 0.4 */
    assert_float_equal(search_front_hypervolume(&f, 4, 0.6), 0.4, 1e-12);
    /* reference cost 1.5: b is beyond it; only [1,1.5]x[0,0.5] = 0.25 */
    assert_float_equal(search_front_hypervolume(&f, 1.5, 0), 0.25, 1e-12);
    search_front_add(&f, "c", 3.5, 0.9);
    /* + [3.5,4]x[0.8,0.9] = 0.05 */
    assert_float_equal(search_front_hypervolume(&f, 4, 0), 2.15, 1e-12);
    search_front_free(&f);
    search_front_init(&f);
    assert_float_equal(search_front_hypervolume(&f, 4, 0), 0, 0);
    search_front_free(&f);
}

static char dir[] = "/tmp/dnas_test_sweep_XXXXXX";

static const char *write_file(const char *name, const char *text) {
    return ftu_write(dir, name, text);
}

#define SEARCH "search:\n  model: m.yaml\n  data: {format: fashion-mnist, val_split: 100}\n  method: pit\n  seed: 7\n"

static void test_config_grid(void **state) {
    (void)state;
    search_sweep_config sc;
    dnas_error err;
    const char *p = write_file("grid.yaml", "campaign: g1\n" SEARCH
                                            "mu: {log_range: [1.0e-6, 1.0e-4], count: 3}\n"
                                            "constraints:\n  - []\n  - [{cost: params, max: 2000}, {cost: macs, max: 1.0e+6}]\n"
                                            "seeds: [3, 5]\nthreads: 2\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_string_equal(sc.name, "g1");
    assert_string_equal(sc.out, "results/g1");
    assert_int_equal(sc.nmu, 3);
    assert_float_equal(sc.mu[0], 1e-6, 1e-18);
    assert_float_equal(sc.mu[1], 1e-5, 1e-17);
    assert_true(sc.mu[2] == 1e-4);
    assert_int_equal(sc.nsets, 2);
    assert_string_equal(sc.sets[0].desc, "none");
    assert_string_equal(sc.sets[1].desc, "params<=2000,macs<=1e+06");
    assert_int_equal(sc.nfronts, 3); /* params, macs, memory without a target */
    assert_int_equal(search_sweep_njobs(&sc), 12);
    /* seed-major, then constraint set, then mu */
    search_sweep_job job;
    search_sweep_job_get(&sc, 7, &job);
    assert_string_equal(job.id, "7");
    assert_true(job.seed == 5 && job.set == 0 && job.mu == sc.mu[1]);
    search_sweep_job_get(&sc, 5, &job);
    assert_true(job.seed == 3 && job.set == 1 && job.mu == sc.mu[2]);
    search_config cfg;
    search_sweep_job_config(&sc, &job, &cfg);
    assert_true(cfg.mu == sc.mu[2] && cfg.seed == 3 && cfg.nconstraints == 2 && cfg.threads == 2);
    assert_ptr_equal(cfg.text, sc.text); /* inline: the campaign's text */
    search_sweep_config_free(&sc);
    /* defaults: the file's stem, one set (the search's own constraints), its seed */
    p = write_file("plain.yaml", SEARCH "mu: [0, 1.0e-5]\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_string_equal(sc.name, "plain");
    assert_true(sc.nsets == 1 && sc.nseeds == 1 && sc.seeds[0] == 7 && search_sweep_njobs(&sc) == 2);
    search_sweep_config_free(&sc);
}

static void load_fails(const char *text, const char *want) {
    search_sweep_config sc;
    dnas_error err;
    assert_int_not_equal(search_sweep_config_load(&sc, write_file("bad.yaml", text), &err), DNAS_OK);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
    search_sweep_config_free(&sc);
}

static void test_config_errors(void **state) {
    (void)state;
    load_fails(SEARCH, "bad.yaml:1: missing 'mu'");
    load_fails("mu: [1]\n", "missing 'search'");
    load_fails(SEARCH "mu: [-1]\n", "bad.yaml:6: mu: -1 is out of range");
    load_fails(SEARCH "mu: {log_range: [0, 1], count: 3}\n", "bad.yaml:6: log_range: 0 is out of range: expected 0 < x");
    load_fails(SEARCH "mu: {log_range: [1, 0.1], count: 3}\n", "lo < hi");
    load_fails(SEARCH "mu: {log_range: [0.1, 1], count: 1}\n", "count: 1 is out of range: expected 2..256");
    load_fails(SEARCH "mu: {log_range: [0.1, 1]}\n", "mu: missing 'count'");
    load_fails(SEARCH "mu: [1]\nconstraints: [{cost: params, max: 3}]\n", "expected a list of constraint sets");
    load_fails(SEARCH "mu: [1]\nconstraints:\n  - [{cost: latency, max: 3}]\n", "bad.yaml:8: cost: latency needs a target");
    load_fails(SEARCH "mu: [1]\nseeds: [1, 1]\n", "seeds: 1 is given twice");
    load_fails(SEARCH "mu: [1]\nfronts: [accuracy]\n", "fronts: expected cost names");
    load_fails(SEARCH "mu: [1]\ncampaign: ../x\n", "campaign: expected a name");
    load_fails(SEARCH "mu: [1]\nmus: [1]\n", "unknown key 'mus'");
    load_fails("search:\n  model: m.yaml\n  method: pit\nmu: [1]\n", "bad.yaml:2: missing 'data'");
    load_fails("search: nosuch.yaml\nmu: [1]\n", "bad.yaml:1: search: ");
}

static int setup(void **state) {
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_front_dominance),
        cmocka_unit_test(test_hypervolume),
        cmocka_unit_test(test_config_grid),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
