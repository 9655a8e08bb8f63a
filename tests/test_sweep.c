/* The sweep's pure parts (search/sweep.h): Pareto fronts and their
 * hypervolume against values worked out by hand, the campaign config
 * (μ grids, constraint sets, seeds, a list of search settings, the jobs'
 * order and their configs),
 * and the report's fronts from run files and from campaign.h5 (ties,
 * references, failed runs) whatever order the runs are read in. */
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
#include <math.h>

#include "dnas_h5.h"
#include "file_test_util.h"
#include "sweep.h"
#include "sweep_config_test_util.h"
#include "tmpdir_test_util.h"

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

/* A list of two search settings (a file and an inline map): jobs are their
 * product with μ, constraint sets and seeds, seed-major, then search, then
 * constraint set, then μ; each job's config is its search's. */
static void test_config_searches(void **state) {
    (void)state;
    search_sweep_config sc;
    dnas_error err;
    write_file("sn.yaml", "model: m2.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: supernet\n"
                          "seed: 9\n");
    const char *p = write_file("two.yaml", "search:\n"
                                           "  - {model: m.yaml, data: {format: fashion-mnist, val_split: 10}, method: pit, seed: 7}\n"
                                           "  - sn.yaml\n"
                                           "mu: [0, 1.0e-5, 1.0e-4]\n"
                                           "constraints:\n  - []\n  - [{cost: params, max: 2000}]\n"
                                           "seeds: [3, 5]\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(sc.nsearch, 2);
    assert_true(!sc.search_file[0] && sc.search_file[1]);
    assert_int_equal(sc.search[0].method, SEARCH_METHOD_PIT);
    assert_int_equal(sc.search[1].method, SEARCH_METHOD_SUPERNET);
    assert_int_equal(search_sweep_njobs(&sc), 2 * 2 * 3 * 2);
    /* index = ((seed * 2 + search) * 2 + set) * 3 + mu, ids the index */
    for (int i = 0; i < search_sweep_njobs(&sc); i++) {
        search_sweep_job job;
        search_sweep_job_get(&sc, i, &job);
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        assert_string_equal(job.id, id);
        assert_true(job.mu == sc.mu[i % 3]);
        assert_int_equal(job.set, i / 3 % 2);
        assert_int_equal(job.search, i / 6 % 2);
        assert_true(job.seed == (i < 12 ? 3u : 5u));
    }
    search_sweep_job job;
    search_sweep_job_get(&sc, 17, &job); /* seed 5, search 0 (pit), set 1, mu 1e-4 */
    assert_true(job.seed == 5 && job.search == 0 && job.set == 1 && job.mu == 1e-4);
    search_config cfg;
    search_sweep_job_config(&sc, &job, &cfg);
    assert_true(cfg.method == SEARCH_METHOD_PIT && cfg.seed == 5 && cfg.nconstraints == 1 && cfg.mu == 1e-4);
    assert_ptr_equal(cfg.text, sc.text); /* inline: the campaign's text */
    search_sweep_job_get(&sc, 6, &job); /* seed 3, search 1 (supernet), set 0, mu 0 */
    assert_true(job.seed == 3 && job.search == 1 && job.set == 0 && job.mu == 0);
    search_sweep_job_config(&sc, &job, &cfg);
    assert_true(cfg.method == SEARCH_METHOD_SUPERNET && cfg.seed == 3 && cfg.nconstraints == 0);
    assert_ptr_equal(cfg.text, sc.search[1].text); /* a file: its text */
    assert_string_equal(cfg.model + strlen(cfg.model) - 7, "m2.yaml");
    search_sweep_config_free(&sc);
    /* one entry in a list: the same jobs as without the list */
    p = write_file("one.yaml", "search:\n  - sn.yaml\nmu: [0, 1]\n");
    if (search_sweep_config_load(&sc, p, &err)) fail_msg("%s", err.msg);
    assert_true(sc.nsearch == 1 && search_sweep_njobs(&sc) == 2 && sc.seeds[0] == 9);
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
    /* a list of search settings: each entry a path or a map, each checked */
    write_file("sn.yaml", "model: m2.yaml\ndata: {format: fashion-mnist, val_split: 10}\nmethod: supernet\n");
    load_fails("search:\n  - [1, 2]\nmu: [1]\n", "bad.yaml:2: search entry 0: expected a search config file or a map");
    load_fails("search:\n  - sn.yaml\n  - nosuch.yaml\nmu: [1]\n", "bad.yaml:3: search entry 1: ");
    write_file("bad_sn.yaml", "model: m.yaml\nmethod: pit\n");
    load_fails("search:\n  - sn.yaml\n  - bad_sn.yaml\nmu: [1]\n", "bad.yaml:3: search entry 1: ");
    load_fails("search:\n  - sn.yaml\n  - bad_sn.yaml\nmu: [1]\n", "missing 'data'");
    load_fails("search:\n  - sn.yaml\n  - {model: m.yaml, method: pit}\nmu: [1]\n", "bad.yaml:3: missing 'data'");
    load_fails("search: []\nmu: [1]\n", "bad.yaml:1: search");
    write_file("tg.yaml", "model: m.yaml\ndata: {format: fashion-mnist, val_split: 10}\nmethod: pit\ntarget: gap8\n");
    load_fails("search:\n  - tg.yaml\n  - sn.yaml\nmu: [1]\nconstraints:\n  - [{cost: latency, max: 3}]\n",
               "bad.yaml:6: constraints: latency needs a target in every search settings entry");
    load_fails("search:\n  - tg.yaml\n  - sn.yaml\nmu: [1]\nfronts: [params, latency]\n",
               "bad.yaml:5: fronts: latency needs a target in every search settings entry");
    load_fails("search:\n  - sn.yaml\n  - {model: m.yaml, data: {format: fashion-mnist, val_split: 10}, method: pit,\n"
               "     constraints: [{cost: params, max: 5}]}\nmu: [1]\n",
               "bad.yaml:3: search entry 1: its constraints differ from entry 0's");
}

/* A run group /runs/<id> as run files and campaign.h5 hold it: status,
 * mu, metrics/finetune_test_acc, cost/params and (seed >= 0)
 * cost_seed/params. */
static void write_run_group(hid_t file, const char *id, const char *status, double params, double acc,
                            double seed_params) {
    char name[64];
    snprintf(name, sizeof name, "runs/%s", id);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t r = H5Gcreate2(file, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    assert_true(r >= 0);
    assert_int_equal(dnas_h5_write_attr_str(r, "status", status), 1);
    assert_int_equal(dnas_h5_write_attr_f64(r, "mu", 1e-4), 1);
    hid_t g = H5Gcreate2(r, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_int_equal(dnas_h5_write_attr_f64(g, "finetune_test_acc", acc), 1);
    H5Gclose(g);
    g = H5Gcreate2(r, "cost", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_int_equal(dnas_h5_write_attr_f64(g, "params", params), 1);
    H5Gclose(g);
    if (seed_params >= 0) {
        g = H5Gcreate2(r, "cost_seed", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_int_equal(dnas_h5_write_attr_f64(g, "params", seed_params), 1);
        H5Gclose(g);
    }
    H5Gclose(r);
}

typedef struct {
    const char *id, *status;
    double params, acc, seed_params;
} fake_run;

/* ids whose text order (campaign.h5's index, most folder listings) is not
 * their number order: 10 and 2 tie, and the front keeps 2; 4 is dominated
 * by 11; 5 failed (not on the front, though it dominates all); the
 * reference is the seed cost of the lowest id that has one (4, not 10). */
static const fake_run RUNS[] = {
    {"10", "ok", 100, 0.8, 999}, {"2", "ok", 100, 0.8, -1},  {"30", "ok", 200, 0.9, 998},
    {"11", "ok", 50, 0.5, 997},  {"4", "ok", 60, 0.4, 1000}, {"5", "failed", 10, 0.99, 996},
};
#define NRUNS (int)(sizeof RUNS / sizeof *RUNS)

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *b = calloc(1, 1 << 16);
    assert_non_null(b);
    size_t n = fread(b, 1, (1 << 16) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static char *report(const char *path, const char *folder) {
    search_report_opts o = search_report_default_opts();
    o.plot = 0;
    dnas_error err;
    const char *paths[1] = {path};
    if (search_report(paths, 1, &o, &err)) fail_msg("%s", err.msg);
    char p[256];
    snprintf(p, sizeof p, "%s/pareto.csv", folder);
    return slurp(p);
}

static void test_report_stream(void **state) {
    (void)state;
    char camp[128], p[256];
    snprintf(camp, sizeof camp, "%s/rep", dir);
    snprintf(p, sizeof p, "%s/runs", camp);
    assert_int_equal(mkdir(camp, 0755), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    for (int i = 0; i < NRUNS; i++) {
        snprintf(p, sizeof p, "%s/runs/%s.h5", camp, RUNS[i].id);
        hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(f >= 0);
        write_run_group(f, RUNS[i].id, RUNS[i].status, RUNS[i].params, RUNS[i].acc, RUNS[i].seed_params);
        H5Fclose(f);
    }
    const char *want = "campaign,front,run,mu,constraints,method,seed,test_acc,int_test_acc,params,macs,memory,"
                       "architecture\n"
                       "rep,params_vs_test_acc,11,0.0001,\"none\",,-1,0.5,nan,50,nan,nan,\"\"\n"
                       "rep,params_vs_test_acc,2,0.0001,\"none\",,-1,0.8,nan,100,nan,nan,\"\"\n"
                       "rep,params_vs_test_acc,30,0.0001,\"none\",,-1,0.9,nan,200,nan,nan,\"\"\n";
    char *csv = report(camp, camp); /* no campaign.h5: the run files */
    assert_string_equal(csv, want);
    free(csv);
    snprintf(p, sizeof p, "%s/pareto.md", camp);
    char *md = slurp(p);
    /* (1000 - 50) * 0.5 + (1000 - 100) * 0.3 + (1000 - 200) * 0.1 = 825 */
    if (!strstr(md, "Runs: rep 6.") || !strstr(md, "3 points, hypervolume 825 (normalized 0.8250) against (1,000, 0)"))
        fail_msg("pareto.md:\n%s", md);
    free(md);
    /* campaign.h5 with the same groups, written in another order: the same fronts */
    snprintf(p, sizeof p, "%s/campaign.h5", camp);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    for (int i = NRUNS - 1; i >= 0; i--)
        write_run_group(f, RUNS[i].id, RUNS[i].status, RUNS[i].params, RUNS[i].acc, RUNS[i].seed_params);
    H5Fclose(f);
    csv = report(p, camp);
    assert_string_equal(csv, want);
    free(csv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_front_dominance),
        cmocka_unit_test(test_hypervolume),
        cmocka_unit_test(test_config_grid),
        cmocka_unit_test(test_config_searches),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_report_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
