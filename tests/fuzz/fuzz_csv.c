/* Fuzz target: the CSV reader (train_data_load_csv). Input = one CSV file,
 * read with the label in the last column, in the second column and with
 * no label, each with and without a header line. */
#include "data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const char *path = fuzz_write("data.csv", data, size);
    static const int LABEL_COLS[] = {-1, 1, TRAIN_DATA_NO_LABEL};
    for (int i = 0; i < 6; i++) {
        train_dataset ds;
        dnas_error err;
        err.msg[0] = 0;
        dnas_status st = train_data_load_csv(&ds, path, LABEL_COLS[i % 3], i / 3, &err);
        fuzz_check(st, &err, "train_data_load_csv");
        train_dataset_free(&ds);
    }
    return 0;
}
