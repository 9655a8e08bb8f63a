/* Dataset operations (split, permutation, gather, rows view, channel
 * statistics and normalization) on small in-memory sets with exact
 * expectations, and on the real Fashion-MNIST from the Debian package
 * dataset-fashion-mnist (skipped when it is not installed). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist/"

/* count samples of shape (c, h, w); element k of sample n is n + k / 1000,
 * so every sample can be identified from its first value; label n % 3. */
static void make_ids(train_dataset *ds, int count, int c, int h, int w) {
    size_t per = (size_t)c * h * w;
    ds->count = count;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->x = malloc((size_t)count * per * sizeof *ds->x);
    ds->y = malloc((size_t)count * sizeof *ds->y);
    for (int n = 0; n < count; n++) {
        for (size_t k = 0; k < per; k++) ds->x[n * per + k] = (float)n + (float)k / 1000.0f;
        ds->y[n] = n % 3;
    }
    ds->num_classes = 3;
}

static void assert_is_permutation(const int32_t *perm, int count) {
    char *seen = calloc((size_t)count + 1, 1);
    for (int i = 0; i < count; i++) {
        assert_in_range(perm[i], 0, count - 1);
        assert_false(seen[perm[i]]);
        seen[perm[i]] = 1;
    }
    free(seen);
}

static void test_permutation(void **state) {
    enum { N = 1000 };
    int32_t a[N], b[N], c[N];
    uint64_t s1 = 7, s2 = 7;
    train_data_permutation(a, N, &s1);
    train_data_permutation(b, N, &s2);
    assert_is_permutation(a, N);
    assert_memory_equal(a, b, sizeof a);  /* same seed, same order */
    assert_true(s1 == s2 && s1 != 7);     /* state advanced */
    train_data_permutation(c, N, &s1);    /* next epoch: another order */
    assert_is_permutation(c, N);
    assert_memory_not_equal(a, c, sizeof a);
    int fixed = 0;
    for (int i = 0; i < N; i++) fixed += a[i] == i;
    assert_true(fixed < 10); /* ~1 expected for a uniform permutation */
    train_data_permutation(a, 1, &s1);
    assert_int_equal(a[0], 0);
    train_data_permutation(a, 0, &s1);
}

static void test_gather(void **state) {
    train_dataset ds;
    make_ids(&ds, 5, 2, 1, 2);
    const int32_t perm[5] = {4, 0, 3, 1, 2};
    float x[2 * 4];
    int32_t y[2];
    train_data_gather(x, y, &ds, perm, 2, 2); /* samples 3, 1 */
    assert_memory_equal(x, ds.x + 3 * 4, 4 * sizeof(float));
    assert_memory_equal(x + 4, ds.x + 1 * 4, 4 * sizeof(float));
    assert_int_equal(y[0], 0);
    assert_int_equal(y[1], 1);
    train_data_gather(x, NULL, &ds, NULL, 3, 2); /* identity order */
    assert_true(x[0] == 3.0f && x[4] == 4.0f);
    train_dataset_free(&ds);
    assert_null(ds.x);
}

