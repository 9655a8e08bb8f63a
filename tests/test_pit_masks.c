/* PIT mask helpers: hand values for keep-alive, binarization, the
 * receptive-field and dilation combinations and K_eff; K_eff's gradient in
 * the raw masks b and g (through keep-alive and the combinations) against
 * central finite differences (eps 1e-2, rtol 1e-2, atol 1e-4); the tap order against train's convolution;
 * and the gradient that reaches a pruned tap's mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "ops.h"

#define EPS 1e-2f
#define RTOL 1e-2
#define ATOL 1e-4

static void test_pit_hand(void **state) {
    (void)state;
    const int lens[10][2] = {{1, 1}, {2, 1}, {3, 2}, {4, 2}, {5, 3},
                             {8, 3}, {9, 4}, {16, 4}, {17, 5}, {33, 6}};
    for (int i = 0; i < 10; i++) assert_int_equal(train_pit_dil_len(lens[i][0]), lens[i][1]);
    const int terms[6][2] = {{0, 4}, {1, 1}, {2, 2}, {4, 3}, {6, 2}, {8, 4}};  // L = 4
    for (int i = 0; i < 6; i++) assert_int_equal(train_pit_dil_terms(terms[i][0], 4), terms[i][1]);
    // keep-alive: |a| except the kept element, which is 1
    const float a[4] = {-0.3f, 0.7f, 0.0f, -2.0f}, ones[4] = {1, 1, 1, 1};
    float ka[4], da[4] = {0};
    train_pit_keepalive_forward(ka, a, 4, 3);
    const float want_ka[4] = {0.3f, 0.7f, 0.0f, 1.0f}, want_da[4] = {-1, 1, 0, 0};
    assert_memory_equal(ka, want_ka, sizeof ka);
    train_pit_keepalive_backward(da, ones, a, 4, 3);
    assert_memory_equal(da, want_da, sizeof da);
    // binarize at 0.5 (strictly above), straight-through backward
    const float t[4] = {0.5f, 0.50001f, -1.0f, 2.0f}, want_h[4] = {0, 1, 0, 1};
    float h[4], dt[4] = {1, 1, 1, 1};
    train_pit_binarize_forward(h, t, 4);
    assert_memory_equal(h, want_h, sizeof h);
    const float dh[4] = {0.5f, -2, 3, 0};
    train_pit_binarize_backward(dt, dh, 4);
    assert_float_equal(dt[0], 1.5f, 0), assert_float_equal(dt[1], -1, 0);
    // receptive field, K = 4, tap 0 most recent: tb[i] = Σ_{j >= i} b'_j
    const float b[4] = {1.0f, 0.2f, 0.3f, 0.1f}, dtb[4] = {1, 2, 3, 4};
    const float want_tb[4] = {1.6f, 0.6f, 0.4f, 0.1f}, want_db[4] = {1, 3, 6, 10};
    float tb[4], db[4] = {0};
    train_pit_rf_forward(tb, b, 4);
    for (int i = 0; i < 4; i++) assert_float_equal(tb[i], want_tb[i], 1e-6);
    train_pit_rf_backward(db, dtb, 4);
    assert_memory_equal(db, want_db, sizeof db);
    // dilation, K = 9, L = 4: g'_3 kept alive covers taps 0 and 8
    const float g[4] = {0.1f, 0.2f, 0.4f, 1.0f};
    const float want_tg[9] = {1.7f, 0.1f, 0.3f, 0.1f, 0.7f, 0.1f, 0.3f, 0.1f, 1.7f};
    float tg[9], dg[4] = {0}, one9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    train_pit_dil_forward(tg, g, 9);
    for (int i = 0; i < 9; i++) assert_float_equal(tg[i], want_tg[i], 1e-6);
    train_pit_dil_backward(dg, one9, 9);
    const float want_dg[4] = {9, 5, 3, 2};
    assert_memory_equal(dg, want_dg, sizeof dg);
    // binarized: tb = (1.6, 0.6, 0.4, 0.1) keeps taps 0 and 1, prunes the two oldest
    train_pit_binarize_forward(h, tb, 4);
    const float want_hb[4] = {1, 1, 0, 0};
    assert_memory_equal(h, want_hb, sizeof want_hb);
}

static void test_keff_values(void **state) {
    (void)state;
    // all masks 1: K_eff = K for every K
    for (int k = 1; k <= 33; k++) {
        int l = train_pit_dil_len(k);
        float b[33], g[6], tb[33], tg[33];
        for (int i = 0; i < k; i++) b[i] = 1.0f;
        for (int p = 0; p < l; p++) g[p] = 1.0f;
        train_pit_rf_forward(tb, b, k);
        train_pit_dil_forward(tg, g, k);
        assert_float_equal(train_pit_keff(tb, tg, k), k, 1e-5 * k);
    }
    // K = 3, L = 2: b' = (1, 1, 0) -> tb = (2, 1, 0), /(K-i) = (2/3, 1/2, 0);
    // g' = (1, 1) -> tg = (2, 1, 2) = n_g: K_eff = 2/3 + 1/2 = 7/6
    const float b[3] = {1, 1, 0}, g[2] = {1, 1};
    float tb[3], tg[3];
    train_pit_rf_forward(tb, b, 3);
    train_pit_dil_forward(tg, g, 3);
    assert_float_equal(train_pit_keff(tb, tg, 3), 7.0 / 6, 1e-6);
}

/* K_eff as a function of the raw masks: keep-alive (tap 0 for b, g_{L-1}
 * for g), combinations, then K_eff. */
