/* hwcost targets: loading configs/targets/<name>.yaml, per-target latency and
 * energy against values worked out by hand, straight-through gradients
 * (checked by secants over whole ceil periods, where the ceil is exactly
 * linear), ODiMO's parallel split, and clear errors of the models (the
 * loader's errors: test_hwcost_target_load.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwcost.h"

static void near(double a, double b, int line) {
    if (!(fabs(a - b) <= 1e-9 * (1 + fabs(b)))) fail_msg("line %d: got %.12g, expected %.12g", line, a, b);
}
#define NEAR(a, b) near((a), (b), __LINE__)

#include "hwcost_test_layers.h"

static const char *TARGETS[] = {"diana", "gap8", "mpic", "ne16", "cortex_m4", "cortex_m7"};
#define NTARGETS 6

static hwcost_target load(const char *name) {
    const char *src = getenv("DNAS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/targets/%s.yaml", src ? src : DNAS_SOURCE_DIR, name);
    hwcost_target t;
    dnas_error err;
    if (hwcost_target_load(&t, path, &err)) fail_msg("%s", err.msg);
    return t;
}

static double cyc(const hwcost_target *t, const char *engine, hwcost_layer l) {
    hwcost_grad g;
    dnas_error err;
    int e = hwcost_target_engine(t, engine);
    assert_true(e >= 0);
    if (hwcost_latency_cycles(t, e, &l, &g, &err)) fail_msg("%s", err.msg);
    return g.value;
}

static void test_load_all(void **state) {
    (void)state;
    for (int i = 0; i < NTARGETS; i++) {
        hwcost_target t = load(TARGETS[i]);
        assert_string_equal(t.name, TARGETS[i]);
        assert_true(t.clock_hz > 0 && t.nmem >= 1 && t.nengines >= 1);
    }
    hwcost_target d = load("diana");
    assert_int_equal(d.nengines, 2);
    assert_int_equal(d.nparallel, 2);
    NEAR(d.mem[hwcost_target_memory(&d, "L2")].bytes, 512000);
    NEAR(hwcost_engine_gran(&d.engines[0], "cout", 0), 16);
    NEAR(d.parallel_power_w, 0.04239);
}

static void test_diana_by_hand(void **state) {
    (void)state;
    hwcost_target t = load("diana");
    /* digital: ceil(Cout/g/16)·Cin·ceil(OX/16)·OY·k + OX·OY·(Cout+Cin)/8 */
    NEAR(cyc(&t, "digital", conv3x3()), 11200); /* 1·16·2·28·9 = 8064 + 784·32/8 = 3136 */
    NEAR(cyc(&t, "digital", dw()), 7760);       /* 64·2·5·9 = 5760 + 125·128/8 = 2000 */
    NEAR(cyc(&t, "digital", pw()), 4560);       /* 4·64·2·5 = 2560 + 125·128/8 = 2000 */
    NEAR(cyc(&t, "digital", fc()), 73.25);      /* 1·64 + (10+64)/8 */
    NEAR(cyc(&t, "digital", strided()), 5208);  /* 2·16·1·14·9 = 4032 + 196·48/8 = 1176 */
    NEAR(cyc(&t, "digital", conv1d()), 1218);   /* 2·28·2·1·9 = 1008 + 28·60/8 = 210 */
    hwcost_layer z = conv3x3();
    z.cout = 0; /* Cout < 1: second term off */
    NEAR(cyc(&t, "digital", z), 0);
    /* analog: 8·Cin·k + ceil(Cout/512)·ceil(Cin/128)·OX·OY/u·18.2 */
    NEAR(cyc(&t, "analog", conv3x3()), 4719.2); /* u=4 ((4+2)·64·3 = 1152): 1152 + 784/4·18.2 */
    NEAR(cyc(&t, "analog", pw()), 796.375);     /* u=8 (8·64 = 512): 512 + 125/8·18.2 */
    NEAR(cyc(&t, "analog", fc()), 514.275);     /* u=8: 512 + 1/8·18.2 */
    NEAR(cyc(&t, "analog", strided()), 2043.8); /* u=4: 1152 + 196/4·18.2 */
    NEAR(cyc(&t, "analog", conv1d()), 2079.7);  /* kx 9, ky 1, u=8 ((8+8)·64 <= 1152): 2016 + 28/8·18.2 */
    /* seconds and energy: cycles / 260 MHz, × 24.96 mW */
    hwcost_grad g;
    hwcost_layer l = conv3x3();
    assert_int_equal(hwcost_latency_seconds(&t, 0, &l, &g, NULL), DNAS_OK);
    NEAR(g.value, 11200 / 260e6);
    assert_int_equal(hwcost_energy(&t, 0, &l, &g, NULL), DNAS_OK);
    NEAR(g.value, 11200 / 260e6 * 0.02496);
}