static void test_split(void **state) {
    train_dataset a, va, b, vb;
    dnas_error err;
    make_ids(&a, 100, 1, 2, 2);
    make_ids(&b, 100, 1, 2, 2);
    assert_int_equal(train_data_split(&a, &va, 30, 1234, &err), DNAS_OK);
    assert_int_equal(train_data_split(&b, &vb, 30, 1234, &err), DNAS_OK);
    assert_int_equal(a.count, 70);
    assert_int_equal(va.count, 30);
    assert_int_equal(va.h * va.w, 4);
    assert_int_equal(va.num_classes, 3);
    /* Reproducible. */
    assert_memory_equal(a.x, b.x, 70 * 4 * sizeof(float));
    assert_memory_equal(va.x, vb.x, 30 * 4 * sizeof(float));
    assert_memory_equal(va.y, vb.y, 30 * sizeof(int32_t));
    /* Disjoint and complete; samples move whole, with their labels. */
    int seen[100] = {0}, shuffled = 0;
    for (int i = 0; i < 100; i++) {
        const train_dataset *d = i < 70 ? &a : &va;
        int j = i < 70 ? i : i - 70;
        int id = (int)d->x[j * 4];
        assert_in_range(id, 0, 99);
        seen[id]++;
        assert_true(d->x[j * 4 + 3] == (float)id + 0.003f);
        assert_int_equal(d->y[j], id % 3);
        shuffled += id != i;
    }
    for (int i = 0; i < 100; i++) assert_int_equal(seen[i], 1);
    assert_true(shuffled > 50);
    train_dataset_free(&a);
    train_dataset_free(&va);
    train_dataset_free(&b);
    train_dataset_free(&vb);

    /* Another seed, another split; seed 0 keeps the order. */
    make_ids(&a, 100, 1, 2, 2);
    make_ids(&b, 100, 1, 2, 2);
    assert_int_equal(train_data_split(&a, &va, 30, 1235, &err), DNAS_OK);
    assert_int_equal(train_data_split(&b, &vb, 30, 0, &err), DNAS_OK);
    assert_memory_not_equal(va.y, vb.y, 30 * sizeof(int32_t));
    for (int i = 0; i < 30; i++) assert_true(vb.x[i * 4] == (float)(70 + i));
    train_dataset_free(&a);
    train_dataset_free(&va);

    assert_int_equal(train_data_split(&b, &va, 70, 1, &err), DNAS_ERR_SHAPE);
    assert_int_equal(train_data_split(&b, &va, 0, 1, &err), DNAS_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "validation split"));
    assert_null(va.x);
    assert_int_equal(b.count, 70);
    train_dataset_free(&b);
    train_dataset_free(&vb);
}

static void test_to_rows_small(void **state) {
    train_dataset ds;
    dnas_error err;
    make_ids(&ds, 2, 1, 2, 3); /* image n: [[n, n+.001, n+.002], [n+.003, ...]] */
    assert_int_equal(train_data_to_rows(&ds, &err), DNAS_OK);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 1);
    assert_int_equal(ds.w, 2);
    /* channel = column, time = row: x[n][col][0][row] = img[row][col]. */
    for (int n = 0; n < 2; n++) {
        for (int col = 0; col < 3; col++) {
            for (int row = 0; row < 2; row++) {
                float want = (float)n + (float)(row * 3 + col) / 1000.0f;
                assert_true(ds.x[n * 6 + col * 2 + row] == want);
            }
        }
    }
    train_dataset_free(&ds);
    make_ids(&ds, 2, 3, 2, 2);
    assert_int_equal(train_data_to_rows(&ds, &err), DNAS_ERR_SHAPE);
    assert_int_equal(ds.c, 3);
    train_dataset_free(&ds);
}

static void test_channel_stats_small(void **state) {
    /* 2 samples, 2 channels, 2 pixels: channel 0 holds 1, 3, 5, 7 (mean 4,
     * std sqrt(5)); channel 1 is constant 2 (std floored at 1e-8). */
    float x[8] = {1, 3, 2, 2, 5, 7, 2, 2};
    train_dataset ds = {.count = 2, .c = 2, .h = 1, .w = 2, .x = x};
    float mean[2], std[2];
    train_data_channel_stats(&ds, mean, std);
    assert_true(mean[0] == 4.0f && mean[1] == 2.0f);
    assert_float_equal(std[0], sqrtf(5.0f), 1e-6);
    assert_true(std[1] == 1e-8f);
    train_data_normalize(&ds, mean, std);
    assert_float_equal(x[0], -3.0f / sqrtf(5.0f), 1e-6);
    assert_float_equal(x[5], 3.0f / sqrtf(5.0f), 1e-6);
    assert_true(x[2] == 0.0f && x[7] == 0.0f);
}

static int fmnist_load(train_dataset *ds, const char *which) {
    char img[256], lab[256];
    snprintf(img, sizeof img, FMNIST_DIR "%s-images-idx3-ubyte.gz", which);
    snprintf(lab, sizeof lab, FMNIST_DIR "%s-labels-idx1-ubyte.gz", which);
    if (access(img, R_OK) != 0 || access(lab, R_OK) != 0) return 0;
    dnas_error err;
    dnas_status st = train_data_load_idx(ds, img, lab, &err);
    if (st != DNAS_OK) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, DNAS_OK);
    return 1;
}

