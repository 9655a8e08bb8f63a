/* Training config parsing (values, defaults, errors with lines) and HDF5
 * checkpoint round trips, including corrupt and mismatched files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include "train.h"

#include "ckpt_test_util.h"
#include "file_test_util.h"

static const char *write_file(const char *name, const char *text) {
    return ftu_write(dir, name, text);
}

static void test_config_values(void **state) {
    (void)state;
    const char *p = write_file("ok.yaml",
                               "model: models/m.yaml\n"
                               "data: {format: fashion-mnist, layout: rows, val_split: 500}\n"
                               "train:\n"
                               "  epochs: 3\n"
                               "  batch: 64\n"
                               "  seed: 9\n"
                               "  optimizer: {name: sgd, lr: 0.05, momentum: 0.8, weight_decay: 0.0005}\n"
                               "  schedule: {name: step, step_epochs: 2, gamma: 0.5}\n"
                               "checkpoint: out.h5\n");
    train_config cfg;
    dnas_error err;
    dnas_status st = train_config_load(&cfg, p, &err);
    if (st) fail_msg("%s", err.msg);
    char want[300];
    snprintf(want, sizeof want, "%s/models/m.yaml", dir);
    assert_string_equal(cfg.model, want);
    assert_int_equal(cfg.epochs, 3);
    assert_int_equal(cfg.batch, 64);
    assert_int_equal(cfg.seed, 9);
    assert_int_equal(cfg.optim.kind, TRAIN_OPTIM_SGD);
    assert_float_equal(cfg.optim.lr, 0.05f, 1e-7);
    assert_float_equal(cfg.optim.momentum, 0.8f, 1e-7);
    assert_float_equal(cfg.sched.base_lr, 0.05f, 1e-7);
    assert_int_equal(cfg.sched.kind, TRAIN_SCHED_STEP);
    assert_int_equal(cfg.data.rows, 1);
    assert_int_equal(cfg.data.val_split, 500);
    assert_non_null(strstr(cfg.data.train_x, "fashion-mnist/train-images"));
    assert_string_equal(cfg.checkpoint, "out.h5");
    train_config_free(&cfg);
}

static void config_fails(const char *text, const char *want) {
    const char *p = write_file("bad.yaml", text);
    train_config cfg;
    dnas_error err;
    assert_int_not_equal(train_config_load(&cfg, p, &err), DNAS_OK);
    train_config_free(&cfg);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
}

/* A config from its text (as a checkpoint stores it): the same values, its
 * relative paths taken from the current directory (no file to be relative
 * to), errors naming the name given for it. */
static void test_config_text(void **state) {
    (void)state;
    const char *text = "model: models/m.yaml\n"
                       "data: {format: csv, train: d/train.csv, test: /abs/test.csv}\n"
                       "train: {epochs: 3, batch: 16, seed: 4}\n";
    train_config cfg;
    dnas_error err;
    if (train_config_load_text(&cfg, text, "c.h5:/config_yaml", &err)) fail_msg("%s", err.msg);
    assert_string_equal(cfg.model, "models/m.yaml");
    assert_string_equal(cfg.data.train_files[0], "d/train.csv");
    assert_string_equal(cfg.data.test_files[0], "/abs/test.csv");
    assert_string_equal(cfg.path, "c.h5:/config_yaml");
    assert_string_equal(cfg.text, text);
    assert_int_equal(cfg.batch, 16);
    assert_int_equal(cfg.seed, 4);
    train_config_free(&cfg);
    assert_int_equal(train_config_load_text(&cfg, "model: m.yaml\ndata: {format: csv, train: a.csv}\n"
                                                  "train: {batch: 0}\n",
                                            "c.h5:/config_yaml", &err),
                     DNAS_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "c.h5:/config_yaml:3: batch"));
    train_config_free(&cfg);
}

static void test_config_errors(void **state) {
    (void)state;
    config_fails("data: {format: fashion-mnist}\n", "missing 'model'");
    config_fails("model: m.yaml\ndata: {format: mnist-jpeg}\n", "bad.yaml:2: format: expected fashion-mnist");
    config_fails("model: m.yaml\ndata: {format: fashion-mnist}\ntrain:\n  epochs: -1\n",
                 "bad.yaml:4: epochs: -1 is out of range: expected 0..100000");
    config_fails("model: m.yaml\ndata: {format: fashion-mnist}\ntrain:\n  optimiser: adam\n",
                 "bad.yaml:4: train: unknown key 'optimiser'");
    config_fails("model: m.yaml\ndata: {format: fashion-mnist}\ntrain: {optimizer: {name: lion}}\n",
                 "optimizer name: expected sgd, adam or adamw");
    config_fails("model: m.yaml\ndata: {format: fashion-mnist}\ntrain: {batch: many}\n",
                 "bad.yaml:3: batch: expected an integer in 1..65536, found 'many'");
    config_fails("model: [m.yaml\n", "YAML syntax error");
}

