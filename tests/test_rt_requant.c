/* dnas_rt requantization and limits: the rounding rule on hand-computed
 * values (positive and negative, half-way, s = 0, saturation, negative m,
 * int64 extremes), the int32 accumulator bound at its edge (the largest
 * accepted case runs and gives ±(2^31 - 1) accumulators exactly, one more
 * is refused), pool-sum bounds, and argument checks that refuse before
 * writing anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnas_rt.h"
#include "rt_test_util.h"

static void test_requant_hand(void **state) {
    (void)state;
    // acc·m / 2^s exact value -> rounded half up (toward +inf)
    assert_int_equal(dnas_rt_requant(5, 1, 1, -128, 127), 3);    //  2.5  ->  3
    assert_int_equal(dnas_rt_requant(-5, 1, 1, -128, 127), -2);  // -2.5  -> -2
    assert_int_equal(dnas_rt_requant(-1, 1, 1, -128, 127), 0);   // -0.5  ->  0
    assert_int_equal(dnas_rt_requant(-3, 1, 1, -128, 127), -1);  // -1.5  -> -1
    assert_int_equal(dnas_rt_requant(-6, 1, 2, -128, 127), -1);  // -1.5  -> -1
    assert_int_equal(dnas_rt_requant(-7, 1, 2, -128, 127), -2);  // -1.75 -> -2
    assert_int_equal(dnas_rt_requant(-5, 1, 2, -128, 127), -1);  // -1.25 -> -1
    assert_int_equal(dnas_rt_requant(-3, 1, 2, -128, 127), -1);  // -0.75 -> -1
    assert_int_equal(dnas_rt_requant(-2, 1, 2, -128, 127), 0);   // -0.5  ->  0
    assert_int_equal(dnas_rt_requant(-20, 3, 3, -128, 127), -7); // -7.5  -> -7
    assert_int_equal(dnas_rt_requant(-7, 3, 3, -128, 127), -3);  // -2.625 -> -3
    // the table of docs/deploy.md (m = 3, s = 3)
    assert_int_equal(dnas_rt_requant(7, 3, 3, -128, 127), 3);    //  2.625 ->  3
    assert_int_equal(dnas_rt_requant(4, 3, 3, -128, 127), 2);    //  1.5   ->  2
    assert_int_equal(dnas_rt_requant(-4, 3, 3, -128, 127), -1);  // -1.5   -> -1
    assert_int_equal(dnas_rt_requant(-20, 1, 3, -128, 127), -2); // -2.5  -> -2
    assert_int_equal(dnas_rt_requant(-21, 1, 3, -128, 127), -3); // -2.625 -> -3
    assert_int_equal(dnas_rt_requant(1000, 3, 4, -1000, 1000), 188); // 187.5 -> 188
    assert_int_equal(dnas_rt_requant(999, 3, 4, -1000, 1000), 187);  // 187.3125
    // s = 0: no rounding term, y = clamp(acc·m)
    assert_int_equal(dnas_rt_requant(7, -3, 0, -128, 127), -21);
    assert_int_equal(dnas_rt_requant(-7, 3, 0, -128, 127), -21);
    assert_int_equal(dnas_rt_requant(100, 2, 0, -128, 127), 127);
    // saturation at lo and hi
    assert_int_equal(dnas_rt_requant(1000, 3, 4, -128, 127), 127);
    assert_int_equal(dnas_rt_requant(-1000, 1, 0, -128, 127), -128);
    assert_int_equal(dnas_rt_requant(-1000, 1, 0, 0, 255), 0);
    assert_int_equal(dnas_rt_requant(40, 1, 1, 0, 15), 15); // 4-bit unsigned
    assert_int_equal(dnas_rt_requant(30, 1, 1, 0, 15), 15);
    assert_int_equal(dnas_rt_requant(29, 1, 1, 0, 15), 15); // 14.5 -> 15
    assert_int_equal(dnas_rt_requant(27, 1, 1, 0, 15), 14); // 13.5 -> 14
    // negative m is allowed: the sign goes into the product, rounding as always
    assert_int_equal(dnas_rt_requant(5, -1, 1, -128, 127), -2);  // -2.5 -> -2
    assert_int_equal(dnas_rt_requant(-5, -1, 1, -128, 127), 3);  //  2.5 ->  3
    // int32 extremes: |acc·m| <= 2^62, the rounding term 2^61 still fits
    assert_int_equal(dnas_rt_requant(INT32_MIN, INT32_MIN, 62, -128, 127), 1);  // 2^62 / 2^62 = 1
    assert_int_equal(dnas_rt_requant(INT32_MAX, INT32_MIN, 62, -128, 127), -1); // -0.5+2^-31
    assert_int_equal(dnas_rt_requant(INT32_MAX, INT32_MAX, 31, INT32_MIN, INT32_MAX),
                     INT32_MAX - 1); // (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31 -> 2^31 - 2
}

static void test_round_shift_extremes(void **state) {
    (void)state;
    assert_true(dnas_rt_round_shift(INT64_MIN, 62) == -2);  // -2 exactly
    assert_true(dnas_rt_round_shift(INT64_MAX, 62) == 2);   // 1.99999 -> 2
    assert_true(dnas_rt_round_shift(INT64_MIN + 1, 1) == INT64_MIN / 2 + 1); // -2^62 + 0.5 -> up
    assert_true(dnas_rt_round_shift(INT64_MAX, 1) == ((int64_t)1 << 62)); // 2^62 - 0.5 -> 2^62
    assert_true(dnas_rt_round_shift(-1, 62) == 0);
    assert_true(dnas_rt_round_shift(-((int64_t)1 << 61), 62) == 0);      // -0.5 -> 0
    assert_true(dnas_rt_round_shift(-((int64_t)1 << 61) - 1, 62) == -1); // just below -0.5
    assert_true(dnas_rt_round_shift(12345, 0) == 12345);
    // s outside 0..62 is the nearest end (kernels refuse it before)
    assert_true(dnas_rt_round_shift(-12345, -3) == -12345);
    assert_true(dnas_rt_round_shift(INT64_MAX, 63) == 2);
    assert_int_equal(dnas_rt_clamp(INT64_MIN, -128, 127), -128);
    assert_int_equal(dnas_rt_clamp(INT64_MAX, 0, 255), 255);
    assert_int_equal(dnas_rt_clamp(-5, -128, 127), -5);
}

/* The runtime's rounding against the test's division-based one over random
 * int32 acc and m, every s. */
