/* The cost bridge's `presence` (SuperNet: the probability that a layer is
 * in the network): a layer at presence π counts π times, a layer at 0 not
 * at all, and d/dπ matches differences of the bridge's own values — central
 * differences where the costs are linear in π (every row cost: models,
 * cycles, seconds, energy, weight bytes, also on a target's fixed engine
 * and in ODiMO's split), secants over whole ceil periods for the tensors'
 * bytes (peak activations, memory, levels). The other partials are scaled
 * by π (central differences in cout, k, θ at π != 1). */
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
#define PRES (1u << BT_PRESENCE)

static double uni(uint64_t *r, double lo, double hi) {
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*r >> 11) / 9007199254740992.0;
}

/* Every layer's presence in [0.3, 1) but the network output's (fixed at
 * 1, as a search leaves it). */
static void random_presence(bt_fixture *f, uint64_t seed) {
    for (int i = 1; i < f->net->nlayers; i++)
        if (i != f->net->output) f->s[i].presence = uni(&seed, 0.3, 1.0);
}

static double h_small(const bt_fixture *f, bt_var v) {
    return 1e-4 * fmax(1, fabs(*bt_ptr(f->s, v)));
}

/* A whole ceil period of the tensor a layer produces (8-bit: bytes =
 * ceil(π·C·H·W)); row costs are linear in π, so any h fits them. */
static double h_tensor(const bt_fixture *f, bt_var v) {
    const train_layer *L = &f->net->layers[v.layer];
    return 0.5 / ((double)L->c * L->h * L->w);
}

/* π = 0 removes a layer's costs; π scales them. */
static void test_presence_scales(void **state) {
    (void)state;
    bt_fixture f;
    bt_open(&f, "tcn_fmnist");
    bt_eval(&f);
    double all[SEARCH_COST_COUNT_];
    memcpy(all, f.r.value, sizeof all);
    const search_cost_row row = *bt_row(&f, "conv2");
    int i = bt_layer(&f, "conv2");
    f.s[i].presence = 0;
    bt_eval(&f);
    for (int m = SEARCH_COST_PARAMS; m <= SEARCH_COST_WEIGHT_BYTES; m++)
        assert_true(fabs(f.r.value[m] - (all[m] - row.v[m])) <= 1e-9 * all[m]);
    assert_true(bt_row(&f, "conv2")->v[HWCOST_PARAMS] == 0);
    f.s[i].presence = 0.25;
    bt_eval(&f);
    for (int m = SEARCH_COST_PARAMS; m <= SEARCH_COST_WEIGHT_BYTES; m++)
        assert_true(fabs(f.r.value[m] - (all[m] - 0.75 * row.v[m])) <= 1e-9 * all[m]);
    assert_true(f.r.grad[SEARCH_COST_MACS][i].d_presence == row.v[HWCOST_MACS]);
    /* a negative or non-finite presence is an error naming the layer */
    f.s[i].presence = -1;
    dnas_error err;
    assert_int_equal(search_bridge_eval(f.b, f.s, &f.p, &f.r, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "layer 'conv2': presence -1"));
    bt_close(&f);
}

/* Row costs are linear in π: central differences on every target-independent
 * model, and cycles / seconds / energy on a fixed engine of each target and
 * in ODiMO's split. */
static void test_presence_rows_central(void **state) {
    (void)state;
    static const char *targets[] = {NULL, "diana", "gap8", "mpic", "diana"};
    int fails = 0;
    for (int k = 0; k < 5; k++) {
        hwcost_target *t = targets[k] ? bt_target(targets[k]) : NULL;
        for (int m = 0; m < NMODELS; m++) {
            bt_fixture f;
            bt_open(&f, MODELS[m]);
            random_presence(&f, 5 + m);
            f.p.target = t;
            if (t) f.p.mode = SEARCH_ENGINE_FIXED;
            if (k == 4) {
                f.p.mode = SEARCH_ENGINE_PARALLEL;
                for (int i = 0; i < f.net->nlayers; i++) f.s[i].share[0] = f.s[i].share[1] = 0.5;
            }
            bt_var v[MAXV];
            int nv = bt_vars(&f, PRES, 0, v, MAXV);
            int last = t ? SEARCH_COST_ENERGY : SEARCH_COST_WEIGHT_BYTES;
            for (int slot = 0; slot <= last; slot++)
                if (slot != SEARCH_COST_PEAK_ACT && slot != SEARCH_COST_MEMORY)
                    fails += bt_check(&f, slot, v, nv, h_small, 1e-6, targets[k] ? targets[k] : "none");
            bt_close(&f);
        }
        free(t);
    }
    assert_int_equal(fails, 0);
}

/* Tensor bytes ceil(π·C·H·W) at 8 bits: secants over one ceil period in π,
 * on peak activations, memory and a target's levels. */
static void test_presence_tensors_secant(void **state) {
    (void)state;
    hwcost_target *d = bt_target("diana"), *g8 = bt_target("gap8");
    int fails = 0;
    for (int m = 0; m < NMODELS; m++)
        for (int k = 0; k < 2; k++) {
            const hwcost_target *t = k ? g8 : d;
            bt_fixture f;
            bt_open(&f, MODELS[m]);
            random_presence(&f, 17 + m);
            f.p.target = t;
            int slots[SEARCH_COST_SLOTS], n = 0;
            slots[n++] = SEARCH_COST_PEAK_ACT;
            slots[n++] = SEARCH_COST_MEMORY;
            for (int l = 0; l < t->nmem; l++) slots[n++] = SEARCH_COST_LEVEL(l);
            bt_var v[MAXV];
            int nv = bt_vars(&f, PRES, 0, v, MAXV);
            for (int s = 0; s < n; s++) fails += bt_check(&f, slots[s], v, nv, h_tensor, 1e-6, MODELS[m]);
            bt_close(&f);
        }
    free(d), free(g8);
    assert_int_equal(fails, 0);
}

/* At π != 1 the other partials are π times the layer's: central
 * differences in cout, k and θ on the smooth models. */
static void test_presence_scales_partials(void **state) {
    (void)state;
    static const int slots[] = {SEARCH_COST_PARAMS, SEARCH_COST_MACS, SEARCH_COST_BIT_OPS};
    int fails = 0;
    for (int m = 0; m < NMODELS; m++) {
        bt_fixture f;
        bt_open(&f, MODELS[m]);
        random_presence(&f, 29 + m);
        uint64_t r = 3;
        for (int i = 0; i < f.net->nlayers; i++) {
            f.s[i].w.n = 2;
            f.s[i].w.bits[0] = 4, f.s[i].w.bits[1] = 8;
            f.s[i].w.prob[0] = uni(&r, 0.2, 0.8), f.s[i].w.prob[1] = uni(&r, 0.2, 0.8);
        }
        bt_var v[MAXV];
        unsigned kinds = (1u << BT_COUT) | (1u << BT_K) | (1u << BT_W) | PRES;
        int nv = bt_vars(&f, kinds, 0, v, MAXV);
        for (int s = 0; s < 3; s++) fails += bt_check(&f, slots[s], v, nv, h_small, 1e-6, MODELS[m]);
        bt_close(&f);
    }
    assert_int_equal(fails, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presence_scales),
        cmocka_unit_test(test_presence_rows_central),
        cmocka_unit_test(test_presence_tensors_secant),
        cmocka_unit_test(test_presence_scales_partials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
