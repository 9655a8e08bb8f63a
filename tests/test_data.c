/* Binary dataset readers (IDX raw and gzipped, NPY, CIFAR-10) on small
 * files written here: exact values, shapes, and error statuses whose
 * messages name the file, for truncated and corrupt variants. */
#include "data_test_util.h"

#include "data.h"

/* ---- IDX -------------------------------------------------------------- */

/* 3 images of 2x3 with pixels 0, 10, ..., 170 (pixel k of image n is
 * 10 * (6n + k)), 255 in the last pixel; labels 4, 0, 7. */
static size_t idx_images(unsigned char *b) {
    const unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
    memcpy(b, hdr, 16);
    for (int i = 0; i < 18; i++) b[16 + i] = (unsigned char)(10 * i);
    b[16 + 17] = 255;
    return 34;
}

static size_t idx_labels(unsigned char *b) {
    const unsigned char lab[11] = {0, 0, 8, 1, 0, 0, 0, 3, 4, 0, 7};
    memcpy(b, lab, 11);
    return 11;
}

static void check_idx(const train_dataset *ds) {
    assert_int_equal(ds->count, 3);
    assert_int_equal(ds->c, 1);
    assert_int_equal(ds->h, 2);
    assert_int_equal(ds->w, 3);
    for (int i = 0; i < 17; i++) assert_true(ds->x[i] == (float)(10 * i) / 255.0f);
    assert_true(ds->x[17] == 1.0f);
    assert_true(ds->x[0] == 0.0f);
    assert_non_null(ds->y);
    assert_int_equal(ds->y[0], 4);
    assert_int_equal(ds->y[1], 0);
    assert_int_equal(ds->y[2], 7);
    assert_int_equal(ds->num_classes, 8);
}

static void test_idx_raw(void **state) {
    unsigned char img[64], lab[16];
    const char *ip = tu_write("raw-images-idx3-ubyte", img, idx_images(img));
    const char *lp = tu_write("raw-labels-idx1-ubyte", lab, idx_labels(lab));
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_idx(&ds, ip, lp, &err), DNAS_OK);
    check_idx(&ds);
    train_dataset_free(&ds);

    assert_int_equal(train_data_load_idx(&ds, ip, NULL, &err), DNAS_OK);
    assert_null(ds.y);
    assert_int_equal(ds.num_classes, 0);
    assert_int_equal(ds.count, 3);
    train_dataset_free(&ds);
}

static void test_idx_gz(void **state) {
    unsigned char img[64], lab[16];
    const char *ip = tu_write_gz("gz-images-idx3-ubyte.gz", img, idx_images(img));
    const char *lp = tu_write_gz("gz-labels-idx1-ubyte.gz", lab, idx_labels(lab));
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_idx(&ds, ip, lp, &err), DNAS_OK);
    check_idx(&ds);
    train_dataset_free(&ds);
}

