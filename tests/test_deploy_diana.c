/* The `diana` backend end to end against the DIANA host model
 * (deploy/runtime/diana/): resnet8_fmnist (seeded random weights, quantized
 * on 64 real Fashion-MNIST test images) is compiled for
 * configs/targets/diana.yaml, the generated C built with cc -std=c99 -Wall
 * -Wextra -Werror -pedantic (ASan and UBSan on) against the model and run
 * on 16 other real images; every output byte must equal the integer
 * evaluator's (deploy_qeval):
 * - all digital: every conv and the linear are digital-engine jobs (blocked
 *   weights), the three residual adds and the pool run on the host core;
 * - ODiMO: the same network with a seeded share of each conv's and the
 *   linear's channels on the analog engine (ternary weights, bit-planes,
 *   inputs clamped to 7 bits; diana_test_util.h): each such layer is one
 *   digital and one analog job writing their channels of one tensor. The
 *   clamp matters (the evaluator's outputs without it differ) and the
 *   evaluator applies it from the qnet (engine_in_bits, read back from
 *   HDF5);
 * - a changed weight byte in weights.c is caught, once in a digital block
 *   and once in an analog bit-plane;
 * - every engine job fits DIANA's L1 whole (activations 128,000 B, digital
 *   weights 65,536 B, analog array 1152 rows x 512 columns): no tiling
 *   needed for these layers (printed);
 * - the host model's own checks: a bad channel map or saturation range is
 *   refused, a non-ternary weight is refused by the analog packer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NCHECK 16
#include "deploy_check_util.h"
#include "diana_test_util.h"
#include "dnas_diana.h"

#define CFLAGS                                                                                     \
    "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -fsanitize=address,undefined "                   \
    "-fno-sanitize-recover=undefined"

static hwcost_target diana;

static int setup(void **state) {
    dia_target(&diana);
    return dck_setup(state);
}

/* resnet8_fmnist quantized on real images, made ODiMO-like when share > 0,
 * compiled by the diana backend into a fresh directory with NCHECK real
 * test vectors; *ir keeps the compiled IR (free it). */