static void test_gap8_by_hand(void **state) {
    (void)state;
    hwcost_target t = load("gap8");
    /* conv: ceil(OX/2)·ceil(OY/8)·(2·k·Cin + ceil(Cout/4)·(15 + 14·ceil(k·Cin/4))) */
    NEAR(cyc(&t, "cluster", conv3x3()), 132384); /* 14·4·(288 + 4·(15 + 14·36)) = 56·2364 */
    NEAR(cyc(&t, "cluster", pw()), 51376);       /* 13·1·(128 + 16·(15 + 14·16)) = 13·3952 */
    NEAR(cyc(&t, "cluster", strided()), 62160);  /* 7·2·(288 + 8·519) = 14·4440 */
    NEAR(cyc(&t, "cluster", conv1d()), 107520);  /* 14·1·(504 + 8·(15 + 14·63)) = 14·7680 */
    NEAR(cyc(&t, "cluster", dw()), 72000);       /* 4·16·125·9 */
    NEAR(cyc(&t, "cluster", fc()), 96);          /* ceil(64/2)·ceil(10/4) = 32·3 */
}

static void test_table_models_by_hand(void **state) {
    (void)state;
    hwcost_target m = load("mpic");
    NEAR(cyc(&m, "core", conv3x3()), 860160); /* 1806336 MACs / 2.1 */
    hwcost_layer l = pw();
    l.w = hwcost_prec_single(2);
    l.a = hwcost_prec_single(4);
    NEAR(cyc(&m, "core", l), 512000 / 3.9);
    l.w = hwcost_prec_single(0); /* 0-bit weights cost 0 */
    NEAR(cyc(&m, "core", l), 0);
    /* mixture: a {4: .5, 8: .5}, w {2: .25, 8: .75} */
    l.a.n = 2, l.a.bits[1] = 8, l.a.prob[0] = l.a.prob[1] = 0.5;
    l.w.n = 2, l.w.bits[0] = 2, l.w.bits[1] = 8, l.w.prob[0] = 0.25, l.w.prob[1] = 0.75;
    NEAR(cyc(&m, "core", l), 512000 * (0.5 * (0.25 / 3.9 + 0.75 / 2.1) + 0.5 * (0.25 / 2.5 + 0.75 / 2.1)));

    /* partials in θ: d/dθw_j = Σ_i θa_i f(a_i, w_j), d/dθa_i = Σ_j θw_j f(a_i, w_j) */
    hwcost_grad g;
    assert_int_equal(hwcost_latency_cycles(&m, 0, &l, &g, NULL), DNAS_OK);
    NEAR(g.d_w[0], 512000 * (0.5 / 3.9 + 0.5 / 2.5));
    NEAR(g.d_a[1], 512000 * (0.25 / 2.5 + 0.75 / 2.1));
    /* add and pool layers: nothing to count, on any engine */
    hwcost_layer add = mk(HWCOST_ADD, 16, 16, 1, 1, 28, 28, 0);
    NEAR(cyc(&m, "core", add), 0);

    hwcost_target n = load("ne16");
    /* padded: ceil(Cout/32)·32 · ceil(Cin/16)·16 · ceil(OX/3)·3 · ceil(OY/3)·3 · k / 128 */
    NEAR(cyc(&n, "ne16", conv3x3()), 32400); /* 32·16·30·30·9 / 128 */
    NEAR(cyc(&n, "ne16", pw()), 5184);       /* 64·64·27·6 / 128 */
    NEAR(cyc(&n, "ne16", dw()), 11664);      /* 64·16·27·6·9 / 128 */
    NEAR(cyc(&n, "ne16", fc()), 16);         /* 32·64 / 128 */
    l = conv3x3();
    l.w = hwcost_prec_single(4);
    NEAR(cyc(&n, "ne16", l), 16200); /* bit-serial: half the cycles */

    hwcost_target c4 = load("cortex_m4");
    /* MACs/0.8 + OX·OY·Cin·k·1 (im2col) + OX·OY·Cout·10 */
    NEAR(cyc(&c4, "cpu", conv3x3()), 2496256); /* 2257920 + 112896 + 125440 */
    NEAR(cyc(&c4, "cpu", dw()), 260000);       /* 72000/0.4 + 125·64·10 */
    NEAR(cyc(&c4, "cpu", fc()), 900);          /* 640/0.8 + 10·10 */
    hwcost_target c7 = load("cortex_m7");
    NEAR(cyc(&c7, "cpu", conv3x3()), 1806336 / 1.3 + 784 * 144 * 0.6 + 784 * 16 * 7.0);
}

