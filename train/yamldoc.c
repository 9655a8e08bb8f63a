#include "yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static train_status parse(train_yaml *y, yaml_parser_t *parser, train_error *err) {
    memset(&y->doc, 0, sizeof y->doc);
    if (!yaml_parser_load(parser, &y->doc)) {
        train_status st = train_fail(err, TRAIN_ERR_CONFIG, "%s:%lu:%lu: YAML syntax error: %s%s%s",
                                     y->path, (unsigned long)parser->problem_mark.line + 1,
                                     (unsigned long)parser->problem_mark.column + 1,
                                     parser->problem ? parser->problem : "unknown",
                                     parser->context ? " " : "",
                                     parser->context ? parser->context : "");
        yaml_parser_delete(parser);
        return st;
    }
    yaml_parser_delete(parser);
    y->loaded = 1;
    if (!yaml_document_get_root_node(&y->doc)) {
        train_yaml_free(y);
        return train_fail(err, TRAIN_ERR_CONFIG, "%s: empty YAML document", y->path);
    }
    return TRAIN_OK;
}

train_status train_yaml_load_file(train_yaml *y, const char *path, train_error *err) {
    y->path = path;
    y->loaded = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return train_fail(err, TRAIN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    train_status st = parse(y, &parser, err);
    fclose(f);
    return st;
}

train_status train_yaml_load_string(train_yaml *y, const char *text, const char *path,
                                    train_error *err) {
    y->path = path;
    y->loaded = 0;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    return parse(y, &parser, err);
}

void train_yaml_free(train_yaml *y) {
    if (y->loaded) yaml_document_delete(&y->doc);
    y->loaded = 0;
}

yaml_node_t *train_yaml_root(train_yaml *y) { return yaml_document_get_root_node(&y->doc); }

int train_yaml_line(const yaml_node_t *node) { return node ? (int)node->start_mark.line + 1 : 0; }

yaml_node_t *train_yaml_get(train_yaml *y, yaml_node_t *map, const char *key) {
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

int train_yaml_len(const yaml_node_t *seq) {
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return 0;
    return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *train_yaml_item(train_yaml *y, yaml_node_t *seq, int i) {
    if (i < 0 || i >= train_yaml_len(seq)) return NULL;
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

const char *train_yaml_str(train_yaml *y, yaml_node_t *node, const char *what, train_error *err) {
    if (!node || node->type != YAML_SCALAR_NODE) {
        train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected a single value", y->path,
                   train_yaml_line(node), what);
        return NULL;
    }
    return (const char *)node->data.scalar.value;
}

train_status train_yaml_int(train_yaml *y, yaml_node_t *node, const char *what, long *out,
                            train_error *err) {
    const char *s = train_yaml_str(y, node, what, err);
    if (!s) return TRAIN_ERR_CONFIG;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected an integer, found '%s'",
                          y->path, train_yaml_line(node), what, s);
    *out = v;
    return TRAIN_OK;
}

train_status train_yaml_float(train_yaml *y, yaml_node_t *node, const char *what, double *out,
                              train_error *err) {
    const char *s = train_yaml_str(y, node, what, err);
    if (!s) return TRAIN_ERR_CONFIG;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected a number, found '%s'",
                          y->path, train_yaml_line(node), what, s);
    *out = v;
    return TRAIN_OK;
}

train_status train_yaml_bool(train_yaml *y, yaml_node_t *node, const char *what, int *out,
                             train_error *err) {
    const char *s = train_yaml_str(y, node, what, err);
    if (!s) return TRAIN_ERR_CONFIG;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes") || !strcmp(s, "1")) {
        *out = 1;
        return TRAIN_OK;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no") || !strcmp(s, "0")) {
        *out = 0;
        return TRAIN_OK;
    }
    return train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected true or false, found '%s'",
                      y->path, train_yaml_line(node), what, s);
}

train_status train_yaml_pair(train_yaml *y, yaml_node_t *node, const char *what, int *a, int *b,
                             train_error *err) {
    long v = 0;
    if (node && node->type == YAML_SEQUENCE_NODE) {
        if (train_yaml_len(node) != 2)
            return train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected a number or [h, w]",
                              y->path, train_yaml_line(node), what);
        train_status st = train_yaml_int(y, train_yaml_item(y, node, 0), what, &v, err);
        if (st) return st;
        *a = (int)v;
        st = train_yaml_int(y, train_yaml_item(y, node, 1), what, &v, err);
        if (st) return st;
        *b = (int)v;
        return TRAIN_OK;
    }
    train_status st = train_yaml_int(y, node, what, &v, err);
    if (st) return st;
    *a = *b = (int)v;
    return TRAIN_OK;
}

train_status train_yaml_check_keys(train_yaml *y, yaml_node_t *map, const char *const *allowed,
                                   const char *where, train_error *err) {
    if (!map || map->type != YAML_MAPPING_NODE)
        return train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected a mapping of key: value",
                          y->path, train_yaml_line(map), where);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        const char *key = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(allowed[i], key)) ok = 1;
        if (!ok) {
            char list[512] = "";
            for (int i = 0; allowed[i]; i++) {
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
                if (allowed[i + 1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: %s: unknown key '%s' (expected one of: %s)",
                              y->path, train_yaml_line(k), where, key, list);
        }
    }
    return TRAIN_OK;
}
