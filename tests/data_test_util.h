/* File-writing helpers for the dataset tests (test_data*.c). */
#ifndef DNAS_TESTS_DATA_TEST_UTIL_H
#define DNAS_TESTS_DATA_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static char tu_dir[256];

/* Creates the temp dir for a test group (cmocka group setup). */
static inline int tu_setup(void **state) {
    (void)state;
    snprintf(tu_dir, sizeof tu_dir, "/tmp/dnas_test_data_XXXXXX");
    return mkdtemp(tu_dir) ? 0 : -1;
}

/* Removes the temp dir and what the tests wrote into it. */
static inline int tu_teardown(void **state) {
    (void)state;
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Path of name inside the temp dir (a static buffer: one of 8 in rotation). */
static inline const char *tu_path(const char *name) {
    static char bufs[8][320];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tu_dir, name);
    return b;
}

static inline const char *tu_write(const char *name, const void *data, size_t len) {
    const char *p = tu_path(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

static inline const char *tu_write_gz(const char *name, const void *data, size_t len) {
    const char *p = tu_path(name);
    gzFile f = gzopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
    return p;
}

static inline const char *tu_write_str(const char *name, const char *s) {
    return tu_write(name, s, strlen(s));
}

/* Reads a file back (to corrupt or cut it); caller frees. */
static inline unsigned char *tu_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len ? *len : 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* Asserts that msg contains every given substring (NULL-terminated list). */
static inline void tu_msg_has(const char *msg, ...) {
    va_list ap;
    va_start(ap, msg);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        if (!strstr(msg, s)) {
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", msg, s);
            fail();
        }
    }
    va_end(ap);
}

#endif