/* Secant over ±P: when P moves every ceil argument by an integer, the
 * ceils are exactly linear there and the secant equals the
 * straight-through derivative; P small where no ceil involves the var. */
static double at(const hwcost_target *t, int e, hwcost_layer l, int var, double x) {
    if (var == 0) l.cin = x;
    if (var == 1) l.cout = x;
    if (var == 2) l.k = x;
    hwcost_grad g;
    dnas_error err;
    if (hwcost_latency_cycles(t, e, &l, &g, &err)) fail_msg("%s", err.msg);
    return g.value;
}

static void secant(const hwcost_target *t, const char *engine, hwcost_layer l, const double P[3]) {
    int e = hwcost_target_engine(t, engine);
    hwcost_grad g;
    assert_int_equal(hwcost_latency_cycles(t, e, &l, &g, NULL), DNAS_OK);
    double x[3] = {l.cin, l.cout, l.k}, an[3] = {g.d_cin, g.d_cout, g.d_k};
    for (int v = 0; v < 3; v++) {
        if (P[v] == 0) continue;
        double s = (at(t, e, l, v, x[v] + P[v]) - at(t, e, l, v, x[v] - P[v])) / (2 * P[v]);
        if (fabs(s - an[v]) > 1e-7 * (1 + fabs(s)))
            fail_msg("%s/%s %s var %d: analytic %.10g, secant %.10g", t->name, engine,
                     hwcost_kind_name(l.kind), v, an[v], s);
    }
}

static void test_gradients(void **state) {
    (void)state;
    hwcost_target d = load("diana"), g8 = load("gap8"), m = load("mpic"), n = load("ne16"),
                  c4 = load("cortex_m4");
    hwcost_layer l = mk(HWCOST_CONV, 29.3, 37.5, 3, 3, 28, 28, 0);
    l.k = 8.3;
    secant(&d, "digital", l, (double[]){1e-3, 16, 1e-3});
    secant(&g8, "cluster", l, (double[]){4 / 8.3, 4, 4 / 29.3});
    secant(&n, "ne16", l, (double[]){16, 32, 1e-3});
    secant(&m, "core", l, (double[]){1e-3, 1e-3, 1e-3});
    secant(&c4, "cpu", l, (double[]){1e-3, 1e-3, 1e-3});
    /* analog: Cout 600 keeps u = 1 over Cin 72..328 and Cout 88..1112 */
    hwcost_layer a = mk(HWCOST_CONV, 200, 600, 3, 3, 7, 7, 0);
    a.k = 8.3;
    secant(&d, "analog", a, (double[]){128, 512, 1e-3});
    hwcost_layer w = mk(HWCOST_DEPTHWISE, 50.5, 50.5, 3, 3, 14, 14, 1);
    w.k = 7.7;
    secant(&d, "digital", w, (double[]){1e-3, 0, 1e-3});
    secant(&g8, "cluster", w, (double[]){4, 0, 1e-3});
    secant(&n, "ne16", w, (double[]){16, 0, 1e-3});
    secant(&c4, "cpu", w, (double[]){1e-3, 0, 1e-3});
    hwcost_layer f = mk(HWCOST_LINEAR, 61.5, 25.5, 1, 1, 1, 1, 1);
    secant(&g8, "cluster", f, (double[]){2, 4, 0});
    secant(&d, "digital", f, (double[]){1e-3, 16, 0});
}

