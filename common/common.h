/* The leaf module every dnas module may use (it depends on nothing of ours):
 * status codes and error messages, checked allocation and size arithmetic,
 * strict number parsing, and YAML documents with typed, range-checked
 * getters.
 *
 * Errors: a recoverable failure returns a dnas_status and fills a
 * dnas_error whose message names the file, the line where there is one, and
 * what was expected. A broken invariant aborts through DNAS_ASSERT. */
#ifndef DNAS_COMMON_H
#define DNAS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

/* ---- status -------------------------------------------------------------- */

typedef enum {
    DNAS_OK = 0,
    DNAS_ERR_IO,          /* missing / unreadable / unwritable file */
    DNAS_ERR_FORMAT,      /* file content malformed or truncated */
    DNAS_ERR_CONFIG,      /* YAML present but wrong: unknown key, bad value */
    DNAS_ERR_SHAPE,       /* shapes that do not fit together */
    DNAS_ERR_NAN,         /* non-finite loss or values */
    DNAS_ERR_NOMEM,       /* a size beyond what the machine can hold */
    DNAS_ERR_INVALID,     /* an argument out of range (negative channels...) */
    DNAS_ERR_UNSUPPORTED, /* a combination the hardware or code cannot run */
} dnas_status;

/* Long enough for a PATH_MAX path and the reason after it. */
#define DNAS_ERROR_LEN 8192
typedef struct {
    char msg[DNAS_ERROR_LEN];
} dnas_error;

