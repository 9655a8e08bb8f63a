/* Strict number parsing and formatting. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common.h"

/* Leading white space, which strtol/strtod would skip, is refused. */
int dnas_parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int dnas_parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

const char *dnas_fmt_thousands(double v, char *buf, size_t len) {
    if (!(fabs(v) < 9e18)) {
        snprintf(buf, len, "%.3g", v);
        return buf;
    }
    long long x = llround(v);
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x);
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
