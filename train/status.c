#include "status.h"

#include <stdarg.h>

train_status train_fail(train_error *err, train_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *train_status_name(train_status s) {
    switch (s) {
    case TRAIN_OK: return "ok";
    case TRAIN_ERR_IO: return "I/O error";
    case TRAIN_ERR_FORMAT: return "format error";
    case TRAIN_ERR_CONFIG: return "configuration error";
    case TRAIN_ERR_SHAPE: return "shape error";
    case TRAIN_ERR_NAN: return "non-finite value";
    case TRAIN_ERR_NOMEM: return "out of memory";
    }
    return "unknown status";
}

void *train_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "dnas: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    return p;
}

void *train_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "dnas: out of memory allocating %zu x %zu bytes\n", count, size);
        abort();
    }
    return p;
}