typedef struct {
    int k, l;
    float *b, *g, *bk, *gk, *tb, *tg;
} keff_ctx;

static double keff_loss(void *v) {
    keff_ctx *c = v;
    train_pit_keepalive_forward(c->bk, c->b, c->k, 0);
    train_pit_keepalive_forward(c->gk, c->g, c->l, c->l - 1);
    train_pit_rf_forward(c->tb, c->bk, c->k);
    train_pit_dil_forward(c->tg, c->gk, c->k);
    return train_pit_keff(c->tb, c->tg, c->k);
}

static void keff_grad(keff_ctx *c, float *db, float *dg) {
    float dtb[33] = {0}, dtg[33] = {0}, dbk[33] = {0}, dgk[6] = {0};
    keff_loss(c);
    train_pit_keff_backward(dtb, dtg, 1.0f, c->tb, c->tg, c->k);
    train_pit_rf_backward(dbk, dtb, c->k);
    train_pit_dil_backward(dgk, dtg, c->k);
    train_pit_keepalive_backward(db, dbk, c->b, c->k, 0);
    train_pit_keepalive_backward(dg, dgk, c->g, c->l, c->l - 1);
}

static void test_keff_grad(void **state) {
    (void)state;
    uint64_t rng = 31;
    const int ks[4] = {3, 5, 9, 12};
    for (int t = 0; t < 4; t++) {
        keff_ctx c = {.k = ks[t], .l = train_pit_dil_len(ks[t])};
        float b[33], g[6], bk[33], gk[6], tb[33], tg[33], db[33] = {0}, dg[6] = {0};
        c.b = b, c.g = g, c.bk = bk, c.gk = gk, c.tb = tb, c.tg = tg;
        // magnitudes in [0.1, 1.5], random signs: away from the |.| kink
        for (int i = 0; i < c.k; i++)
            b[i] = (0.1f + 1.4f * train_rng_uniform(&rng)) * (train_rng_next(&rng) % 2 ? 1 : -1);
        for (int p = 0; p < c.l; p++)
            g[p] = (0.1f + 1.4f * train_rng_uniform(&rng)) * (train_rng_next(&rng) % 2 ? 1 : -1);
        keff_grad(&c, db, dg);
        int f = gc_check("keff b", keff_loss, &c, b, db, c.k, EPS, RTOL, ATOL, 33, NULL);
        f += gc_check("keff g", keff_loss, &c, g, dg, c.l, EPS, RTOL, ATOL, 6, NULL);
        assert_int_equal(f, 0);
        assert_float_equal(db[0], 0, 0), assert_float_equal(dg[c.l - 1], 0, 0);  // kept alive
    }
}

/* Tap i multiplies weight index kw = K-1-i; with causal padding it reads
 * x[t - i·d] (checked through train's convolution). */
