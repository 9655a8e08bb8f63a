/* Every dataset reader on what a header can claim and what a path can be:
 * sizes beyond the machine's memory (errors naming the file, the HDF5
 * dataset and the bytes, before anything is allocated), shape products
 * past 2^63, datasets declared but never written, directories and empty
 * files. DNAS_MEMORY_LIMIT stands in for a small machine. */
#include "data_test_util.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>

#include "data.h"

/* IDX image header declaring count x rows x cols, no data after it. */
static const char *idx_header(const char *name, uint32_t count, uint32_t rows, uint32_t cols) {
    const uint32_t d[3] = {count, rows, cols};
    unsigned char b[16] = {0, 0, 8, 3};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * i + k] = (unsigned char)(d[i] >> (24 - 8 * k));
    return tu_write(name, b, sizeof b);
}

/* NPY v1 header with the given shape text and no data. */
static const char *npy_header(const char *name, const char *shape) {
    char b[128];
    int n = snprintf(b + 10, sizeof b - 10,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
    while (n < 117)
        b[10 + n++] = ' ';
    b[10 + n - 1] = '\n';
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (char)n;
    b[9] = 0;
    return tu_write(name, b, 10 + (size_t)n);
}

static void test_idx_npy_huge_headers(void **state) {
    train_dataset ds;
    dnas_error err;
    /* 2^31 - 1 images of 28 x 28 in a 16-byte file: 6.7 TB as floats */
    const char *idx = idx_header("huge-idx3", 0x7fffffff, 28, 28);
    assert_int_equal(train_data_load_idx(&ds, idx, NULL, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, idx, "IDX image data of shape (2147483647, 28, 28) would need",
               "bytes of memory", NULL);
    assert_null(ds.x);

    const char *npy = npy_header("huge.npy", "(3000000000, 28, 28)");
    assert_int_equal(train_data_load_npy(&ds, npy, NULL, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, npy, "NPY array of shape (3000000000, 28, 28) would need", NULL);

    /* a product past 2^63 is no wrap-around into a small allocation */
    const char *wrap = npy_header("wrap.npy", "(4294967296, 4294967296, 4294967296)");
    assert_int_equal(train_data_load_npy(&ds, wrap, NULL, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, wrap, "more than 2^63 bytes", NULL);
    const char *big = npy_header("big.npy", "(99999999999999999999999, 2)");
    assert_int_equal(train_data_load_npy(&ds, big, NULL, &err), DNAS_ERR_NOMEM);

    /* within memory, but the file holds less than the header says */
    const char *cut = idx_header("cut-idx3", 100, 28, 28);
    assert_int_equal(train_data_load_idx(&ds, cut, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, cut, "truncated: expected 78416 bytes", NULL);
    const char *zero = npy_header("zero.npy", "(0, 3)");
    assert_int_equal(train_data_load_npy(&ds, zero, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, zero, "shape (0, 3) has a zero dim", NULL);
    assert_null(ds.x);
}

/* A real small file on a machine with less memory than it needs. */
static void test_small_machine(void **state) {
    train_dataset ds, val;
    dnas_error err;
    unsigned char rec[2 * 3073] = {0};
    const char *cifar = tu_write("two_records.bin", rec, sizeof rec);
    setenv("DNAS_MEMORY_LIMIT", "20000", 1);
    assert_int_equal(train_data_load_cifar10(&ds, &cifar, 1, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, cifar, "of shape (2, 3, 32, 32) would need 30,730 bytes", "20,000 bytes",
               NULL);
    setenv("DNAS_MEMORY_LIMIT", "4000", 1);
    assert_int_equal(train_data_load_cifar10(&ds, &cifar, 1, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, "reading", cifar, "would need 6,147 bytes", NULL);
    unsetenv("DNAS_MEMORY_LIMIT");
    assert_int_equal(train_data_load_cifar10(&ds, &cifar, 1, &err), DNAS_OK);
    /* the validation split copies the set once */
    setenv("DNAS_MEMORY_LIMIT", "20000", 1);
    assert_int_equal(train_data_split(&ds, &val, 1, 1, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, "validation", "would need", NULL);
    unsetenv("DNAS_MEMORY_LIMIT");
    assert_int_equal(ds.count, 2);
    assert_null(val.x);
    train_dataset_free(&ds);

    /* CSV: the rows (as floats) count too */
    char text[4000] = "";
    for (int i = 0; i < 200; i++)
        strcat(text, "1,2,3,4,0\n");
    const char *csv = tu_write_str("rows.csv", text);
    setenv("DNAS_MEMORY_LIMIT", "3000", 1);
    assert_int_equal(train_data_load_csv(&ds, csv, -1, 0, &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, csv, "would need", NULL);
    unsetenv("DNAS_MEMORY_LIMIT");
    assert_null(ds.x);
}

/* /train/x (count, 28, 28) and /train/y (count), chunked and never written. */
static const char *h5_declared(const char *name, hsize_t count) {
    const char *p = tu_path(name);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Gclose(H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    hsize_t dx[3] = {count, 28, 28}, cx[3] = {1, 28, 28}, dy[1] = {count}, cy[1] = {1};
    hid_t px = H5Pcreate(H5P_DATASET_CREATE), py = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(px, 3, cx);
    H5Pset_chunk(py, 1, cy);
    hid_t sx = H5Screate_simple(3, dx, NULL), sy = H5Screate_simple(1, dy, NULL);
    H5Dclose(H5Dcreate2(f, "/train/x", H5T_IEEE_F32LE, sx, H5P_DEFAULT, px, H5P_DEFAULT));
    H5Dclose(H5Dcreate2(f, "/train/y", H5T_STD_I32LE, sy, H5P_DEFAULT, py, H5P_DEFAULT));
    H5Sclose(sx);
    H5Sclose(sy);
    H5Pclose(px);
    H5Pclose(py);
    H5Fclose(f);
    return p;
}

static void test_hdf5_declared_not_held(void **state) {
    train_dataset ds;
    dnas_error err;
    const char *huge = h5_declared("huge.h5", 2000000000);
    assert_int_equal(train_data_load_hdf5(&ds, huge, "train", &err), DNAS_ERR_NOMEM);
    tu_msg_has(err.msg, huge, "dataset /train/x of shape (2000000000, 28, 28) would need", NULL);
    assert_null(ds.x);
    /* small, but nothing written: no silent training on fill values */
    const char *unwritten = h5_declared("unwritten.h5", 5);
    assert_int_equal(train_data_load_hdf5(&ds, unwritten, "train", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, unwritten, "dataset /train/x has none of its data written", NULL);
    assert_null(ds.x);
    int has = -1;
    assert_int_equal(train_data_hdf5_has_split(unwritten, "train", &has, &err), DNAS_OK);
    assert_int_equal(has, 1);
    assert_int_equal(train_data_hdf5_has_split(unwritten, "test", &has, &err), DNAS_OK);
    assert_int_equal(has, 0);
}

/* NaN or infinite values (also a float64 beyond float32) would only show
 * up as a NaN loss: they are errors naming the file and the sample. */
static void test_non_finite(void **state) {
    train_dataset ds;
    dnas_error err;
    char b[128 + 16];
    const char *p = npy_header("nan.npy", "(2, 2)");
    FILE *f = fopen(p, "rb");
    size_t n = fread(b, 1, 128, f);
    fclose(f);
    const float x[4] = {1, 2, 3, NAN};
    memcpy(b + n, x, sizeof x);
    p = tu_write("nan.npy", b, n + sizeof x);
    assert_int_equal(train_data_load_npy(&ds, p, NULL, &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, p, "value 1 of sample 1 is NaN", NULL);
    assert_null(ds.x);

    const char *h5 = tu_path("inf.h5");
    hid_t file = H5Fcreate(h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(file, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const double xd[3] = {0, 1e300, 2};
    const int32_t yd[3] = {0, 1, 0};
    hsize_t d[1] = {3};
    hid_t s = H5Screate_simple(1, d, NULL);
    hid_t dx = H5Dcreate2(file, "/train/x", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(file, "/train/y", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dx, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xd);
    H5Dwrite(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, yd);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(s);
    H5Fclose(file);
    assert_int_equal(train_data_load_hdf5(&ds, h5, "train", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, h5, "value 0 of sample 1 is infinite as float32", NULL);
    assert_null(ds.x);
}

/* Every reader on a directory, an empty file and an empty gzip stream. */
static void test_directory_and_empty(void **state) {
    train_dataset ds;
    dnas_error err;
    const char *empty = tu_write("empty.bin", "", 0);
    const char *gz = tu_write_gz("empty.gz", "", 0);
    const char *paths[3] = {tu_dir, empty, gz};
    const dnas_status want[3] = {DNAS_ERR_IO, DNAS_ERR_FORMAT, DNAS_ERR_FORMAT};
    const char *frag[3] = {"is a directory, expected", "the file is empty, expected", "no data"};
    for (int i = 0; i < 3; i++) {
        const char *p = paths[i];
        assert_int_equal(train_data_load_idx(&ds, p, NULL, &err), want[i]);
        tu_msg_has(err.msg, p, frag[i], NULL);
        assert_int_equal(train_data_load_npy(&ds, p, NULL, &err), want[i]);
        tu_msg_has(err.msg, p, frag[i], NULL);
        assert_int_equal(train_data_load_csv(&ds, p, -1, 0, &err), want[i]);
        tu_msg_has(err.msg, p, frag[i], NULL);
        assert_int_equal(train_data_load_cifar10(&ds, &p, 1, &err), want[i]);
        tu_msg_has(err.msg, p, frag[i], NULL);
        assert_null(ds.x);
    }
    /* HDF5 reads no gzip: the empty stream is a short non-HDF5 file */
    assert_int_equal(train_data_load_hdf5(&ds, tu_dir, "train", &err), DNAS_ERR_IO);
    tu_msg_has(err.msg, tu_dir, "is a directory, expected an HDF5 file", NULL);
    assert_int_equal(train_data_load_hdf5(&ds, empty, "train", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, empty, "the file is empty, expected an HDF5 file", NULL);
    assert_int_equal(train_data_load_hdf5(&ds, gz, "train", &err), DNAS_ERR_FORMAT);
    tu_msg_has(err.msg, gz, "not an HDF5 file", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_npy_huge_headers),
        cmocka_unit_test(test_small_machine),
        cmocka_unit_test(test_hdf5_declared_not_held),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_directory_and_empty),
    };
    return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