static void deploy_diana(deployed *d, deploy_ir *ir, int share) {
    char path[4200];
    dtu_model_path(path, sizeof path, "resnet8_fmnist");
    train_net *net = dtu_net(path, 21);
    train_dataset calib = real_data(net, 0, NCALIB);
    train_dataset check = real_data(net, CHECK_FROM, NCHECK);
    dtu_export(&d->q, net, &calib);
    if (share) dia_odimo_split(&d->q, 17, share, DNAS_DIANA_ANALOG_IN_BITS);
    d->in = input_bytes(&d->q, check.x, NCHECK);
    snprintf(d->dir, sizeof d->dir, "/tmp/dnas_deploy_diana_XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    const deploy_backend *be = deploy_backend_find("diana");
    assert_non_null(be);
    deploy_compile_params p = deploy_backend_params(be);
    p.target = &diana;
    dnas_error err;
    deploy_emit_info info = {"test_deploy_diana", "resnet8_fmnist", NULL, "test"};
    if (deploy_compile(ir, &d->q, "resnet8_fmnist", &p, &err) ||
        be->emit(ir, &info, d->dir, &err) ||
        deploy_emit_vectors(&d->q, d->in, NCHECK, d->dir, &err))
        fail_msg("%s", err.msg);
    train_dataset_free(&calib);
    train_dataset_free(&check);
    train_net_free(net);
}

/* make check: equal, and the outputs vary with the input. */
static void check_equal(const deployed *d) {
    int rc = make_check(d->dir, CFLAGS);
    char log[200];
    snprintf(log, sizeof log, "%s/check.log", d->dir);
    char *text = read_all(log);
    if (rc != 0) fail_msg("make check exited %d:\n%s", rc, text);
    char want[64];
    snprintf(want, sizeof want, "%d samples: equal (0 values differ)", NCHECK);
    assert_non_null(strstr(text, want));
    printf("resnet8_fmnist on diana: %s\n", want);
    free(text);
    snprintf(log, sizeof log, "%s/test_expected.bin", d->dir);
    char *out;
    size_t len;
    dnas_error err;
    if (dnas_read_file(log, 1 << 20, &out, &len, &err)) fail_msg("%s", err.msg);
    size_t osz = deploy_qtensor_size(&d->q.tensors[d->q.output]);
    int varies = 0;
    for (int s = 1; s < NCHECK; s++)
        varies |= memcmp(out, out + (size_t)s * osz, osz) != 0;
    assert_true(varies);
    free(out);
}

/* Every engine job fits L1 whole; prints each. */
static void fits_l1(const deploy_ir *ir) {
    double act = diana.mem[hwcost_target_memory(&diana, "L1_act")].bytes;
    double wdig = diana.mem[hwcost_target_memory(&diana, "L1_wdig")].bytes;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        if (o->kind != DEPLOY_QOP_CONV && o->kind != DEPLOY_QOP_LINEAR) continue;
        const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
        size_t io = I->bytes + O->bytes, rows = o->q->wlen / (size_t)O->c;
        int32_t n = deploy_ir_op_cout(ir, k);
        const char *e = ir->engines[o->engine];
        assert_true((double)io <= act);
        if (!strcmp(e, "digital")) {
            size_t wb = (size_t)(n + 15) / 16 * 16 * rows;
            assert_true((double)wb <= wdig);
            printf("  layer %2d %-10s digital %2d ch: L1 act %6zu B, weights %6zu B\n", k,
                   o->q->name, n, io, wb);
        } else {
            assert_string_equal(e, "analog");
            assert_true(rows <= 1152 && n <= 512);
            printf("  layer %2d %-10s analog  %2d ch: L1 act %6zu B, array %4zu rows x %d cols\n",
                   k, o->q->name, n, io, rows, n);
        }
    }
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++)
        n++;
    return n;
}

static void all_digital(void **state) {
    (void)state;
    deployed d;
    deploy_ir ir;
    deploy_diana(&d, &ir, 0);
    char path[200];
    snprintf(path, sizeof path, "%s/network.c", d.dir);
    char *text = read_all(path);
    assert_int_equal(count(text, "DNAS_DIANA_DIGITAL"), 10); /* 9 convs and the linear */
    assert_int_equal(count(text, "DNAS_DIANA_ANALOG"), 0);
    assert_int_equal(count(text, "return (int)dnas_rt_add("), 3); /* the residual adds */
    assert_int_equal(count(text, "return (int)dnas_rt_global_avgpool("), 1);
    free(text);
    fits_l1(&ir);
    check_equal(&d);
    deploy_ir_free(&ir);
    cleanup(&d);
}

/* The evaluator's outputs on the checked samples with q as it is. */
static void eval_all(const deploy_qnet *q, const uint8_t *in, int32_t *out) {
    deploy_qeval ev;
    dnas_error err;
    if (deploy_qeval_init(&ev, q, "q", &err)) fail_msg("%s", err.msg);
    size_t isz = deploy_qtensor_size(&q->tensors[0]),
           osz = deploy_qtensor_size(&q->tensors[q->output]);
    for (int s = 0; s < NCHECK; s++)
        if (deploy_qeval_sample(&ev, out + (size_t)s * osz, in + (size_t)s * isz, &err))
            fail_msg("%s", err.msg);
    deploy_qeval_free(&ev);
}

