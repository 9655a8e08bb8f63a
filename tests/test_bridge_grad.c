/* The cost bridge's gradients against differences of its own values, on
 * tcn_fmnist, resnet8_fmnist and dscnn: central differences for the smooth
 * costs (params, MACs, bit-params, bit-ops; MPIC and Cortex-M latency and
 * energy) at a soft state; every cost is linear in θ, so central
 * differences in θ everywhere; secants over whole ceil periods for the
 * straight-through costs (weight and activation bytes, memory levels,
 * DIANA digital and GAP8 latency, the ODiMO split). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bridge_test_util.h"

static const char *MODELS[] = {"tcn_fmnist", "resnet8_fmnist", "dscnn"};
#define NMODELS 3
#define MAXV 512
#define ALL ((1u << BT_COUT) | (1u << BT_K) | (1u << BT_W) | (1u << BT_A))
#define THETA ((1u << BT_W) | (1u << BT_A))

static double uni(uint64_t *r, double lo, double hi) {
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*r >> 11) / 9007199254740992.0;
}

/* Soft channels and taps, weights over {2, 4, 8} and activations over
 * `abits` (n of them) with unnormalized θ: a generic point. */
static void soft_state(bt_fixture *f, uint64_t seed, const double *abits, int na) {
    for (int i = 0; i < f->net->nlayers; i++) {
        const train_layer *L = &f->net->layers[i];
        search_layer_state *s = &f->s[i];
        if (search_bridge_channel_owner(f->b, i) == i && i != f->net->output)
            s->cout = L->c * uni(&seed, 0.45, 0.95);
        if (L->op == TRAIN_OP_CONV) s->k = L->kh * L->kw * uni(&seed, 0.5, 0.95);
        s->w.n = 3;
        for (int j = 0; j < 3; j++) s->w.bits[j] = 2 << j, s->w.prob[j] = uni(&seed, 0.1, 0.6);
        s->a.n = na;
        for (int j = 0; j < na; j++) s->a.bits[j] = abits[j], s->a.prob[j] = uni(&seed, 0.2, 0.8);
    }
}

static double h_small(const bt_fixture *f, bt_var v) {
    return 1e-4 * fmax(1, fabs(*bt_ptr(f->s, v)));
}

static int check_slots(bt_fixture *f, const int *slots, int nslots, unsigned kinds, bt_step_fn step,
                       const char *what) {
    bt_var v[MAXV];
    int nv = bt_vars(f, kinds, 0, v, MAXV), fails = 0;
    for (int k = 0; k < nslots; k++) fails += bt_check(f, slots[k], v, nv, step, 1e-6, what);
    return fails;
}

static void test_smooth_models_central(void **state) {
    (void)state;
    static const int slots[] = {SEARCH_COST_PARAMS,       SEARCH_COST_PARAMS_NO_BIAS, SEARCH_COST_MACS,
                                SEARCH_COST_MACS_NO_BIAS, SEARCH_COST_BIT_PARAMS,     SEARCH_COST_BIT_OPS};
    int fails = 0;
    for (int m = 0; m < NMODELS; m++) {
        bt_fixture f;
        bt_open(&f, MODELS[m]);
        soft_state(&f, 11 + m, (double[]){4, 8}, 2);
        fails += check_slots(&f, slots, 6, ALL, h_small, MODELS[m]);
        bt_close(&f);
    }
    assert_int_equal(fails, 0);
}

/* MPIC (MACs / MAC-per-cycle table) and Cortex-M (MACs / rate + im2col and
 * output terms) have no ceil: central differences in every variable. */
static void test_smooth_latency_central(void **state) {
    (void)state;
    static const int slots[] = {SEARCH_COST_CYCLES, SEARCH_COST_SECONDS, SEARCH_COST_ENERGY};
    const char *targets[] = {"mpic", "cortex_m4", "cortex_m7"};
    int fails = 0;
    for (int k = 0; k < 3; k++) {
        hwcost_target *t = bt_target(targets[k]);
        for (int m = 0; m < NMODELS; m++) {
            bt_fixture f;
            bt_open(&f, MODELS[m]);
            /* MPIC has 4- and 8-bit activations; Cortex-M 8-bit only */
            soft_state(&f, 21 + m, (double[]){8, 4}, k == 0 ? 2 : 1);
            f.p.target = t;
            f.p.mode = SEARCH_ENGINE_FIXED;
            bt_eval(&f);
            assert_true(f.r.value[SEARCH_COST_CYCLES] > 0);
            fails += check_slots(&f, slots, 3, ALL, h_small, targets[k]);
            bt_close(&f);
        }
        free(t);
    }
    assert_int_equal(fails, 0);
}

