/* The integer network (deploy/qnet.h): the evaluator against a direct int64
 * computation (qnet_test_util.h) on a hand network with every op kind
 * (conv with padding, depthwise strided, grouped dilated 1-D-style conv at
 * 2 bits, add of unsigned and signed, max / average / global average pool,
 * flatten, linear); the input quantization; an HDF5 round trip (a file and
 * a group inside a run group); the reader's and the checker's errors; a
 * changed weight byte in a file changes the outputs; multipliers. */
#include <hdf5.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy.h"
#include "qnet/qnet_h5_internal.h"
#include "qnet_test_util.h"
#include "tmpdir_test_util.h"

static int tensor(deploy_qnet *q, const char *name, int h, int w, int c, int sgn, int bits,
                  float scale) {
    deploy_qtensor t = {.h = h, .w = w, .c = c, .is_signed = sgn, .bits = bits, .scale = scale};
    snprintf(t.name, sizeof t.name, "%s", name);
    return deploy_qnet_add_tensor(q, &t);
}

/* Weights in range, bias in ±bmax (none for bmax 0), multipliers of about
 * 15 bits, the clamp of the output tensor. */
static void fill_layer(deploy_qop *op, const deploy_qnet *q, size_t wlen, int bits, int bmax) {
    int cout = q->tensors[op->out].c;
    op->wbits = bits;
    op->wlen = wlen;
    op->w = malloc(wlen);
    rtt_fill_weights(op->w, wlen, bits);
    op->m = malloc((size_t)cout * sizeof *op->m);
    for (int c = 0; c < cout; c++)
        op->m[c] = (int32_t)rtt_range(1 << 14, 1 << 15);
    if (bmax) {
        op->bias = malloc((size_t)cout * sizeof *op->bias);
        for (int c = 0; c < cout; c++)
            op->bias[c] = (int32_t)rtt_range(-bmax, bmax);
    }
    deploy_qtensor_range(&q->tensors[op->out], &op->lo, &op->hi);
}

/* T0 [5][6][3] int8 -> c1 conv 3x3 pad 1 (uint8) -> dw depthwise 3x3 s2,
 * pads 1,1,0,1 (4-bit unsigned) -> c2 kernel 1x3 dilation 2 groups 2 at
 * 2 bits (int8) -> res = dw + c2 (int8) -> mp maxpool 2x2 s1 pads 0,1,0,1
 * -> ap avgpool 2x2 s2 pads 0,1,0,1 -> flat -> fc linear 16 -> 6; gap
 * global average of res, a second branch nothing reads. */
