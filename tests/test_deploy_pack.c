/* Sub-byte weight packing (dnas_rt.h: DNAS_RT_PACK_INT4, two weights a
 * byte; DNAS_RT_PACK_INT2, four a byte; the lowest bits first):
 * - dnas_rt_pack / dnas_rt_weight_at round-trip every value of every
 *   width at every position; the range check reads packed values; a
 *   packing narrower than the bits is refused;
 * - on random convs (grouped, depthwise, strided, dilated, padded) and
 *   linears at 2, 3 and 4 bits, dnas_rt_conv2d, dnas_rt_conv2d_ref,
 *   dnas_rt_linear and the Cortex-M kernels (dnas_cm_*, which run packed
 *   weights through dnas_rt's path) on packed weights write exactly the
 *   bytes of dnas_rt's reference on the same weights one per byte;
 * - end to end: dscnn_fmnist with 4-bit weights and tcn_fmnist with 2-bit
 *   weights (seeded random weights, quantized on real Fashion-MNIST images)
 *   compile to packed weights.c (the constants shrink by the packing), and
 *   the generated code equals the evaluator on 16 real images on the host
 *   (with ASan and UBSan) and under QEMU (cortex-m; skipped without
 *   arm-none-eabi-gcc or qemu-system-arm). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NCHECK 16
#include "deploy_check_util.h"
#include "dnas_cm.h"

static uint64_t rng = 0x1234567;
static int32_t rnd(int32_t lo, int32_t hi) { /* lo..hi inclusive */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (int32_t)(lo + (int64_t)(rng % (uint64_t)((int64_t)hi - lo + 1)));
}

static dnas_rt_packing packing_of(int bits) {
    return bits <= 2 ? DNAS_RT_PACK_INT2 : DNAS_RT_PACK_INT4;
}

static void pack_round_trip(void **state) {
    (void)state;
    for (int p = 1; p <= 2; p++) {
        dnas_rt_packing pk = (dnas_rt_packing)p;
        int lo = pk == DNAS_RT_PACK_INT4 ? -8 : -2, hi = -lo - 1;
        for (size_t n = 1; n <= 37; n++) {
            int8_t v[37];
            uint8_t b[37];
            for (size_t i = 0; i < n; i++)
                v[i] = (int8_t)(lo + (int)((i * 7 + n) % (size_t)(hi - lo + 1)));
            size_t nb = dnas_rt_packed_bytes(pk, n);
            assert_int_equal(nb, pk == DNAS_RT_PACK_INT4 ? (n + 1) / 2 : (n + 3) / 4);
            memset(b, 0xAA, sizeof b);
            dnas_rt_pack(b, v, n, pk);
            assert_int_equal(b[nb], 0xAA); /* nothing written past the packed bytes */
            dnas_rt_weights w = {b, pk == DNAS_RT_PACK_INT4 ? 4 : 2, pk};
            for (size_t i = 0; i < n; i++)
                assert_int_equal(dnas_rt_weight_at(&w, i), v[i]);
            /* the unused bits of the last byte are 0 */
            size_t used = n * (pk == DNAS_RT_PACK_INT4 ? 4 : 2) % 8;
            if (used) assert_int_equal(b[nb - 1] >> used, 0);
        }
    }
    /* the layout, by hand: 1, -1, 7, -8 at 4 bits; 1, -1, -2, 0, 1 at 2 bits */
    int8_t v4[4] = {1, -1, 7, -8}, v2[5] = {1, -1, -2, 0, 1};
    uint8_t b[2];
    dnas_rt_pack(b, v4, 4, DNAS_RT_PACK_INT4);
    assert_int_equal(b[0], 0xF1);
    assert_int_equal(b[1], 0x87);
    dnas_rt_pack(b, v2, 5, DNAS_RT_PACK_INT2);
    assert_int_equal(b[0], 0x2D); /* 01, 11, 10, 00 from the lowest bits */
    assert_int_equal(b[1], 0x01);
    /* the range check reads packed values: -8 is outside ±7 */
    dnas_rt_pack(b, v4, 4, DNAS_RT_PACK_INT4);
    dnas_rt_weights w = {b, 4, DNAS_RT_PACK_INT4};
    assert_int_equal(dnas_rt_weights_check(&w, 3), DNAS_RT_OK);
    assert_int_equal(dnas_rt_weights_check(&w, 4), DNAS_RT_ERR_ARG);
    w.bits = 5; /* more bits than the packing holds */
    assert_int_equal(dnas_rt_weights_check(&w, 1), DNAS_RT_ERR_ARG);
    w.bits = 3, w.packing = DNAS_RT_PACK_INT2;
    assert_int_equal(dnas_rt_weights_check(&w, 1), DNAS_RT_ERR_ARG);
}

