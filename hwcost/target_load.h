/* Readers shared by the target loader's files (target.c: the file, memory
 * levels, parallel; target_engine.c: engines). Each reads one key of a
 * section and checks its kind and range with the common YAML getters, so
 * every error is "<file>:<line>: <section>: <key>: expected ...". `where`
 * names the section ("target", "memory 'L2'", "engine 'digital'"). */
#ifndef DNAS_HWCOST_TARGET_LOAD_H
#define DNAS_HWCOST_TARGET_LOAD_H

#include "internal.h"

typedef struct {
    dnas_yaml *y;
    dnas_error *err;
} hwcost_tl;

/* Ranges of the constants every target has (docs/hwcost.md, "What the
 * loader checks"). The lower bounds of what the models divide by (clock,
 * MAC/cycle) are well above 0, so a quotient of finite costs stays finite. */
#define HWCOST_MAX_BITS 32
#define HWCOST_MAX_GRAN 65536L
#define HWCOST_MAX_BYTES (1LL << 40)
#define HWCOST_MIN_CLOCK_HZ 1.0
#define HWCOST_MAX_CLOCK_HZ 1e12
#define HWCOST_MAX_POWER_W 1e3
#define HWCOST_MIN_MPC 1e-6
#define HWCOST_MAX_MPC 1e6

/* A mapping whose keys are all in `keys` (NULL-terminated) and which has a
 * `source:`: a non-empty string, or a non-empty mapping of constant: string. */
dnas_status hwcost_tl_section(hwcost_tl *L, yaml_node_t *map, const char *const *keys, const char *where);
/* The value of key in map, or NULL; a missing required key is an error at
 * the mapping's line. */
dnas_status hwcost_tl_need(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int required,
                           yaml_node_t **out);
/* A name: 1..HWCOST_NAME_LEN-1 letters, digits or '_', starting with a
 * letter (names become CSV columns and C identifiers). */
dnas_status hwcost_tl_name(hwcost_tl *L, yaml_node_t *node, const char *what, char *dst);
/* Optional keys leave *out as it is; required ones must be present. */
dnas_status hwcost_tl_real(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int required,
                           double lo, double hi, int lo_open, double *out);
dnas_status hwcost_tl_int(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int required,
                          long lo, long hi, long *out);
dnas_status hwcost_tl_bool(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int *out);
/* Index in names[0..n) of a scalar node's text; otherwise an error listing
 * the names. */
dnas_status hwcost_tl_pick(hwcost_tl *L, yaml_node_t *node, const char *what, const char *const *names, int n,
                           int *out);
/* "<where>: <key>" into buf, for the getters' `what`. */
const char *hwcost_tl_what(char *buf, size_t len, const char *where, const char *key);

/* One engine mapping into e (target_engine.c). */
dnas_status hwcost_tl_engine(hwcost_tl *L, yaml_node_t *node, hwcost_engine *e);

#endif
