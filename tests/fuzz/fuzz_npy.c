/* Fuzz target: the NPY reader (train_data_load_npy). Input = an x file,
 * optionally followed by FUZZ_SEP and a y file, each written to a
 * temporary file. */
#include "data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const uint8_t *part[2];
    size_t len[2];
    int n = fuzz_split(data, size, part, len, 2);
    const char *x = fuzz_write("x.npy", part[0], len[0]);
    const char *y = n > 1 ? fuzz_write("y.npy", part[1], len[1]) : NULL;
    train_dataset ds;
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = train_data_load_npy(&ds, x, y, &err);
    fuzz_check(st, &err, "train_data_load_npy");
    train_dataset_free(&ds);
    return 0;
}
