/* Checkpoints altered one way at a time (attributes out of range or of
 * the wrong kind, another format, tensors of the wrong type, size or
 * values, a table declaring 2·10^9 rows): each is an error naming the file
 * and what was expected, and the network and optimizer stay untouched. The
 * stored texts likewise. */
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

#include "train.h"

#include "ckpt_test_util.h"

static void put_attr_int(hid_t f, const char *name, hid_t space, const int *v) {
    if (H5Aexists(f, name) > 0) H5Adelete(f, name);
    hid_t a = H5Acreate2(f, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, H5T_NATIVE_INT, v) >= 0);
    H5Aclose(a);
}

static void put_attr_str(hid_t f, const char *name, const char *v) {
    if (H5Aexists(f, name) > 0) H5Adelete(f, name);
    if (!v) return;
    hid_t t = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(v) + 1);
    hid_t a = H5Acreate2(f, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, v) >= 0);
    H5Aclose(a), H5Sclose(space), H5Tclose(t);
}

/* Replaces dataset name by one of type (NULL data: chunked, never written). */
static void put_data(hid_t f, const char *name, hid_t type, hsize_t n, const void *data) {
    H5Ldelete(f, name, H5P_DEFAULT);
    hsize_t d[1] = {n}, chunk[1] = {1};
    hid_t space = H5Screate_simple(1, d, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (!data) H5Pset_chunk(dcpl, 1, chunk);
    hid_t ds = H5Dcreate2(f, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    if (data) assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(ds), H5Pclose(dcpl), H5Sclose(space);
}

enum {
    ALTER_EPOCH_NEG,
    ALTER_EPOCH_HUGE,
    ALTER_EPOCH_ARRAY,
    ALTER_FORMAT,
    ALTER_NO_FORMAT,
    ALTER_PARAMS_INT,
    ALTER_PARAMS_SHORT,
    ALTER_PARAMS_NAN,
    ALTER_TABLE_HUGE,
    ALTER_M_SHORT,
    ALTER_ACC,
    ALTER_COUNT
};

static void alter(const char *path, int how) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t scalar = H5Screate(H5S_SCALAR);
    hsize_t four[1] = {4};
    hid_t vec = H5Screate_simple(1, four, NULL);
    const int neg = -3, huge = 2000000000, arr[4] = {1, 2, 3, 4}, acc = 5;
    const int32_t ints[64] = {0};
    float vals[64] = {0};
    vals[3] = NAN;
    switch (how) {
    case ALTER_EPOCH_NEG: put_attr_int(f, "epoch", scalar, &neg); break;
    case ALTER_EPOCH_HUGE: put_attr_int(f, "epoch", scalar, &huge); break;
    case ALTER_EPOCH_ARRAY: put_attr_int(f, "epoch", vec, arr); break;
    case ALTER_FORMAT: put_attr_str(f, "format", "dnas-checkpoint-0"); break;
    case ALTER_NO_FORMAT: put_attr_str(f, "format", NULL); break;
    case ALTER_PARAMS_INT: put_data(f, "params", H5T_NATIVE_INT32, 64, ints); break;
    case ALTER_PARAMS_SHORT: put_data(f, "params", H5T_NATIVE_FLOAT, 5, vals); break;
    case ALTER_PARAMS_NAN: { /* the model's size (read back), one NaN */
        hid_t d = H5Dopen2(f, "params", H5P_DEFAULT), sp = H5Dget_space(d);
        hsize_t n = (hsize_t)H5Sget_simple_extent_npoints(sp);
        H5Sclose(sp), H5Dclose(d);
        assert_true(n <= 64);
        put_data(f, "params", H5T_NATIVE_FLOAT, n, vals);
        break;
    }
    case ALTER_TABLE_HUGE: put_data(f, "param_table", H5T_NATIVE_INT32, 2000000000, NULL); break;
    case ALTER_M_SHORT: put_data(f, "optim/m", H5T_NATIVE_FLOAT, 7, vals); break;
    case ALTER_ACC: put_attr_int(f, "test_acc", scalar, &acc); break;
    }
    H5Sclose(scalar), H5Sclose(vec);
    H5Fclose(f);
}

/* Every alteration is an error naming the file and what was expected, and
 * leaves the network and the optimizer as they were (also the optimizer
 * mismatch, found after the parameters were read). */
static void test_checkpoint_validated_before_loading(void **state) {
    (void)state;
    static const char *const want[ALTER_COUNT] = {
        "attribute 'epoch' is -3: expected 0..100000",
        "attribute 'epoch' is 2000000000: expected 0..100000",
        "attribute 'epoch' is not a single number",
        "checkpoint format 'dnas-checkpoint-0', expected 'dnas-checkpoint-2' "
        "(or the older 'dnas-checkpoint-1')",
        "not a dnas checkpoint: no 'format' attribute (expected 'dnas-checkpoint-2')",
        "/params is not a float dataset (expected 51 float32 values)",
        "dataset /params has 5 values in 1 dims, model 'm' needs 51 in 1",
        "dataset /params: value 3 is NaN",
        "checkpoint of model 'm' has 2000000000 parameter tensors, model 'm' has 6",
        "dataset /optim/m has 7 values in 1 dims, model 'm' needs 51",
        "attribute 'test_acc' is 5: expected 0..1 or -1",
    };
    train_net *a = small_net(), *b = small_net();
    train_net_init(a, 3);
    train_optim_params p = train_optim_default_params();
    train_optim oa, ob;
    train_optim_init(&oa, &p, a->nparams);
    train_optim_init(&ob, &p, b->nparams);
    for (size_t i = 0; i < a->nparams; i++)
        a->grads[i] = 1.0f;
    train_optim_step(&oa, a->params, a->grads, 0.01f);
    for (size_t i = 0; i < b->nparams; i++)
        b->params[i] = 7.0f;
    for (size_t i = 0; i < ob.n; i++)
        ob.m[i] = 7.0f;
    train_ckpt_meta m = {2, 20, 99, 0.5f}, m2 = {-9, -9, 0, 0};
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/good.h5", dir);
    dnas_error err;
    if (train_ckpt_save(path, a, &oa, &m, "", &err)) fail_msg("%s", err.msg);
    assert_int_equal(a->nparams, 51);
    for (int how = 0; how < ALTER_COUNT; how++) {
        char bad[256];
        snprintf(bad, sizeof bad, "%s/bad%d.h5", dir, how);
        snprintf(cmd, sizeof cmd, "cp %s %s", path, bad);
        assert_int_equal(system(cmd), 0);
        alter(bad, how);
        assert_int_not_equal(train_ckpt_load(bad, b, &ob, &m2, &err), DNAS_OK);
        if (!strstr(err.msg, want[how]) || !strstr(err.msg, bad))
            fail_msg("case %d: %s", how, err.msg);
        for (size_t i = 0; i < b->nparams; i++)
            assert_true(b->params[i] == 7.0f);
        for (size_t i = 0; i < ob.n; i++)
            assert_true(ob.m[i] == 7.0f);
        assert_int_equal(ob.t, 0);
        assert_int_equal(m2.epoch, -9);
    }
    /* the optimizer mismatch comes after /params was read: still untouched */
    train_optim_params ps = train_optim_default_params();
    ps.kind = TRAIN_OPTIM_SGD;
    train_optim os;
    train_optim_init(&os, &ps, b->nparams);
    assert_int_equal(train_ckpt_load(path, b, &os, &m2, &err), DNAS_ERR_CONFIG);
    for (size_t i = 0; i < b->nparams; i++)
        assert_true(b->params[i] == 7.0f);
    /* a directory and an empty file */
    assert_int_equal(train_ckpt_load(dir, b, &ob, &m2, &err), DNAS_ERR_IO);
    if (!strstr(err.msg, "is a directory, expected a checkpoint file")) fail_msg("%s", err.msg);
    char empty[256];
    snprintf(empty, sizeof empty, "%s/empty.h5", dir);
    fclose(fopen(empty, "w"));
    assert_int_equal(train_ckpt_load(empty, b, &ob, &m2, &err), DNAS_ERR_FORMAT);
    if (!strstr(err.msg, "the file is empty, expected a checkpoint")) fail_msg("%s", err.msg);
    /* and the good file still loads */
    if (train_ckpt_load(path, b, &ob, &m2, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(a->params, b->params, a->nparams * sizeof(float));
    assert_int_equal(m2.epoch, 2);
    train_optim_free(&os), train_optim_free(&oa), train_optim_free(&ob);
    train_net_free(a), train_net_free(b);
}

/* Replaces the text dataset name by a string dataset: variable-length
 * (as h5py writes a str) holding v, or fixed-length of `size` bytes never
 * written (v NULL). */
static void put_text(hid_t f, const char *name, const char *v, size_t size) {
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(t, v ? H5T_VARIABLE : size);
    hid_t d = H5Dcreate2(f, name, t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    if (v) assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0);
    H5Dclose(d), H5Sclose(space), H5Tclose(t);
}

/* train_ckpt_load_texts: a variable-length string is read too; a text
 * that is missing, not a string or longer than a YAML may be is an error
 * naming the file and the item, returning nothing. */
static void test_checkpoint_texts_checked(void **state) {
    (void)state;
    train_net *a = small_net();
    train_ckpt_meta m = {2, 20, 99, 0.5f};
    char path[256], bad[256], cmd[600];
    snprintf(path, sizeof path, "%s/texts.h5", dir);
    snprintf(bad, sizeof bad, "%s/texts_bad.h5", dir);
    dnas_error err;
    if (train_ckpt_save(path, a, NULL, &m, "model: m.yaml\n", &err)) fail_msg("%s", err.msg);
    enum { NCASES = 6 };
    static const char *const want[NCASES] = {
        NULL,
        "texts_bad.h5: no dataset /model_yaml (expected a string)",
        "texts_bad.h5: dataset /config_yaml is not a string",
        "texts_bad.h5: dataset /config_yaml holds 67108865 bytes: expected at most 67108864",
        "texts_bad.h5: no attribute 'config' (expected a string)",
        "texts_bad.h5: dataset /config_yaml holds 67108865 bytes: expected at most 67108864",
    };
    char *huge = malloc(DNAS_YAML_MAX_BYTES + 2);
    memset(huge, 'y', DNAS_YAML_MAX_BYTES + 1);
    huge[DNAS_YAML_MAX_BYTES + 1] = 0;
    for (int how = 0; how < NCASES; how++) {
        snprintf(cmd, sizeof cmd, "cp %s %s", path, bad);
        assert_int_equal(system(cmd), 0);
        hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        const float one = 1;
        switch (how) {
        case 0: put_text(f, "config_yaml", "vlen: text\n", 0); break;
        case 1: H5Ldelete(f, "model_yaml", H5P_DEFAULT); break;
        case 2: put_data(f, "config_yaml", H5T_NATIVE_FLOAT, 1, &one); break;
        case 3: put_text(f, "config_yaml", NULL, DNAS_YAML_MAX_BYTES + 1); break;
        case 4: put_attr_str(f, "format", "dnas-checkpoint-1"); break; /* texts not in attributes */
        case 5: put_text(f, "config_yaml", huge, 0); break;
        }
        H5Fclose(f);
        char *ct = (char *)"unset", *mt = (char *)"unset";
        dnas_status st = train_ckpt_load_texts(bad, &ct, &mt, &err);
        if (!want[how]) {
            if (st) fail_msg("%s", err.msg);
            assert_string_equal(ct, "vlen: text\n");
            assert_non_null(strstr(mt, "name: fc, op: linear"));
            free(ct), free(mt);
            continue;
        }
        assert_int_equal(st, DNAS_ERR_FORMAT);
        if (!strstr(err.msg, want[how])) fail_msg("case %d: %s", how, err.msg);
        assert_string_equal(ct, "unset");
        assert_string_equal(mt, "unset");
    }
    free(huge);
    remove(bad);
    train_net_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_validated_before_loading),
        cmocka_unit_test(test_checkpoint_texts_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