static void test_fashion_mnist(void **state) {
    train_dataset tr, te;
    if (!fmnist_load(&tr, "train")) skip();
    assert_true(fmnist_load(&te, "t10k"));
    assert_int_equal(tr.count, 60000);
    assert_int_equal(te.count, 10000);
    assert_true(tr.c == 1 && tr.h == 28 && tr.w == 28);
    assert_true(te.c == 1 && te.h == 28 && te.w == 28);
    assert_int_equal(tr.num_classes, 10);
    assert_int_equal(te.num_classes, 10);
    int per_class[10] = {0};
    for (int i = 0; i < tr.count; i++) {
        assert_in_range(tr.y[i], 0, 9);
        per_class[tr.y[i]]++;
    }
    for (int k = 0; k < 10; k++) assert_int_equal(per_class[k], 6000);
    for (int i = 0; i < te.count; i++) assert_in_range(te.y[i], 0, 9);
    float lo = 1, hi = 0;
    for (size_t i = 0; i < (size_t)tr.count * 784; i++) {
        lo = fminf(lo, tr.x[i]);
        hi = fmaxf(hi, tr.x[i]);
    }
    assert_true(lo == 0.0f && hi == 1.0f);

    /* Known statistics of Fashion-MNIST: mean 0.2860, std 0.3530. */
    float mean, std;
    train_data_channel_stats(&tr, &mean, &std);
    assert_float_equal(mean, 0.2860, 5e-4);
    assert_float_equal(std, 0.3530, 5e-4);
    train_data_normalize(&tr, &mean, &std);
    train_data_channel_stats(&tr, &mean, &std);
    assert_float_equal(mean, 0.0, 1e-4);
    assert_float_equal(std, 1.0, 1e-4);

    /* Seeded split: reproducible (a fresh copy splits the same way). */
    train_dataset tr2, v1, v2;
    dnas_error err;
    assert_true(fmnist_load(&tr2, "train"));
    assert_int_equal(train_data_split(&tr, &v1, 10000, 42, &err), DNAS_OK);
    assert_int_equal(train_data_split(&tr2, &v2, 10000, 42, &err), DNAS_OK);
    assert_int_equal(tr.count, 50000);
    assert_int_equal(v1.count, 10000);
    assert_memory_equal(v1.y, v2.y, 10000 * sizeof(int32_t));
    assert_memory_equal(tr.y, tr2.y, 50000 * sizeof(int32_t));
    int vcls[10] = {0};
    for (int i = 0; i < 10000; i++) vcls[v1.y[i]]++;
    for (int k = 0; k < 10; k++) assert_in_range(vcls[k], 850, 1150); /* shuffled */
    train_dataset_free(&tr);
    train_dataset_free(&tr2);
    train_dataset_free(&v1);
    train_dataset_free(&v2);

    /* Rows view of the test set: (10000, 28, 1, 28), x[n][col][0][row]. */
    float *orig = malloc((size_t)te.count * 784 * sizeof *orig);
    memcpy(orig, te.x, (size_t)te.count * 784 * sizeof *orig);
    assert_int_equal(train_data_to_rows(&te, &err), DNAS_OK);
    assert_true(te.count == 10000 && te.c == 28 && te.h == 1 && te.w == 28);
    for (int n = 0; n < te.count; n += 997) {
        for (int row = 0; row < 28; row++) {
            for (int col = 0; col < 28; col++) {
                assert_true(te.x[(size_t)n * 784 + col * 28 + row] ==
                            orig[(size_t)n * 784 + row * 28 + col]);
            }
        }
    }
    free(orig);
    /* Per-channel (per image column) normalization. */
    float cm[28], cs[28];
    train_data_channel_stats(&te, cm, cs);
    train_data_normalize(&te, cm, cs);
    train_data_channel_stats(&te, cm, cs);
    for (int c = 0; c < 28; c++) {
        assert_float_equal(cm[c], 0.0, 1e-4);
        assert_float_equal(cs[c], 1.0, 1e-3);
    }
    train_dataset_free(&te);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permutation),    cmocka_unit_test(test_gather),
        cmocka_unit_test(test_split),          cmocka_unit_test(test_to_rows_small),
        cmocka_unit_test(test_channel_stats_small), cmocka_unit_test(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
