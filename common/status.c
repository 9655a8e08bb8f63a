/* Status names and error formatting. */
#include <stdarg.h>

#include "common.h"

dnas_status dnas_fail(dnas_error *err, dnas_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *dnas_status_name(dnas_status s) {
    switch (s) {
    case DNAS_OK: return "ok";
    case DNAS_ERR_IO: return "I/O error";
    case DNAS_ERR_FORMAT: return "format error";
    case DNAS_ERR_CONFIG: return "configuration error";
    case DNAS_ERR_SHAPE: return "shape error";
    case DNAS_ERR_NAN: return "non-finite value";
    case DNAS_ERR_NOMEM: return "out of memory";
    case DNAS_ERR_INVALID: return "invalid argument";
    case DNAS_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}
