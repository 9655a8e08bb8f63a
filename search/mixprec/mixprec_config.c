/* The `mixprec:` map of a search config (search/mixprec_config.h). */
#include <string.h>

#include "mixprec_config.h"

void search_mixprec_config_default(search_mixprec_config *m) {
    memset(m, 0, sizeof *m);
    m->wbits = (train_fq_precs){3, {2, 4, 8}};
    m->abits = (train_fq_precs){3, {2, 4, 8}};
    m->granularity = SEARCH_MIXPREC_LAYER;
    m->temperature = m->temperature_final = 1.0f;
}

/* A list of distinct bit widths in [lo, 8], sorted ascending into p. */
static dnas_status parse_bits(dnas_yaml *y, yaml_node_t *n, const char *what, int lo,
                              train_fq_precs *p, dnas_error *err) {
    int len;
    dnas_status st = dnas_yaml_seq(y, n, what, 1, TRAIN_FQ_MAX_PREC, &len, err);
    if (st) return st;
    memset(p, 0, sizeof *p);
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = dnas_yaml_item(y, n, i);
        long v;
        if ((st = dnas_yaml_int(y, item, what, lo, SEARCH_MIXPREC_MAX_BITS, &v, err))) return st;
        if (v == 1)
            return dnas_yaml_fail(y, item, err,
                                  "%s: 1 bit is not a precision the integer kernels run (0, 2..%d)",
                                  what, SEARCH_MIXPREC_MAX_BITS);
        int k = p->nprec;
        for (int j = 0; j < p->nprec; j++)
            if (p->bits[j] == v)
                return dnas_yaml_fail(y, item, err, "%s: %ld is listed twice", what, v);
        while (k > 0 && p->bits[k - 1] > v) {
            p->bits[k] = p->bits[k - 1];
            k--;
        }
        p->bits[k] = (int)v;
        p->nprec++;
    }
    if (p->bits[p->nprec - 1] == 0)
        return dnas_yaml_fail(y, n, err, "%s: expected at least one precision above 0", what);
    return DNAS_OK;
}

dnas_status search_mixprec_config_parse(dnas_yaml *y, yaml_node_t *map, int is_mixprec,
                                        search_mixprec_config *m, dnas_error *err) {
    static const char *const KEYS[] = {"weight_bits", "act_bits",          "granularity",
                                       "temperature", "temperature_final", NULL};
    if (!map) return DNAS_OK;
    if (!is_mixprec) return dnas_yaml_fail(y, map, err, "mixprec: only with method: mixprec");
    dnas_status st = dnas_yaml_check_keys(y, map, KEYS, "mixprec", err);
    if (st) return st;
    yaml_node_t *n;
    if ((n = dnas_yaml_get(y, map, "weight_bits")) &&
        (st = parse_bits(y, n, "weight_bits", 0, &m->wbits, err)))
        return st;
    if ((n = dnas_yaml_get(y, map, "act_bits")) &&
        (st = parse_bits(y, n, "act_bits", 2, &m->abits, err)))
        return st;
    if ((n = dnas_yaml_get(y, map, "granularity"))) {
        const char *s = dnas_yaml_str(y, n, "granularity", err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!strcmp(s, "layer"))
            m->granularity = SEARCH_MIXPREC_LAYER;
        else if (!strcmp(s, "channel"))
            m->granularity = SEARCH_MIXPREC_CHANNEL;
        else
            return dnas_yaml_fail(y, n, err, "granularity: expected layer or channel, found '%s'",
                                  s);
    }
    if ((n = dnas_yaml_get(y, map, "temperature"))) {
        double t;
        if ((st = dnas_yaml_float(y, n, "temperature", 0, 1e6, 1, &t, err))) return st;
        m->temperature = m->temperature_final = (float)t;
    }
    if ((n = dnas_yaml_get(y, map, "temperature_final"))) {
        double t;
        if ((st = dnas_yaml_float(y, n, "temperature_final", 1e-3, 1e6, 0, &t, err))) return st;
        m->temperature_final = (float)t;
    }
    if (m->wbits.bits[0] == 0 && m->granularity != SEARCH_MIXPREC_CHANNEL)
        return dnas_yaml_fail(y, dnas_yaml_get(y, map, "weight_bits"), err,
                              "weight_bits: 0 (pruned channels) needs granularity: channel");
    return DNAS_OK;
}