static void hand_net(deploy_qnet *q) {
    rtt_seed(7);
    deploy_qnet_init(q, "hand");
    tensor(q, "input", 5, 6, 3, 1, 8, 0.05f);
    int t1 = tensor(q, "c1", 5, 6, 4, 0, 8, 0.1f), t2 = tensor(q, "dw", 3, 3, 4, 0, 4, 0.2f);
    int t3 = tensor(q, "c2", 3, 3, 4, 1, 8, 0.1f), t4 = tensor(q, "res", 3, 3, 4, 1, 8, 0.15f);
    int t5 = tensor(q, "mp", 3, 3, 4, 1, 8, 0.15f), t6 = tensor(q, "ap", 2, 2, 4, 1, 8, 0.1f);
    int t7 = tensor(q, "flat", 1, 1, 16, 1, 8, 0.1f), t8 = tensor(q, "fc", 1, 1, 6, 1, 8, 0.3f);
    int t9 = tensor(q, "gap", 1, 1, 4, 1, 8, 0.05f);
    deploy_qop *op = deploy_qnet_add_op(q, DEPLOY_QOP_CONV, "c1");
    op->in[0] = 0, op->out = t1, op->kh = op->kw = 3, op->pt = op->pb = op->pl = op->pr = 1;
    fill_layer(op, q, 4 * 9 * 3, 8, 20000);
    op->shift = 24;
    op = deploy_qnet_add_op(q, DEPLOY_QOP_CONV, "dw");
    op->in[0] = t1, op->out = t2, op->kh = op->kw = 3, op->sh = op->sw = 2, op->groups = 4;
    op->pt = op->pb = 1, op->pl = 0, op->pr = 1;
    fill_layer(op, q, 4 * 9, 4, 0);
    op->shift = 22;
    op = deploy_qnet_add_op(q, DEPLOY_QOP_CONV, "c2");
    op->in[0] = t2, op->out = t3, op->kh = 1, op->kw = 3, op->dw = 2, op->pl = op->pr = 2,
    op->groups = 2;
    fill_layer(op, q, 4 * 3 * 2, 2, 30);
    op->shift = 14;
    op = deploy_qnet_add_op(q, DEPLOY_QOP_ADD, "res");
    op->in[0] = t2, op->in[1] = t3, op->out = t4, op->ma = 3 << 20, op->mb = -(5 << 19),
    op->shift = 22;
    deploy_qtensor_range(&q->tensors[t4], &op->lo, &op->hi);
    op = deploy_qnet_add_op(q, DEPLOY_QOP_MAXPOOL, "mp");
    op->in[0] = t4, op->out = t5, op->kh = op->kw = 2, op->pb = op->pr = 1;
    op = deploy_qnet_add_op(q, DEPLOY_QOP_AVGPOOL, "ap");
    op->in[0] = t5, op->out = t6, op->kh = op->kw = 2, op->sh = op->sw = 2, op->pb = op->pr = 1;
    op->ma = 393216, op->shift = 20, op->lo = -100, op->hi = 100; /* 1.5 / 4 */
    op = deploy_qnet_add_op(q, DEPLOY_QOP_FLATTEN, "flat");
    op->in[0] = t6, op->out = t7;
    op = deploy_qnet_add_op(q, DEPLOY_QOP_LINEAR, "fc");
    op->in[0] = t7, op->out = t8;
    fill_layer(op, q, 6 * 16, 8, 5000);
    op->shift = 21;
    op = deploy_qnet_add_op(q, DEPLOY_QOP_GAVGPOOL, "gap");
    op->in[0] = t4, op->out = t9, op->ma = 116508, op->shift = 20, op->lo = -128, op->hi = 127;
    q->output = t8;
}

static int32_t byte_at(const uint8_t *b, size_t i, int sgn) {
    return sgn ? (int8_t)b[i] : b[i];
}

/* Every tensor of the evaluator equals the reference's; returns the number
 * of distinct output values seen in `seen` (6 × samples). */
static void check_sample(deploy_qeval *ev, const deploy_qnet *q, const int32_t *in, int32_t *out) {
    uint8_t *bytes = malloc(deploy_qtensor_size(&q->tensors[0]));
    for (size_t i = 0; i < deploy_qtensor_size(&q->tensors[0]); i++)
        bytes[i] = (uint8_t)(int8_t)in[i];
    dnas_error err;
    assert_int_equal(deploy_qeval_sample(ev, out, bytes, &err), DNAS_OK);
    int32_t **v = qtu_eval(q, in);
    for (int t = 0; t < q->ntensors; t++) {
        const deploy_qtensor *T = &q->tensors[t];
        for (size_t i = 0; i < deploy_qtensor_size(T); i++)
            if (byte_at(ev->buf[t], i, T->is_signed) != v[t][i])
                fail_msg("tensor %s value %zu: evaluator %d, reference %d", T->name, i,
                         byte_at(ev->buf[t], i, T->is_signed), v[t][i]);
    }
    for (int i = 0; i < 6; i++)
        assert_int_equal(out[i], v[q->output][i]);
    qtu_free(q, v);
    free(bytes);
}

static void test_eval_matches_reference(void **state) {
    (void)state;
    deploy_qnet q;
    hand_net(&q);
    deploy_qeval ev;
    dnas_error err;
    if (deploy_qeval_init(&ev, &q, "hand", &err)) fail_msg("%s", err.msg);
    int32_t in[90], out[6];
    int distinct[5] = {0}; /* tensors c1, dw, c2, res, fc: saw a value other than 0 and the clamp */
    int idx[5] = {1, 2, 3, 4, 8};
    for (int s = 0; s < 30; s++) {
        for (int i = 0; i < 90; i++)
            in[i] = (int32_t)rtt_range(-128, 127);
        check_sample(&ev, &q, in, out);
        for (int j = 0; j < 5; j++) {
            const deploy_qtensor *T = &q.tensors[idx[j]];
            int32_t lo, hi;
            deploy_qtensor_range(T, &lo, &hi);
            for (size_t i = 0; i < deploy_qtensor_size(T); i++) {
                int32_t v = byte_at(ev.buf[idx[j]], i, T->is_signed);
                if (v != 0 && v != lo && v != hi) distinct[j]++;
            }
        }
    }
    /* the hand multipliers and shifts keep every layer away from all-zero
     * or all-saturated outputs, so the comparison means something */
    for (int j = 0; j < 5; j++)
        if (distinct[j] < 20)
            fail_msg("tensor %s is degenerate (%d interior values)", q.tensors[idx[j]].name,
                     distinct[j]);
    deploy_qeval_free(&ev);
    deploy_qnet_free(&q);
}