static void test_monotone_and_zero(void **state) {
    (void)state;
    hwcost_layer ls[] = {conv3x3(), dw(), pw(), fc(), strided(), conv1d()};
    for (int ti = 0; ti < NTARGETS; ti++) {
        hwcost_target t = load(TARGETS[ti]);
        for (int e = 0; e < t.nengines; e++)
            for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
                hwcost_layer l = ls[i];
                hwcost_grad g;
                if (!hwcost_engine_supports(&t.engines[e], &l) &&
                    hwcost_latency_cycles(&t, e, &l, &g, NULL) == DNAS_ERR_UNSUPPORTED)
                    continue;
                double prev = -1;
                for (double c = 0; c <= 128; c += 8) {
                    l.cin = l.cout = c;
                    assert_int_equal(hwcost_latency_cycles(&t, e, &l, &g, NULL), DNAS_OK);
                    if (c == 0 && g.value != 0)
                        fail_msg("%s/%s: %g cycles at 0 channels", t.name, t.engines[e].name, g.value);
                    if (g.value < prev)
                        fail_msg("%s/%s: not monotone in channels at %g", t.name, t.engines[e].name, c);
                    prev = g.value;
                }
                /* bits, over the engine's own table (a fixed at its first entry) */
                if (!t.engines[e].nmpc) continue;
                l.cin = l.cout = 32;
                prev = -1;
                for (double b = 1; b <= 8; b++) {
                    int ok = 0;
                    for (int r = 0; r < t.engines[e].nmpc; r++)
                        ok |= t.engines[e].mpc[r].w_bits == b &&
                              t.engines[e].mpc[r].a_bits == t.engines[e].abits[0];
                    if (!ok) continue;
                    l.w = hwcost_prec_single(b);
                    l.a = hwcost_prec_single(t.engines[e].abits[0]);
                    assert_int_equal(hwcost_latency_cycles(&t, e, &l, &g, NULL), DNAS_OK);
                    if (g.value < prev)
                        fail_msg("%s/%s: not monotone in weight bits at %g", t.name, t.engines[e].name, b);
                    prev = g.value;
                }
            }
    }
}

/* ODiMO on DIANA, dscnn PW split 48 digital / 16 analog:
 * digital 3·64·2·5 = 1920 + 125·(48+64)/8 = 1750 -> 3670 cycles;
 * analog (u = 8): 512 + 125/8·18.2 = 796.375 cycles;
 * smooth max with τ = 1 cycle: 3670 (the analog weight is e^-2873);
 * energy = P_both·t_min + P_dig·(t_d - t_min) (+ P_ana·0). */
