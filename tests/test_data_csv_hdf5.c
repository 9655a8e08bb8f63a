/* CSV and HDF5 dataset readers on small files written here: exact values,
 * header lines, label column choice, and errors naming file and line. */
#include "data_test_util.h"

#include <hdf5.h>

#include "data.h"

/* ---- CSV -------------------------------------------------------------- */

static void test_csv_header_last_label(void **state) {
    const char *p = tu_write_str("h.csv", "a,b,c,label\r\n"
                                          "0.5, -1, 2e3,1\r\n"
                                          "\r\n"
                                          "4,5,6,0\r\n"
                                          "7,8,9.25,3");
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_csv(&ds, p, -1, 1, &err), DNAS_OK);
    assert_int_equal(ds.count, 3);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 1);
    assert_int_equal(ds.w, 3);
    const float want[9] = {0.5f, -1, 2000, 4, 5, 6, 7, 8, 9.25f};
    assert_memory_equal(ds.x, want, sizeof want);
    assert_int_equal(ds.y[0], 1);
    assert_int_equal(ds.y[1], 0);
    assert_int_equal(ds.y[2], 3);
    assert_int_equal(ds.num_classes, 4);
    train_dataset_free(&ds);
}

static void test_csv_no_header_first_label(void **state) {
    const char *text = "2,0.25,0.5\n0,1,1.5\n";
    const char *p = tu_write_str("n.csv", text);
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_csv(&ds, p, 0, 0, &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.w, 2);
    const float want[4] = {0.25f, 0.5f, 1, 1.5f};
    assert_memory_equal(ds.x, want, sizeof want);
    assert_int_equal(ds.y[0], 2);
    assert_int_equal(ds.y[1], 0);
    train_dataset_free(&ds);

    /* No label column: every column is a feature. */
    assert_int_equal(train_data_load_csv(&ds, p, TRAIN_DATA_NO_LABEL, 0, &err), DNAS_OK);
    assert_int_equal(ds.w, 3);
    assert_null(ds.y);
    assert_int_equal(ds.num_classes, 0);
    assert_true(ds.x[3] == 0.0f && ds.x[5] == 1.5f);
    train_dataset_free(&ds);

    /* Gzipped: same result. */
    const char *gz = tu_write_gz("n.csv.gz", text, strlen(text));
    assert_int_equal(train_data_load_csv(&ds, gz, 0, 0, &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    assert_memory_equal(ds.x, want, sizeof want);
    train_dataset_free(&ds);
}

static void test_csv_errors(void **state) {
    train_dataset ds;
    dnas_error err;
    const char *cols = tu_write_str("cols.csv", "x,y,z\n1,2,3\n4,5,6\n7,8\n");
    assert_int_equal(train_data_load_csv(&ds, cols, -1, 1, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "cols.csv:4: expected 3 columns, found 2", NULL);
    assert_null(ds.x);

    const char *nan = tu_write_str("nan.csv", "1,2,3\n4,five,6\n");
    assert_int_equal(train_data_load_csv(&ds, nan, -1, 0, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "nan.csv:2: column 2: 'five' is not a number", NULL);
    assert_null(ds.x);

    /* Two non-numeric lines: one header, the second is data. */
    const char *hh = tu_write_str("hh.csv", "a,b\nc,d\n1,2\n");
    assert_int_equal(train_data_load_csv(&ds, hh, -1, 1, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "hh.csv:2: column 1: 'c' is not a number", NULL);
    if (strstr(err.msg, "header")) fail_msg("%s", err.msg);

    const char *empty = tu_write_str("empty.csv", "1,2,3\n4,,6\n");
    assert_int_equal(train_data_load_csv(&ds, empty, -1, 0, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "empty.csv:2: column 2", NULL);

    const char *neg = tu_write_str("neg.csv", "1,2,0\n4,5,-1\n");
    assert_int_equal(train_data_load_csv(&ds, neg, -1, 0, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "neg.csv:2: label -1", "negative", NULL);
    assert_null(ds.x);

    const char *frac = tu_write_str("frac.csv", "1,2,0.5\n");
    assert_int_equal(train_data_load_csv(&ds, frac, -1, 0, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "frac.csv:1: label 0.5", NULL);

    const char *ok = tu_write_str("ok.csv", "1,2,0\n");
    assert_int_equal(train_data_load_csv(&ds, ok, 3, 0, &err), DNAS_ERR_CONFIG);
    tu_msg_has(err.msg, "ok.csv", "label column 3 out of range for 3 columns", NULL);
    assert_int_equal(train_data_load_csv(&ds, ok, -4, 0, &err), DNAS_ERR_CONFIG);

    const char *hdr = tu_write_str("hdr.csv", "a,b,c\n\n");
    assert_int_equal(train_data_load_csv(&ds, hdr, -1, 1, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "hdr.csv", "no data rows", NULL);

    assert_int_equal(train_data_load_csv(&ds, tu_path("none.csv"), -1, 0, &err), DNAS_ERR_IO);
    tu_msg_has(err.msg, "none.csv", NULL);
    assert_null(ds.x);
}

/* A header line is read only when the caller says so: without header a
 * non-numeric first line is an error naming line 1 (never dropped
 * silently); with it the first non-blank line goes, numeric or not. */
static void test_csv_header_explicit(void **state) {
    train_dataset ds;
    dnas_error err;
    const char *named = tu_write_str("named.csv", "\nx1,x2,label\n1,2,0\n3,4,1\n");
    assert_int_equal(train_data_load_csv(&ds, named, -1, 0, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, "named.csv:2: column 1: 'x1' is not a number (a header line? set header: true", NULL);
    assert_null(ds.x);
    assert_int_equal(train_data_load_csv(&ds, named, -1, 1, &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    train_dataset_free(&ds);

    const char *numeric = tu_write_str("numeric.csv", "0,1,2\n5,6,1\n7,8,0\n");
    assert_int_equal(train_data_load_csv(&ds, numeric, -1, 1, &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    assert_true(ds.x[0] == 5.0f);
    train_dataset_free(&ds);
    assert_int_equal(train_data_load_csv(&ds, numeric, -1, 0, &err), DNAS_OK);
    assert_int_equal(ds.count, 3);
    train_dataset_free(&ds);
}

/* The real sklearn digits set, when installed: 1797 rows of 64 pixels
 * (0..16) and a label 0..9 in the last column, gzipped, no header. */
static void test_csv_sklearn_digits(void **state) {
    const char *p = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
    if (access(p, R_OK) != 0) skip();
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_csv(&ds, p, -1, 0, &err), DNAS_OK);
    assert_int_equal(ds.count, 1797);
    assert_int_equal(ds.w, 64);
    assert_int_equal(ds.num_classes, 10);
    for (int i = 0; i < 1797 * 64; i++) assert_true(ds.x[i] >= 0.0f && ds.x[i] <= 16.0f);
    train_dataset_free(&ds);
}

/* ---- HDF5 ------------------------------------------------------------- */

static void h5_put(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims,
                   const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(space);
}

/* /train/x float (3,2,2), /train/y int64 (3); /test/x uint8 (2,3), /test/y
 * int32 (2); /bad/x float (2,2) with /bad/y missing. */
static const char *h5_write(void) {
    const char *p = tu_path("d.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    const char *groups[3] = {"/train", "/test", "/bad"};
    for (int i = 0; i < 3; i++) {
        hid_t g = H5Gcreate2(f, groups[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Gclose(g);
    }
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = 0.25f * (float)i - 1.0f;
    const int64_t y[3] = {1, 0, 2};
    const unsigned char tx[6] = {0, 1, 2, 200, 254, 255};
    const int32_t ty[2] = {4, 4};
    hsize_t d3[3] = {3, 2, 2}, d1[1] = {3}, t2[2] = {2, 3}, t1[1] = {2}, b2[2] = {2, 2};
    h5_put(f, "/train/x", H5T_NATIVE_FLOAT, 3, d3, x);
    h5_put(f, "/train/y", H5T_NATIVE_INT64, 1, d1, y);
    h5_put(f, "/test/x", H5T_NATIVE_UCHAR, 2, t2, tx);
    h5_put(f, "/test/y", H5T_NATIVE_INT32, 1, t1, ty);
    h5_put(f, "/bad/x", H5T_NATIVE_FLOAT, 2, b2, x);
    H5Fclose(f);
    return p;
}

static void test_hdf5(void **state) {
    const char *p = h5_write();
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_hdf5(&ds, p, "train", &err), DNAS_OK);
    assert_int_equal(ds.count, 3);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 2);
    assert_int_equal(ds.w, 2);
    for (int i = 0; i < 12; i++) assert_true(ds.x[i] == 0.25f * (float)i - 1.0f);
    assert_int_equal(ds.y[0], 1);
    assert_int_equal(ds.y[2], 2);
    assert_int_equal(ds.num_classes, 3);
    train_dataset_free(&ds);

    assert_int_equal(train_data_load_hdf5(&ds, p, "test", &err), DNAS_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.w, 3);
    assert_true(ds.x[3] == 200.0f && ds.x[5] == 255.0f);
    assert_int_equal(ds.y[1], 4);
    assert_int_equal(ds.num_classes, 5);
    train_dataset_free(&ds);
}

static void test_hdf5_errors(void **state) {
    const char *p = h5_write();
    train_dataset ds;
    dnas_error err;
    assert_int_equal(train_data_load_hdf5(&ds, p, "bad", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, p, "no dataset /bad/y", NULL);
    assert_null(ds.x);

    assert_int_equal(train_data_load_hdf5(&ds, p, "valid", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, p, "no dataset /valid", NULL);

    const char *txt = tu_write_str("not.h5", "just text, not HDF5\n");
    assert_int_equal(train_data_load_hdf5(&ds, txt, "train", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, txt, "not an HDF5 file", NULL);

    /* An HDF5 file cut in half. */
    size_t len;
    unsigned char *b = tu_read(p, &len);
    const char *cut = tu_write("cut.h5", b, len / 2);
    free(b);
    assert_int_not_equal(train_data_load_hdf5(&ds, cut, "train", &err), DNAS_OK);
    tu_msg_has(err.msg, cut, NULL);
    assert_null(ds.x);

    const char *missing = tu_path("missing.h5");
    assert_int_equal(train_data_load_hdf5(&ds, missing, "train", &err), DNAS_ERR_IO);
    tu_msg_has(err.msg, missing, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_header_last_label),
        cmocka_unit_test(test_csv_no_header_first_label),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_header_explicit),
        cmocka_unit_test(test_csv_sklearn_digits),
        cmocka_unit_test(test_hdf5),
        cmocka_unit_test(test_hdf5_errors),
    };
    return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
