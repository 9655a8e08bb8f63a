/* The input preprocessing a qnet records (deploy_qnet_input): how a raw
 * sample of the data becomes the integer input its evaluator sees.
 * - search_quant_prepare_data gives exactly train_data_prepare's datasets
 *   (every float of train, validation and test equal) and records the
 *   layout and the training split's mean and std;
 * - raw Fashion-MNIST test images (the loader's pixels, read as rows),
 *   normalized and quantized by the qnet's record alone, are the bytes the
 *   evaluator quantizes from the prepared test split, and give its outputs
 *   bit for bit;
 * - HDF5: the record survives a write and a read; a qnet without one (a
 *   file written before it was stored) reads as not recorded; wrong
 *   attributes are refused with messages naming them; deploy_qnet_check
 *   refuses a bad record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy_test_util.h"
#include "dnas_h5.h"

#define IMAGES "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

/* A config of tcn_fmnist on slices of Fashion-MNIST (rows, normalized). */
static void load_config(train_config *cfg, int normalize) {
    char model[4200], text[5000];
    dtu_model_path(model, sizeof model, "tcn_fmnist");
    snprintf(text, sizeof text,
             "model: %s\n"
             "data: {format: fashion-mnist, layout: rows, normalize: %s, val_split: 100,\n"
             "       limit_train: 600, limit_test: 200}\n"
             "train: {epochs: 1, batch: 32, seed: 5}\n",
             model, normalize ? "true" : "false");
    dnas_error err;
    if (train_config_load_text(cfg, text, "input.yaml", &err)) fail_msg("%s", err.msg);
}

static void assert_same_data(const train_dataset *a, const train_dataset *b) {
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->c, b->c);
    assert_int_equal(a->h, b->h);
    assert_int_equal(a->w, b->w);
    size_t n = (size_t)a->count * a->c * a->h * a->w;
    if (n) assert_memory_equal(a->x, b->x, n * sizeof *a->x);
}

static int need_data(void) {
    if (access(IMAGES, R_OK) == 0) return 1;
    printf("%s is missing (Debian package dataset-fashion-mnist): skipped\n", IMAGES);
    return 0;
}

static void prepare_data_equals_train_data_prepare(void **state) {
    (void)state;
    if (!need_data()) skip();
    for (int norm = 0; norm <= 1; norm++) {
        train_config cfg;
        load_config(&cfg, norm);
        train_dataset tr, va, te, tr2, va2, te2;
        deploy_qnet_input in = {0};
        dnas_error err;
        if (train_data_prepare(&cfg, &tr, &va, &te, &err)) fail_msg("%s", err.msg);
        if (search_quant_prepare_data(&cfg, &tr2, &va2, &te2, &in, &err)) fail_msg("%s", err.msg);
        assert_same_data(&tr, &tr2);
        assert_same_data(&va, &va2);
        assert_same_data(&te, &te2);
        assert_int_equal(tr.count, 600);
        assert_int_equal(in.recorded, 1);
        assert_int_equal(in.rows, 1);
        assert_int_equal(in.c, norm ? 28 : 0);
        if (norm) { /* the statistics: a column near the image's border is mostly 0 */
            assert_true(in.std[0] > 0 && in.std[0] < in.std[14]);
            assert_true(in.mean[14] > in.mean[0]);
        }
        deploy_qnet_input_free(&in);
        train_dataset_free(&tr), train_dataset_free(&va), train_dataset_free(&te);
        train_dataset_free(&tr2), train_dataset_free(&va2), train_dataset_free(&te2);
        train_config_free(&cfg);
    }
}

/* tcn_fmnist (random weights) exported on the prepared training split,
 * with the preprocessing recorded. */
static void export_tcn(deploy_qnet *q, train_dataset *te) {
    train_config cfg;
    load_config(&cfg, 1);
    train_dataset tr, va;
    deploy_qnet_input in = {0};
    dnas_error err;
    if (search_quant_prepare_data(&cfg, &tr, &va, te, &in, &err)) fail_msg("%s", err.msg);
    char path[4200];
    dtu_model_path(path, sizeof path, "tcn_fmnist");
    train_net *net = dtu_net(path, 3);
    dtu_export(q, net, &tr);
    deploy_qnet_copy_input(&q->input, &in);
    if (deploy_qnet_check(q, "tcn", &err)) fail_msg("%s", err.msg);
    deploy_qnet_input_free(&in);
    train_net_free(net);
    train_dataset_free(&tr), train_dataset_free(&va);
    train_config_free(&cfg);
}

