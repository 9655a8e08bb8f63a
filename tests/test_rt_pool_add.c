/* dnas_rt add, max pool, average pool and global average pool, bit-exact
 * against direct int64 computations written here over seeded random shapes
 * (strides, asymmetric padding narrower than the window, int8 and uint8,
 * narrow output ranges), plus hand cases: padding never wins a max, an
 * average counts padding as zeros (divisor kh·kw), the mean of a constant
 * is the constant, and an in-place add. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnas_rt.h"
#include "rt_test_util.h"

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static void test_add_random(void **state) {
    (void)state;
    long bad = 0;
    for (int t = 0; t < 300; t++) {
        rtt_seed(40 + (uint64_t)t);
        int h = (int)rtt_range(1, 6), w = (int)rtt_range(1, 6), c = (int)rtt_range(1, 9);
        int as = (int)(rtt_next() & 1), bs = (int)(rtt_next() & 1), os = (int)(rtt_next() & 1);
        size_t n = (size_t)(h * w * c);
        uint8_t *a = malloc(n), *b = malloc(n), *y = malloc(n);
        int32_t *want = malloc(sizeof(int32_t) * n);
        rtt_fill(a, n, as);
        rtt_fill(b, n, bs);
        int32_t ma = rtt_mult(), mb = rtt_mult();
        if (t % 7 == 0)
            ma = INT32_MIN, mb = INT32_MAX; // the widest products
        int64_t absmax = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t v = rtt_get(a, i, as) * (int64_t)ma + rtt_get(b, i, bs) * (int64_t)mb;
            absmax = abs64(v) > absmax ? abs64(v) : absmax;
        }
        int32_t lo, hi;
        rtt_pick_range(os, &lo, &hi);
        int s = t % 11 == 0 ? 0 : rtt_pick_shift(absmax, hi - lo + 1);
        for (size_t i = 0; i < n; i++)
            want[i] = rtt_clamp(
                rtt_round_shift(rtt_get(a, i, as) * (int64_t)ma + rtt_get(b, i, bs) * (int64_t)mb,
                                s),
                lo, hi);
        dnas_rt_add_params p = {ma, mb, s, lo, hi};
        dnas_rt_add_dims d = {h, w, c, as, bs, os};
        memset(y, 0xAB, n);
        assert_int_equal(dnas_rt_add(y, a, b, &p, &d), DNAS_RT_OK);
        bad += rtt_compare("add", y, want, n, os, lo, hi);
        if (as == os) { // in place: out == a
            assert_int_equal(dnas_rt_add(a, a, b, &p, &d), DNAS_RT_OK);
            bad += rtt_compare("add in place", a, want, n, os, lo, hi);
        }
        free(a), free(b), free(y), free(want);
    }
    assert_int_equal(bad, 0);
}

typedef struct {
    int hin, win, c, kh, kw, sh, sw, pt, pb, pl, pr, hout, wout, in_signed;
} pool_case;

static pool_case random_pool(void) {
    pool_case p;
    for (;;) {
        p.kh = (int)rtt_range(1, 4), p.kw = (int)rtt_range(1, 4);
        p.sh = (int)rtt_range(1, 3), p.sw = (int)rtt_range(1, 3);
        p.pt = (int)rtt_range(0, p.kh - 1), p.pb = (int)rtt_range(0, p.kh - 1);
        p.pl = (int)rtt_range(0, p.kw - 1), p.pr = (int)rtt_range(0, p.kw - 1);
        p.hin = rtt_next() % 4 == 0 ? 1 : (int)rtt_range(1, 10);
        p.win = (int)rtt_range(1, 10);
        p.c = (int)rtt_range(1, 5);
        p.in_signed = (int)(rtt_next() & 1);
        int sh = p.hin + p.pt + p.pb - p.kh, sw = p.win + p.pl + p.pr - p.kw;
        if (sh < 0 || sw < 0)
            continue;
        p.hout = sh / p.sh + 1;
        p.wout = sw / p.sw + 1;
        return p;
    }
}

static dnas_rt_pool_dims pool_dims(const pool_case *p, int out_signed) {
    dnas_rt_pool_dims d = {p->hin, p->win, p->c, p->hout, p->wout, p->kh, p->kw, p->sh,
                           p->sw, p->pt, p->pb, p->pl, p->pr, p->in_signed, out_signed};
    return d;
}

/* The window's real pixels: their max (into *max) and their sum. */
static int64_t window(const uint8_t *x, const pool_case *p, int oy, int ox, int ch, int32_t *max) {
    int64_t sum = 0;
    *max = INT32_MIN;
    for (int iy = oy * p->sh - p->pt; iy < oy * p->sh - p->pt + p->kh; iy++)
        for (int ix = ox * p->sw - p->pl; ix < ox * p->sw - p->pl + p->kw; ix++) {
            if (iy < 0 || ix < 0 || iy >= p->hin || ix >= p->win)
                continue;
            int32_t v = rtt_get(x, (size_t)((iy * p->win + ix) * p->c + ch), p->in_signed);
            sum += v;
            *max = v > *max ? v : *max;
        }
    return sum;
}

