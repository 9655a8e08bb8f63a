/* Softmax with temperature over architecture logits, Gumbel-softmax and the
 * hard straight-through variant: hand values, the backward against central
 * finite differences (eps 1e-2, rtol 1e-2, atol 1e-4), reproducible noise,
 * the Gumbel-max law, and the hard forward / soft backward pairing. */
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

static void test_softmax_hand(void **state) {
    (void)state;
    // row 0: exp(α) ∝ 1, 2, 4 at T = 1; row 1: the same logits at T = 2 give 1, √2, 2
    const float ln2 = 0.69314718f;
    const float alpha[6] = {0, ln2, 2 * ln2, 0, ln2, 2 * ln2};
    float th[6];
    train_softmax_temp_forward(th, alpha, 1, 3, 1.0f);
    train_softmax_temp_forward(th + 3, alpha + 3, 1, 3, 2.0f);
    assert_float_equal(th[0], 1.0 / 7, 1e-6), assert_float_equal(th[1], 2.0 / 7, 1e-6);
    assert_float_equal(th[2], 4.0 / 7, 1e-6);
    double z = 3 + sqrt(2.0);
    assert_float_equal(th[3], 1 / z, 1e-6), assert_float_equal(th[4], sqrt(2.0) / z, 1e-6);
    // large logits do not overflow; a low temperature sharpens toward the argmax
    const float big[3] = {1000, 999, -1000};
    train_softmax_temp_forward(th, big, 1, 3, 0.01f);
    assert_float_equal(th[0], 1, 1e-6), assert_float_equal(th[2], 0, 0);
    // rows are independent
    const float two[6] = {1, 2, 3, 3, 2, 1};
    train_softmax_temp_forward(th, two, 2, 3, 1.0f);
    assert_float_equal(th[0], th[5], 1e-7), assert_float_equal(th[2], th[3], 1e-7);
}

typedef struct {
    float *alpha, *theta, *r;
    int rows, p;
    float temp;
    uint64_t seed;  /* 0: plain softmax, else Gumbel with this seed */
} sm_ctx;

static double sm_loss(void *v) {
    sm_ctx *c = v;
    if (c->seed) {
        uint64_t rng = c->seed;  // same seed each call: the same noise
        train_gumbel_softmax_forward(c->theta, NULL, c->alpha, c->rows, c->p, c->temp, &rng);
    } else {
        train_softmax_temp_forward(c->theta, c->alpha, c->rows, c->p, c->temp);
    }
    return gc_dot(c->theta, c->r, (size_t)c->rows * c->p);
}

static void test_softmax_grad(void **state) {
    (void)state;
    uint64_t rng = 21;
    for (int k = 0; k < 4; k++) {
        sm_ctx c = {.rows = 4, .p = 4, .temp = k % 2 ? 0.5f : 2.0f, .seed = k < 2 ? 0 : 99};
        size_t n = 16;
        c.alpha = gc_alloc(n), c.theta = gc_alloc(n), c.r = gc_alloc(n);
        gc_fill(c.alpha, n, -1, 1, &rng), gc_fill(c.r, n, -1, 1, &rng);
        sm_loss(&c);
        float *da = gc_alloc(n);
        train_softmax_temp_backward(da, c.r, c.theta, c.rows, c.p, c.temp);
        assert_int_equal(gc_check("softmax alpha", sm_loss, &c, c.alpha, da, n, EPS, RTOL, ATOL,
                                  16, NULL), 0);
        // accumulates
        float d0 = da[5];
        train_softmax_temp_backward(da, c.r, c.theta, c.rows, c.p, c.temp);
        assert_float_equal(da[5], 2 * d0, 1e-6);
        free(c.alpha), free(c.theta), free(c.r), free(da);
    }
}

static void test_gumbel(void **state) {
    (void)state;
    const float alpha[3] = {logf(0.2f), logf(0.3f), logf(0.5f)};
    float th[3], th2[3], g[3];
    uint64_t a = 5, b = 5;
    train_gumbel_softmax_forward(th, g, alpha, 1, 3, 1.0f, &a);
    train_gumbel_softmax_forward(th2, NULL, alpha, 1, 3, 1.0f, &b);
    assert_memory_equal(th, th2, sizeof th);  // seeded, reproducible
    assert_true(a == b && a != 5);
    // theta is the softmax of the noisy logits
    float z[3], want[3];
    for (int j = 0; j < 3; j++) z[j] = alpha[j] + g[j];
    train_softmax_temp_forward(want, z, 1, 3, 1.0f);
    for (int j = 0; j < 3; j++) assert_float_equal(th[j], want[j], 1e-6);
    // Gumbel-max: the argmax of α + G is drawn with probability softmax(α)
    int hits[3] = {0};
    uint64_t rng = 77;
    const int draws = 40000;
    for (int t = 0; t < draws; t++) {
        float hard[3];
        train_gumbel_softmax_forward(th, g, alpha, 1, 3, 1.0f, &rng);
        train_softmax_hard_forward(hard, th, 1, 3);
        for (int j = 0; j < 3; j++) {
            assert_true(isfinite(g[j]));
            hits[j] += hard[j] == 1.0f;
        }
    }
    assert_float_equal(hits[0] / (double)draws, 0.2, 0.015);
    assert_float_equal(hits[1] / (double)draws, 0.3, 0.015);
    assert_float_equal(hits[2] / (double)draws, 0.5, 0.015);
}

static void test_hard(void **state) {
    (void)state;
    const float soft[6] = {0.2f, 0.5f, 0.3f, 0.4f, 0.4f, 0.2f};
    float hard[6];
    train_softmax_hard_forward(hard, soft, 2, 3);
    const float want[6] = {0, 1, 0, 1, 0, 0};  // a tie goes to the first index
    assert_memory_equal(hard, want, sizeof want);
    // straight-through: the gradient reaching the one-hot goes through the
    // soft softmax's Jacobian, so every logit moves, not only the winner's
    const float alpha[3] = {0.1f, 0.7f, 0.2f}, dhard[3] = {0.0f, -1.0f, 0.0f};
    float th[3], da[3] = {0};
    train_softmax_temp_forward(th, alpha, 1, 3, 1.0f);
    train_softmax_hard_forward(hard, th, 1, 3);
    assert_float_equal(hard[1], 1, 0);
    train_softmax_temp_backward(da, dhard, th, 1, 3, 1.0f);
    assert_float_equal(da[1], -th[1] * (1 - th[1]), 1e-6);
    assert_float_equal(da[0], th[0] * th[1], 1e-6);
    assert_true(da[2] > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_hand),
        cmocka_unit_test(test_softmax_grad),
        cmocka_unit_test(test_gumbel),
        cmocka_unit_test(test_hard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