static void raw_images_give_the_evaluator_inputs(void **state) {
    (void)state;
    if (!need_data()) skip();
    deploy_qnet q;
    train_dataset te;
    export_tcn(&q, &te);
    const int n = te.count;
    /* the raw images, preprocessed by the record alone */
    train_dataset raw;
    dnas_error err;
    if (train_data_load_idx(&raw, IMAGES, NULL, &err)) fail_msg("%s", err.msg);
    assert_true(q.input.rows);
    if (train_data_to_rows(&raw, &err)) fail_msg("%s", err.msg);
    size_t per = deploy_qtensor_size(&q.tensors[0]);
    deploy_qnet_normalize(&q, raw.x, n);
    uint8_t *a = malloc((size_t)n * per), *b = malloc((size_t)n * per);
    deploy_qnet_input_bytes(&q, raw.x, n, a);
    deploy_qnet_input_bytes(&q, te.x, n, b);
    assert_memory_equal(a, b, (size_t)n * per);
    /* ... and the evaluator's outputs, run from its own float path */
    deploy_qeval ev;
    if (deploy_qeval_init(&ev, &q, "tcn", &err)) fail_msg("%s", err.msg);
    size_t osz = deploy_qtensor_size(&q.tensors[q.output]);
    int32_t *want = malloc((size_t)n * osz * sizeof *want), *got = malloc(osz * sizeof *got);
    if (deploy_qeval_run(&ev, want, te.x, n, &err)) fail_msg("%s", err.msg);
    int varies = 0;
    for (int s = 0; s < n; s++) {
        if (deploy_qeval_sample(&ev, got, a + (size_t)s * per, &err)) fail_msg("%s", err.msg);
        assert_memory_equal(got, want + (size_t)s * osz, osz * sizeof *got);
        varies |= memcmp(want, want + (size_t)s * osz, osz * sizeof *want) != 0;
    }
    assert_true(varies);
    /* not normalizing changes the inputs: the record is not vacuous */
    train_dataset_free(&raw);
    if (train_data_load_idx(&raw, IMAGES, NULL, &err) || train_data_to_rows(&raw, &err))
        fail_msg("%s", err.msg);
    deploy_qnet_input_bytes(&q, raw.x, n, a);
    assert_true(memcmp(a, b, (size_t)n * per) != 0);
    printf("%d raw test images: the evaluator's input bytes and outputs\n", n);
    deploy_qeval_free(&ev);
    free(a), free(b), free(want), free(got);
    train_dataset_free(&raw);
    train_dataset_free(&te);
    deploy_qnet_free(&q);
}

/* Writes q as /qnet of path. */
static void write_qnet(const char *path, const deploy_qnet *q) {
    dnas_error err;
    if (deploy_qnet_save(path, q, NULL, &err)) fail_msg("%s", err.msg);
}

static void set_attr(const char *path, const char *name, const char *str, const float *v, int n) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "qnet", H5P_DEFAULT);
    if (H5Aexists(g, name) > 0) H5Adelete(g, name);
    if (str) {
        assert_true(dnas_h5_write_attr_str(g, name, str));
    } else if (v) {
        hsize_t dims[1] = {(hsize_t)n};
        hid_t sp = H5Screate_simple(1, dims, NULL);
        hid_t a = H5Acreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_FLOAT, v);
        H5Aclose(a);
        H5Sclose(sp);
    }
    H5Gclose(g);
    H5Fclose(f);
}

/* Loading path fails with a message containing want. */
static void load_fails(const char *path, const char *want) {
    deploy_qnet r;
    dnas_error err;
    assert_int_equal(deploy_qnet_load(path, &r, &err), DNAS_ERR_FORMAT);
    if (!strstr(err.msg, want)) fail_msg("expected '%s' in: %s", want, err.msg);
}

static void hdf5_round_trip_and_errors(void **state) {
    (void)state;
    deploy_qnet q;
    dtu_zoo_qnet(&q, "tcn_fmnist");
    char dir[] = "/tmp/dnas_input_XXXXXX", path[100];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/q.h5", dir);
    dnas_error err;
    deploy_qnet r;
    /* none recorded (as every file written before): reads as not recorded */
    write_qnet(path, &q);
    if (deploy_qnet_load(path, &r, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.input.recorded, 0);
    deploy_qnet_free(&r);
    /* recorded, normalized: the same floats back */
    float mean[28], std[28];
    for (int c = 0; c < 28; c++)
        mean[c] = 0.1f + 0.013f * (float)c, std[c] = 0.3f / (float)(c + 1);
    deploy_qnet_set_input(&q, 1, 28, mean, std);
    write_qnet(path, &q);
    if (deploy_qnet_load(path, &r, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.input.recorded, 1);
    assert_int_equal(r.input.rows, 1);
    assert_int_equal(r.input.c, 28);
    assert_memory_equal(r.input.mean, mean, sizeof mean);
    assert_memory_equal(r.input.std, std, sizeof std);
    deploy_qnet_free(&r);
    /* recorded, not normalized */
    deploy_qnet_set_input(&q, 1, 0, NULL, NULL);
    write_qnet(path, &q);
    if (deploy_qnet_load(path, &r, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.input.recorded, 1);
    assert_int_equal(r.input.c, 0);
    assert_null(r.input.mean);
    deploy_qnet_free(&r);
    /* errors */
    deploy_qnet_set_input(&q, 1, 28, mean, std);
    write_qnet(path, &q);
    set_attr(path, "input_layout", "columns", NULL, 0);
    load_fails(path, "attribute 'input_layout' is 'columns': expected 'chw' or 'rows'");
    set_attr(path, "input_layout", "rows", NULL, 0);
    set_attr(path, "input_mean", NULL, mean, 27);
    load_fails(path, "attribute 'input_mean' has 27 values: expected 28 floats");
    set_attr(path, "input_mean", NULL, NULL, 0);
    load_fails(path, "attribute 'input_std' without 'input_mean'");
    set_attr(path, "input_layout", NULL, NULL, 0);
    load_fails(path, "input_mean or input_std without 'input_layout'");
    set_attr(path, "input_layout", "rows", NULL, 0);
    set_attr(path, "input_mean", NULL, mean, 28);
    std[5] = 0;
    set_attr(path, "input_std", NULL, std, 28);
    load_fails(path, "input preprocessing: channel 5 has mean");
    std[5] = 1;
    /* the check: rows needs a sequence input */
    deploy_qnet_set_input(&q, 1, 28, mean, std);
    q.tensors[0].h = 2, q.tensors[0].w = 14;
    assert_int_equal(deploy_qnet_check(&q, "q", &err), DNAS_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "layout rows"));
    q.tensors[0].h = 1, q.tensors[0].w = 28;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    deploy_qnet_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prepare_data_equals_train_data_prepare),
        cmocka_unit_test(raw_images_give_the_evaluator_inputs),
        cmocka_unit_test(hdf5_round_trip_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
