/* CIFAR-10 binary reader: each file is a sequence of 3073-byte records,
 * 1 label byte (0..9) then 3072 pixel bytes, 3×32×32 in CHW order (the red
 * plane, then green, then blue, each row-major). */
#include <string.h>

#include "data_internal.h"

enum { CIFAR_PIXELS = 3 * 32 * 32, CIFAR_RECORD = 1 + CIFAR_PIXELS, CIFAR_CLASSES = 10 };

dnas_status train_data_load_cifar10(train_dataset *ds, const char *const *paths, int npaths,
                                     dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    if (npaths <= 0) return dnas_fail(err, DNAS_ERR_CONFIG, "CIFAR-10: no files given");
    unsigned char **bufs = dnas_xcalloc((size_t)npaths, sizeof *bufs);
    size_t *lens = dnas_xcalloc((size_t)npaths, sizeof *lens);
    dnas_status st = DNAS_OK;
    uint64_t total = 0;
    for (int f = 0; f < npaths && st == DNAS_OK; f++) {
        st = train_data_read_file(paths[f], "CIFAR-10 binary records", &bufs[f], &lens[f], err);
        if (st != DNAS_OK) break;
        if (lens[f] % CIFAR_RECORD != 0) {
            st = dnas_fail(err, DNAS_ERR_FORMAT,
                            "%s: truncated: %zu bytes is not a whole number of %d-byte records "
                            "(%zu records + %zu bytes)",
                            paths[f], lens[f], CIFAR_RECORD, lens[f] / CIFAR_RECORD,
                            lens[f] % CIFAR_RECORD);
            break;
        }
        total += lens[f] / CIFAR_RECORD;
    }
    /* in memory: the files read (already held) and the dataset */
    uint64_t dims[4] = {total, 3, 32, 32}, per;
    size_t held = 0;
    for (int f = 0; f < npaths; f++) held += lens[f];
    char what[1200];
    snprintf(what, sizeof what, "%s%s", paths[0], npaths > 1 ? " and the other CIFAR-10 files" : "");
    if (st == DNAS_OK) st = train_data_check_shape(dims, 4, 4, held, what, &per, err);
    if (st == DNAS_OK) st = train_data_alloc(ds, (int)total, 3, 32, 32, 1, what, err);
    if (st == DNAS_OK) {
        int i = 0;
        for (int f = 0; f < npaths && st == DNAS_OK; f++) {
            size_t nrec = lens[f] / CIFAR_RECORD;
            for (size_t r = 0; r < nrec; r++, i++) {
                const unsigned char *rec = bufs[f] + r * CIFAR_RECORD;
                if (rec[0] >= CIFAR_CLASSES) {
                    st = dnas_fail(err, DNAS_ERR_FORMAT,
                                    "%s: record %zu has label %d, expected 0..%d", paths[f], r,
                                    rec[0], CIFAR_CLASSES - 1);
                    break;
                }
                ds->y[i] = rec[0];
                float *x = ds->x + (size_t)i * CIFAR_PIXELS;
                for (int k = 0; k < CIFAR_PIXELS; k++) x[k] = rec[1 + k] / 255.0f;
            }
        }
        if (st == DNAS_OK) {
            ds->num_classes = CIFAR_CLASSES;
        } else {
            train_dataset_free(ds);
        }
    }
    for (int f = 0; f < npaths; f++) free(bufs[f]);
    free(bufs);
    free(lens);
    return st;
}
