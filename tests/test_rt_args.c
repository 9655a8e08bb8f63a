/* dnas_rt argument checks: each kernel refuses dims and params outside its
 * contract (one field changed at a time from a valid case) with
 * DNAS_RT_ERR_ARG, an unknown packing with DNAS_RT_ERR_UNSUPPORTED, and
 * writes nothing when it refuses; the setup checks find a weight outside
 * its bits' range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnas_rt.h"

static uint8_t in_buf[4096], out_buf[4096];
static int8_t w_buf[4096];
static int32_t m_buf[64], b_buf[64];

/* A valid 2-group conv: [5][6][4] -> [3][3][6], 3x2 kernel, stride 2, dilation (1, 2). */
static dnas_rt_conv_dims conv_ok(void) {
    dnas_rt_conv_dims d = {.hin = 5, .win = 6, .cin = 4, .hout = 3, .wout = 3, .cout = 6,
                           .kh = 3, .kw = 2, .sh = 2, .sw = 2, .dh = 1, .dw = 2,
                           .pt = 1, .pb = 1, .pl = 1, .pr = 0, .groups = 2,
                           .in_signed = 0, .out_signed = 1};
    return d;
}

static dnas_rt_status conv_run(const dnas_rt_conv_dims *d, const dnas_rt_weights *w,
                               const dnas_rt_requant_params *rq) {
    memset(out_buf, 0xAB, sizeof out_buf);
    dnas_rt_status a = dnas_rt_conv2d(out_buf, in_buf, w, b_buf, rq, d);
    for (size_t i = 0; i < sizeof out_buf; i++)
        if (a != DNAS_RT_OK && out_buf[i] != 0xAB)
            fail_msg("conv2d wrote byte %zu while refusing", i);
    dnas_rt_status b = dnas_rt_conv2d_ref(out_buf, in_buf, w, b_buf, rq, d);
    dnas_rt_status c = dnas_rt_conv2d_check(w, b_buf, rq, d);
    assert_int_equal(a, b);
    assert_int_equal(a, c);
    return a;
}

static void test_conv_args(void **state) {
    (void)state;
    dnas_rt_weights w = {w_buf, 4, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m_buf, 10, -128, 127};
    dnas_rt_conv_dims d = conv_ok();
    assert_int_equal(dnas_rt_conv_out_size(5, 3, 2, 1, 1, 1), 3);
    assert_int_equal(dnas_rt_conv_out_size(6, 2, 2, 2, 1, 0), 3);
    assert_int_equal(dnas_rt_conv_out_size(3, 3, 1, 2, 0, 0), 0); // dilated span 5 > 3
    assert_int_equal(dnas_rt_conv_out_size(3, 3, 0, 1, 0, 0), 0); // stride 0
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_OK);

    int32_t *fields[] = {&d.hin, &d.win, &d.cin, &d.hout, &d.wout, &d.cout, &d.kh, &d.kw,
                         &d.sh, &d.sw, &d.dh, &d.dw, &d.groups};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int32_t keep = *fields[i];
        *fields[i] = 0;
        assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
        *fields[i] = -1;
        assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
        *fields[i] = keep;
    }
    int32_t *pads[] = {&d.pt, &d.pb, &d.pl, &d.pr};
    for (size_t i = 0; i < 4; i++) {
        int32_t keep = *pads[i];
        *pads[i] = -1;
        assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
        *pads[i] = keep + 2; // changes an out size
        assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
        *pads[i] = keep;
    }
    // inconsistent: an output size off by one, groups not dividing cin or cout
    const struct {
        int32_t *field, value;
    } incons[] = {{&d.hout, 2}, {&d.hout, 4}, {&d.wout, 2}, {&d.wout, 4}, {&d.cin, 5},
                  {&d.cout, 7}, {&d.groups, 3}, {&d.kh, 6}, {&d.dw, 4}, {&d.sh, 3}};
    for (size_t i = 0; i < sizeof incons / sizeof incons[0]; i++) {
        int32_t keep = *incons[i].field;
        *incons[i].field = incons[i].value;
        assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
        *incons[i].field = keep;
    }
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_OK);
    d.hin = DNAS_RT_DIM_MAX + 1;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    d = conv_ok();
    d.in_signed = 2;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    d = conv_ok();
    d.out_signed = -1;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    d = conv_ok();

    // requant params: s in 0..62, lo <= hi inside the output type
    const int32_t bad_range[][2] = {{-129, 127}, {-128, 128}, {5, 4}, {0, 255}};
    for (size_t i = 0; i < 4; i++) {
        dnas_rt_requant_params r = {m_buf, 10, bad_range[i][0], bad_range[i][1]};
        assert_int_equal(conv_run(&d, &w, &r), DNAS_RT_ERR_ARG);
    }
    d.out_signed = 0;
    rq.lo = 0;
    rq.hi = 255;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_OK);
    rq.lo = -1;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    rq.lo = 0;
    rq.s = 63;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    rq.s = -1;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    rq.s = 62;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_OK);
    rq.m = NULL;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    rq.m = m_buf;

    // weights: bits 2..8, known packing, non-NULL
    w.bits = 1;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    w.bits = 9;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    w.bits = 4;
    w.packing = (dnas_rt_packing)7;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_UNSUPPORTED);
    w.packing = DNAS_RT_PACK_INT8;
    w.data = NULL;
    assert_int_equal(conv_run(&d, &w, &rq), DNAS_RT_ERR_ARG);
    w.data = w_buf;
    assert_int_equal(dnas_rt_conv2d(out_buf, NULL, &w, NULL, &rq, &d), DNAS_RT_ERR_ARG);
    assert_int_equal(dnas_rt_conv2d(NULL, in_buf, &w, NULL, &rq, &d), DNAS_RT_ERR_ARG);
    assert_int_equal(dnas_rt_conv2d(out_buf, in_buf, NULL, NULL, &rq, &d), DNAS_RT_ERR_ARG);
    assert_int_equal(dnas_rt_conv2d(out_buf, in_buf, &w, NULL, NULL, &d), DNAS_RT_ERR_ARG);
    assert_int_equal(dnas_rt_conv2d(out_buf, in_buf, &w, NULL, &rq, NULL), DNAS_RT_ERR_ARG);
}