/* A data section takes the keys of its format, non-empty paths, one file
 * for csv and hdf5, and labels for both splits or neither. */
static void test_config_data_keys(void **state) {
    (void)state;
    config_fails("model: m.yaml\ndata:\n  format: csv\n  train: a.csv\n  train_x: b.npy\n",
                 "bad.yaml:5: data: format csv does not take 'train_x' "
                 "(it takes train, test, label_col, header)");
    config_fails("model: m.yaml\ndata: {format: fashion-mnist, train_x: a.idx}\n",
                 "format fashion-mnist does not take 'train_x'");
    config_fails("model: m.yaml\ndata: {format: npy, train_x: a.npy, label_col: 0}\n",
                 "format npy does not take 'label_col'");
    config_fails("model: m.yaml\ndata: {format: npy, train_x: a.npy, traim_y: b.npy}\n",
                 "bad.yaml:2: data: unknown key 'traim_y'");
    config_fails("model: m.yaml\ndata:\n  format: idx\n  train_x: a\n  test_y: b\n",
                 "bad.yaml:5: test_y: labels for no test set: give test_x too");
    config_fails("model: m.yaml\ndata: {format: idx, train_x: a, train_y: b, test_x: c}\n",
                 "train_y without test_y: give labels for both splits or for neither");
    config_fails("model: m.yaml\ndata:\n  format: npy\n  train_x:\n",
                 "bad.yaml:4: train_x: expected a file path");
    config_fails("model: m.yaml\ndata: {format: csv, train: ''}\n",
                 "train: expected a file path, found an empty");
    config_fails("model: \"\"\ndata: {format: csv, train: a.csv}\n",
                 "bad.yaml:1: model: expected a file path");
    config_fails("model: m.yaml\ndata: {format: hdf5, train: [a.h5, b.h5]}\n",
                 "bad.yaml:2: train: expected one file");
    config_fails("model: m.yaml\ndata: {format: hdf5, test: a.h5}\n", "data: format hdf5 needs 'train:'");
    config_fails("model: m.yaml\ndata: {format: csv, train: a.csv, header: 1}\n",
                 "header: expected true or false");

    const char *p = write_file("csv.yaml", "model: m.yaml\ndata: {format: csv, train: a.csv, header: yes}\n");
    train_config cfg;
    dnas_error err;
    if (train_config_load(&cfg, p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(cfg.data.header, 1);
    assert_int_equal(cfg.data.ntest_files, 0);
    train_config_free(&cfg);
}

/* /train (3 samples) and, when with_test, /test (2 samples) of 4 features. */
static void write_h5_data(const char *name, int with_test) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    const float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const int32_t y[3] = {0, 1, 2};
    for (int t = 0; t <= with_test; t++) {
        const char *g = t ? "/test" : "/train";
        char xn[16], yn[16];
        snprintf(xn, sizeof xn, "%s/x", g);
        snprintf(yn, sizeof yn, "%s/y", g);
        H5Gclose(H5Gcreate2(f, g, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        hsize_t dx[2] = {(hsize_t)(3 - t), 4}, dy[1] = {(hsize_t)(3 - t)};
        hid_t sx = H5Screate_simple(2, dx, NULL), sy = H5Screate_simple(1, dy, NULL);
        hid_t a = H5Dcreate2(f, xn, H5T_IEEE_F32LE, sx, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t b = H5Dcreate2(f, yn, H5T_STD_I32LE, sy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(H5Dwrite(a, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
        assert_true(H5Dwrite(b, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
        H5Dclose(a), H5Dclose(b), H5Sclose(sx), H5Sclose(sy);
    }
    H5Fclose(f);
}

/* HDF5 with only train: (docs/train.md): the test split is the train
 * file's /test when it has one, none when it has not; a test: file must
 * hold /test. */
static void test_hdf5_splits(void **state) {
    (void)state;
    write_h5_data("both.h5", 1);
    write_h5_data("train_only.h5", 0);
    const char *texts[3] = {
        "model: m.yaml\ndata: {format: hdf5, train: both.h5, normalize: false}\n",
        "model: m.yaml\ndata: {format: hdf5, train: train_only.h5}\n",
        "model: m.yaml\ndata: {format: hdf5, train: train_only.h5, test: train_only.h5}\n"};
    const int want_test[3] = {2, 0, -1};
    for (int i = 0; i < 3; i++) {
        const char *p = write_file("h5.yaml", texts[i]);
        train_config cfg;
        train_dataset tr, va, te;
        dnas_error err;
        if (train_config_load(&cfg, p, &err)) fail_msg("%s", err.msg);
        dnas_status st = train_data_prepare(&cfg, &tr, &va, &te, &err);
        train_config_free(&cfg);
        if (want_test[i] < 0) {
            assert_int_equal(st, DNAS_ERR_FORMAT);
            if (!strstr(err.msg, "train_only.h5: no dataset /test")) fail_msg("%s", err.msg);
            continue;
        }
        if (st) fail_msg("%s", err.msg);
        assert_int_equal(tr.count, 3);
        assert_int_equal(te.count, want_test[i]);
        if (want_test[i]) assert_true(te.x[4] == 4.0f);
        train_dataset_free(&tr), train_dataset_free(&va), train_dataset_free(&te);
    }
}

static void test_checkpoint_roundtrip(void **state) {
    (void)state;
    train_net *a = small_net(), *b = small_net();
    train_net_init(a, 3);
    for (size_t i = 0; i < a->nstate; i++) a->state[i] = 0.25f * (float)i;
    train_optim_params p = train_optim_default_params();
    train_optim oa, ob;
    train_optim_init(&oa, &p, a->nparams);
    train_optim_init(&ob, &p, b->nparams);
    for (size_t i = 0; i < a->nparams; i++) a->grads[i] = (float)i * 0.01f;
    train_optim_step(&oa, a->params, a->grads, 0.01f);
    train_ckpt_meta m = {4, 1234, 0xdeadbeefcafeull, 0.875f}, m2;
    char path[256];
    snprintf(path, sizeof path, "%s/ck.h5", dir);
    dnas_error err;
    if (train_ckpt_save(path, a, &oa, &m, "config: text", &err)) fail_msg("%s", err.msg);
    if (train_ckpt_load(path, b, &ob, &m2, &err)) fail_msg("%s", err.msg);
    assert_int_equal(m2.epoch, 4);
    assert_int_equal(m2.step, 1234);
    assert_true(m2.rng == 0xdeadbeefcafeull);
    assert_float_equal(m2.test_acc, 0.875f, 0);
    assert_memory_equal(a->params, b->params, a->nparams * sizeof(float));
    assert_memory_equal(a->state, b->state, a->nstate * sizeof(float));
    assert_memory_equal(oa.m, ob.m, a->nparams * sizeof(float));
    assert_memory_equal(oa.v, ob.v, a->nparams * sizeof(float));
    assert_int_equal(ob.t, 1);
    /* resuming into another optimizer is refused, naming both */
    train_optim_params ps = train_optim_default_params();
    ps.kind = TRAIN_OPTIM_SGD;
    train_optim os;
    train_optim_init(&os, &ps, b->nparams);
    assert_int_equal(train_ckpt_load(path, b, &os, &m2, &err), DNAS_ERR_CONFIG);
    if (!strstr(err.msg, "holds adam optimizer state but the config asks for sgd")) fail_msg("%s", err.msg);
    train_optim_free(&os);
    train_optim_free(&oa);
    train_optim_free(&ob);
    train_net_free(a);
    train_net_free(b);
}

static void test_checkpoint_bad_files(void **state) {
    (void)state;
    train_net *net = small_net();
    train_ckpt_meta m;
    dnas_error err;
    char path[256];
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    assert_int_equal(train_ckpt_load(path, net, NULL, &m, &err), DNAS_ERR_IO);
    assert_non_null(strstr(err.msg, "missing.h5"));
    const char *junk = write_file("junk.h5", "this is not HDF5\n");
    assert_int_equal(train_ckpt_load(junk, net, NULL, &m, &err), DNAS_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not an HDF5 file"));

    /* a checkpoint of another model is refused with the mismatching tensor */
    train_net *other;
    const char *m2 = write_file("m2.yaml", "input: [1, 4, 4]\nlayers:\n"
                                           "  - {name: c, op: conv2d, out: 3, kernel: 3}\n"
                                           "  - {name: bn, op: batchnorm}\n"
                                           "  - {name: fc, op: linear, out: 3}\n");
    if (train_net_load(&other, m2, &err)) fail_msg("%s", err.msg);
    train_ckpt_meta meta = {1, 1, 1, -1};
    snprintf(path, sizeof path, "%s/other.h5", dir);
    if (train_ckpt_save(path, other, NULL, &meta, "", &err)) fail_msg("%s", err.msg);
    assert_int_equal(train_ckpt_load(path, net, NULL, &m, &err), DNAS_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "'c.weight'"));
    /* a truncated copy is a format error, not a crash */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "head -c 3000 %s > %s/trunc.h5", path, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/trunc.h5", dir);
    assert_int_equal(train_ckpt_load(path, other, NULL, &m, &err), DNAS_ERR_FORMAT);
    train_net_free(other);
    train_net_free(net);
}

/* Texts longer than an HDF5 attribute may be (64 KiB): a generated model of
 * 3000 layers and a config with a long comment round-trip. */
static void test_checkpoint_long_texts(void **state) {
    (void)state;
    const int nl = 3000;
    size_t cap = 64 + (size_t)nl * 48;
    char *model = malloc(cap), *config = malloc(100000);
    size_t len = (size_t)snprintf(model, cap, "input: [1, 1, 4]\nlayers:\n");
    for (int i = 0; i < nl; i++)
        len += (size_t)snprintf(model + len, cap - len, "  - {name: relu_%04d, op: relu}\n", i);
    snprintf(model + len, cap - len, "  - {name: fc, op: linear, out: 3}\n");
    int c = snprintf(config, 100000, "model: big.yaml\n# ");
    memset(config + c, 'x', 70000);
    strcpy(config + c + 70000, "\ndata: {format: fashion-mnist}\n");
    assert_true(strlen(model) > 65536 && strlen(config) > 65536);
    train_net *net, *back;
    dnas_error err;
    if (train_net_load_string(&net, model, "big.yaml", &err)) fail_msg("%s", err.msg);
    if (train_net_load_string(&back, model, "big.yaml", &err)) fail_msg("%s", err.msg);
    train_net_init(net, 1);
    train_ckpt_meta m = {1, 10, 5, -1}, m2;
    char path[256];
    snprintf(path, sizeof path, "%s/big.h5", dir);
    if (train_ckpt_save(path, net, NULL, &m, config, &err)) fail_msg("%s", err.msg);
    char *ct = NULL, *mt = NULL;
    if (train_ckpt_load_texts(path, &ct, &mt, &err)) fail_msg("%s", err.msg);
    assert_string_equal(ct, config);
    assert_string_equal(mt, model);
    if (train_ckpt_load(path, back, NULL, &m2, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(net->params, back->params, net->nparams * sizeof(float));
    /* either pointer may be NULL */
    free(mt);
    mt = NULL;
    if (train_ckpt_load_texts(path, NULL, &mt, &err)) fail_msg("%s", err.msg);
    assert_string_equal(mt, model);
    free(ct), free(mt), free(model), free(config);
    train_net_free(net), train_net_free(back);
}

/* A 'dnas-checkpoint-1' file (texts in attributes), written by the writer
 * of that format: it loads, and its texts are read from the attributes. */
static void test_checkpoint_format_1(void **state) {
    (void)state;
    const char *src = getenv("DNAS_SOURCE_DIR");
    if (!src) fail_msg("DNAS_SOURCE_DIR is not set");
    char path[1024], mpath[1024];
    snprintf(path, sizeof path, "%s/tests/bad_inputs/files/ckpt_adam.h5", src);
    snprintf(mpath, sizeof mpath, "%s/tests/bad_inputs/files/data_model_4.yaml", src);
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, mpath, &err)) fail_msg("%s", err.msg);
    train_optim_params p = train_optim_default_params();
    train_optim o;
    train_optim_init(&o, &p, net->nparams);
    train_ckpt_meta m;
    if (train_ckpt_load(path, net, &o, &m, &err)) fail_msg("%s", err.msg);
    assert_int_equal(m.epoch, 1);
    assert_true(o.t > 0);
    char *ct, *mt;
    if (train_ckpt_load_texts(path, &ct, &mt, &err)) fail_msg("%s", err.msg);
    assert_string_equal(ct, "model: data_model_4.yaml\ndata: {format: hdf5, train: data_h5_small.h5}\n"
                            "train: {epochs: 2, batch: 4}\n");
    if (!strstr(mt, "input: [1, 1, 4]\nlayers:\n  - {name: fc, op: linear, out: 3}\n"))
        fail_msg("%s", mt);
    free(ct), free(mt);
    train_optim_free(&o);
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_text),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_data_keys),
        cmocka_unit_test(test_hdf5_splits),
        cmocka_unit_test(test_checkpoint_roundtrip),
        cmocka_unit_test(test_checkpoint_bad_files),
        cmocka_unit_test(test_checkpoint_long_texts),
        cmocka_unit_test(test_checkpoint_format_1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
