/* `engines` of conv / linear layers (docs/models.md):
 *   engines: [e_0, ..., e_{C-1}]   the engine each output channel runs on
 * what an ODiMO export writes (search/odimo/), next to a per-channel
 * `wbits` (op_wbits.c). train/ only keeps it; the cost bridge and the
 * integer export read it. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static int find_name(const train_layer *L, const char *s) {
    for (int k = 0; k < L->nengine_names; k++)
        if (!strcmp(L->engine_names[k], s)) return k;
    return -1;
}

dnas_status train_op_engines_build(const op_build *b, train_layer *L) {
    const train_spec_value *v = train_op_attr(b, "engines");
    if (!v) return DNAS_OK;
    if (v->kind != TRAIN_SPEC_LIST || v->nitems != L->c)
        return train_op_fail(b, v->line, "layer '%s': engines: expected a list of %d engine names (one per "
                             "output channel)", L->name, L->c);
    L->engine_of = dnas_xmalloc((size_t)L->c);
    L->engine_names = dnas_xcalloc(TRAIN_MAX_ENGINE_NAMES, sizeof *L->engine_names);
    for (int c = 0; c < L->c; c++) {
        const char *s = train_op_str(b, &v->items[c], "engines");
        if (!s) return DNAS_ERR_CONFIG;
        size_t n = strlen(s);
        if (n < 1 || n >= TRAIN_ENGINE_NAME_LEN)
            return train_op_fail(b, v->items[c].line, "engines: expected names of 1..%d characters, found '%s'",
                                 TRAIN_ENGINE_NAME_LEN - 1, s);
        int k = find_name(L, s);
        if (k < 0) {
            if (L->nengine_names == TRAIN_MAX_ENGINE_NAMES)
                return train_op_fail(b, v->items[c].line, "engines: more than %d distinct names",
                                     TRAIN_MAX_ENGINE_NAMES);
            k = L->nengine_names++;
            memcpy(L->engine_names[k], s, n + 1);
        }
        L->engine_of[c] = (unsigned char)k;
    }
    return DNAS_OK;
}

void train_op_engines_to_spec(const train_layer *L, train_spec_layer *s) {
    if (L->engine_of) {
        const char **v = dnas_xmalloc((size_t)L->c * sizeof *v);
        for (int c = 0; c < L->c; c++) v[c] = L->engine_names[L->engine_of[c]];
        train_spec_set_strs(s, "engines", v, L->c);
        free(v);
    }
}