static void test_requant_random(void **state) {
    (void)state;
    rtt_seed(11);
    for (int i = 0; i < 200000; i++) {
        int32_t acc = (int32_t)rtt_range(INT32_MIN, INT32_MAX) >> (rtt_next() % 31);
        int32_t m = i % 2 ? rtt_mult() : (int32_t)rtt_range(INT32_MIN, INT32_MAX);
        int s = (int)rtt_range(0, 62);
        int32_t lo = (int32_t)rtt_range(-300, 0), hi = (int32_t)rtt_range(0, 300);
        int32_t want = rtt_requant(acc, m, s, lo, hi);
        if (dnas_rt_requant(acc, m, s, lo, hi) != want)
            fail_msg("requant(%d, %d, %d, %d, %d): got %d, want %d", acc, m, s, lo, hi,
                     dnas_rt_requant(acc, m, s, lo, hi), want);
    }
}

static void test_acc_bound_values(void **state) {
    (void)state;
    // uint8 x (<= 255), 8-bit w (<= 127): 66311·255·127 = 2^31 - 1 - 1912
    assert_true(dnas_rt_acc_bound(66311, 0, 8, 1912) == INT32_MAX);
    assert_true(dnas_rt_acc_bound(66312, 0, 8, 0) > INT32_MAX);
    // int8 x (|x| <= 128), 8-bit w: 132104·128·127 = 2^31 - 1 - 1023
    assert_true(dnas_rt_acc_bound(132104, 1, 8, 1023) == INT32_MAX);
    // 4-bit w (<= 7), uint8 x: 1203072·255·7 = 2^31 - 1 - 127
    assert_true(dnas_rt_acc_bound(1203072, 0, 4, 127) == INT32_MAX);
    assert_true(dnas_rt_acc_bound(1203073, 0, 4, 0) > INT32_MAX);
    // 2-bit w (<= 1), uint8 x: 8421504·255 = 2^31 - 1 - 127
    assert_true(dnas_rt_acc_bound(8421504, 0, 2, 127) == INT32_MAX);
    assert_true(dnas_rt_acc_bound(8421504, 0, 2, 128) > INT32_MAX);
    assert_true(dnas_rt_acc_bound(INT64_MAX, 0, 8, 0) == INT64_MAX); // saturates
    assert_true(dnas_rt_acc_bound(-1, 0, 8, 0) == INT64_MAX);        // invalid
}

