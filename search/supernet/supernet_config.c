/* The `supernet:` map of a search config and the temperature schedule
 * (docs/search.md "SuperNet"). */
#include <string.h>

#include "method.h"
#include "supernet.h"

static const char *MODES[SEARCH_SUPERNET_MODE_COUNT_] = {"softmax", "gumbel", "hard", "hard_gumbel"};

search_supernet_params search_supernet_default_params(void) {
    search_supernet_params p = {SEARCH_SUPERNET_SOFTMAX, 1.0, 0.1, SEARCH_SUPERNET_ANNEAL_EXP};
    return p;
}

const char *search_supernet_mode_name(search_supernet_mode m) {
    return (unsigned)m < SEARCH_SUPERNET_MODE_COUNT_ ? MODES[m] : "?";
}

/* Temperatures below 1e-3 would turn the softmax's 1/τ Jacobian into
 * steps of 1000·dθ; above 1e3 θ is flat to float precision. */
#define TAU_MIN 1e-3
#define TAU_MAX 1e3

static dnas_status get_tau(dnas_yaml *y, yaml_node_t *map, const char *key, double *out, dnas_error *err) {
    yaml_node_t *n = dnas_yaml_get(y, map, key);
    return n ? dnas_yaml_float(y, n, key, TAU_MIN, TAU_MAX, 0, out, err) : DNAS_OK;
}

dnas_status search_supernet_params_parse(dnas_yaml *y, yaml_node_t *map, search_supernet_params *p,
                                         dnas_error *err) {
    static const char *const KEYS[] = {"mode", "tau_start", "tau_end", "anneal", NULL};
    dnas_status st = dnas_yaml_check_keys(y, map, KEYS, "supernet", err);
    if (st || (st = get_tau(y, map, "tau_start", &p->tau_start, err)) ||
        (st = get_tau(y, map, "tau_end", &p->tau_end, err)))
        return st;
    yaml_node_t *n = dnas_yaml_get(y, map, "mode");
    if (n) {
        const char *s = dnas_yaml_str(y, n, "mode", err);
        if (!s) return DNAS_ERR_CONFIG;
        int k = 0;
        while (k < SEARCH_SUPERNET_MODE_COUNT_ && strcmp(s, MODES[k])) k++;
        if (k == SEARCH_SUPERNET_MODE_COUNT_)
            return dnas_yaml_fail(y, n, err, "mode: expected softmax, gumbel, hard or hard_gumbel, found '%s'", s);
        p->mode = (search_supernet_mode)k;
    }
    if ((n = dnas_yaml_get(y, map, "anneal"))) {
        const char *s = dnas_yaml_str(y, n, "anneal", err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!strcmp(s, "exponential"))
            p->anneal = SEARCH_SUPERNET_ANNEAL_EXP;
        else if (!strcmp(s, "linear"))
            p->anneal = SEARCH_SUPERNET_ANNEAL_LINEAR;
        else
            return dnas_yaml_fail(y, n, err, "anneal: expected exponential or linear, found '%s'", s);
    }
    return DNAS_OK;
}

dnas_status search_supernet_config_read(dnas_yaml *y, yaml_node_t *root, int is_supernet, search_supernet_params *p,
                                        dnas_error *err) {
    *p = search_supernet_default_params();
    yaml_node_t *n = dnas_yaml_get(y, root, "supernet");
    if (!n) return DNAS_OK;
    if (!is_supernet) return dnas_yaml_fail(y, n, err, "supernet: only with method: supernet");
    return search_supernet_params_parse(y, n, p, err);
}

/* e/(n−1) of the way from tau_start to tau_end: τ0·(τ1/τ0)^r (exponential,
 * a constant ratio per epoch) or τ0 + r·(τ1 − τ0). */
double search_supernet_tau(const search_supernet_params *p, int e, int n) {
    return search_anneal(p->tau_start, p->tau_end, e, n, p->anneal == SEARCH_SUPERNET_ANNEAL_LINEAR);
}
