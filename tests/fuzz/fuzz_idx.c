/* Fuzz target: the IDX reader (train_data_load_idx). Input = an images
 * file, optionally followed by FUZZ_SEP and a labels file; each is written
 * to a temporary file (gzip is detected from the bytes, as for real files). */
#include "data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const uint8_t *part[2];
    size_t len[2];
    int n = fuzz_split(data, size, part, len, 2);
    const char *images = fuzz_write("images.idx", part[0], len[0]);
    const char *labels = n > 1 ? fuzz_write("labels.idx", part[1], len[1]) : NULL;
    train_dataset ds;
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = train_data_load_idx(&ds, images, labels, &err);
    fuzz_check(st, &err, "train_data_load_idx");
    train_dataset_free(&ds);
    return 0;
}
