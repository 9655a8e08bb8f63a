/* Extra named tensors in checkpoints (train_ckpt_save_extra /
 * train_ckpt_load_extra / train_ckpt_extra_len): they round-trip; a missing,
 * mis-sized, mistyped or non-finite one is an error naming the file, the
 * tensor and both sizes, found before anything is loaded; names are
 * checked before a file is written. */
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

/* The search's state: alpha, its Adam moments, a temperature. */
enum { NA = 12, NX = 4 };
typedef struct {
    float alpha[NA], m[NA], v[NA], temp[1];
    train_ckpt_tensor t[NX];
} arch;

static void arch_init(arch *a, float base) {
    for (int i = 0; i < NA; i++) {
        a->alpha[i] = base + (float)i;
        a->m[i] = base - (float)i;
        a->v[i] = base * (float)i;
    }
    a->temp[0] = base;
    const train_ckpt_tensor t[NX] = {
        {"arch/alpha", a->alpha, NA},
        {"arch_optim/m", a->m, NA},
        {"arch_optim/v", a->v, NA},
        {"temperature", a->temp, 1},
    };
    memcpy(a->t, t, sizeof t);
}

static const char *save_good(train_net *net, train_optim *o) {
    static char path[256];
    snprintf(path, sizeof path, "%s/good.h5", dir);
    arch a;
    arch_init(&a, 0.5f);
    train_ckpt_meta meta = {3, 30, 9, 0.25f};
    dnas_error err;
    if (train_ckpt_save_extra(path, net, o, &meta, "cfg", a.t, NX, &err)) fail_msg("%s", err.msg);
    return path;
}