/* printf-style: writes msg (if err is non-NULL) and returns status. */
dnas_status dnas_fail(dnas_error *err, dnas_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *dnas_status_name(dnas_status s);

#define DNAS_ASSERT(cond)                                                               \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__, \
                    __LINE__, #cond);                                                   \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* ---- memory -------------------------------------------------------------- */

/* malloc/calloc/realloc that abort with a message on failure. For sizes
 * that a validated shape bounds; sizes that a file or an option chooses go
 * through dnas_check_bytes first. */
void *dnas_xmalloc(size_t bytes);
void *dnas_xcalloc(size_t count, size_t size);
void *dnas_xrealloc(void *p, size_t bytes);

/* Bytes of physical memory of this machine (DNAS_MEMORY_LIMIT, in bytes,
 * overrides it, e.g. for tests). */
uint64_t dnas_memory_limit(void);
/* DNAS_ERR_NOMEM naming `what` and the bytes when bytes exceed the memory
 * limit, else DNAS_OK. */
dnas_status dnas_check_bytes(uint64_t bytes, const char *what, dnas_error *err);

/* Checked 64-bit arithmetic: 0 and *out set, or -1 on overflow (any
 * negative operand of dnas_mul64 also fails). */
int dnas_mul64(int64_t a, int64_t b, int64_t *out);
int dnas_add64(int64_t a, int64_t b, int64_t *out);

/* ---- numbers from text ---------------------------------------------------- */

/* Whole string is a decimal integer in [lo, hi]: 0, else -1. */
int dnas_parse_long(const char *s, long lo, long hi, long *out);
/* Whole string is a finite number in [lo, hi]: 0, else -1. */
int dnas_parse_double(const char *s, double lo, double hi, double *out);

/* 1234567 -> "1,234,567" (rounded to an integer). */
const char *dnas_fmt_thousands(double v, char *buf, size_t len);

/* ---- YAML ---------------------------------------------------------------- */

/* Limits checked before a document is built (a generated file may be large,
 * but nothing of ours nests deeper than a few levels). */
#define DNAS_YAML_MAX_BYTES (64u << 20)
#define DNAS_YAML_MAX_DEPTH 64

typedef struct {
    yaml_document_t doc;
    char path[4096]; /* for messages */
    int loaded;
} dnas_yaml;

/* Parse a whole file / string into one document. Rejected with a message
 * naming the file (and the line where there is one): a directory or a
 * non-regular file, more than DNAS_YAML_MAX_BYTES, bytes that are not
 * UTF-8, a syntax error, nesting deeper than DNAS_YAML_MAX_DEPTH, more than
 * one document, an empty document, a key given twice in one mapping. */
dnas_status dnas_yaml_load_file(dnas_yaml *y, const char *path, dnas_error *err);
dnas_status dnas_yaml_load_string(dnas_yaml *y, const char *text, const char *path, dnas_error *err);
void dnas_yaml_free(dnas_yaml *y);

/* Reads a whole file into *out (malloc'd, NUL-terminated; *len without the
 * NUL, len may be NULL). A directory or more than max_bytes is an error
 * naming the file. */
dnas_status dnas_read_file(const char *path, size_t max_bytes, char **out, size_t *len, dnas_error *err);

/* dnas_read_file for a text file: a NUL byte is an error naming its line. */
dnas_status dnas_read_text(const char *path, size_t max_bytes, char **out, dnas_error *err);

yaml_node_t *dnas_yaml_root(dnas_yaml *y);
/* 1-based line of a node (0 for NULL). */
int dnas_yaml_line(const yaml_node_t *node);

/* "<file>:<line>: <message>" for node (the document start when NULL),
 * returned as DNAS_ERR_CONFIG. */
dnas_status dnas_yaml_fail(dnas_yaml *y, const yaml_node_t *node, dnas_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Value of key in a mapping node, or NULL. */
yaml_node_t *dnas_yaml_get(dnas_yaml *y, yaml_node_t *map, const char *key);
/* Number of items of a sequence node (0 for other kinds) and item i. */
int dnas_yaml_len(const yaml_node_t *seq);
yaml_node_t *dnas_yaml_item(dnas_yaml *y, yaml_node_t *seq, int i);
/* Text of a scalar key node ("?" for other kinds). */
const char *dnas_yaml_key(dnas_yaml *y, const yaml_node_pair_t *pair);

/* Kind checks: "<file>:<line>: <what>: expected a list of lo..hi items" /
 * "expected a mapping of key: value". *len gets the item count. */
dnas_status dnas_yaml_seq(dnas_yaml *y, yaml_node_t *node, const char *what, int lo, int hi, int *len,
                          dnas_error *err);
dnas_status dnas_yaml_map(dnas_yaml *y, yaml_node_t *node, const char *what, dnas_error *err);

/* Scalar readers, all "<file>:<line>: <what>: expected ..., found '...'". */
/* The scalar text, or NULL (err filled) when node is not a scalar. */
const char *dnas_yaml_str(dnas_yaml *y, yaml_node_t *node, const char *what, dnas_error *err);
/* A decimal integer in [lo, hi]. */
dnas_status dnas_yaml_int(dnas_yaml *y, yaml_node_t *node, const char *what, long lo, long hi, long *out,
                          dnas_error *err);
/* A finite number in [lo, hi]; with lo_open, lo itself is excluded. */
dnas_status dnas_yaml_float(dnas_yaml *y, yaml_node_t *node, const char *what, double lo, double hi,
                            int lo_open, double *out, dnas_error *err);
/* The one boolean rule: true|True|TRUE|yes|Yes|YES|on|On|ON and
 * false|False|FALSE|no|No|NO|off|Off|OFF; anything else is an error. */
dnas_status dnas_yaml_bool(dnas_yaml *y, yaml_node_t *node, const char *what, int *out, dnas_error *err);
/* An integer or a [a, b] pair (a scalar gives a = b), each in [lo, hi]. */
dnas_status dnas_yaml_pair(dnas_yaml *y, yaml_node_t *node, const char *what, long lo, long hi, long *a,
                           long *b, dnas_error *err);

/* Checks that node is a mapping whose every key is in the NULL-terminated
 * allowed list; an unknown key is an error naming it, its line and the
 * allowed keys. */
dnas_status dnas_yaml_check_keys(dnas_yaml *y, yaml_node_t *map, const char *const *allowed,
                                 const char *where, dnas_error *err);

#endif
