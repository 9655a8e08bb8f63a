/* Small helpers over libyaml's document API: look up mapping keys, read
 * scalars as numbers or strings, and report errors with the file and line
 * of the offending node. Used by the model loader and the config loader. */
#ifndef DNAS_TRAIN_YAMLDOC_H
#define DNAS_TRAIN_YAMLDOC_H

#include <yaml.h>

#include "status.h"

typedef struct {
    yaml_document_t doc;
    const char *path;   /* for messages */
    int loaded;
} train_yaml;

/* Parse a whole file / string. A syntax error names the line and column. */
train_status train_yaml_load_file(train_yaml *y, const char *path, train_error *err);
train_status train_yaml_load_string(train_yaml *y, const char *text, const char *path,
                                    train_error *err);
void train_yaml_free(train_yaml *y);

yaml_node_t *train_yaml_root(train_yaml *y);
/* 1-based line of a node. */
int train_yaml_line(const yaml_node_t *node);

/* Value of key in a mapping node, or NULL. */
yaml_node_t *train_yaml_get(train_yaml *y, yaml_node_t *map, const char *key);
/* Number of items of a sequence node (0 for other kinds) and item i. */
int train_yaml_len(const yaml_node_t *seq);
yaml_node_t *train_yaml_item(train_yaml *y, yaml_node_t *seq, int i);

/* Scalar readers: fail with "<file>:<line>: <what>: expected ..." */
train_status train_yaml_int(train_yaml *y, yaml_node_t *node, const char *what, long *out,
                            train_error *err);
train_status train_yaml_float(train_yaml *y, yaml_node_t *node, const char *what, double *out,
                              train_error *err);
train_status train_yaml_bool(train_yaml *y, yaml_node_t *node, const char *what, int *out,
                             train_error *err);
/* Returns the scalar text or NULL (and fills err) when node is not a scalar. */
const char *train_yaml_str(train_yaml *y, yaml_node_t *node, const char *what, train_error *err);

/* An int or a [a, b] pair (a scalar gives a = b). */
train_status train_yaml_pair(train_yaml *y, yaml_node_t *node, const char *what, int *a, int *b,
                             train_error *err);

/* Checks that every key of the mapping is in the NULL-terminated allowed
 * list; an unknown key is an error naming it and its line. */
train_status train_yaml_check_keys(train_yaml *y, yaml_node_t *map, const char *const *allowed,
                                   const char *where, train_error *err);

#endif