static void test_run_quantizes_nchw(void **state) {
    (void)state;
    deploy_qnet q;
    hand_net(&q);
    deploy_qtensor *T = &q.tensors[0];
    /* half up, clamped: scale 0.05 */
    assert_int_equal(deploy_qnet_quantize(T, 0.025f), 1);
    assert_int_equal(deploy_qnet_quantize(T, -0.025f), 0);
    assert_int_equal(deploy_qnet_quantize(T, -0.026f), -1);
    assert_int_equal(deploy_qnet_quantize(T, 100.0f), 127);
    assert_int_equal(deploy_qnet_quantize(T, -100.0f), -128);
    assert_int_equal(deploy_qnet_quantize(T, NAN), 0);
    deploy_qeval ev;
    dnas_error err;
    assert_int_equal(deploy_qeval_init(&ev, &q, "hand", &err), DNAS_OK);
    enum { N = 4 };
    float x[N * 90];
    for (int i = 0; i < N * 90; i++)
        x[i] = (float)rtt_range(-4000, 4000) / 1000.0f;
    int32_t out[N * 6], want[6], in[90];
    assert_int_equal(deploy_qeval_run(&ev, out, x, N, &err), DNAS_OK);
    for (int s = 0; s < N; s++) {
        for (int c = 0; c < 3; c++) /* x (C=3, H=5, W=6) -> [5][6][3] */
            for (int p = 0; p < 30; p++)
                in[p * 3 + c] = qtu_quantize(T, x[s * 90 + c * 30 + p]);
        check_sample(&ev, &q, in, want);
        for (int i = 0; i < 6; i++)
            assert_int_equal(out[s * 6 + i], want[i]);
    }
    int32_t y[N];
    for (int s = 0; s < N; s++)
        y[s] = deploy_qnet_argmax(out + s * 6, 6);
    y[1] = (y[1] + 1) % 6;
    long correct;
    assert_int_equal(deploy_qeval_correct(&ev, &correct, x, y, N, &err), DNAS_OK);
    assert_int_equal(correct, N - 1);
    int32_t tie[] = {3, 7, 7, -1};
    assert_int_equal(deploy_qnet_argmax(tie, 4), 1);
    deploy_qeval_free(&ev);
    deploy_qnet_free(&q);
}


enum { OP_NFIELDS = 24 };

/* Every scalar field of an op, for comparing two ops at once. */
static void op_fields(const deploy_qop *x, int32_t f[OP_NFIELDS]) {
    const int32_t v[OP_NFIELDS] = {x->kind, x->in[0], x->in[1], x->out,    x->kh,    x->kw,
                                   x->sh,   x->sw,    x->dh,    x->dw,     x->pt,    x->pb,
                                   x->pl,   x->pr,    x->groups, x->wbits, x->shift, x->lo,
                                   x->hi,   x->ma,    x->mb,    (int32_t)x->wlen, !x->bias, !x->m};
    memcpy(f, v, sizeof v);
}

