/* What every dataset reader shares (data_internal.h): opening and reading
 * a file, checking the shape a header declares before anything is
 * allocated for it, allocating the dataset, and storing labels. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data_internal.h"

/* The folders of the datasets Debian packages (docs/train.md "Data
 * formats"): a missing file in one of them names the package to install. */
static const struct {
    const char *dir, *package;
} PACKAGED[] = {
    {"/usr/share/datasets/fashion-mnist/", "dataset-fashion-mnist"},
    {"/usr/lib/python3/dist-packages/sklearn/datasets/data/", "python3-sklearn"},
    {"/usr/lib/python3/dist-packages/scipy/misc/", "python3-scipy"},
};

dnas_status train_data_check_path(const char *path, const char *expected, long long *size,
                                  dnas_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        for (size_t i = 0; e == ENOENT && i < sizeof PACKAGED / sizeof PACKAGED[0]; i++)
            if (!strncmp(path, PACKAGED[i].dir, strlen(PACKAGED[i].dir)))
                return dnas_fail(err, DNAS_ERR_IO,
                                 "%s: cannot open: %s; %s comes with the Debian package %s "
                                 "(apt-get install %s)",
                                 path, strerror(e), PACKAGED[i].dir, PACKAGED[i].package, PACKAGED[i].package);
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode))
        return dnas_fail(err, DNAS_ERR_IO, "%s: is a directory, expected %s", path, expected);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: the file is empty, expected %s", path,
                         expected);
    if (size) *size = S_ISREG(sb.st_mode) ? (long long)sb.st_size : -1;
    return DNAS_OK;
}

/* Grows *p to cap bytes unless that is more than the machine holds. */
static dnas_status read_grow(unsigned char **p, size_t cap, const char *path, dnas_error *err) {
    char what[1200];
    snprintf(what, sizeof what, "reading %s", path);
    dnas_status st = dnas_check_bytes(cap, what, err);
    if (st) return st;
    unsigned char *q = realloc(*p, cap);
    if (!q) return dnas_fail(err, DNAS_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap);
    *p = q;
    return DNAS_OK;
}

dnas_status train_data_read_file(const char *path, const char *expected, unsigned char **buf,
                                 size_t *len, dnas_error *err) {
    *buf = NULL;
    *len = 0;
    long long size;
    dnas_status st = train_data_check_path(path, expected, &size, err);
    if (st) return st;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    errno = 0;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return dnas_fail(err, DNAS_ERR_NOMEM, "%s: out of memory opening the file", path);
    }
    /* a plain file needs exactly its size (+1 to see its end); gzip grows */
    size_t cap = size >= 0 ? (size_t)size + 1 : (size_t)1 << 16, n = 0;
    unsigned char *p = NULL;
    st = read_grow(&p, cap, path, err);
    while (st == DNAS_OK) {
        if (n == cap) {
            cap *= 2;
            if ((st = read_grow(&p, cap, path, err))) break;
        }
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f, p + n, (unsigned)want);
        if (got < 0) {
            int errnum = 0;
            const char *msg = gzerror(f, &errnum);
            st = errnum == Z_ERRNO
                     ? dnas_fail(err, DNAS_ERR_IO, "%s: read error: %s", path, strerror(errno))
                     : dnas_fail(err, DNAS_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
        }
        if (got <= 0) break;
        n += (size_t)got;
    }
    /* gzclose_r reports a gzip stream that ended mid-way as Z_BUF_ERROR. */
    int rc = gzclose(f);
    if (st == DNAS_OK && rc == Z_BUF_ERROR)
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                       "%s: truncated: gzip stream ends early (after %zu bytes inflated)", path, n);
    else if (st == DNAS_OK && rc != Z_OK)
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: corrupt gzip data (zlib error %d)", path, rc);
    else if (st == DNAS_OK && n == 0)
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: no data (an empty gzip stream), expected %s",
                       path, expected);
    if (st) {
        free(p);
        return st;
    }
    *buf = p;
    *len = n;
    return DNAS_OK;
}

/* "(a, b, c)" */
static const char *fmt_dims(char *buf, size_t len, const uint64_t *dims, int n) {
    int o = snprintf(buf, len, "(");
    for (int i = 0; i < n && o < (int)len; i++)
        o += snprintf(buf + o, len - (size_t)o, "%s%llu", i ? ", " : "",
                      (unsigned long long)dims[i]);
    if (o < (int)len) snprintf(buf + o, len - (size_t)o, ")");
    return buf;
}