/* A weight outside ±(2^(bits-1) - 1) is found by the setup checks (the
 * kernels take the weights' range as promised and do not read them twice). */
static void test_weight_range(void **state) {
    (void)state;
    int8_t w[8] = {7, -7, 0, 1, 2, 3, -3, 7};
    dnas_rt_weights wt = {w, 4, DNAS_RT_PACK_INT8};
    assert_int_equal(dnas_rt_weights_check(&wt, 8), DNAS_RT_OK);
    w[5] = 8;
    assert_int_equal(dnas_rt_weights_check(&wt, 8), DNAS_RT_ERR_ARG);
    w[5] = -8;
    assert_int_equal(dnas_rt_weights_check(&wt, 8), DNAS_RT_ERR_ARG);
    wt.bits = 8;
    w[5] = -128; // symmetric: -128 is outside 8-bit weights too
    assert_int_equal(dnas_rt_weights_check(&wt, 8), DNAS_RT_ERR_ARG);
    w[5] = -127;
    assert_int_equal(dnas_rt_weights_check(&wt, 8), DNAS_RT_OK);
    wt.bits = 2;
    int8_t t[4] = {1, -1, 0, 1};
    wt.data = t;
    assert_int_equal(dnas_rt_weights_check(&wt, 4), DNAS_RT_OK);
    t[2] = 2;
    assert_int_equal(dnas_rt_weights_check(&wt, 4), DNAS_RT_ERR_ARG);

    // through the setup checks: linear [2][4], 2-bit
    dnas_rt_linear_dims ld = {4, 2, 0, 0};
    dnas_rt_requant_params rq = {m_buf, 0, 0, 255};
    int8_t lw[8] = {1, 0, -1, 1, 0, 0, 1, -1};
    dnas_rt_weights lwt = {lw, 2, DNAS_RT_PACK_INT8};
    assert_int_equal(dnas_rt_linear_check(&lwt, NULL, &rq, &ld), DNAS_RT_OK);
    lw[7] = -2;
    assert_int_equal(dnas_rt_linear_check(&lwt, NULL, &rq, &ld), DNAS_RT_ERR_ARG);
    // conv2d_check reads all Cout·kh·kw·Cin/groups weights
    dnas_rt_conv_dims d = conv_ok();
    memset(w_buf, 0, sizeof w_buf);
    dnas_rt_weights cw = {w_buf, 2, DNAS_RT_PACK_INT8};
    assert_int_equal(dnas_rt_conv2d_check(&cw, NULL, &rq, &d), DNAS_RT_ERR_ARG); // out_signed 1
    d.out_signed = 0;
    assert_int_equal(dnas_rt_conv2d_check(&cw, NULL, &rq, &d), DNAS_RT_OK);
    w_buf[6 * 3 * 2 * 2 - 1] = 2; // the last weight
    assert_int_equal(dnas_rt_conv2d_check(&cw, NULL, &rq, &d), DNAS_RT_ERR_ARG);
    w_buf[6 * 3 * 2 * 2] = 2; // one past the tensor: not read
    w_buf[6 * 3 * 2 * 2 - 1] = 1;
    assert_int_equal(dnas_rt_conv2d_check(&cw, NULL, &rq, &d), DNAS_RT_OK);
    w_buf[6 * 3 * 2 * 2] = 0;
}

