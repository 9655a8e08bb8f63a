/* Helpers shared by the fuzz harnesses (tests/fuzz/fuzz_*.c), each one
 * LLVMFuzzerTestOneInput for one loader. Linked either with libFuzzer (the
 * fuzz build) or with replay_main.c (every other build).
 *
 * Once per process (fuzz_once): DNAS_MEMORY_LIMIT defaults to 512 MiB, so
 * loaders that check sizes against it refuse what would exceed libFuzzer's
 * -rss_limit_mb instead of allocating it; one OpenMP thread; a private
 * temporary directory (under /dev/shm when it exists, else $TMPDIR or /tmp)
 * for the loaders that take paths, removed at exit.
 *
 * Checks every harness makes on a loader's result (fuzz_check): a failure
 * is a known dnas_status with a message. A broken check aborts, which
 * libFuzzer reports as a crash. */
#ifndef DNAS_TESTS_FUZZ_UTIL_H
#define DNAS_TESTS_FUZZ_UTIL_H

#include <dirent.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[512];

static inline void fuzz_cleanup(void) {
    DIR *d = opendir(fuzz_dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fuzz_dir);
}

static inline void fuzz_once(void) {
    if (fuzz_dir[0]) return;
    setenv("DNAS_MEMORY_LIMIT", "536870912", 0);
    omp_set_num_threads(1);
    struct stat st;
    const char *base = getenv("TMPDIR");
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    if (!base || !base[0]) base = "/tmp";
    /* the pid in the name lets scripts/fuzz.sh remove what a crashed run left */
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/dnas-fuzz-%ld-XXXXXX", base, (long)getpid());
    if (!mkdtemp(fuzz_dir)) {
        perror(fuzz_dir);
        abort();
    }
    atexit(fuzz_cleanup);
}

/* Writes data to NAME in the private directory; returns the path (one of
 * four static buffers in rotation). */
static inline const char *fuzz_write(const char *name, const void *data, size_t len) {
    static char paths[4][1024];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", fuzz_dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(p);
        abort();
    }
    return p;
}

/* A NUL-terminated copy of the input (caller frees), for the loaders that
 * take text. An embedded NUL ends the text there, as it would in a file
 * read by them. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = dnas_xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Inputs that hold several files (images + labels, x + y, CIFAR batches)
 * separate them with FUZZ_SEP; the seeds do, and the dictionaries carry it.
 * Fills up to max parts, returns their count (>= 1). */
#define FUZZ_SEP "|DNAS-SPLIT|"
static inline int fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len,
                             int max) {
    const size_t sl = sizeof FUZZ_SEP - 1;
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; n < max - 1 && i + sl <= size; i++) {
        if (memcmp(data + i, FUZZ_SEP, sl)) continue;
        part[n] = data + start;
        len[n++] = i - start;
        start = i + sl;
        i = start - 1;
    }
    part[n] = data + start;
    len[n++] = size - start;
    return n;
}

/* A loader's result: DNAS_OK, or a known status with a message. */
static inline void fuzz_check(dnas_status st, const dnas_error *err, const char *call) {
    if (st == DNAS_OK) return;
    if (st < DNAS_OK || st > DNAS_ERR_UNSUPPORTED) {
        fprintf(stderr, "fuzz: %s returned %d, not a dnas_status\n", call, (int)st);
        abort();
    }
    if (!memchr(err->msg, 0, sizeof err->msg) || !err->msg[0]) {
        fprintf(stderr, "fuzz: %s failed (%s) with no message\n", call, dnas_status_name(st));
        abort();
    }
}

#endif