static void test_tap_order(void **state) {
    (void)state;
    const int k = 3, dil = 2, t_len = 12, t0 = 3;
    train_conv_dims d = {.n = 1, .cin = 1, .hin = 1, .win = t_len, .cout = 1, .hout = 1,
                         .wout = t_len, .kh = 1, .kw = k, .sh = 1, .sw = 1, .dh = 1, .dw = dil,
                         .pt = 0, .pl = (k - 1) * dil, .groups = 1};
    float x[12] = {0}, y[12], w[3] = {10, 20, 30}, wm[3];
    x[t0] = 1.0f;  // an impulse: y[t0 + i·d] is the weight that tap i multiplies
    train_conv2d_forward_ref(y, x, w, NULL, &d);
    for (int i = 0; i < k; i++) assert_float_equal(y[t0 + i * dil], w[k - 1 - i], 0);
    // the tap mask (tap order) lands on those weights: drop tap 2, the oldest
    const float m[3] = {1, 1, 0};
    train_pit_tap_mask_forward(wm, w, m, 1, k);
    train_conv2d_forward_ref(y, x, wm, NULL, &d);
    assert_float_equal(y[t0], 30, 0), assert_float_equal(y[t0 + dil], 20, 0);
    assert_float_equal(y[t0 + 2 * dil], 0, 0);
}

typedef struct {
    int rows, k;
    float *w, *m, *out, *r;
} tap_ctx;

static double tap_loss(void *v) {
    tap_ctx *c = v;
    train_pit_tap_mask_forward(c->out, c->w, c->m, c->rows, c->k);
    return gc_dot(c->out, c->r, (size_t)c->rows * c->k);
}

/* A pruned tap: its weight gets no gradient through w·0, its mask does,
 * straight through H down to the raw b, so the tap can come back. */
static void test_pruned_tap_grad(void **state) {
    (void)state;
    uint64_t rng = 41;
    enum { K = 5, L = 3, ROWS = 6 };
    tap_ctx c = {.rows = ROWS, .k = K};
    float b[K] = {1.0f, 0.4f, -0.3f, 0.2f, 0.25f}, g[L] = {1.0f, 1.0f, 1.0f};
    float bk[K], gk[L], tb[K], tg[K], hb[K], hg[K], m[K];
    train_pit_keepalive_forward(bk, b, K, 0);
    train_pit_keepalive_forward(gk, g, L, L - 1);
    train_pit_rf_forward(tb, bk, K);  // 2.15, 1.15, 0.75, 0.45, 0.25
    train_pit_dil_forward(tg, gk, K);
    train_pit_binarize_forward(hb, tb, K);
    train_pit_binarize_forward(hg, tg, K);
    for (int i = 0; i < K; i++) m[i] = hb[i] * hg[i];
    assert_float_equal(m[3], 0, 0), assert_float_equal(m[4], 0, 0), assert_float_equal(m[2], 1, 0);
    c.w = gc_alloc(ROWS * K), c.out = gc_alloc(ROWS * K), c.r = gc_alloc(ROWS * K), c.m = m;
    gc_fill(c.w, ROWS * K, -1, 1, &rng), gc_fill(c.r, ROWS * K, -1, 1, &rng);
    float *dw = gc_alloc(ROWS * K), dm[K] = {0};
    tap_loss(&c);
    train_pit_tap_mask_backward(dw, dm, c.r, c.w, m, ROWS, K);
    // the product is smooth in w and m
    int f = gc_check("tap w", tap_loss, &c, c.w, dw, ROWS * K, EPS, RTOL, ATOL, 30, NULL);
    f += gc_check("tap m", tap_loss, &c, m, dm, K, EPS, RTOL, ATOL, K, NULL);
    assert_int_equal(f, 0);
    for (int r = 0; r < ROWS; r++) assert_float_equal(dw[r * K + 0], 0, 0);  // kw 0 = tap 4
    // m = H(tb)·H(tg): dH(tb) = dm·H(tg), straight through H, then the combinations
    float dhb[K], dtb[K] = {0}, dbk[K] = {0}, db[K] = {0};
    for (int i = 0; i < K; i++) dhb[i] = dm[i] * hg[i];
    train_pit_binarize_backward(dtb, dhb, K);
    train_pit_rf_backward(dbk, dtb, K);
    train_pit_keepalive_backward(db, dbk, b, K, 0);
    assert_true(dm[4] != 0.0f && db[4] != 0.0f && db[3] != 0.0f);
    assert_float_equal(db[4], dbk[4], 0);  // b[4] > 0: sign +1
    assert_float_equal(db[2], -dbk[2], 0);  // b[2] < 0: sign -1
    free(c.w), free(c.out), free(c.r), free(dw);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pit_hand),     cmocka_unit_test(test_keff_values),
        cmocka_unit_test(test_keff_grad),    cmocka_unit_test(test_tap_order),
        cmocka_unit_test(test_pruned_tap_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
