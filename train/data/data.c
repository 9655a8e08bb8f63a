/* Dataset ownership, split, normalization, seeded permutation and batch
 * gathering, plus the helpers the readers share (data_internal.h). */
#include "data.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "data_internal.h"

void train_dataset_free(train_dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

/* ---- helpers for the readers ---------------------------------------- */

dnas_status train_data_read_file(const char *path, unsigned char **buf, size_t *len,
                                  dnas_error *err) {
    *buf = NULL;
    *len = 0;
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : "out of memory");
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = dnas_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            unsigned char *q = realloc(p, cap);
            if (!q) {
                free(p);
                gzclose(f);
                return dnas_fail(err, DNAS_ERR_NOMEM, "%s: out of memory reading the file",
                                  path);
            }
            p = q;
        }
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f, p + n, (unsigned)want);
        if (got < 0) {
            int errnum = 0;
            const char *msg = gzerror(f, &errnum);
            dnas_status st = errnum == Z_ERRNO
                                  ? dnas_fail(err, DNAS_ERR_IO, "%s: read error: %s", path,
                                               strerror(errno))
                                  : dnas_fail(err, DNAS_ERR_FORMAT,
                                               "%s: corrupt gzip data: %s", path, msg);
            free(p);
            gzclose(f);
            return st;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    /* gzclose_r reports a gzip stream that ended mid-way as Z_BUF_ERROR. */
    int rc = gzclose(f);
    if (rc != Z_OK) {
        free(p);
        if (rc == Z_BUF_ERROR) {
            return dnas_fail(err, DNAS_ERR_FORMAT,
                              "%s: truncated: gzip stream ends early (after %zu bytes inflated)",
                              path, n);
        }
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: corrupt gzip data (zlib error %d)", path,
                          rc);
    }
    *buf = p;
    *len = n;
    return DNAS_OK;
}

void train_data_alloc(train_dataset *ds, int count, int c, int h, int w, int labels) {
    memset(ds, 0, sizeof *ds);
    ds->count = count;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->x = dnas_xcalloc((size_t)count * c * h * w, sizeof *ds->x);
    if (labels) ds->y = dnas_xcalloc((size_t)count, sizeof *ds->y);
}

dnas_status train_data_label_i64(train_dataset *ds, int i, int64_t v, const char *path,
                                  dnas_error *err) {
    if (v < 0) {
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: label %lld of sample %d is negative", path,
                          (long long)v, i);
    }
    if (v >= TRAIN_DATA_MAX_CLASSES) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: label %lld of sample %d is out of range (at most %d classes)",
                          path, (long long)v, i, TRAIN_DATA_MAX_CLASSES);
    }
    ds->y[i] = (int32_t)v;
    return DNAS_OK;
}

dnas_status train_data_label_f64(train_dataset *ds, int i, double v, const char *path,
                                  dnas_error *err) {
    if (!isfinite(v) || v != floor(v)) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: label %g of sample %d is not an integer class", path, v, i);
    }
    if (v < 0) {
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: label %g of sample %d is negative", path, v,
                          i);
    }
    return train_data_label_i64(ds, i, v >= 9e18 ? INT64_MAX : (int64_t)v, path, err);
}

void train_data_finish_labels(train_dataset *ds) {
    ds->num_classes = 0;
    if (!ds->y) return;
    for (int i = 0; i < ds->count; i++) {
        if (ds->y[i] + 1 > ds->num_classes) ds->num_classes = ds->y[i] + 1;
    }
}

int train_data_dims_ok(const uint64_t *dims, int n, uint64_t *per_sample) {
    uint64_t per = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] == 0 || dims[i] > INT_MAX) return 0;
        if (i > 0) {
            per *= dims[i];
            if (per > INT_MAX) return 0;
        }
    }
    /* Total elements as float must be addressable: count * per < 2^62. */
    if (per > (UINT64_C(1) << 62) / dims[0]) return 0;
    *per_sample = per;
    return 1;
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
    int32_t *perm = NULL;
    if (seed != 0) {
        perm = dnas_xmalloc((size_t)n * sizeof *perm);
        uint64_t state = seed;
        train_data_permutation(perm, n, &state);
    }
    train_data_alloc(dst, count, src->c, src->h, src->w, src->y != NULL);
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