static void test_pools_random(void **state) {
    (void)state;
    long bad = 0;
    for (int t = 0; t < 300; t++) {
        rtt_seed(600 + (uint64_t)t);
        pool_case p = random_pool();
        size_t nx = (size_t)(p.hin * p.win * p.c), ny = (size_t)(p.hout * p.wout * p.c);
        uint8_t *x = malloc(nx), *y = malloc(ny);
        int32_t *wmax = malloc(sizeof(int32_t) * ny), *wavg = malloc(sizeof(int32_t) * ny);
        rtt_fill(x, nx, p.in_signed);
        int os = (int)(rtt_next() & 1);
        int32_t lo, hi;
        rtt_pick_range(os, &lo, &hi);
        // m, s for the mean times a random scale ratio in [1/4, 4)
        int s = (int)rtt_range(12, 40);
        double ratio = 0.25 + (double)(rtt_next() % 1000) / 1000.0 * 3.75;
        int32_t m = (int32_t)((double)((int64_t)1 << s) * ratio / (p.kh * p.kw) + 0.5);
        if (m == 0)
            m = 1;
        for (int oy = 0, i = 0; oy < p.hout; oy++)
            for (int ox = 0; ox < p.wout; ox++)
                for (int ch = 0; ch < p.c; ch++, i++) {
                    int64_t sum = window(x, &p, oy, ox, ch, &wmax[i]);
                    wavg[i] = rtt_requant(sum, m, s, lo, hi);
                }
        dnas_rt_pool_dims d = pool_dims(&p, p.in_signed);
        memset(y, 0xAB, ny);
        assert_int_equal(dnas_rt_maxpool(y, x, &d), DNAS_RT_OK);
        bad += rtt_compare("maxpool", y, wmax, ny, p.in_signed, p.in_signed ? -128 : 0,
                           p.in_signed ? 127 : 255);
        d.out_signed = os;
        dnas_rt_tensor_requant rq = {m, s, lo, hi};
        memset(y, 0xAB, ny);
        assert_int_equal(dnas_rt_avgpool(y, x, &rq, &d), DNAS_RT_OK);
        bad += rtt_compare("avgpool", y, wavg, ny, os, lo, hi);

        // global average pool over the same input
        int64_t gs = (int64_t)1 << s;
        int32_t gm = (int32_t)((double)gs * ratio / (p.hin * p.win) + 0.5);
        for (int ch = 0; ch < p.c; ch++) {
            int64_t sum = 0;
            for (int i = 0; i < p.hin * p.win; i++)
                sum += rtt_get(x, (size_t)(i * p.c + ch), p.in_signed);
            wavg[ch] = rtt_requant(sum, gm, s, lo, hi);
        }
        dnas_rt_gavgpool_dims gd = {p.hin, p.win, p.c, p.in_signed, os};
        dnas_rt_tensor_requant grq = {gm, s, lo, hi};
        memset(y, 0xAB, ny);
        assert_int_equal(dnas_rt_global_avgpool(y, x, &grq, &gd), DNAS_RT_OK);
        bad += rtt_compare("global_avgpool", y, wavg, (size_t)p.c, os, lo, hi);
        free(x), free(y), free(wmax), free(wavg);
    }
    assert_int_equal(bad, 0);
}

static void test_pools_hand(void **state) {
    (void)state;
    // 3x3 int8 input of negatives, 2x2 windows, stride 1, padding 1 all round: the
    // padding (0) would win every max if it took part
    int8_t x[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
    int8_t y[16];
    dnas_rt_pool_dims d = {3, 3, 1, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(dnas_rt_maxpool(y, x, &d), DNAS_RT_OK);
    const int8_t want[16] = {-9, -8, -7, -7, -6, -5, -4, -4, -3, -2, -1, -1, -3, -2, -1, -1};
    assert_memory_equal(y, want, 16);

    // mean of a constant 100 over 3x3 windows without padding: 900·116508 / 2^20 = 99.99995
    // -> 100; m = round(2^20 / 9)
    uint8_t c[5 * 5], a[9];
    memset(c, 100, sizeof c);
    dnas_rt_pool_dims ad = {5, 5, 1, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0};
    dnas_rt_tensor_requant rq = {116508, 20, 0, 255};
    assert_int_equal(dnas_rt_avgpool(a, c, &rq, &ad), DNAS_RT_OK);
    for (int i = 0; i < 9; i++)
        assert_int_equal(a[i], 100);
    // with padding 1: the corner window holds 4 real pixels, divided by 9 all the same:
    // 400·116508 / 2^20 = 44.44 -> 44; an edge window 6 real pixels: 66.67 -> 67
    ad.pt = ad.pb = ad.pl = ad.pr = 1;
    ad.hout = ad.wout = 5;
    uint8_t b[25];
    assert_int_equal(dnas_rt_avgpool(b, c, &rq, &ad), DNAS_RT_OK);
    assert_int_equal(b[0], 44);
    assert_int_equal(b[1], 67);
    assert_int_equal(b[6], 100);
    assert_int_equal(b[24], 44);

    // global average pool of 8x8 uint8 values 0..63 per channel offset: mean 31.5 -> 32
    // (half up), m = 2^20 / 64 exactly
    uint8_t g[64 * 2], gy[2];
    for (int i = 0; i < 64; i++)
        g[2 * i] = (uint8_t)i, g[2 * i + 1] = (uint8_t)(2 * i);
    dnas_rt_gavgpool_dims gd = {8, 8, 2, 0, 0};
    dnas_rt_tensor_requant grq = {1 << 14, 20, 0, 255};
    assert_int_equal(dnas_rt_global_avgpool(gy, g, &grq, &gd), DNAS_RT_OK);
    assert_int_equal(gy[0], 32);
    assert_int_equal(gy[1], 63);
}

static void test_outputs_not_saturated(void **state) {
    (void)state;
    fprintf(stderr, "compared %ld outputs, %ld inside lo..hi\n", rtt_compared, rtt_inside);
    assert_true(rtt_compared > 10000);
    assert_true(rtt_inside * 2 > rtt_compared);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_random),
        cmocka_unit_test(test_pools_random),
        cmocka_unit_test(test_pools_hand),
        cmocka_unit_test(test_outputs_not_saturated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
