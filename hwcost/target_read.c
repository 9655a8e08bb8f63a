/* Typed readers of the target loader (target_load.h): the common YAML
 * getters with the section's name in front of every message. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "target_load.h"

const char *hwcost_tl_what(char *buf, size_t len, const char *where, const char *key) {
    snprintf(buf, len, "%s: %s", where, key);
    return buf;
}

/* source: "text" or {constant: "text", ...}, never empty: the file says
 * where every constant comes from. */
static dnas_status check_source(hwcost_tl *L, yaml_node_t *src, const char *where) {
    static const char *const EXPECT =
        "expected a non-empty string or a mapping of constant: \"where it comes from\"";
    if (src->type == YAML_SCALAR_NODE) {
        if (!src->data.scalar.length)
            return dnas_yaml_fail(L->y, src, L->err, "%s: source: %s", where, EXPECT);
        return DNAS_OK;
    }
    if (src->type != YAML_MAPPING_NODE || src->data.mapping.pairs.top == src->data.mapping.pairs.start)
        return dnas_yaml_fail(L->y, src, L->err, "%s: source: %s", where, EXPECT);
    for (yaml_node_pair_t *p = src->data.mapping.pairs.start; p < src->data.mapping.pairs.top; p++) {
        yaml_node_t *v = yaml_document_get_node(&L->y->doc, p->value);
        char what[256];
        snprintf(what, sizeof what, "%s: source: %s", where, dnas_yaml_key(L->y, p));
        const char *s = dnas_yaml_str(L->y, v, what, L->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!*s)
            return dnas_yaml_fail(L->y, v, L->err, "%s: expected where it comes from, found nothing", what);
    }
    return DNAS_OK;
}

dnas_status hwcost_tl_section(hwcost_tl *L, yaml_node_t *map, const char *const *keys, const char *where) {
    dnas_status st = dnas_yaml_check_keys(L->y, map, keys, where, L->err);
    if (st) return st;
    yaml_node_t *src = dnas_yaml_get(L->y, map, "source");
    if (!src)
        return dnas_yaml_fail(L->y, map, L->err, "%s: missing 'source' (where the constants come from)",
                              where);
    return check_source(L, src, where);
}

dnas_status hwcost_tl_need(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int required,
                           yaml_node_t **out) {
    *out = dnas_yaml_get(L->y, map, key);
    if (!*out && required) return dnas_yaml_fail(L->y, map, L->err, "%s: missing '%s'", where, key);
    return DNAS_OK;
}

dnas_status hwcost_tl_name(hwcost_tl *L, yaml_node_t *node, const char *what, char *dst) {
    const char *s = dnas_yaml_str(L->y, node, what, L->err);
    if (!s) return DNAS_ERR_CONFIG;
    size_t n = strlen(s);
    int ok = n >= 1 && n < HWCOST_NAME_LEN && isalpha((unsigned char)s[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_';
    if (!ok)
        return dnas_yaml_fail(
            L->y, node, L->err,
            "%s: expected 1..%d letters, digits or '_' starting with a letter, found '%.64s%s'", what,
            HWCOST_NAME_LEN - 1, s, n > 64 ? "..." : "");
    memcpy(dst, s, n + 1);
    return DNAS_OK;
}

dnas_status hwcost_tl_real(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int required,
                           double lo, double hi, int lo_open, double *out) {
    yaml_node_t *v;
    char what[256];
    dnas_status st = hwcost_tl_need(L, map, key, where, required, &v);
    if (st || !v) return st;
    return dnas_yaml_float(L->y, v, hwcost_tl_what(what, sizeof what, where, key), lo, hi, lo_open, out,
                           L->err);
}

dnas_status hwcost_tl_int(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int required,
                          long lo, long hi, long *out) {
    yaml_node_t *v;
    char what[256];
    dnas_status st = hwcost_tl_need(L, map, key, where, required, &v);
    if (st || !v) return st;
    return dnas_yaml_int(L->y, v, hwcost_tl_what(what, sizeof what, where, key), lo, hi, out, L->err);
}

dnas_status hwcost_tl_bool(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, int *out) {
    yaml_node_t *v = dnas_yaml_get(L->y, map, key);
    char what[256];
    if (!v) return DNAS_OK;
    return dnas_yaml_bool(L->y, v, hwcost_tl_what(what, sizeof what, where, key), out, L->err);
}

dnas_status hwcost_tl_pick(hwcost_tl *L, yaml_node_t *node, const char *what, const char *const *names, int n,
                           int *out) {
    const char *s = dnas_yaml_str(L->y, node, what, L->err);
    if (!s) return DNAS_ERR_CONFIG;
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s)) return *out = i, DNAS_OK;
    char list[512] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    return dnas_yaml_fail(L->y, node, L->err, "%s: expected one of %s, found '%.64s'", what, list, s);
}
