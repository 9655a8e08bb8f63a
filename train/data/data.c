/* Dataset ownership, split, normalization, seeded permutation and batch
 * gathering (the readers' shared helpers are in data_read.c). */
#include "data.h"

#include <math.h>
#include <string.h>

#include "data_internal.h"

void train_dataset_free(train_dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

/* ---- randomness: splitmix64 (local; the engine's RNG lives in rng.c) -- */

static uint64_t data_splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias: reject the low 2^64 mod n values. */
static uint64_t data_below(uint64_t *state, uint64_t n) {
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = data_splitmix64(state);
        if (r >= threshold) return r % n;
    }
}

void train_data_permutation(int32_t *perm, int count, uint64_t *rng_state) {
    for (int i = 0; i < count; i++) perm[i] = i;
    for (int i = count - 1; i > 0; i--) {
        int j = (int)data_below(rng_state, (uint64_t)i + 1);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

void train_data_gather(float *x, int32_t *y, const train_dataset *ds, const int32_t *perm,
                       int start, int n) {
    // x (n, C, H, W), y (n)
    size_t per = (size_t)ds->c * ds->h * ds->w;
    for (int i = 0; i < n; i++) {
        int s = perm ? perm[start + i] : start + i;
        DNAS_ASSERT(s >= 0 && s < ds->count);
        memcpy(x + (size_t)i * per, ds->x + (size_t)s * per, per * sizeof *x);
        if (y) y[i] = ds->y ? ds->y[s] : 0;
    }
}

/* ---- reshaping, split, normalization -------------------------------- */

dnas_status train_data_to_rows(train_dataset *ds, dnas_error *err) {
    if (ds->c != 1) {
        return dnas_fail(err, DNAS_ERR_SHAPE,
                          "rows view needs a one-channel image dataset, got %d channels", ds->c);
    }
    int h = ds->h, w = ds->w;
    float *tmp = dnas_xmalloc((size_t)h * w * sizeof *tmp);
    for (int n = 0; n < ds->count; n++) {
        // img (H, W) -> img (W, H): channel = column, time = row
        float *img = ds->x + (size_t)n * h * w;
        memcpy(tmp, img, (size_t)h * w * sizeof *tmp);
        for (int r = 0; r < h; r++) {
            for (int col = 0; col < w; col++) img[(size_t)col * h + r] = tmp[(size_t)r * w + col];
        }
    }
    free(tmp);
    ds->c = w;
    ds->h = 1;
    ds->w = h;
    return DNAS_OK;
}

dnas_status train_data_split(train_dataset *src, train_dataset *dst, int count, uint64_t seed,
                              dnas_error *err) {
    memset(dst, 0, sizeof *dst);
    if (count <= 0 || count >= src->count) {
        return dnas_fail(err, DNAS_ERR_SHAPE,
                          "validation split of %d samples needs 0 < count < %d (dataset size)",
                          count, src->count);
    }
    int n = src->count, keep = n - count;
    size_t per = (size_t)src->c * src->h * src->w;
    /* the split copies the whole set once: count samples into dst, keep
     * samples into a new src (sizes bounded by the set already held) */
    uint64_t copy = (uint64_t)n * (per * sizeof(float) + (src->y ? sizeof(int32_t) : 0)) +
                    (uint64_t)n * sizeof(int32_t);
    dnas_status st = dnas_check_bytes(copy, "splitting off the validation set", err);
    if (st) return st;
    int32_t *perm = NULL;
    if (seed != 0) {
        perm = dnas_xmalloc((size_t)n * sizeof *perm);
        uint64_t state = seed;
        train_data_permutation(perm, n, &state);
    }
    st = train_data_alloc(dst, count, src->c, src->h, src->w, src->y != NULL, "the validation split", err);
    if (st) {
        free(perm);
        return st;
    }
    train_data_gather(dst->x, dst->y, src, perm, keep, count);
    dst->num_classes = src->num_classes;

    float *kx = dnas_xmalloc((size_t)keep * per * sizeof *kx);
    int32_t *ky = src->y ? dnas_xmalloc((size_t)keep * sizeof *ky) : NULL;
    train_data_gather(kx, ky, src, perm, 0, keep);
    free(src->x);
    free(src->y);
    free(perm);
    src->x = kx;
    src->y = ky;
    src->count = keep;
    return DNAS_OK;
}

void train_data_channel_stats(const train_dataset *ds, float *mean, float *std) {
    size_t hw = (size_t)ds->h * ds->w;
    double cnt = (double)ds->count * (double)hw;
    for (int c = 0; c < ds->c; c++) {
        /* Two passes (mean, then centred squares) in double: one-pass sums of
         * squares lose the variance for data far from zero. */
        double s = 0.0;
        for (int n = 0; n < ds->count; n++) {
            const float *p = ds->x + ((size_t)n * ds->c + c) * hw;
            for (size_t i = 0; i < hw; i++) s += p[i];
        }
        double m = cnt > 0 ? s / cnt : 0.0;
        double v = 0.0;
        for (int n = 0; n < ds->count; n++) {
            const float *p = ds->x + ((size_t)n * ds->c + c) * hw;
            for (size_t i = 0; i < hw; i++) v += (p[i] - m) * (p[i] - m);
        }
        double sd = cnt > 0 ? sqrt(v / cnt) : 0.0;
        mean[c] = (float)m;
        std[c] = sd < 1e-8 ? 1e-8f : (float)sd;
    }
}

void train_data_normalize(train_dataset *ds, const float *mean, const float *std) {
    size_t hw = (size_t)ds->h * ds->w;
    for (int n = 0; n < ds->count; n++) {
        for (int c = 0; c < ds->c; c++) {
            float *p = ds->x + ((size_t)n * ds->c + c) * hw;
            float m = mean[c], inv = 1.0f / std[c];
            for (size_t i = 0; i < hw; i++) p[i] = (p[i] - m) * inv;
        }
    }
}
