/* Status codes and error messages of the training engine.
 * Recoverable failures (bad files, bad YAML, wrong shapes, NaN) return a
 * train_status and fill a train_error whose message names the file, the
 * line where there is one, and what was expected. Broken invariants abort
 * through TRAIN_ASSERT. */
#ifndef DNAS_TRAIN_STATUS_H
#define DNAS_TRAIN_STATUS_H

#include <stdio.h>
#include <stdlib.h>

typedef enum {
    TRAIN_OK = 0,
    TRAIN_ERR_IO,      /* missing / unreadable / unwritable file */
    TRAIN_ERR_FORMAT,  /* file content malformed or truncated */
    TRAIN_ERR_CONFIG,  /* YAML present but wrong: unknown key, bad value */
    TRAIN_ERR_SHAPE,   /* shapes that do not fit together */
    TRAIN_ERR_NAN,     /* non-finite loss or values */
    TRAIN_ERR_NOMEM,
} train_status;

typedef struct {
    char msg[1024];
} train_error;

/* printf-style: writes msg (if err is non-NULL) and returns status. */
train_status train_fail(train_error *err, train_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *train_status_name(train_status s);

#define TRAIN_ASSERT(cond)                                                              \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__, \
                    __LINE__, #cond);                                                   \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* malloc/calloc that abort with a message on failure (sizes here are bounded
 * by validated shapes, so running out of memory is not recoverable). */
void *train_xmalloc(size_t bytes);
void *train_xcalloc(size_t count, size_t size);

#endif
