/* A model specification in memory: what a model YAML says (docs/models.md),
 * before any shape is inferred. The YAML reader produces one,
 * train_net_build (net.h) consumes one, and the search generates them
 * (supernets, exported networks) without going through a file.
 *
 * A spec holds text, not interpreted values: attributes are scalars ("64",
 * "same", "1e-05"), lists of them or (only to report them) mappings, each
 * with its line in the YAML (0 when made in C). train_net_build checks and
 * interprets them, op by op, with the same messages whatever the source,
 * and train_spec_write_yaml writes them back as they are.
 *
 * Ownership: a spec owns all its strings and layers; train_spec_free
 * frees everything. Layer pointers stay valid while the spec lives (layers
 * are allocated one by one). Names, keys and texts passed in are copied;
 * NULL for any of them (but a layer's op) is a caller bug (assert). */
#ifndef DNAS_TRAIN_SPEC_H
#define DNAS_TRAIN_SPEC_H

#include <stdio.h>

#include "common.h"

typedef enum {
    TRAIN_SPEC_SCALAR = 0,
    TRAIN_SPEC_LIST,
    TRAIN_SPEC_MAP, /* kept without its contents: no op takes a mapping */
} train_spec_kind;

typedef struct train_spec_value {
    train_spec_kind kind;
    char *text;                      /* SCALAR: as written */
    int nitems;                      /* LIST: items (scalars, lists or mappings) */
    struct train_spec_value *items;
    int line;                        /* 1-based line in the YAML; 0 = made in C */
} train_spec_value;

typedef struct {
    char *key;
    int line;                        /* of the key */
    train_spec_value value;
} train_spec_attr;

typedef struct {
    char *name;
    int line, name_line;             /* of the layer's mapping and of its name */
    char *op;                        /* YAML op name (conv2d, relu6, ...); NULL: none given */
    int op_line;
    int ninputs;                     /* 0: reads the layer listed before it */
    char **inputs;                   /* layer names ("input" = the network input) */
    int *input_lines;
    int inputs_line;                 /* of the input / inputs value */
    int nattrs;                      /* everything but name, op, input, inputs */
    train_spec_attr *attrs;
} train_spec_layer;

typedef struct {
    char *name;                      /* NULL: the file name's stem */
    int name_line;
    char *description;               /* NULL: none */
    long c, h, w;                    /* input sample shape */
    int input_line;
    int nlayers;
    train_spec_layer **layers;
    int layers_cap;                  /* slots allocated in layers */
} train_spec;

/* ---- making one in C ------------------------------------------------------ */

/* An empty spec for input samples (c, h, w); name may be NULL. */
train_spec *train_spec_new(const char *name, long c, long h, long w);
void train_spec_free(train_spec *s);
/* Appends a layer (reading the layer before it until inputs are added). */
train_spec_layer *train_spec_add(train_spec *s, const char *name, const char *op);
/* Appends one input name. */
void train_spec_add_input(train_spec_layer *l, const char *name);
/* Sets an attribute, replacing one of the same key: a scalar's text, an
 * integer, a pair [a, b], a list of integers, a float (the shortest text
 * that reads back as the same float), a boolean (true / false). */
void train_spec_set(train_spec_layer *l, const char *key, const char *text);
void train_spec_set_int(train_spec_layer *l, const char *key, long v);
void train_spec_set_pair(train_spec_layer *l, const char *key, long a, long b);
void train_spec_set_ints(train_spec_layer *l, const char *key, const long *v, int n);
void train_spec_set_float(train_spec_layer *l, const char *key, double v);
/* A list of n scalars, each text as given (names, words). */
void train_spec_set_strs(train_spec_layer *l, const char *key, const char *const *v, int n);
void train_spec_set_bool(train_spec_layer *l, const char *key, int v);
/* Names every implicit input: a layer that reads the one listed before it
 * gets that layer's name ("input" for the first layer) as its one input;
 * the spec means the same, and layers can then be removed without changing
 * what the others read. */
void train_spec_name_inputs(train_spec *s);
/* Every input that names `from` names `to` instead. */
void train_spec_rename_input(train_spec *s, const char *from, const char *to);
/* Removes layer i (0 <= i < nlayers); the layers after it move up. Readers
 * of it, and implicit inputs of the layer after it, are the caller's to
 * rewire (train_spec_name_inputs first). */
void train_spec_remove(train_spec *s, int i);
/* The attribute of that key, or NULL. */
const train_spec_value *train_spec_get(const train_spec_layer *l, const char *key);
/* Index of the layer called name, or -1 (linear search). */
int train_spec_find(const train_spec *s, const char *name);

/* ---- YAML ------------------------------------------------------------------ */

/* Reads a model YAML into a spec. Checked here: the file (common's YAML
 * rules), the top-level keys, the input shape (three integers in
 * 1..2^24), the layer list, and per layer its kind (a mapping), its name
 * (1..63 characters) and the form of op, input and inputs. Everything that
 * depends on an op is checked by train_net_build. Values repeated through
 * YAML aliases count as often as they are used: more than the document's
 * own nodes plus 65,536 is an error (a file cannot expand into a huge spec). */
dnas_status train_spec_load(train_spec **s, const char *path, dnas_error *err);
dnas_status train_spec_load_string(train_spec **s, const char *yaml, const char *path,
                                   dnas_error *err);

/* Writes the spec as a model YAML, one flow mapping per layer, scalars
 * quoted where YAML needs it: train_spec_load gives back the same spec
 * (lines aside). 0, or -1 when a write failed (errno set by stdio). */
int train_spec_write_yaml(FILE *f, const train_spec *s);
/* The same into a malloc'd string. */
char *train_spec_to_yaml(const train_spec *s);

#endif