/* Every cost is Σ θa θw f: linear in each θ, ceils or not. */
static void test_theta_central_everywhere(void **state) {
    (void)state;
    const char *targets[] = {"diana", "gap8", "ne16"};
    int fails = 0;
    for (int k = 0; k < 3; k++) {
        hwcost_target *t = bt_target(targets[k]);
        for (int e = 0; e < t->nengines; e++)
            for (int m = 0; m < NMODELS; m++) {
                bt_fixture f;
                bt_open(&f, MODELS[m]);
                soft_state(&f, 31 + m, (double[]){8}, 1);
                f.p.target = t;
                f.p.mode = SEARCH_ENGINE_FIXED;
                f.p.engine = e;
                int slots[SEARCH_COST_SLOTS], n = 0;
                for (int s = 0; s < SEARCH_COST_COUNT_ + t->nmem; s++) slots[n++] = s;
                fails += check_slots(&f, slots, n, THETA, h_small, targets[k]);
                bt_close(&f);
            }
        free(t);
    }
    assert_int_equal(fails, 0);
}

/* Memory at 8 bits and integer channels and taps: in a channel count, a
 * weight-bytes ceil argument has slope Cin·k or Cout·k, a tensor's H·W:
 * h = 1/2 makes 2h·slope an integer. In k the slope is the layer's
 * Cin·Cout/groups (d params / dk): h = 1/(2·slope), a small step that
 * keeps the largest layer the largest. */
static double h_memory(const bt_fixture *f, bt_var v) {
    if (v.kind == BT_COUT) return 0.5;
    return 0.5 / f->r.grad[SEARCH_COST_PARAMS_NO_BIAS][v.layer].d_k;
}

static void test_memory_secants(void **state) {
    (void)state;
    hwcost_target *d = bt_target("diana"), *g8 = bt_target("gap8");
    int fails = 0;
    for (int m = 0; m < NMODELS; m++)
        for (int k = 0; k < 2; k++) {
            const hwcost_target *t = k ? g8 : d;
            bt_fixture f;
            bt_open(&f, MODELS[m]);
            /* integer counts off the zoo's round ones, so that fewer peaks tie */
            for (int i = 1; i < f.net->nlayers; i++)
                if (search_bridge_channel_owner(f.b, i) == i && i != f.net->output) f.s[i].cout -= i % 3;
            f.p.target = t;
            int slots[SEARCH_COST_SLOTS], n = 0;
            slots[n++] = SEARCH_COST_WEIGHT_BYTES;
            slots[n++] = SEARCH_COST_PEAK_ACT;
            slots[n++] = SEARCH_COST_MEMORY;
            for (int l = 0; l < t->nmem; l++) slots[n++] = SEARCH_COST_LEVEL(l);
            fails += check_slots(&f, slots, n, (1u << BT_COUT) | (1u << BT_K), h_memory, MODELS[m]);
            bt_close(&f);
        }
    free(d), free(g8);
    assert_int_equal(fails, 0);
}

/* DIANA digital: ceil(Cout/16) (h = 8), Cin and k linear. GAP8: ceil(Cout/4)
 * and, as a consumer, ceil(9·Cin/4), ceil(Cin/2) (h = 2); ceil(k·Cin/4) in
 * k (h = 2/Cin). */
static double h_diana(const bt_fixture *f, bt_var v) {
    (void)f;
    return v.kind == BT_COUT ? 8 : 0.5;
}

static double h_gap8(const bt_fixture *f, bt_var v) {
    if (v.kind == BT_COUT) return 2;
    const train_layer *L = &f->net->layers[v.layer];
    return 2.0 / f->net->layers[L->inputs[0]].c;
}

static void test_latency_secants(void **state) {
    (void)state;
    static const int slots[] = {SEARCH_COST_CYCLES, SEARCH_COST_SECONDS, SEARCH_COST_ENERGY};
    hwcost_target *d = bt_target("diana"), *g8 = bt_target("gap8");
    int fails = 0;
    for (int m = 0; m < NMODELS; m++)
        for (int k = 0; k < 2; k++) {
            bt_fixture f;
            bt_open(&f, MODELS[m]);
            f.p.target = k ? g8 : d;
            f.p.mode = SEARCH_ENGINE_FIXED; /* engine 0: DIANA digital, GAP8 cluster */
            fails += check_slots(&f, slots, 3, (1u << BT_COUT) | (1u << BT_K), k ? h_gap8 : h_diana,
                                 k ? "gap8" : "diana digital");
            bt_close(&f);
        }
    free(d), free(g8);
    assert_int_equal(fails, 0);
}

/* ODiMO on DIANA with half the channels on each engine: depthwise layers
 * are not split (the analog array runs groups = 1 only); a split row's
 * d/dshare is Cout_eff × hwcost's part gradient; secants in the digital
 * share (h = 8/Cout: ceil(Cout_d/16) moves by 1) where one engine's
 * cycles dominate the smooth max by far over the interval. */
