/* Fuzz target: the CIFAR-10 reader (train_data_load_cifar10). Input = up
 * to three batch files separated by FUZZ_SEP, each written to a temporary
 * file and loaded together. */
#include "data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const uint8_t *part[3];
    size_t len[3];
    int n = fuzz_split(data, size, part, len, 3);
    static const char *const NAMES[3] = {"batch0.bin", "batch1.bin", "batch2.bin"};
    const char *paths[3];
    for (int i = 0; i < n; i++)
        paths[i] = fuzz_write(NAMES[i], part[i], len[i]);
    train_dataset ds;
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = train_data_load_cifar10(&ds, paths, n, &err);
    fuzz_check(st, &err, "train_data_load_cifar10");
    train_dataset_free(&ds);
    return 0;
}