static void test_extra_roundtrip(void **state) {
    (void)state;
    train_net *net = small_net(), *back = small_net();
    train_net_init(net, 4);
    train_optim_params p = train_optim_default_params();
    train_optim o, ob;
    train_optim_init(&o, &p, net->nparams);
    train_optim_init(&ob, &p, net->nparams);
    const char *path = save_good(net, &o);
    arch want, got;
    arch_init(&want, 0.5f);
    arch_init(&got, -1.0f);
    train_ckpt_meta meta;
    dnas_error err;
    if (train_ckpt_load_extra(path, back, &ob, &meta, got.t, NX, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(got.alpha, want.alpha, sizeof want.alpha);
    assert_memory_equal(got.m, want.m, sizeof want.m);
    assert_memory_equal(got.v, want.v, sizeof want.v);
    assert_true(got.temp[0] == 0.5f);
    assert_memory_equal(back->params, net->params, net->nparams * sizeof(float));
    assert_int_equal(meta.epoch, 3);
    /* a subset, in another order; the plain loader ignores them */
    float v[NA] = {0};
    train_ckpt_tensor one = {"arch_optim/v", v, NA};
    if (train_ckpt_load_extra(path, back, NULL, &meta, &one, 1, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(v, want.v, sizeof v);
    if (train_ckpt_load(path, back, &ob, &meta, &err)) fail_msg("%s", err.msg);
    /* stored under /extra */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(H5Lexists(f, "extra", H5P_DEFAULT) > 0 && H5Lexists(f, "extra/arch", H5P_DEFAULT) > 0);
    assert_true(H5Lexists(f, "extra/arch/alpha", H5P_DEFAULT) > 0);
    H5Fclose(f);
    /* lengths by name; -1 for none */
    long len = 0;
    if (train_ckpt_extra_len(path, "arch/alpha", &len, &err)) fail_msg("%s", err.msg);
    assert_int_equal(len, NA);
    if (train_ckpt_extra_len(path, "temperature", &len, &err)) fail_msg("%s", err.msg);
    assert_int_equal(len, 1);
    if (train_ckpt_extra_len(path, "arch/beta", &len, &err)) fail_msg("%s", err.msg);
    assert_int_equal(len, -1);
    if (train_ckpt_extra_len(path, "no/such/group", &len, &err)) fail_msg("%s", err.msg);
    assert_int_equal(len, -1);
    assert_int_equal(train_ckpt_extra_len(path, "arch", &len, &err), DNAS_ERR_FORMAT); /* a group */
    if (!strstr(err.msg, "/extra/arch is not a 1-D float dataset")) fail_msg("%s", err.msg);
    train_optim_free(&o), train_optim_free(&ob);
    train_net_free(net), train_net_free(back);
}

/* Replaces dataset name by one of type with dims (rank 1 or 2), values. */
static void put(const char *path, const char *name, hid_t type, int rank, const hsize_t *dims,
                const void *data) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d), H5Sclose(space), H5Fclose(f);
}

/* Each fault is found before anything is copied: the network, the
 * optimizer, the meta and every tensor's data (also those checked fine
 * before the faulty one) stay as they were. */
static void test_extra_validated_before_loading(void **state) {
    (void)state;
    train_net *net = small_net(), *b = small_net(), *other;
    train_net_init(net, 4);
    train_optim_params p = train_optim_default_params();
    train_optim o, ob;
    train_optim_init(&o, &p, net->nparams);
    train_optim_init(&ob, &p, net->nparams);
    const char *good = save_good(net, &o);
    dnas_error err;
    if (train_net_load_string(&other, "input: [1, 4, 4]\nlayers:\n  - {name: fc, op: linear, out: 5}\n",
                              "other.yaml", &err))
        fail_msg("%s", err.msg);
    enum { MISSING, LONGER, SHORTER, INTS, TWO_D, NAN_V, OTHER_MODEL, NCASES };
    static const char *const want[NCASES] = {
        "bad.h5: no dataset /extra/arch/beta (expected 12 float32 values)",
        "bad.h5: dataset /extra/arch_optim/v has 12 values in 1 dims, expected 13 in 1",
        "bad.h5: dataset /extra/temperature has 1 values in 1 dims, expected 0 in 1",
        "bad.h5: /extra/arch_optim/v is not a float dataset (expected 12 float32 values)",
        "bad.h5: dataset /extra/arch_optim/v has 12 values in 2 dims, expected 12 in 1",
        "bad.h5: dataset /extra/arch_optim/v: value 5 is NaN",
        "bad.h5: checkpoint of model 'm' has 6 parameter tensors, model 'other' has 2",
    };
    char bad[256], cmd[600];
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    for (int how = 0; how < NCASES; how++) {
        snprintf(cmd, sizeof cmd, "cp %s %s", good, bad);
        assert_int_equal(system(cmd), 0);
        arch a;
        arch_init(&a, 5.0f);
        int32_t ints[NA] = {0};
        float nan_v[NA] = {0}, zeros[NA] = {0};
        nan_v[5] = NAN;
        hsize_t d1[1] = {NA}, d2[2] = {3, 4};
        train_net *into = how == OTHER_MODEL ? other : b;
        switch (how) {
        case MISSING: a.t[3] = (train_ckpt_tensor){"arch/beta", a.alpha, NA}; break;
        case LONGER: a.t[2].len = NA + 1; break;
        case SHORTER: a.t[3].len = 0; break;
        case INTS: put(bad, "extra/arch_optim/v", H5T_NATIVE_INT32, 1, d1, ints); break;
        case TWO_D: put(bad, "extra/arch_optim/v", H5T_NATIVE_FLOAT, 2, d2, zeros); break;
        case NAN_V: put(bad, "extra/arch_optim/v", H5T_NATIVE_FLOAT, 1, d1, nan_v); break;
        }
        for (size_t i = 0; i < into->nparams; i++) into->params[i] = 7.0f;
        ob.t = 0;
        train_ckpt_meta meta = {-9, -9, 0, 0};
        assert_int_not_equal(train_ckpt_load_extra(bad, into, how == OTHER_MODEL ? NULL : &ob, &meta,
                                                   a.t, NX, &err),
                             DNAS_OK);
        if (!strstr(err.msg, want[how])) fail_msg("case %d: %s", how, err.msg);
        for (int i = 0; i < NA; i++)
            assert_true(a.alpha[i] == 5.0f + (float)i && a.m[i] == 5.0f - (float)i &&
                        a.v[i] == 5.0f * (float)i);
        assert_true(a.temp[0] == 5.0f);
        for (size_t i = 0; i < into->nparams; i++) assert_true(into->params[i] == 7.0f);
        assert_int_equal(ob.t, 0);
        assert_int_equal(meta.epoch, -9);
    }
    /* a 'dnas-checkpoint-1' file holds no extra tensors (and says so) */
    const char *src = getenv("DNAS_SOURCE_DIR");
    if (!src) fail_msg("DNAS_SOURCE_DIR is not set");
    char v1[1024], mpath[1024];
    snprintf(v1, sizeof v1, "%s/tests/bad_inputs/files/ckpt_adam.h5", src);
    snprintf(mpath, sizeof mpath, "%s/tests/bad_inputs/files/data_model_4.yaml", src);
    train_net *n4;
    if (train_net_load(&n4, mpath, &err)) fail_msg("%s", err.msg);
    float x[3] = {1, 2, 3};
    train_ckpt_tensor t = {"arch/alpha", x, 3};
    train_ckpt_meta meta;
    assert_int_equal(train_ckpt_load_extra(v1, n4, NULL, &meta, &t, 1, &err), DNAS_ERR_FORMAT);
    if (!strstr(err.msg, "no dataset /extra/arch/alpha (expected 3 float32 values); a "
                         "dnas-checkpoint-1 file holds none"))
        fail_msg("%s", err.msg);
    assert_true(x[0] == 1 && x[2] == 3);
    long len = 0;
    if (train_ckpt_extra_len(v1, "arch/alpha", &len, &err)) fail_msg("%s", err.msg);
    assert_int_equal(len, -1);
    train_net_free(n4);
    train_optim_free(&o), train_optim_free(&ob);
    train_net_free(net), train_net_free(b), train_net_free(other);
}

/* Names are checked before a file is created (save) or opened (load). */
static void test_extra_names(void **state) {
    (void)state;
    train_net *net = small_net();
    train_ckpt_meta meta = {0, 0, 0, -1};
    float x[2] = {0, 0};
    char long_name[TRAIN_CKPT_EXTRA_NAME_LEN + 1];
    memset(long_name, 'a', TRAIN_CKPT_EXTRA_NAME_LEN);
    long_name[TRAIN_CKPT_EXTRA_NAME_LEN] = 0;
    const char *const bad_names[] = {"", "/arch", "arch/", "a//b", "a/../b", "./a", "a b", "arch\n",
                                     long_name};
    const int nbad = (int)(sizeof bad_names / sizeof *bad_names);
    char path[256];
    snprintf(path, sizeof path, "%s/names.h5", dir);
    dnas_error err;
    for (int i = 0; i < nbad + 2; i++) {
        train_ckpt_tensor t[2] = {{"ok/name-1.v2", x, 2}, {"", x, 2}};
        if (i < nbad) t[1].name = bad_names[i];
        else if (i == nbad) t[1].name = "ok/name-1.v2"; /* twice */
        else t[1].name = "ok/name-1.v2/deeper";          /* a tensor and a group at once */
        assert_int_equal(train_ckpt_save_extra(path, net, NULL, &meta, "", t, 2, &err), DNAS_ERR_INVALID);
        const char *w = i < nbad ? "extra tensor 1: name '" : i == nbad ? "'ok/name-1.v2' is given twice"
                                                                         : "one would be the group";
        if (!strstr(err.msg, w) || !strstr(err.msg, "names.h5")) fail_msg("case %d: %s", i, err.msg);
        assert_int_equal(access(path, F_OK), -1);
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        assert_int_equal(access(tmp, F_OK), -1);
    }
    /* the load and the length query check them too; a good name saves */
    train_ckpt_tensor good = {"ok/name-1.v2", x, 2}, bad = {"a//b", x, 2};
    if (train_ckpt_save_extra(path, net, NULL, &meta, "", &good, 1, &err)) fail_msg("%s", err.msg);
    assert_int_equal(train_ckpt_load_extra(path, net, NULL, &meta, &bad, 1, &err), DNAS_ERR_INVALID);
    long len;
    assert_int_equal(train_ckpt_extra_len(path, "../x", &len, &err), DNAS_ERR_INVALID);
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extra_roundtrip),
        cmocka_unit_test(test_extra_validated_before_loading),
        cmocka_unit_test(test_extra_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