/* One random conv (or linear) at bits: packed through every kernel equals
 * the int8 reference. */
static void one_case(int linear, int bits) {
    int32_t cin, cout, groups = 1;
    dnas_rt_conv_dims d;
    memset(&d, 0, sizeof d);
    if (linear) {
        cin = rnd(1, 80), cout = rnd(1, 12);
    } else {
        groups = rnd(0, 2) == 0 ? 1 : rnd(1, 3);
        int dw = rnd(0, 3) == 0;
        cin = dw ? rnd(1, 9) : groups * rnd(1, 6);
        if (dw) groups = cin;
        cout = groups * rnd(1, 3);
        d = (dnas_rt_conv_dims){rnd(1, 9), rnd(1, 9), cin, 0, 0, cout, rnd(1, 3), rnd(1, 3),
                                rnd(1, 2), rnd(1, 2), rnd(1, 2), rnd(1, 2), rnd(0, 1), rnd(0, 1),
                                rnd(0, 1), rnd(0, 1), groups, rnd(0, 1), rnd(0, 1)};
        d.hout = dnas_rt_conv_out_size(d.hin, d.kh, d.sh, d.dh, d.pt, d.pb);
        d.wout = dnas_rt_conv_out_size(d.win, d.kw, d.sw, d.dw, d.pl, d.pr);
        if (d.hout < 1 || d.wout < 1) return;
    }
    int in_signed = linear ? rnd(0, 1) : d.in_signed, out_signed = linear ? rnd(0, 1) : d.out_signed;
    size_t nin = linear ? (size_t)cin : (size_t)d.hin * d.win * cin;
    size_t nout = linear ? (size_t)cout : (size_t)d.hout * d.wout * cout;
    size_t nw = linear ? (size_t)cin * cout : (size_t)cout * d.kh * d.kw * (cin / groups);
    int32_t wmax = (1 << (bits - 1)) - 1;
    uint8_t *in = malloc(nin), *a = malloc(nout), *b = malloc(nout), *c = malloc(nout),
            *e = malloc(nout), *pk = malloc(nw);
    int8_t *w8 = malloc(nw);
    int32_t *bias = malloc((size_t)cout * sizeof *bias), *m = malloc((size_t)cout * sizeof *m);
    for (size_t i = 0; i < nin; i++)
        in[i] = (uint8_t)rnd(0, 255);
    for (size_t i = 0; i < nw; i++)
        w8[i] = (int8_t)rnd(-wmax, wmax);
    for (int32_t i = 0; i < cout; i++)
        bias[i] = rnd(-5000, 5000), m[i] = rnd(-(1 << 30), 1 << 30);
    dnas_rt_requant_params rq = {m, rnd(20, 40), out_signed ? -128 : 0, out_signed ? 127 : 255};
    dnas_rt_weights ref = {w8, bits, DNAS_RT_PACK_INT8}, pw = {pk, bits, packing_of(bits)};
    dnas_rt_pack(pk, w8, nw, pw.packing);
    uint32_t scratch[4096];
    if (linear) {
        dnas_rt_linear_dims ld = {cin, cout, in_signed, out_signed};
        assert_int_equal(dnas_rt_linear(a, in, &ref, bias, &rq, &ld), DNAS_RT_OK);
        assert_int_equal(dnas_rt_linear(b, in, &pw, bias, &rq, &ld), DNAS_RT_OK);
        assert_int_equal(dnas_cm_linear(c, in, &pw, bias, &rq, &ld, scratch, sizeof scratch),
                         DNAS_RT_OK);
        memcpy(e, b, nout);
        assert_int_equal(dnas_rt_linear_check(&pw, bias, &rq, &ld), DNAS_RT_OK);
    } else {
        d.in_signed = in_signed, d.out_signed = out_signed;
        assert_int_equal(dnas_rt_conv2d_ref(a, in, &ref, bias, &rq, &d), DNAS_RT_OK);
        assert_int_equal(dnas_rt_conv2d(b, in, &pw, bias, &rq, &d), DNAS_RT_OK);
        assert_int_equal(dnas_cm_conv2d(c, in, &pw, bias, &rq, &d, scratch, sizeof scratch),
                         DNAS_RT_OK);
        assert_int_equal(dnas_rt_conv2d_ref(e, in, &pw, bias, &rq, &d), DNAS_RT_OK);
        assert_int_equal(dnas_rt_conv2d_check(&pw, bias, &rq, &d), DNAS_RT_OK);
    }
    assert_memory_equal(a, b, nout);
    assert_memory_equal(a, c, nout);
    assert_memory_equal(a, e, nout);
    free(in), free(a), free(b), free(c), free(e), free(pk), free(w8), free(bias), free(m);
}