dnas_status train_data_check_shape(const uint64_t *dims, int n, int label_bytes,
                                   uint64_t extra_bytes, const char *what, uint64_t *per_sample,
                                   dnas_error *err) {
    char shape[200];
    fmt_dims(shape, sizeof shape, dims, n);
    int64_t per = 1, bytes = 0;
    int ok = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] == 0)
            return dnas_fail(err, DNAS_ERR_FORMAT,
                             "%s: shape %s has a zero dim: expected at least one sample of "
                             "at least one value",
                             what, shape);
        if (i > 0) ok &= dims[i] <= INT64_MAX && !dnas_mul64(per, (int64_t)dims[i], &per);
    }
    /* in memory: count x (per float32 values + label_bytes) + extra_bytes */
    int64_t sample_bytes;
    ok = ok && dims[0] <= INT64_MAX && !dnas_mul64(per, 4, &sample_bytes) &&
         !dnas_add64(sample_bytes, label_bytes, &sample_bytes) &&
         !dnas_mul64((int64_t)dims[0], sample_bytes, &bytes) && extra_bytes <= INT64_MAX &&
         !dnas_add64(bytes, (int64_t)extra_bytes, &bytes);
    char full[1400], lim[32];
    snprintf(full, sizeof full, "%s of shape %s", what, shape);
    if (!ok)
        return dnas_fail(err, DNAS_ERR_NOMEM,
                         "%s would need more than 2^63 bytes, more than this machine's %s "
                         "bytes of memory",
                         full, dnas_fmt_thousands((double)dnas_memory_limit(), lim, sizeof lim));
    dnas_status st = dnas_check_bytes((uint64_t)bytes, full, err);
    if (st) return st;
    if (dims[0] > INT_MAX || per > INT_MAX)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: shape %s: at most %d samples of at most %d values "
                         "are supported",
                         what, shape, INT_MAX, INT_MAX);
    *per_sample = (uint64_t)per;
    return DNAS_OK;
}

dnas_status train_data_alloc(train_dataset *ds, int count, int c, int h, int w, int labels,
                             const char *what, dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    uint64_t dims[4] = {(uint64_t)count, (uint64_t)c, (uint64_t)h, (uint64_t)w}, per;
    dnas_status st = train_data_check_shape(dims, 4, labels ? 4 : 0, 0, what, &per, err);
    if (st) return st;
    ds->count = count;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->x = dnas_xcalloc((size_t)count * per, sizeof *ds->x);
    if (labels) ds->y = dnas_xcalloc((size_t)count, sizeof *ds->y);
    return DNAS_OK;
}

dnas_status train_data_label_i64(train_dataset *ds, int i, int64_t v, const char *path,
                                 dnas_error *err) {
    if (v < 0)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: label %lld of sample %d is negative", path,
                         (long long)v, i);
    if (v >= TRAIN_DATA_MAX_CLASSES)
        return dnas_fail(err, DNAS_ERR_FORMAT,
                         "%s: label %lld of sample %d is out of range (at most %d classes)", path,
                         (long long)v, i, TRAIN_DATA_MAX_CLASSES);
    ds->y[i] = (int32_t)v;
    return DNAS_OK;
}

dnas_status train_data_label_f64(train_dataset *ds, int i, double v, const char *path,
                                 dnas_error *err) {
    if (!isfinite(v) || v != floor(v))
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: label %g of sample %d is not an integer class",
                         path, v, i);
    if (v < 0)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: label %g of sample %d is negative", path, v, i);
    return train_data_label_i64(ds, i, v >= 9e18 ? INT64_MAX : (int64_t)v, path, err);
}

dnas_status train_data_check_finite(const train_dataset *ds, const char *path, dnas_error *err) {
    size_t per = (size_t)ds->c * ds->h * ds->w, n = (size_t)ds->count * per;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(ds->x[i]))
            return dnas_fail(err, DNAS_ERR_FORMAT, "%s: value %zu of sample %zu is %s: expected finite numbers",
                             path, i % per, i / per, isnan(ds->x[i]) ? "NaN" : "infinite as float32");
    return DNAS_OK;
}

void train_data_finish_labels(train_dataset *ds) {
    ds->num_classes = 0;
    if (!ds->y) return;
    for (int i = 0; i < ds->count; i++)
        if (ds->y[i] + 1 > ds->num_classes) ds->num_classes = ds->y[i] + 1;
}