static void test_parallel(void **state) {
    (void)state;
    hwcost_target t = load("diana");
    hwcost_layer parts[2] = {pw(), pw()};
    parts[0].cout = 48;
    parts[1].cout = 16;
    parts[1].w = hwcost_prec_single(2);
    double c, j;
    hwcost_grad g[2];
    dnas_error err;
    assert_int_equal(hwcost_parallel_latency(&t, parts, &c, g, &err), DNAS_OK);
    NEAR(c, 3670);
    assert_int_equal(hwcost_parallel_energy(&t, parts, &j, g, &err), DNAS_OK);
    NEAR(j, (0.04239 * 796.375 + 0.02496 * (3670 - 796.375)) / 260e6);
    /* dE/dt_ana = P_ana + P_both - P_ana - P_dig; dt_ana/dCout = ceil(Cin/128)·OX·OY/u·18.2/512 */
    NEAR(g[1].d_cout, (0.04239 - 0.02496) / 260e6 * 125 / 8.0 * 18.2 / 512);

    /* gradients through the smooth max and the energy, τ large enough
     * to mix; FD in k (no ceil in k; Cout_ana 300 keeps u = 1) */
    char *yaml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&yaml, &len);
    const char *src = getenv("DNAS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/targets/diana.yaml", src ? src : DNAS_SOURCE_DIR);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[512];
    while (fgets(line, sizeof line, in))
        fputs(strstr(line, "smooth_max_tau_cycles: 1.0") ? "  smooth_max_tau_cycles: 3000\n" : line, f);
    fclose(in);
    fclose(f);
    hwcost_target t2;
    if (hwcost_target_load_string(&t2, yaml, "diana_tau.yaml", &err)) fail_msg("%s", err.msg);
    free(yaml);
    hwcost_layer q[2] = {mk(HWCOST_CONV, 50, 40, 3, 3, 8, 8, 0), mk(HWCOST_CONV, 50, 300, 3, 3, 8, 8, 0)};
    q[0].k = q[1].k = 8.3;
    for (int which = 0; which < 2; which++)
        for (int e = 0; e < 2; e++) {
            hwcost_layer lp[2] = {q[0], q[1]}, lm[2] = {q[0], q[1]};
            lp[e].k += 1e-3, lm[e].k -= 1e-3;
            double vp, vm, v;
            hwcost_grad gp[2], gg[2];
            if (which == 0) {
                hwcost_parallel_latency(&t2, lp, &vp, gp, NULL);
                hwcost_parallel_latency(&t2, lm, &vm, gp, NULL);
                hwcost_parallel_latency(&t2, q, &v, gg, NULL);
            } else {
                hwcost_parallel_energy(&t2, lp, &vp, gp, NULL);
                hwcost_parallel_energy(&t2, lm, &vm, gp, NULL);
                hwcost_parallel_energy(&t2, q, &v, gg, NULL);
            }
            double fd = (vp - vm) / 2e-3;
            if (fabs(fd - gg[e].d_k) > 1e-6 * fabs(fd))
                fail_msg("parallel %d engine %d: %g vs %g", which, e, gg[e].d_k, fd);
        }
}

static void expect_err(dnas_status got, dnas_status want, const dnas_error *err, const char *text) {
    assert_int_equal(got, want);
    if (!strstr(err->msg, text)) fail_msg("message '%s' lacks '%s'", err->msg, text);
}

static void test_unsupported(void **state) {
    (void)state;
    hwcost_target d = load("diana"), m = load("mpic"), g8 = load("gap8");
    hwcost_grad g;
    dnas_error err;
    hwcost_layer l = dw();
    expect_err(hwcost_latency_cycles(&d, 1, &l, &g, &err), DNAS_ERR_UNSUPPORTED, &err, "engine 'analog'");
    assert_non_null(strstr(err.msg, "does not run depthwise"));
    l = conv3x3();
    l.groups = 2;
    expect_err(hwcost_latency_cycles(&d, 1, &l, &g, &err), DNAS_ERR_UNSUPPORTED, &err, "groups = 1");
    assert_false(hwcost_engine_supports(&d.engines[1], &l));
    l = conv3x3();
    l.a = hwcost_prec_single(7);
    expect_err(hwcost_latency_cycles(&m, 0, &l, &g, &err), DNAS_ERR_UNSUPPORTED, &err,
               "no MAC/cycle figure for 7-bit activations x 8-bit weights");
    hwcost_layer parts[2] = {conv3x3(), conv3x3()};
    double c;
    expect_err(hwcost_parallel_latency(&g8, parts, &c, &g, &err), DNAS_ERR_UNSUPPORTED, &err,
               "no parallel engines");
    /* digital is 8-bit only: a 2-bit layer is not "supported" for deploy */
    l = conv3x3();
    l.w = hwcost_prec_single(2);
    assert_false(hwcost_engine_supports(&d.engines[0], &l));
    assert_true(hwcost_engine_supports(&d.engines[1], &l));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_all),      cmocka_unit_test(test_diana_by_hand),
        cmocka_unit_test(test_gap8_by_hand),  cmocka_unit_test(test_table_models_by_hand),
        cmocka_unit_test(test_gradients),     cmocka_unit_test(test_monotone_and_zero),
        cmocka_unit_test(test_parallel),      cmocka_unit_test(test_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