static double h_share(const bt_fixture *f, bt_var v) {
    return 8.0 / f->net->layers[v.layer].c; /* the default state: Cout_eff = c */
}

static void test_odimo(void **state) {
    (void)state;
    hwcost_target *d = bt_target("diana");
    int fails = 0;
    for (int m = 0; m < NMODELS; m++) {
        bt_fixture f;
        bt_open(&f, MODELS[m]);
        for (int i = 0; i < f.net->nlayers; i++) f.s[i].share[0] = f.s[i].share[1] = 0.5;
        f.p.target = d;
        f.p.mode = SEARCH_ENGINE_PARALLEL;
        bt_eval(&f);
        double analog_max = 0;
        bt_var v[MAXV];
        int nv = 0;
        for (int r = 0; r < f.r.nrows; r++) {
            const search_cost_row *row = &f.r.rows[r];
            int dw = row->d.kind == HWCOST_DEPTHWISE;
            assert_int_equal(row->split, !dw);
            if (dw) {
                assert_int_equal(row->engine, 0);
                continue;
            }
            double c;
            hwcost_grad gp[HWCOST_MAX_ENGINES];
            assert_int_equal(hwcost_parallel_latency(d, row->part, &c, gp, NULL), DNAS_OK);
            assert_true(c == row->cycles);
            for (int q = 0; q < 2; q++)
                assert_true(
                    fabs(f.r.grad[SEARCH_COST_CYCLES][row->layer].d_share[q] - gp[q].d_cout * row->d.cout) <=
                    1e-9 * (1 + fabs(gp[q].d_cout * row->d.cout)));
            assert_true(row->part[1].w.n == 1 &&
                        row->part[1].w.bits[0] == 2); /* ternary on the analog array */
            if (row->wbytes[1] > analog_max) analog_max = row->wbytes[1];
            /* over the secant's interval t_d − t_a keeps its sign and stays
             * >= 40 cycles away from 0 (the smooth max is then a max) */
            double gap[2] = {0, 0};
            for (int k = 0; k < 2 && row->part[0].cout >= 9; k++) {
                hwcost_layer p0 = row->part[0];
                p0.cout += k ? 8 : -8;
                hwcost_grad g0, g1;
                assert_int_equal(hwcost_latency_cycles(d, 0, &p0, &g0, NULL), DNAS_OK);
                assert_int_equal(hwcost_latency_cycles(d, 1, &row->part[1], &g1, NULL), DNAS_OK);
                gap[k] = g0.value - g1.value;
            }
            if (gap[0] * gap[1] > 0 && fabs(gap[0]) >= 40 && fabs(gap[1]) >= 40)
                v[nv++] = (bt_var){BT_SHARE, row->layer, 0};
        }
        assert_true(analog_max > 0);
        assert_true(f.r.value[SEARCH_COST_LEVEL(hwcost_target_memory(d, "analog_array"))] == analog_max);
        static const int slots[] = {SEARCH_COST_CYCLES, SEARCH_COST_ENERGY, SEARCH_COST_WEIGHT_BYTES,
                                    SEARCH_COST_MEMORY};
        for (int k = 0; k < 4 && nv > 0; k++) fails += bt_check(&f, slots[k], v, nv, h_share, 1e-6, "odimo");
        /* the models are smooth in the parts' channels, so in cout, k and
         * the shares; every cost is linear in θ (a part at its engine's
         * bits has no θw: zero gradient); at a soft point, where no two
         * layers tie for the largest */
        soft_state(&f, 41 + m, (double[]){8}, 1);
        static const int smooth[] = {SEARCH_COST_PARAMS,     SEARCH_COST_PARAMS_NO_BIAS,
                                     SEARCH_COST_MACS,       SEARCH_COST_MACS_NO_BIAS,
                                     SEARCH_COST_BIT_PARAMS, SEARCH_COST_BIT_OPS};
        nv = bt_vars(&f, ALL | 1u << BT_SHARE, 2, v, MAXV);
        for (int k = 0; k < 6; k++) fails += bt_check(&f, smooth[k], v, nv, h_small, 1e-6, "odimo smooth");
        nv = bt_vars(&f, THETA, 0, v, MAXV);
        for (int k = 0; k < SEARCH_COST_COUNT_ + d->nmem; k++)
            fails += bt_check(&f, k, v, nv, h_small, 1e-6, "odimo theta");
        bt_close(&f);
    }
    free(d);
    assert_int_equal(fails, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smooth_models_central),    cmocka_unit_test(test_smooth_latency_central),
        cmocka_unit_test(test_theta_central_everywhere), cmocka_unit_test(test_memory_secants),
        cmocka_unit_test(test_latency_secants),          cmocka_unit_test(test_odimo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
