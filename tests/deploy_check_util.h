/* End-to-end checks of a backend (cmocka): a zoo network with seeded
 * random weights, quantized on real Fashion-MNIST test images, compiled,
 * built by the generated Makefile and run on other real images by `make
 * check` (on the host, or under QEMU), which compares every output byte
 * with the integer evaluator's; and the same comparison failing after one
 * weight in weights.c is changed by hand. Include after cmocka.h; call
 * dck_setup / dck_teardown as the group's setup and teardown. */
#ifndef DNAS_DEPLOY_CHECK_UTIL_H
#define DNAS_DEPLOY_CHECK_UTIL_H

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy_test_util.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
#define NCALIB 64
#ifndef NCHECK
#define NCHECK 32 /* checked images; a test may define fewer before including this */
#endif
#define CHECK_FROM 1000 /* the checked images start here, apart from calibration's */

static train_dataset images; /* the Fashion-MNIST test images */

static __attribute__((unused)) int dck_setup(void **state) {
    (void)state;
    dnas_error err;
    if (access(FMNIST, R_OK) != 0) {
        fprintf(stderr, "%s is missing (Debian package dataset-fashion-mnist)\n", FMNIST);
        return -1;
    }
    if (train_data_load_idx(&images, FMNIST, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static __attribute__((unused)) int dck_teardown(void **state) {
    (void)state;
    train_dataset_free(&images);
    return 0;
}

/* count images from `from` in the network's input shape (C, H, W): the
 * image itself for [1, 28, 28], else its first C·H·W pixels. */
static train_dataset real_data(const train_net *net, int from, int count) {
    const train_layer *in = &net->layers[0];
    size_t per = (size_t)in->c * in->h * in->w;
    assert_true(per <= 784);
    train_dataset ds = {.count = count, .c = in->c, .h = in->h, .w = in->w, .num_classes = 10};
    ds.x = malloc((size_t)count * per * sizeof *ds.x);
    ds.y = calloc((size_t)count, sizeof *ds.y);
    for (int i = 0; i < count; i++)
        memcpy(ds.x + (size_t)i * per, images.x + (size_t)(from + i) * 784, per * sizeof *ds.x);
    return ds;
}

/* The input tensor's bytes of n float samples (n, C, H, W): quantized,
 * in HWC order. */
static uint8_t *input_bytes(const deploy_qnet *q, const float *x, int n) {
    const deploy_qtensor *t = &q->tensors[0];
    size_t per = deploy_qtensor_size(t);
    uint8_t *b = malloc((size_t)n * per);
    for (int s = 0; s < n; s++)
        for (int c = 0; c < t->c; c++)
            for (int y = 0; y < t->h; y++)
                for (int xx = 0; xx < t->w; xx++) {
                    float v = x[(size_t)s * per + ((size_t)c * t->h + y) * t->w + xx];
                    int32_t qv = deploy_qnet_quantize(t, v);
                    b[(size_t)s * per + ((size_t)y * t->w + xx) * t->c + c] = (uint8_t)(qv & 0xff);
                }
    return b;
}

/* Runs `make check` in dir with CFLAGS cflags (NULL: the Makefile's); the
 * exit status of make (0: every output equal). The log goes to
 * dir/check.log. */
static int make_check(const char *dir, const char *cflags) {
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "make -s -C '%s' check%s%s%s > '%s/check.log' 2>&1", dir,
             cflags ? " CFLAGS='" : "", cflags ? cflags : "", cflags ? "'" : "", dir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *read_all(const char *path) {
    char *text = NULL;
    dnas_error err;
    if (dnas_read_text(path, 64 << 20, &text, &err)) fail_msg("%s", err.msg);
    return text;
}

/* `make -s -C dir ARGS` (e.g. "check L1=6000"), its output to
 * dir/check.log; *rc its exit status; returns the log's text (to free). */
static __attribute__((unused, noinline)) char *dck_make(const char *dir, const char *args, int *rc) {
    char cmd[8400], log[200];
    snprintf(cmd, sizeof cmd, "make -s -C '%s' %s > '%s/check.log' 2>&1", dir, args, dir);
    int r = system(cmd);
    *rc = WIFEXITED(r) ? WEXITSTATUS(r) : -1;
    snprintf(log, sizeof log, "%s/check.log", dir);
    return read_all(log);
}

typedef struct {
    deploy_qnet q;
    uint8_t *in; /* NCHECK samples of input bytes */
    char dir[64];
} deployed;

/* d->q (with d->in, its NCHECK test inputs) compiled by `backend` for the
 * target description t (NULL: none) with the tiled memory l1 bytes (0: the
 * target's) into a fresh directory d->dir with the test vectors; the
 * compiled IR in *ir (to free). */
static void dck_emit(deployed *d, const char *name, const char *backend,
                     const hwcost_target *t, size_t l1, deploy_ir *ir) {
    snprintf(d->dir, sizeof d->dir, "/tmp/dnas_deploy_XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    const deploy_backend *be = deploy_backend_find(backend);
    assert_non_null(be);
    deploy_compile_params p = deploy_backend_params(be);
    p.target = t;
    p.l1_bytes = l1;
    dnas_error err;
    deploy_emit_info info = {"deploy_check_util.h", name, NULL, "test"};
    if (deploy_compile(ir, &d->q, name, &p, &err) || be->emit(ir, &info, d->dir, &err) ||
        deploy_emit_vectors(&d->q, d->in, NCHECK, d->dir, &err))
        fail_msg("%s: %s", name, err.msg);
}

/* The zoo model `name` quantized on real images, compiled by `backend`
 * into a fresh directory with NCHECK real test vectors. */
static void deploy_zoo(deployed *d, const char *name, const char *backend) {
    char path[4200];
    dtu_model_path(path, sizeof path, name);
    train_net *net = dtu_net(path, 21);
    train_dataset calib = real_data(net, 0, NCALIB);
    train_dataset check = real_data(net, CHECK_FROM, NCHECK);
    dtu_export(&d->q, net, &calib);
    d->in = input_bytes(&d->q, check.x, NCHECK);
    deploy_ir ir;
    dck_emit(d, name, backend, NULL, 0, &ir);
    deploy_ir_free(&ir);
    train_dataset_free(&calib);
    train_dataset_free(&check);
    train_net_free(net);
}

static void cleanup(deployed *d) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
    assert_int_equal(system(cmd), 0);
    free(d->in);
    deploy_qnet_free(&d->q);
}

/* Built (with cflags, NULL: the Makefile's) and run: every output byte
 * equal to the evaluator's, and the outputs vary with the input. */
static __attribute__((unused)) void dck_bit_exact(const char *name, const char *backend,
                                                  const char *cflags) {
    deployed d;
    deploy_zoo(&d, name, backend);
    int rc = make_check(d.dir, cflags);
    char log[200];
    snprintf(log, sizeof log, "%s/check.log", d.dir);
    char *text = read_all(log);
    if (rc != 0) fail_msg("%s: make check exited %d:\n%s", name, rc, text);
    char want[64];
    snprintf(want, sizeof want, "%d samples: equal (0 values differ)", NCHECK);
    assert_non_null(strstr(text, want));
    printf("%s on %s: %s\n", name, backend, want);
    free(text);
    /* the outputs depend on the input: not every sample gives sample 0's */
    snprintf(log, sizeof log, "%s/test_expected.bin", d.dir);
    char *out;
    size_t len;
    dnas_error err;
    if (dnas_read_file(log, 1 << 20, &out, &len, &err)) fail_msg("%s", err.msg);
    size_t osz = deploy_qtensor_size(&d.q.tensors[d.q.output]);
    assert_int_equal(len, NCHECK * osz);
    int varies = 0;
    for (int s = 1; s < NCHECK; s++)
        varies |= memcmp(out, out + (size_t)s * osz, osz) != 0;
    assert_true(varies);
    free(out);
    cleanup(&d);
}

/* 1 when the evaluator's outputs on the checked samples change with op k's
 * weight j set to v. */
static int weight_matters(deploy_qnet *q, const uint8_t *in, int k, size_t j, int8_t v) {
    deploy_qeval ev;
    dnas_error err;
    if (deploy_qeval_init(&ev, q, "q", &err)) fail_msg("%s", err.msg);
    size_t isz = deploy_qtensor_size(&q->tensors[0]);
    size_t osz = deploy_qtensor_size(&q->tensors[q->output]);
    int32_t *a = malloc(osz * sizeof *a), *b = malloc(osz * sizeof *b);
    int differs = 0;
    int8_t old = q->ops[k].w[j];
    for (int s = 0; s < NCHECK && !differs; s++) {
        q->ops[k].w[j] = old;
        if (deploy_qeval_sample(&ev, a, in + (size_t)s * isz, &err)) fail_msg("%s", err.msg);
        q->ops[k].w[j] = v;
        if (deploy_qeval_sample(&ev, b, in + (size_t)s * isz, &err)) fail_msg("%s", err.msg);
        differs = memcmp(a, b, osz * sizeof *a) != 0;
    }
    q->ops[k].w[j] = old;
    free(a), free(b);
    deploy_qeval_free(&ev);
    return differs;
}

/* Replaces value j of the array w<k> (any element type) in dir/weights.c by v. */
static void edit_weight(const char *dir, int k, size_t j, int v) {
    char path[200], head[64];
    snprintf(path, sizeof path, "%s/weights.c", dir);
    snprintf(head, sizeof head, " w%d[", k);
    char *text = read_all(path);
    char *p = strstr(text, head);
    assert_non_null(p);
    p = strchr(p, '{') + 1;
    for (size_t i = 0; i < j; i++)
        p = strchr(p, ',') + 1;
    while (*p == ' ' || *p == '\n')
        p++;
    char *end = strchr(p, ',');
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%d%s", (int)(p - text), text, v, end);
    assert_int_equal(fclose(f), 0);
    free(text);
}

/* A changed weight byte in weights.c is caught: the comparison fails
 * (make check exits non-zero, the program reports the differences). The
 * weight is one of the last layer's that changes the evaluator's outputs
 * on these samples, found by trying them in order. */
static __attribute__((unused)) void dck_changed_weight_caught(const char *backend) {
    deployed d;
    deploy_zoo(&d, "dscnn_fmnist", backend);
    assert_int_equal(make_check(d.dir, NULL), 0);
    int k = d.q.nops - 1;
    while (k >= 0 && !d.q.ops[k].wlen)
        k--;
    assert_true(k >= 0);
    size_t j = 0;
    int8_t v = 0;
    for (; j < d.q.ops[k].wlen; j++) {
        v = (int8_t)(d.q.ops[k].w[j] >= 0 ? -100 : 100);
        if (weight_matters(&d.q, d.in, k, j, v)) break;
    }
    assert_true(j < d.q.ops[k].wlen);
    edit_weight(d.dir, k, j, v);
    int rc = make_check(d.dir, NULL);
    char log[200];
    snprintf(log, sizeof log, "%s/check.log", d.dir);
    char *text = read_all(log);
    if (rc == 0) fail_msg("weight %zu of layer %d changed, yet make check passed:\n%s", j, k, text);
    assert_non_null(strstr(text, "DIFFERENT"));
    printf("layer %d weight %zu set to %d: caught (%s)\n", k, j, v, strstr(text, "samples:"));
    free(text);
    cleanup(&d);
}

#endif
