/* The `odimo:` map of a search config (docs/search.md "ODiMO"):
 *   odimo:
 *     temperature: 1.0     # T of θ = softmax(α / T), > 0, in the first search epoch
 *     temperature_final: 1 # T of the last search epoch, geometric in between
 *                          # (default: temperature)
 *     init: [0.5, 0.5]     # initial θ per parallel engine, in the order of
 *                          # the target's `parallel: engines:` (normalized)
 * The target itself is checked when the method is built (odimo_method.c),
 * since config loading reads no other file. */
#include "odimo.h"

void search_odimo_config_default(search_odimo_config *oc) {
    oc->temperature = oc->temperature_final = 1;
    oc->ninit = 0;
    oc->line = oc->init_line = 0;
}

dnas_status search_odimo_config_parse(dnas_yaml *y, yaml_node_t *root, int is_odimo, search_odimo_config *oc,
                                      dnas_error *err) {
    static const char *const KEYS[] = {"temperature", "temperature_final", "init", NULL};
    search_odimo_config_default(oc);
    oc->line = dnas_yaml_line(dnas_yaml_get(y, root, "method"));
    yaml_node_t *m = dnas_yaml_get(y, root, "odimo"), *n;
    if (!m) return DNAS_OK;
    if (!is_odimo) return dnas_yaml_fail(y, m, err, "odimo: settings of method odimo, but the method is another");
    dnas_status st = dnas_yaml_check_keys(y, m, KEYS, "odimo", err);
    if (st) return st;
    double v;
    if ((n = dnas_yaml_get(y, m, "temperature"))) {
        if ((st = dnas_yaml_float(y, n, "odimo: temperature", 0, 1e6, 1, &v, err))) return st;
        oc->temperature = oc->temperature_final = (float)v;
    }
    if ((n = dnas_yaml_get(y, m, "temperature_final"))) {
        if ((st = dnas_yaml_float(y, n, "odimo: temperature_final", 1e-3, 1e6, 0, &v, err))) return st;
        oc->temperature_final = (float)v;
    }
    if ((n = dnas_yaml_get(y, m, "init"))) {
        if ((st = dnas_yaml_seq(y, n, "odimo: init", 2, HWCOST_MAX_ENGINES, &oc->ninit, err))) return st;
        oc->init_line = dnas_yaml_line(n);
        double sum = 0;
        for (int k = 0; k < oc->ninit; k++) {
            if ((st = dnas_yaml_float(y, dnas_yaml_item(y, n, k), "odimo: init", 0, 1, 1, &v, err))) return st;
            oc->init[k] = (float)v, sum += v;
        }
        for (int k = 0; k < oc->ninit; k++) oc->init[k] = (float)(oc->init[k] / sum);
    }
    return DNAS_OK;
}
