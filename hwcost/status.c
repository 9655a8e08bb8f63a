/* Status names, error formatting and small shared helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

hwcost_status hwcost_fail(hwcost_error *err, hwcost_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *hwcost_status_name(hwcost_status s) {
    static const char *names[] = {"ok",           "io error",      "format error",
                                  "config error", "invalid layer", "unsupported"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *hwcost_kind_name(hwcost_kind k) {
    static const char *names[] = {"conv", "depthwise", "linear", "add", "pool"};
    return (unsigned)k < HWCOST_KIND_COUNT_ ? names[k] : "?";
}

const char *hwcost_fmt_thousands(double v, char *buf, size_t len) {
    long long x = llround(v);
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", x < 0 ? -x : x);
    int n = (int)strlen(digits);
    char out[48];
    int o = 0;
    if (x < 0) out[o++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    snprintf(buf, len, "%s", out);
    return buf;
}