static void odimo_split(void **state) {
    (void)state;
    deployed d;
    deploy_ir ir;
    deploy_diana(&d, &ir, 3);
    char path[200];
    snprintf(path, sizeof path, "%s/network.c", d.dir);
    char *text = read_all(path);
    int ana = count(text, "DNAS_DIANA_ANALOG,"), dig = count(text, "DNAS_DIANA_DIGITAL,");
    assert_int_equal(ana, 10);
    assert_int_equal(dig, 10);
    free(text);
    fits_l1(&ir);
    check_equal(&d);
    /* the 7-bit clamp of the analog inputs changes the outputs */
    size_t osz = deploy_qtensor_size(&d.q.tensors[d.q.output]);
    int32_t *a = malloc(NCHECK * osz * sizeof *a), *b = malloc(NCHECK * osz * sizeof *b);
    eval_all(&d.q, d.in, a);
    d.q.engine_in_bits[1] = 0;
    eval_all(&d.q, d.in, b);
    d.q.engine_in_bits[1] = DNAS_DIANA_ANALOG_IN_BITS;
    assert_true(memcmp(a, b, NCHECK * osz * sizeof *a) != 0);
    /* the recorded saturation survives HDF5 */
    char h5[200];
    snprintf(h5, sizeof h5, "%s/q.h5", d.dir);
    dnas_error err;
    deploy_quant_info qi = {"test", -1, -1};
    if (deploy_qnet_save(h5, &d.q, &qi, &err)) fail_msg("%s", err.msg);
    deploy_qnet back;
    if (deploy_qnet_load(h5, &back, &err)) fail_msg("%s", err.msg);
    assert_int_equal(back.nengines, 2);
    assert_int_equal(back.engine_in_bits[0], 0);
    assert_int_equal(back.engine_in_bits[1], DNAS_DIANA_ANALOG_IN_BITS);
    eval_all(&back, d.in, b);
    assert_memory_equal(a, b, NCHECK * osz * sizeof *a);
    deploy_qnet_free(&back);
    free(a), free(b);
    /* without the recorded saturation the analog layers are refused */
    d.q.engine_in_bits[1] = 0;
    deploy_ir ir2;
    deploy_compile_params p = deploy_backend_params(deploy_backend_find("diana"));
    p.target = &diana;
    if (deploy_compile(&ir2, &d.q, "q", &p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(deploy_emit_diana(&ir2, NULL, d.dir, &err), DNAS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "on the analog engine reads 8-bit input"));
    assert_non_null(
        strstr(err.msg,
               "which the engine takes at 7 bits, but the network's evaluator reads it at 8 bits"));
    deploy_ir_free(&ir2);
    d.q.engine_in_bits[1] = DNAS_DIANA_ANALOG_IN_BITS;
    deploy_ir_free(&ir);
    cleanup(&d);
}

/* make check fails with differences. */
static void caught(const deployed *d, const char *what) {
    int rc = make_check(d->dir, NULL);
    char log[200];
    snprintf(log, sizeof log, "%s/check.log", d->dir);
    char *text = read_all(log);
    if (rc == 0) fail_msg("%s changed, yet make check passed:\n%s", what, text);
    assert_non_null(strstr(text, "DIFFERENT"));
    printf("%s: caught (%s)\n", what, strstr(text, "samples:"));
    free(text);
}

static void changed_weight_caught(void **state) {
    (void)state;
    deployed d;
    deploy_ir ir;
    deploy_diana(&d, &ir, 3);
    assert_int_equal(make_check(d.dir, NULL), 0);
    /* the last layer's digital job: a weight that matters, at its place in the blocks */
    int kd = ir.nops - 1;
    while (strcmp(ir.engines[ir.ops[kd].engine], "digital"))
        kd--;
    const deploy_ir_op *o = &ir.ops[kd];
    int32_t cout = ir.tensors[o->out].c;
    size_t per = o->q->wlen / (size_t)cout;
    int found = 0;
    for (int32_t i = 0; i < o->nchannels && !found; i++)
        for (size_t t = 0; t < per && !found; t++) {
            size_t j = (size_t)o->channels[i] * per + t;
            int8_t v = (int8_t)(o->q->w[j] >= 0 ? -100 : 100);
            if (!weight_matters(&d.q, d.in, o->qindex, j, v)) continue;
            edit_weight(d.dir, kd, ((size_t)(i / 16) * per + t) * 16 + (size_t)(i % 16), v);
            found = 1;
        }
    assert_true(found);
    caught(&d, "a digital weight byte");
    /* again from clean sources: an analog weight 0 -> +1 in the w+ plane */
    cleanup(&d);
    deploy_ir_free(&ir);
    deploy_diana(&d, &ir, 3);
    int ka = ir.nops - 1;
    while (strcmp(ir.engines[ir.ops[ka].engine], "analog"))
        ka--;
    o = &ir.ops[ka];
    cout = ir.tensors[o->out].c;
    per = o->q->wlen / (size_t)cout;
    size_t row = ((size_t)o->nchannels + 7) / 8;
    found = 0;
    for (int32_t i = 0; i < o->nchannels && !found; i++)
        for (size_t t = 0; t < per && !found; t++) {
            size_t j = (size_t)o->channels[i] * per + t;
            if (o->q->w[j] != 0 || !weight_matters(&d.q, d.in, o->qindex, j, 1)) continue;
            /* the byte of row t holding column i, with bit i % 8 set (other bits from the qnet) */
            int byte = 0;
            for (int32_t b = 0; b < 8 && (size_t)(i / 8 * 8 + b) < (size_t)o->nchannels; b++)
                byte |= (o->q->w[(size_t)o->channels[i / 8 * 8 + b] * per + t] == 1) << b;
            edit_weight(d.dir, ka, t * row + (size_t)i / 8, byte | 1 << (i % 8));
            found = 1;
        }
    assert_true(found);
    caught(&d, "an analog bit-plane byte");
    deploy_ir_free(&ir);
    cleanup(&d);
}

static void model_checks(void **state) {
    (void)state;
    int8_t w[2 * 9] = {1, 0, -1, 1, 1, 0, 0, -1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t planes[2 * 9];
    assert_int_equal(dnas_diana_pack_analog(planes, w, 2, 9), DNAS_RT_ERR_ARG); /* the 2 */
    w[9] = 1;
    assert_int_equal(dnas_diana_pack_analog(planes, w, 2, 9), DNAS_RT_OK);
    assert_int_equal(planes[0], 3);     /* row 0: both columns +1 */
    assert_int_equal(planes[9 + 2], 1); /* w- plane, row 2: column 0 */
    uint8_t in[3 * 3 * 1] = {200, 10, 0, 5, 130, 1, 2, 3, 4}, out[2] = {0, 0};
    int32_t m[2] = {1, 1}, cmap[2] = {0, 1};
    dnas_diana_job j = {DNAS_DIANA_ANALOG,
                        {3, 3, 1, 1, 1, 2, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0},
                        NULL,
                        2,
                        0,
                        127,
                        planes,
                        NULL,
                        {m, 1, 0, 255}};
    assert_int_equal(dnas_diana_run(out, in, &j), DNAS_RT_OK);
    /* column 0: 127 + 5 + 127 - 3 + 4 = 260 (200 and 130 clamped to 127), halved;
     * column 1: 127 */
    assert_int_equal(out[0], 130);
    assert_int_equal(out[1], 64);
    j.in_lo = 1; /* the range must hold 0 (padding) */
    assert_int_equal(dnas_diana_run(out, in, &j), DNAS_RT_ERR_ARG);
    j.in_lo = 0;
    j.out_cmap = cmap;
    j.out_cstride = 1; /* channel 1 outside the tensor */
    assert_int_equal(dnas_diana_run(out, in, &j), DNAS_RT_ERR_ARG);
    cmap[0] = 1, cmap[1] = 0, j.out_cstride = 2; /* not ascending */
    assert_int_equal(dnas_diana_run(out, in, &j), DNAS_RT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_checks),
        cmocka_unit_test(all_digital),
        cmocka_unit_test(odimo_split),
        cmocka_unit_test(changed_weight_caught),
    };
    return cmocka_run_group_tests(tests, setup, dck_teardown);
}