/* linear at the edge: K = 66311 uint8 inputs of 255 against weights of
 * ±127 with bias ±1912 gives acc = ±(2^31 - 1) exactly; bias 1913 or one
 * more input is refused, by the kernel and by the setup check. */
static void test_acc_bound_edge_linear(void **state) {
    (void)state;
    enum { K = 66311 };
    uint8_t *x = malloc(K + 1);
    int8_t *w = malloc(2 * K + 1); // [2][K]; Cin = K + 1 is refused before it is read
    memset(x, 255, K + 1);
    for (int i = 0; i < 2 * K + 1; i++)
        w[i] = i < K ? 127 : -127;
    int32_t bias[2] = {1912, -1912}, m[2] = {1, 1};
    dnas_rt_weights wt = {w, 8, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, 25, -128, 127};
    dnas_rt_linear_dims d = {K, 2, 0, 1};
    int8_t y[2] = {0, 0};
    assert_int_equal(dnas_rt_linear_check(&wt, bias, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_linear(y, x, &wt, bias, &rq, &d), DNAS_RT_OK);
    // (2^31 - 1 + 2^24) / 2^25 = 64.4999 -> 64; (-(2^31 - 1) + 2^24) / 2^25 = -63.4999 -> -64
    assert_int_equal(y[0], 64);
    assert_int_equal(y[1], -64);
    assert_int_equal(y[0], rtt_requant(INT32_MAX, 1, 25, -128, 127));
    assert_int_equal(y[1], rtt_requant(-INT32_MAX, 1, 25, -128, 127));

    bias[1] = -1913; // |b| one over
    y[0] = y[1] = 99;
    assert_int_equal(dnas_rt_linear_check(&wt, bias, &rq, &d), DNAS_RT_ERR_BOUND);
    assert_int_equal(dnas_rt_linear(y, x, &wt, bias, &rq, &d), DNAS_RT_ERR_BOUND);
    assert_int_equal(y[0], 99); // nothing written
    bias[1] = -1912;
    d.cin = K + 1; // one more term, no bias
    assert_int_equal(dnas_rt_linear(y, x, &wt, NULL, &rq, &d), DNAS_RT_ERR_BOUND);
    d.cin = K;
    assert_int_equal(dnas_rt_linear(y, x, &wt, NULL, &rq, &d), DNAS_RT_OK);
    free(x);
    free(w);
}

/* conv2d at the edge with int8 input: a 1-D kernel of 8 taps over 16513
 * channels is K = 132104 terms of (-128)·(∓127), bias ±1023: acc = ±(2^31 - 1). */
static void test_acc_bound_edge_conv(void **state) {
    (void)state;
    enum { CIN = 16513, KW = 8, K = KW * CIN };
    int8_t *x = malloc(K), *w = malloc(2 * K);
    memset(x, 0x80, K); // -128
    for (int i = 0; i < 2 * K; i++)
        w[i] = i < K ? -127 : 127;
    int32_t bias[2] = {1023, -1023}, m[2] = {1, -1};
    dnas_rt_weights wt = {w, 8, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, 0, -128, 127};
    dnas_rt_conv_dims d = {.hin = 1, .win = KW, .cin = CIN, .hout = 1, .wout = 1, .cout = 2,
                           .kh = 1, .kw = KW, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1,
                           .in_signed = 1, .out_signed = 1};
    int8_t y[2], yr[2];
    assert_int_equal(dnas_rt_conv2d_check(&wt, bias, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_conv2d(y, x, &wt, bias, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_conv2d_ref(yr, x, &wt, bias, &rq, &d), DNAS_RT_OK);
    // s = 0, m = ±1: clamp(±(2^31 - 1)·m) -> 127 and 127
    assert_int_equal(y[0], 127);
    assert_int_equal(y[1], 127);
    assert_memory_equal(y, yr, 2);
    m[0] = m[1] = 1;
    rq.s = 26; // (2^31 - 1 + 2^25) / 2^26 = 32.4999 -> 32; negative: -31.4999 -> -32
    assert_int_equal(dnas_rt_conv2d(y, x, &wt, bias, &rq, &d), DNAS_RT_OK);
    assert_int_equal(y[0], 32);
    assert_int_equal(y[1], -32);
    bias[0] = 1024;
    assert_int_equal(dnas_rt_conv2d_check(&wt, bias, &rq, &d), DNAS_RT_ERR_BOUND);
    assert_int_equal(dnas_rt_conv2d(y, x, &wt, bias, &rq, &d), DNAS_RT_ERR_BOUND);
    assert_int_equal(dnas_rt_conv2d_ref(y, x, &wt, bias, &rq, &d), DNAS_RT_ERR_BOUND);
    free(x);
    free(w);
}

/* Pool sums: window cells · xmax <= 2^31 - 1. Global average pool over
 * 8421504 uint8 pixels of 255 is 2^31 - 128, accepted; one more pixel is
 * refused, as are 2^24 int8 pixels (2^31); 2^24 - 1 int8 pixels are accepted. */
static void test_pool_sum_bound(void **state) {
    (void)state;
    enum { N = 8421504 };
    uint8_t *x = malloc(N);
    memset(x, 255, N);
    uint8_t y = 0;
    dnas_rt_tensor_requant rq = {1, 24, 0, 255};
    dnas_rt_gavgpool_dims d = {1, N, 1, 0, 0};
    assert_int_equal(dnas_rt_global_avgpool(&y, x, &rq, &d), DNAS_RT_OK);
    assert_int_equal(y, rtt_requant((int64_t)N * 255, 1, 24, 0, 255)); // 127.99 -> 128
    assert_int_equal(y, 128);
    d.w = N + 1;
    assert_int_equal(dnas_rt_global_avgpool(&y, x, &rq, &d), DNAS_RT_ERR_BOUND);
    d.w = 1 << 24;
    d.in_signed = 1;
    assert_int_equal(dnas_rt_global_avgpool(&y, x, &rq, &d), DNAS_RT_ERR_BOUND);
    free(x);
    // int8: |x| <= 128, so 2^24 - 1 pixels of -128 sum to -(2^31 - 128), accepted
    int8_t *xs = malloc((1 << 24) - 1), ys = 0;
    memset(xs, 0x80, (1 << 24) - 1);
    dnas_rt_tensor_requant srq = {1, 24, -128, 127};
    d.w = (1 << 24) - 1;
    d.out_signed = 1;
    assert_int_equal(dnas_rt_global_avgpool(&ys, xs, &srq, &d), DNAS_RT_OK);
    assert_int_equal(ys, -128); // -127.99999 -> -128
    assert_int_equal(ys, rtt_requant(-(((int64_t)1 << 31) - 128), 1, 24, -128, 127));
    free(xs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requant_hand),
        cmocka_unit_test(test_round_shift_extremes),
        cmocka_unit_test(test_requant_random),
        cmocka_unit_test(test_acc_bound_values),
        cmocka_unit_test(test_acc_bound_edge_linear),
        cmocka_unit_test(test_acc_bound_edge_conv),
        cmocka_unit_test(test_pool_sum_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
