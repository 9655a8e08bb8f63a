/* Checked allocation and size arithmetic. */
#include <string.h>
#include <unistd.h>

#include "common.h"

void *dnas_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "dnas: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    return p;
}

void *dnas_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "dnas: out of memory allocating %zu x %zu bytes\n", count, size);
        abort();
    }
    return p;
}

void *dnas_xrealloc(void *p, size_t bytes) {
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) {
        fprintf(stderr, "dnas: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    return q;
}

uint64_t dnas_memory_limit(void) {
    const char *env = getenv("DNAS_MEMORY_LIMIT");
    long v;
    if (env && !dnas_parse_long(env, 1, (long)(~0ul >> 1), &v)) return (uint64_t)v;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return UINT64_MAX;
    return (uint64_t)pages * (uint64_t)page;
}

dnas_status dnas_check_bytes(uint64_t bytes, const char *what, dnas_error *err) {
    uint64_t limit = dnas_memory_limit();
    if (bytes <= limit) return DNAS_OK;
    char b[32], l[32];
    return dnas_fail(err, DNAS_ERR_NOMEM, "%s would need %s bytes, more than this machine's %s bytes of memory",
                     what, dnas_fmt_thousands((double)bytes, b, sizeof b),
                     dnas_fmt_thousands((double)limit, l, sizeof l));
}

int dnas_mul64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return -1;
    if (a != 0 && b > INT64_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int dnas_add64(int64_t a, int64_t b, int64_t *out) {
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return -1;
    *out = a + b;
    return 0;
}
