/* Fuzz target: the HDF5 dataset reader (train_data_load_hdf5). Input = one
 * HDF5 file, read as the train and the test split. libhdf5 itself is not
 * instrumented (no coverage feedback inside it, no ASan checks of its own
 * accesses); what this finds is in our reader or in how it calls libhdf5. */
#include "data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const char *path = fuzz_write("data.h5", data, size);
    static const char *const SPLITS[] = {"train", "test"};
    for (int i = 0; i < 2; i++) {
        train_dataset ds;
        dnas_error err;
        err.msg[0] = 0;
        dnas_status st = train_data_load_hdf5(&ds, path, SPLITS[i], &err);
        fuzz_check(st, &err, "train_data_load_hdf5");
        train_dataset_free(&ds);
    }
    return 0;
}