static void kernels_on_packed_weights(void **state) {
    (void)state;
    for (int i = 0; i < 1500; i++)
        one_case(i % 3 == 0, 2 + i % 3);
}

/* name quantized at wbits bits on real images, compiled by backend: the
 * weights are packed, the constants shrink, make check equals. */
static void packed_network(const char *name, int wbits, const char *backend, const char *cflags) {
    char path[4200];
    dtu_model_path(path, sizeof path, name);
    train_net *net = dtu_net(path, 21);
    train_dataset calib = real_data(net, 0, NCALIB), check = real_data(net, CHECK_FROM, NCHECK);
    deployed d;
    search_quant_params p = search_quant_default_params();
    p.calib_batches = 2, p.batch = 32, p.wbits = wbits;
    dnas_error err;
    if (search_quant_export(&d.q, net, &calib, &p, &err)) fail_msg("%s", err.msg);
    d.in = input_bytes(&d.q, check.x, NCHECK);
    snprintf(d.dir, sizeof d.dir, "/tmp/dnas_pack_XXXXXX");
    assert_non_null(mkdtemp(d.dir));
    const deploy_backend *be = deploy_backend_find(backend);
    deploy_compile_params cp = deploy_backend_params(be);
    deploy_ir ir, ir8;
    deploy_emit_info info = {"test_deploy_pack", name, NULL, "test"};
    if (deploy_compile(&ir, &d.q, name, &cp, &err) || be->emit(&ir, &info, d.dir, &err) ||
        deploy_emit_vectors(&d.q, d.in, NCHECK, d.dir, &err))
        fail_msg("%s: %s", name, err.msg);
    cp.wpack = DNAS_RT_PACK_INT8;
    if (deploy_compile(&ir8, &d.q, name, &cp, &err)) fail_msg("%s", err.msg);
    size_t w8 = 0, wp = 0;
    for (int k = 0; k < ir.nops; k++) {
        if (!ir.ops[k].q->wlen) continue;
        assert_int_equal(ir.ops[k].wpack, wbits <= 2 ? DNAS_RT_PACK_INT2 : DNAS_RT_PACK_INT4);
        w8 += ir.ops[k].q->wlen;
        wp += dnas_rt_packed_bytes(ir.ops[k].wpack, ir.ops[k].q->wlen);
    }
    assert_int_equal(ir8.weight_bytes - ir.weight_bytes, w8 - wp);
    assert_true(wp <= (wbits <= 2 ? w8 / 4 + (size_t)ir.nops : w8 / 2 + (size_t)ir.nops));
    char wc[200];
    snprintf(wc, sizeof wc, "%s/network.c", d.dir);
    char *text = read_all(wc);
    assert_non_null(strstr(text, wbits <= 2 ? "DNAS_RT_PACK_INT2}" : "DNAS_RT_PACK_INT4}"));
    free(text);
    int rc = make_check(d.dir, cflags);
    snprintf(wc, sizeof wc, "%s/check.log", d.dir);
    text = read_all(wc);
    if (rc != 0) fail_msg("%s: make check exited %d:\n%s", name, rc, text);
    char want[64];
    snprintf(want, sizeof want, "%d samples: equal (0 values differ)", NCHECK);
    assert_non_null(strstr(text, want));
    printf("%s at %d bits on %s: constants %zu B packed, %zu B one weight a byte; %s\n", name,
           wbits, backend, ir.weight_bytes, ir8.weight_bytes, want);
    free(text);
    deploy_ir_free(&ir);
    deploy_ir_free(&ir8);
    train_dataset_free(&calib);
    train_dataset_free(&check);
    train_net_free(net);
    cleanup(&d);
}

#define CFLAGS                                                                                     \
    "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -fsanitize=address,undefined "                   \
    "-fno-sanitize-recover=undefined"

static void host_int4_int2(void **state) {
    (void)state;
    packed_network("dscnn_fmnist", 4, "c", CFLAGS);
    packed_network("tcn_fmnist", 2, "c", CFLAGS);
}

static void qemu_int4_int2(void **state) {
    (void)state;
    if (system("command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > "
               "/dev/null") != 0) {
        printf("arm-none-eabi-gcc or qemu-system-arm is not installed: skipped\n");
        skip();
    }
    packed_network("dscnn_fmnist", 4, "cortex-m", NULL);
    packed_network("tcn_fmnist", 2, "cortex-m", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_round_trip),
        cmocka_unit_test(kernels_on_packed_weights),
        cmocka_unit_test(host_int4_int2),
        cmocka_unit_test(qemu_int4_int2),
    };
    return cmocka_run_group_tests(tests, dck_setup, dck_teardown);
}