static void test_linear_add_args(void **state) {
    (void)state;
    dnas_rt_weights w = {w_buf, 8, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m_buf, 3, 0, 15};
    dnas_rt_linear_dims ld = {10, 3, 1, 0};
    assert_int_equal(dnas_rt_linear(out_buf, in_buf, &w, NULL, &rq, &ld), DNAS_RT_OK);
    memset(out_buf, 0xAB, 8);
    ld.cin = 0;
    assert_int_equal(dnas_rt_linear(out_buf, in_buf, &w, NULL, &rq, &ld), DNAS_RT_ERR_ARG);
    ld.cin = 10;
    ld.out_signed = 1;
    rq.lo = -128;
    rq.hi = 128;
    assert_int_equal(dnas_rt_linear(out_buf, in_buf, &w, NULL, &rq, &ld), DNAS_RT_ERR_ARG);
    assert_int_equal(out_buf[0], 0xAB);

    dnas_rt_add_params p = {3, -5, 4, -128, 127};
    dnas_rt_add_dims ad = {2, 3, 4, 0, 1, 1};
    assert_int_equal(dnas_rt_add(out_buf, in_buf, in_buf, &p, &ad), DNAS_RT_OK);
    memset(out_buf, 0xAB, 32);
    const dnas_rt_add_dims bad[] = {{0, 3, 4, 0, 1, 1}, {2, 3, 4, 2, 1, 1},
                                    {2, 3, 4, 0, -1, 1}, {2, 3, 4, 0, 1, 0}};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(dnas_rt_add(out_buf, in_buf, in_buf, &p, &bad[i]), DNAS_RT_ERR_ARG);
    p.s = 63;
    assert_int_equal(dnas_rt_add(out_buf, in_buf, in_buf, &p, &ad), DNAS_RT_ERR_ARG);
    p.s = 4;
    assert_int_equal(dnas_rt_add(out_buf, NULL, in_buf, &p, &ad), DNAS_RT_ERR_ARG);
    assert_int_equal(out_buf[0], 0xAB);
}

static void test_pool_args(void **state) {
    (void)state;
    // [5][7][3] -> [3][3][3]: window 3x3, stride 2, padding (1, 0, 0, 1)
    const dnas_rt_pool_dims ok = {.hin = 5, .win = 7, .c = 3, .hout = 2, .wout = 3, .kh = 3,
                                  .kw = 3, .sh = 2, .sw = 2, .pt = 1, .pb = 0, .pl = 0, .pr = 1};
    dnas_rt_tensor_requant rq = {116508, 20, 0, 255};
    dnas_rt_pool_dims d = ok;
    assert_int_equal(dnas_rt_maxpool(out_buf, in_buf, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_avgpool(out_buf, in_buf, &rq, &d), DNAS_RT_OK);
    memset(out_buf, 0xAB, 64);
    d.pt = 3; // a window of padding only: refused
    d.hout = dnas_rt_conv_out_size(5, 3, 2, 1, 3, 0);
    assert_int_equal(dnas_rt_maxpool(out_buf, in_buf, &d), DNAS_RT_ERR_ARG);
    assert_int_equal(dnas_rt_avgpool(out_buf, in_buf, &rq, &d), DNAS_RT_ERR_ARG);
    d = ok;
    d.pr = 3;
    d.wout = dnas_rt_conv_out_size(7, 3, 2, 1, 0, 3);
    assert_int_equal(dnas_rt_maxpool(out_buf, in_buf, &d), DNAS_RT_ERR_ARG);
    d = ok;
    d.wout = 4;
    assert_int_equal(dnas_rt_maxpool(out_buf, in_buf, &d), DNAS_RT_ERR_ARG);
    d = ok;
    d.out_signed = 1; // max pool keeps the input's type
    assert_int_equal(dnas_rt_maxpool(out_buf, in_buf, &d), DNAS_RT_ERR_ARG);
    assert_int_equal(dnas_rt_avgpool(out_buf, in_buf, &rq, &d), DNAS_RT_ERR_ARG); // hi 255
    rq.hi = 127;
    assert_int_equal(dnas_rt_avgpool(out_buf, in_buf, &rq, &d), DNAS_RT_OK);
    memset(out_buf, 0xAB, 64);
    assert_int_equal(dnas_rt_avgpool(out_buf, in_buf, NULL, &d), DNAS_RT_ERR_ARG);
    dnas_rt_gavgpool_dims g = {4, 4, 3, 0, 2};
    assert_int_equal(dnas_rt_global_avgpool(out_buf, in_buf, &rq, &g), DNAS_RT_ERR_ARG);
    for (int i = 0; i < 64; i++)
        assert_int_equal(out_buf[i], 0xAB);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_args),
        cmocka_unit_test(test_weight_range),
        cmocka_unit_test(test_linear_add_args),
        cmocka_unit_test(test_pool_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