static void test_idx_errors(void **state) {
    unsigned char img[64], lab[16];
    size_t il = idx_images(img), ll = idx_labels(lab);
    const char *lp = tu_write("e-labels", lab, ll);
    train_dataset ds;
    dnas_error err;

    const char *missing = tu_path("no-such-file");
    assert_int_equal(train_data_load_idx(&ds, missing, lp, &err), DNAS_ERR_IO);
    tu_msg_has(err.msg, missing, NULL);
    assert_null(ds.x);

    const char *cut = tu_write("e-cut-images", img, il - 5);
    assert_int_equal(train_data_load_idx(&ds, cut, lp, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, cut, "truncated", "expected 34 bytes", "got 29", NULL);
    assert_null(ds.x);

    const char *cut_hdr = tu_write("e-cut-header", img, 10);
    assert_int_equal(train_data_load_idx(&ds, cut_hdr, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, cut_hdr, "truncated", NULL);

    unsigned char bad[64];
    memcpy(bad, img, il);
    bad[0] = 0x50;
    const char *magic = tu_write("e-magic", bad, il);
    assert_int_equal(train_data_load_idx(&ds, magic, lp, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, magic, "not an IDX file", NULL);

    memcpy(bad, img, il);
    bad[2] = 0x0d; /* float data */
    const char *type = tu_write("e-type", bad, il);
    assert_int_equal(train_data_load_idx(&ds, type, lp, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, type, "0x0d", NULL);

    /* Images passed as labels: wrong number of dims. */
    const char *ip = tu_write("e-images", img, il);
    assert_int_equal(train_data_load_idx(&ds, ip, ip, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, ip, "3 dims, expected 1", NULL);

    /* 2 labels for 3 images. */
    unsigned char lab2[10] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 1};
    const char *l2 = tu_write("e-labels2", lab2, sizeof lab2);
    assert_int_equal(train_data_load_idx(&ds, ip, l2, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, l2, "2 labels for 3 images", NULL);
    assert_null(ds.x);

    /* Extra bytes after the data. */
    memcpy(bad, img, il);
    const char *extra = tu_write("e-extra", bad, il + 3);
    assert_int_equal(train_data_load_idx(&ds, extra, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, extra, "expected 34 bytes", NULL);

    /* A gzip stream cut short, and one with a corrupted deflate body. */
    const char *gz = tu_write_gz("e-images.gz", img, il);
    size_t gl;
    unsigned char *g = tu_read(gz, &gl);
    const char *gcut = tu_write("e-cut.gz", g, gl - 6);
    assert_int_equal(train_data_load_idx(&ds, gcut, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, gcut, "truncated", NULL);
    for (size_t i = 10; i < gl - 8; i++) g[i] ^= 0xa5;
    const char *gbad = tu_write("e-bad.gz", g, gl);
    assert_int_equal(train_data_load_idx(&ds, gbad, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, gbad, NULL);
    free(g);
    assert_null(ds.x);
}

/* ---- NPY -------------------------------------------------------------- */

/* Writes an NPY v1 (or v2) file: header padded so data starts at a
 * multiple of 64, as numpy does. */
static const char *npy_write(const char *name, int version, const char *descr, const char *shape,
                             const void *data, size_t len) {
    char dict[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, shape);
    size_t pre = version == 1 ? 10 : 12;
    size_t hlen = ((pre + (size_t)dl + 1 + 63) / 64) * 64 - pre;
    unsigned char *b = calloc(1, pre + hlen + len);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)version;
    b[7] = 0;
    b[8] = (unsigned char)(hlen & 0xff);
    b[9] = (unsigned char)(hlen >> 8);
    memset(b + pre, ' ', hlen);
    memcpy(b + pre, dict, (size_t)dl);
    b[pre + hlen - 1] = '\n';
    memcpy(b + pre + hlen, data, len);
    const char *p = tu_write(name, b, pre + hlen + len);
    free(b);
    return p;
}

static void test_npy_f4(void **state) {
    const float x[6] = {0.5f, -1.25f, 3.0f, 1e-3f, 42.0f, -0.0f};
    const int64_t y[2] = {2, 0};
    const char *xp = npy_write("f4_x.npy", 1, "<f4", "(2, 3)", x, sizeof x);
    const char *yp = npy_write("f4_y.npy", 2, "<i8", "(2,)", y, sizeof y);
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_npy(&ds, xp, yp, &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 1);
    assert_int_equal(ds.w, 3);
    assert_memory_equal(ds.x, x, sizeof x);
    assert_int_equal(ds.y[0], 2);
    assert_int_equal(ds.y[1], 0);
    assert_int_equal(ds.num_classes, 3);
    train_dataset_free(&ds);
}

static void test_npy_u1(void **state) {
    unsigned char x[8] = {0, 1, 2, 3, 250, 251, 254, 255};
    const double y[2] = {1.0, 5.0};
    const char *xp = npy_write("u1_x.npy", 1, "|u1", "(2, 2, 2)", x, sizeof x);
    const char *yp = npy_write("u1_y.npy", 1, "<f8", "(2,)", y, sizeof y);
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_npy(&ds, xp, yp, &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 2);
    assert_int_equal(ds.w, 2);
    for (int i = 0; i < 8; i++) assert_true(ds.x[i] == (float)x[i]); /* values as stored */
    assert_int_equal(ds.y[1], 5);
    assert_int_equal(ds.num_classes, 6);
    train_dataset_free(&ds);

    assert_int_equal(train_data_load_npy(&ds, xp, NULL, &err), DNAS_OK);
    assert_null(ds.y);
    assert_int_equal(ds.num_classes, 0);
    train_dataset_free(&ds);
}

static void test_npy_i8_4d(void **state) {
    const int64_t x[12] = {-3, 0, 7, 1000000, -1, 2, 3, 4, 5, 6, 7, 8};
    const int32_t y[1] = {9};
    const char *xp = npy_write("i8_x.npy", 1, "<i8", "(1, 3, 2, 2)", x, sizeof x);
    const char *yp = npy_write("i8_y.npy", 1, "<i4", "(1,)", y, sizeof y);
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_npy(&ds, xp, yp, &err), DNAS_OK);
    assert_int_equal(ds.count, 1);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 2);
    assert_int_equal(ds.w, 2);
    for (int i = 0; i < 12; i++) assert_true(ds.x[i] == (float)x[i]);
    assert_int_equal(ds.y[0], 9);
    train_dataset_free(&ds);

    /* 1-D x: (count) -> (count, 1, 1, 1). */
    const char *x1 = npy_write("i8_x1.npy", 1, "<i8", "(12,)", x, sizeof x);
    assert_int_equal(train_data_load_npy(&ds, x1, NULL, &err), DNAS_OK);
    assert_int_equal(ds.count, 12);
    assert_int_equal(ds.c * ds.h * ds.w, 1);
    assert_true(ds.x[3] == 1000000.0f);
    train_dataset_free(&ds);
}

static void test_npy_errors(void **state) {
    const float x[6] = {0};
    const int64_t y[3] = {0, -1, 2};
    train_dataset ds;
    dnas_error err;

    const char *c8 = npy_write("e_c8.npy", 1, "<c8", "(2, 3)", x, sizeof x);
    assert_int_equal(train_data_load_npy(&ds, c8, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, c8, "dtype '<c8' unsupported", NULL);

    const char *be = npy_write("e_be.npy", 1, ">f4", "(2, 3)", x, sizeof x);
    assert_int_equal(train_data_load_npy(&ds, be, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, be, "'>f4'", NULL);

    const char *cut = npy_write("e_cut.npy", 1, "<f4", "(2, 3)", x, sizeof x - 4);
    assert_int_equal(train_data_load_npy(&ds, cut, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, cut, "truncated", "expected 24 bytes", "got 20", NULL);

    const char *five = npy_write("e_5d.npy", 1, "<f4", "(1, 1, 2, 3, 1)", x, sizeof x);
    assert_int_equal(train_data_load_npy(&ds, five, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, five, "1 to 4", NULL);

    const char *magic = tu_write_str("e_magic.npy", "PK\x03\x04 not numpy at all");
    assert_int_equal(train_data_load_npy(&ds, magic, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, magic, "not an NPY file", NULL);

    const char *xp = npy_write("e_x.npy", 1, "<f4", "(3, 2)", x, sizeof x);
    const char *neg = npy_write("e_neg.npy", 1, "<i8", "(3,)", y, sizeof y);
    assert_int_equal(train_data_load_npy(&ds, xp, neg, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, neg, "label -1", "negative", NULL);
    assert_null(ds.x);
    assert_null(ds.y);

    const char *two = npy_write("e_two.npy", 1, "<i8", "(2,)", y, 2 * sizeof y[0]);
    assert_int_equal(train_data_load_npy(&ds, xp, two, &err), DNAS_ERR_SHAPE);
    tu_msg_has(err.msg, two, "2 labels for 3 samples", NULL);

    const double frac[3] = {0.0, 1.5, 2.0};
    const char *fr = npy_write("e_frac.npy", 1, "<f8", "(3,)", frac, sizeof frac);
    assert_int_equal(train_data_load_npy(&ds, xp, fr, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, fr, "1.5", "not an integer", NULL);

    assert_int_equal(train_data_load_npy(&ds, tu_path("nope.npy"), NULL, &err), DNAS_ERR_IO);
    tu_msg_has(err.msg, "nope.npy", NULL);
    assert_null(ds.x);
}

/* ---- CIFAR-10 ------------------------------------------------------- */

/* Record r: label labels[r], pixel k = (r * 7 + k) mod 256. */
static unsigned char *cifar_records(int n, const unsigned char *labels, size_t *len) {
    *len = (size_t)n * 3073;
    unsigned char *b = malloc(*len);
    for (int r = 0; r < n; r++) {
        b[(size_t)r * 3073] = labels[r];
        for (int k = 0; k < 3072; k++) b[(size_t)r * 3073 + 1 + k] = (unsigned char)(r * 7 + k);
    }
    return b;
}

static void test_cifar10(void **state) {
    const unsigned char l1[2] = {3, 9}, l2[1] = {0};
    size_t n1, n2;
    unsigned char *b1 = cifar_records(2, l1, &n1), *b2 = cifar_records(1, l2, &n2);
    const char *paths[2] = {tu_write("data_batch_1.bin", b1, n1),
                            tu_write("data_batch_2.bin", b2, n2)};
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_cifar10(&ds, paths, 2, &err), DNAS_OK);
    assert_int_equal(ds.count, 3);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 32);
    assert_int_equal(ds.w, 32);
    assert_int_equal(ds.num_classes, 10);
    assert_int_equal(ds.y[0], 3);
    assert_int_equal(ds.y[1], 9);
    assert_int_equal(ds.y[2], 0);
    /* Sample 1, green plane (c = 1), row 2, col 5: byte k = 1024 + 2*32 + 5. */
    int k = 1024 + 69;
    assert_true(ds.x[3072 + k] == (float)(unsigned char)(7 + k) / 255.0f);
    /* Sample 2 comes from the second file, record 0. */
    assert_true(ds.x[2 * 3072 + 10] == 10.0f / 255.0f);
    train_dataset_free(&ds);

    /* Truncated: one record and 100 bytes. */
    const char *cut = tu_write("cut_batch.bin", b1, 3073 + 100);
    const char *bad_paths[2] = {paths[0], cut};
    assert_int_equal(train_data_load_cifar10(&ds, bad_paths, 2, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, cut, "truncated", "3073-byte records", NULL);
    assert_null(ds.x);

    /* Label 10 in the second record. */
    b1[3073] = 10;
    const char *lab = tu_write("label_batch.bin", b1, n1);
    assert_int_equal(train_data_load_cifar10(&ds, &lab, 1, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, lab, "record 1", "label 10", NULL);
    assert_null(ds.x);

    const char *missing = tu_path("missing_batch.bin");
    assert_int_equal(train_data_load_cifar10(&ds, &missing, 1, &err), DNAS_ERR_IO);
    tu_msg_has(err.msg, missing, NULL);
    free(b1);
    free(b2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_raw),     cmocka_unit_test(test_idx_gz),
        cmocka_unit_test(test_idx_errors),  cmocka_unit_test(test_npy_f4),
        cmocka_unit_test(test_npy_u1),      cmocka_unit_test(test_npy_i8_4d),
        cmocka_unit_test(test_npy_errors),  cmocka_unit_test(test_cifar10),
    };
    return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
