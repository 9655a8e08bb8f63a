/* Mini-batches over a dataset (trainer.h): a per-epoch permutation seeded
 * by (seed, epoch) only, gathered into the iterator's own buffers; in order,
 * views into the dataset. */
#include "trainer.h"

#include <string.h>

void train_batches_init(train_batches *it, const train_dataset *ds, int batch, int shuffle,
                        uint64_t seed) {
    DNAS_ASSERT(batch > 0 && ds->count >= 0);
    memset(it, 0, sizeof *it);
    it->ds = ds;
    it->batch = batch;
    it->shuffle = shuffle;
    it->seed = seed;
    it->nbatches = ((long)ds->count + batch - 1) / batch;
    if (shuffle) {
        size_t sample = (size_t)ds->c * ds->h * ds->w;
        it->perm = dnas_xmalloc((size_t)ds->count * sizeof(int32_t));
        it->xbuf = dnas_xmalloc((size_t)batch * sample * sizeof(float));
        it->ybuf = dnas_xmalloc((size_t)batch * sizeof(int32_t));
    }
    train_batches_epoch(it, 0);
}

void train_batches_free(train_batches *it) {
    free(it->perm);
    free(it->xbuf);
    free(it->ybuf);
    memset(it, 0, sizeof *it);
}

void train_batches_epoch(train_batches *it, int epoch) {
    it->index = 0;
    it->n = 0;
    if (!it->shuffle) return;
    /* the order depends only on (seed, epoch): the constants keep the
     * shuffles of checkpoints written before this iterator existed */
    uint64_t rng = it->seed * 0x9E3779B97F4A7C15ull + (uint64_t)epoch * 0xBF58476D1CE4E5B9ull + 1;
    train_data_permutation(it->perm, it->ds->count, &rng);
}

int train_batches_next(train_batches *it) {
    const train_dataset *ds = it->ds;
    if (it->index >= it->nbatches) {
        it->n = 0;
        return 0;
    }
    int start = (int)(it->index * it->batch);
    int n = ds->count - start < it->batch ? ds->count - start : it->batch;
    it->index++;
    it->n = n;
    if (it->shuffle) {
        train_data_gather(it->xbuf, ds->y ? it->ybuf : NULL, ds, it->perm, start, n);
        it->x = it->xbuf;
        it->y = ds->y ? it->ybuf : NULL;
    } else {
        it->x = ds->x + (size_t)start * ds->c * ds->h * ds->w;
        it->y = ds->y ? ds->y + start : NULL;
    }
    return n;
}