static void assert_same(const deploy_qnet *a, const deploy_qnet *b) {
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->ntensors, b->ntensors);
    assert_int_equal(a->nops, b->nops);
    assert_int_equal(a->output, b->output);
    for (int i = 0; i < a->ntensors; i++) {
        const deploy_qtensor *x = &a->tensors[i], *y = &b->tensors[i];
        assert_string_equal(x->name, y->name);
        assert_true(x->h == y->h && x->w == y->w && x->c == y->c && x->is_signed == y->is_signed &&
                    x->bits == y->bits && x->scale == y->scale);
    }
    for (int k = 0; k < a->nops; k++) {
        const deploy_qop *x = &a->ops[k], *y = &b->ops[k];
        assert_string_equal(x->name, y->name);
        int32_t fx[OP_NFIELDS], fy[OP_NFIELDS];
        op_fields(x, fx);
        op_fields(y, fy);
        assert_memory_equal(fx, fy, sizeof fx);
        if (x->wlen) assert_memory_equal(x->w, y->w, x->wlen);
        size_t cout = (size_t)a->tensors[x->out].c;
        if (x->m) assert_memory_equal(x->m, y->m, cout * sizeof *x->m);
        if (x->bias) assert_memory_equal(x->bias, y->bias, cout * sizeof *x->bias);
    }
}

static void test_roundtrip(void **state) {
    (void)state;
    deploy_qnet q, r;
    hand_net(&q);
    char path[128];
    snprintf(path, sizeof path, "%s/hand.h5", dir);
    dnas_error err;
    deploy_quant_info info = {"test", 0.5, 0.25};
    if (deploy_qnet_save(path, &q, &info, &err)) fail_msg("%s", err.msg);
    if (deploy_qnet_load(path, &r, &err)) fail_msg("%s", err.msg);
    assert_same(&q, &r);
    deploy_qnet_free(&r);
    /* inside a run group of another file, as the search will store it */
    snprintf(path, sizeof path, "%s/runs.h5", dir);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "run0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    assert_int_equal(deploy_qnet_write(f, "run0/qnet", &q, path, &err), DNAS_OK);
    assert_int_equal(deploy_qnet_read(f, "run0/qnet", &r, path, &err), DNAS_OK);
    assert_same(&q, &r);
    deploy_qnet_free(&r);
    assert_int_equal(deploy_qnet_read(f, "run1/qnet", &r, path, &err), DNAS_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no group run1/qnet"));
    H5Fclose(f);
    deploy_qnet_free(&q);
}

/* Rewrites dataset name of the /qnet group of path with n values of type. */
static void replace_dataset(const char *path, const char *name, hid_t type, const void *data,
                            size_t n) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "qnet", H5P_DEFAULT);
    if (H5Lexists(g, name, H5P_DEFAULT) > 0) H5Ldelete(g, name, H5P_DEFAULT);
    if (type >= 0) {
        hsize_t dims[1] = {n};
        hid_t sp = H5Screate_simple(1, dims, NULL);
        hid_t d = H5Dcreate2(g, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (n) H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(d);
        H5Sclose(sp);
    }
    H5Gclose(g);
    H5Fclose(f);
}

/* The weights dataset of a saved hand network, and its length. */
static int8_t *saved_weights(const deploy_qnet *q, size_t *n) {
    *n = 0;
    for (int k = 0; k < q->nops; k++)
        *n += q->ops[k].wlen;
    int8_t *w = malloc(*n), *p = w;
    for (int k = 0; k < q->nops; k++) {
        if (!q->ops[k].wlen) continue; /* no weights (and w NULL) */
        memcpy(p, q->ops[k].w, q->ops[k].wlen);
        p += q->ops[k].wlen;
    }
    return w;
}

static void expect_load_error(const char *path, dnas_status want, const char *frag) {
    deploy_qnet r;
    dnas_error err;
    dnas_status st = deploy_qnet_load(path, &r, &err);
    if (st != want || !strstr(err.msg, frag) || !strstr(err.msg, path))
        fail_msg("status %d (want %d): '%s' lacks '%s'", st, want, err.msg, frag);
    assert_int_equal(r.nops, 0);
}

