/* Typed, range-checked readers over a loaded YAML document. Every failure
 * is "<file>:<line>: <what>: expected ..., found ..." as DNAS_ERR_CONFIG. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "common.h"

yaml_node_t *dnas_yaml_root(dnas_yaml *y) { return yaml_document_get_root_node(&y->doc); }

int dnas_yaml_line(const yaml_node_t *node) { return node ? (int)node->start_mark.line + 1 : 0; }

dnas_status dnas_yaml_fail(dnas_yaml *y, const yaml_node_t *node, dnas_error *err, const char *fmt, ...) {
    char what[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!node) node = dnas_yaml_root(y);
    return dnas_fail(err, DNAS_ERR_CONFIG, "%s:%d: %s", y->path, node ? dnas_yaml_line(node) : 1, what);
}

yaml_node_t *dnas_yaml_get(dnas_yaml *y, yaml_node_t *map, const char *key) {
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

int dnas_yaml_len(const yaml_node_t *seq) {
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return 0;
    return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *dnas_yaml_item(dnas_yaml *y, yaml_node_t *seq, int i) {
    if (i < 0 || i >= dnas_yaml_len(seq)) return NULL;
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

const char *dnas_yaml_key(dnas_yaml *y, const yaml_node_pair_t *pair) {
    yaml_node_t *k = yaml_document_get_node(&y->doc, pair->key);
    return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
}

static const char *kind_name(const yaml_node_t *n) {
    if (!n) return "nothing";
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a single value";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

dnas_status dnas_yaml_seq(dnas_yaml *y, yaml_node_t *node, const char *what, int lo, int hi, int *len,
                          dnas_error *err) {
    int n = dnas_yaml_len(node);
    if (!node || node->type != YAML_SEQUENCE_NODE || n < lo || n > hi) {
        char found[64];
        if (node && node->type == YAML_SEQUENCE_NODE)
            snprintf(found, sizeof found, "%d", n);
        else
            snprintf(found, sizeof found, "%s", kind_name(node));
        if (lo == hi)
            return dnas_yaml_fail(y, node, err, "%s: expected a list of %d items, found %s", what, lo, found);
        return dnas_yaml_fail(y, node, err, "%s: expected a list of %d..%d items, found %s", what, lo, hi, found);
    }
    if (len) *len = n;
    return DNAS_OK;
}

dnas_status dnas_yaml_map(dnas_yaml *y, yaml_node_t *node, const char *what, dnas_error *err) {
    if (!node || node->type != YAML_MAPPING_NODE)
        return dnas_yaml_fail(y, node, err, "%s: expected a mapping of key: value, found %s", what, kind_name(node));
    return DNAS_OK;
}

const char *dnas_yaml_str(dnas_yaml *y, yaml_node_t *node, const char *what, dnas_error *err) {
    if (!node || node->type != YAML_SCALAR_NODE) {
        dnas_yaml_fail(y, node, err, "%s: expected a single value, found %s", what, kind_name(node));
        return NULL;
    }
    return (const char *)node->data.scalar.value;
}

dnas_status dnas_yaml_int(dnas_yaml *y, yaml_node_t *node, const char *what, long lo, long hi, long *out,
                          dnas_error *err) {
    const char *s = dnas_yaml_str(y, node, what, err);
    if (!s) return DNAS_ERR_CONFIG;
    if (dnas_parse_long(s, lo, hi, out)) {
        long v;
        if (dnas_parse_long(s, -(long)(~0ul >> 1), (long)(~0ul >> 1), &v))
            return dnas_yaml_fail(y, node, err, "%s: expected an integer in %ld..%ld, found '%s'", what, lo, hi, s);
        return dnas_yaml_fail(y, node, err, "%s: %s is out of range: expected %ld..%ld", what, s, lo, hi);
    }
    return DNAS_OK;
}

dnas_status dnas_yaml_float(dnas_yaml *y, yaml_node_t *node, const char *what, double lo, double hi,
                            int lo_open, double *out, dnas_error *err) {
    const char *s = dnas_yaml_str(y, node, what, err);
    if (!s) return DNAS_ERR_CONFIG;
    double v;
    int ok = !dnas_parse_double(s, -HUGE_VAL, HUGE_VAL, &v);
    if (!ok) return dnas_yaml_fail(y, node, err, "%s: expected a finite number, found '%s'", what, s);
    if (v < lo || v > hi || (lo_open && v == lo)) {
        if (lo_open && hi >= 1e300)
            return dnas_yaml_fail(y, node, err, "%s: %s is out of range: expected a number > %g", what, s, lo);
        if (hi >= 1e300)
            return dnas_yaml_fail(y, node, err, "%s: %s is out of range: expected a number >= %g", what, s, lo);
        return dnas_yaml_fail(y, node, err, "%s: %s is out of range: expected %g %s x <= %g", what, s, lo,
                              lo_open ? "<" : "<=", hi);
    }
    *out = v;
    return DNAS_OK;
}

dnas_status dnas_yaml_bool(dnas_yaml *y, yaml_node_t *node, const char *what, int *out, dnas_error *err) {
    static const char *const T[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const F[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    const char *s = dnas_yaml_str(y, node, what, err);
    if (!s) return DNAS_ERR_CONFIG;
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        if (!strcmp(s, T[i])) return *out = 1, DNAS_OK;
        if (!strcmp(s, F[i])) return *out = 0, DNAS_OK;
    }
    return dnas_yaml_fail(y, node, err, "%s: expected true or false, found '%s'", what, s);
}

dnas_status dnas_yaml_pair(dnas_yaml *y, yaml_node_t *node, const char *what, long lo, long hi, long *a,
                           long *b, dnas_error *err) {
    dnas_status st;
    if (node && node->type == YAML_SEQUENCE_NODE) {
        if (dnas_yaml_len(node) != 2)
            return dnas_yaml_fail(y, node, err, "%s: expected a number or [h, w], found a list of %d", what,
                                  dnas_yaml_len(node));
        if ((st = dnas_yaml_int(y, dnas_yaml_item(y, node, 0), what, lo, hi, a, err))) return st;
        return dnas_yaml_int(y, dnas_yaml_item(y, node, 1), what, lo, hi, b, err);
    }
    if ((st = dnas_yaml_int(y, node, what, lo, hi, a, err))) return st;
    *b = *a;
    return DNAS_OK;
}

dnas_status dnas_yaml_check_keys(dnas_yaml *y, yaml_node_t *map, const char *const *allowed, const char *where,
                                 dnas_error *err) {
    dnas_status st = dnas_yaml_map(y, map, where, err);
    if (st) return st;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *key = dnas_yaml_key(y, p);
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++) ok = !strcmp(allowed[i], key);
        if (!ok) {
            char list[1024] = "";
            for (int i = 0; allowed[i]; i++) {
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
                if (allowed[i + 1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return dnas_yaml_fail(y, yaml_document_get_node(&y->doc, p->key), err,
                                  "%s: unknown key '%s' (expected one of: %s)", where, key, list);
        }
    }
    return DNAS_OK;
}