static void test_read_errors(void **state) {
    (void)state;
    deploy_qnet q;
    hand_net(&q);
    char path[128], other[128];
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    dnas_error err;
    expect_load_error(path, DNAS_ERR_IO, "cannot open");
    expect_load_error(dir, DNAS_ERR_IO, "is a directory");
    FILE *fp = fopen(path, "w");
    fclose(fp);
    expect_load_error(path, DNAS_ERR_FORMAT, "the file is empty");
    fp = fopen(path, "w");
    fputs("not hdf5 at all\n", fp);
    fclose(fp);
    expect_load_error(path, DNAS_ERR_FORMAT, "not an HDF5 file");
    snprintf(other, sizeof other, "%s/other.h5", dir);
    hid_t f = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    expect_load_error(other, DNAS_ERR_FORMAT, "attribute 'format' is '', expected 'dnas-quant-1'");

    size_t nw;
    int8_t *w = saved_weights(&q, &nw);
    /* dw is at 4 bits: its first weight (offset 108) set to 8 */
    assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
    w[108] = 8;
    replace_dataset(path, "weights", H5T_NATIVE_INT8, w, nw);
    expect_load_error(path, DNAS_ERR_FORMAT,
                      "op 1 'dw' (conv): weight 0 is 8: expected -7..7 at 4 bits");
    /* one weight short: c1's slice still fits, fc's does not */
    assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
    replace_dataset(path, "weights", H5T_NATIVE_INT8, w, nw - 1);
    expect_load_error(path, DNAS_ERR_FORMAT,
                      "row 7: w_off 168, length 96: expected a slice of qnet/weights");
    assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
    int16_t w16[4] = {1, 2, 3, 4};
    replace_dataset(path, "weights", H5T_NATIVE_INT16, w16, 4);
    expect_load_error(path, DNAS_ERR_FORMAT, "dataset qnet/weights: expected 1-D int8 values");
    assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
    replace_dataset(path, "bias", -1, NULL, 0);
    expect_load_error(path, DNAS_ERR_FORMAT, "no dataset qnet/bias (expected 1-D int32 values)");
    assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
    replace_dataset(path, "ops", H5T_NATIVE_INT32, w16, 2);
    expect_load_error(path, DNAS_ERR_FORMAT, "dataset qnet/ops is not a table of op rows");
    /* a row rewritten: kind unknown, then an output tensor read before written */
    qnet_types ty;
    deploy_qnet_types_create(&ty);
    for (int c = 0; c < 2; c++) {
        assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
        f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t d = H5Dopen2(f, "qnet/ops", H5P_DEFAULT);
        qnet_op_row rows[9];
        H5Dread(d, ty.op_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
        if (c == 0) snprintf(rows[2].kind, sizeof rows[2].kind, "conv3d");
        if (c == 1) rows[0].in0 = 4;
        H5Dwrite(d, ty.op_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
        H5Dclose(d);
        H5Fclose(f);
        expect_load_error(
            path, DNAS_ERR_FORMAT,
            c == 0 ? "row 2 ('c2'): kind 'conv3d': expected conv, linear"
                   : "group qnet: op 0 'c1' (conv): reads tensor 4 'res' before any op writes it");
    }
    deploy_qnet_types_close(&ty);
    free(w);
    deploy_qnet_free(&q);
}

/* A weight byte changed in the file (still in range) changes the outputs. */
static void test_changed_weight_changes_outputs(void **state) {
    (void)state;
    deploy_qnet q, r;
    hand_net(&q);
    char path[128];
    snprintf(path, sizeof path, "%s/flip.h5", dir);
    dnas_error err;
    assert_int_equal(deploy_qnet_save(path, &q, NULL, &err), DNAS_OK);
    size_t nw;
    int8_t *w = saved_weights(&q, &nw);
    w[0] = (int8_t)(w[0] > 0 ? w[0] - 100 : w[0] + 100); /* c1's first weight */
    replace_dataset(path, "weights", H5T_NATIVE_INT8, w, nw);
    assert_int_equal(deploy_qnet_load(path, &r, &err), DNAS_OK);
    deploy_qeval a, b;
    assert_int_equal(deploy_qeval_init(&a, &q, "a", &err), DNAS_OK);
    assert_int_equal(deploy_qeval_init(&b, &r, "b", &err), DNAS_OK);
    float x[8 * 90];
    for (int i = 0; i < 8 * 90; i++)
        x[i] = (float)rtt_range(-4000, 4000) / 1000.0f;
    int32_t oa[8 * 6], ob[8 * 6];
    assert_int_equal(deploy_qeval_run(&a, oa, x, 8, &err), DNAS_OK);
    assert_int_equal(deploy_qeval_run(&b, ob, x, 8, &err), DNAS_OK);
    assert_true(memcmp(oa, ob, sizeof oa) != 0);
    deploy_qeval_free(&a);
    deploy_qeval_free(&b);
    deploy_qnet_free(&r);
    deploy_qnet_free(&q);
    free(w);
}

static void expect_invalid(deploy_qnet *q, const char *frag) {
    dnas_error err = {""};
    if (deploy_qnet_check(q, "net", &err) == DNAS_OK || !strstr(err.msg, frag))
        fail_msg("'%s' lacks '%s'", err.msg, frag);
    deploy_qnet_free(q);
}

static void test_check_errors(void **state) {
    (void)state;
    deploy_qnet q;
    dnas_error err;
    hand_net(&q);
    assert_int_equal(deploy_qnet_check(&q, "net", &err), DNAS_OK);
    deploy_qnet_free(&q);
    hand_net(&q);
    q.ops[0].pt = 0;
    expect_invalid(&q, "op 0 'c1' (conv): output 5x6, expected 4x6 from input 5x6");
    hand_net(&q);
    q.ops[1].hi = 16; /* dw's tensor is 4-bit */
    expect_invalid(
        &q, "op 1 'dw' (conv): clamp 0..16, shift 22: expected 0 <= lo <= hi <= 15 (tensor 'dw')");
    hand_net(&q);
    q.ops[0].bias[3] = -2147483000; /* 27·128·127 + 2147483000 > 2^31 - 1 */
    expect_invalid(
        &q,
        "op 0 'c1' (conv): 27 terms of 8-bit weights and int8 input with |bias| up to 2147483000");
    hand_net(&q);
    q.tensors[5].scale = 0.2f; /* maxpool must keep the scale */
    expect_invalid(&q, "op 4 'mp' (maxpool): output tensor 'mp' must keep the input's signedness");
    hand_net(&q);
    q.tensors[3].scale = 0;
    expect_invalid(&q, "tensor 3 'c2': scale 0: expected a finite number > 0");
    hand_net(&q);
    q.ops[5].pb = 2; /* padding as wide as the window */
    expect_invalid(
        &q, "op 5 'ap' (avgpool): padding 0,2,0,1: expected each narrower than the 2x2 window");
    hand_net(&q);
    q.ops[6].out = 6; /* flatten writes the avgpool's tensor again */
    expect_invalid(&q, "op 6 'flat' (flatten): writes tensor 6 'ap', which an earlier op writes");
    hand_net(&q);
    q.ops[7].wlen = 95;
    expect_invalid(&q, "op 7 'fc' (linear): 95 weights: expected 96 and 6 multipliers");
    hand_net(&q);
    q.ops[2].groups = 3;
    expect_invalid(&q, "op 2 'c2' (conv): groups 3 must divide 4 input and 4 output channels");
}

static void test_multipliers(void **state) {
    (void)state;
    int32_t m[3];
    int s;
    dnas_error err;
    double r[3] = {0.5, 0.25, -0.125};
    assert_int_equal(deploy_qnet_multipliers(m, &s, r, 3, "x", &err), DNAS_OK);
    assert_int_equal(s, 31); /* 0.5·2^32 = 2^31 would not fit */
    assert_int_equal(m[0], 1 << 30);
    assert_int_equal(m[1], 1 << 29);
    assert_int_equal(m[2], -(1 << 28));
    double r1[1] = {1.0 / 9};
    assert_int_equal(deploy_qnet_multipliers(m, &s, r1, 1, "x", &err), DNAS_OK);
    assert_int_equal(s, 34);
    assert_int_equal(m[0], 1908874354); /* round(2^34 / 9) */
    assert_true(m[0] >= 1 << 30);
    double tiny[1] = {1e-30};
    assert_int_equal(deploy_qnet_multipliers(m, &s, tiny, 1, "x", &err), DNAS_OK);
    assert_int_equal(s, 62);
    assert_int_equal(m[0], 0);
    double big[1] = {3e9};
    assert_int_equal(deploy_qnet_multipliers(m, &s, big, 1, "layer 'fc'", &err),
                     DNAS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "layer 'fc': requantization ratio 3e+09 is too large"));
    double zero[2] = {0, 0};
    assert_int_equal(deploy_qnet_multipliers(m, &s, zero, 2, "x", &err), DNAS_OK);
    assert_int_equal(s, 0);
    assert_int_equal(m[1], 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_matches_reference),
        cmocka_unit_test(test_run_quantizes_nchw),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_changed_weight_changes_outputs),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_multipliers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
