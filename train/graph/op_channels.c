/* Per-output-channel keys of conv / linear layers (docs/models.md):
 *   weight_bits: N | [b_0, ..., b_{C-1}]   quantization-aware weights, 2..8
 *   engines: [e_0, ..., e_{C-1}]           each channel's engine (names)
 * what an ODiMO export writes (search/odimo/). A layer with weight_bits
 * runs on its weights fake-quantized per channel (train_wq_forward into the
 * layer's aux buffer, one w_len per layer, recomputed every forward from
 * the values forward reads: net->params or the view), and backward uses
 * the same quantized weights for dx with a straight-through dW. */
#include <string.h>

#include "graph_internal.h"

static dnas_status parse_bits(const op_build *b, train_layer *L) {
    const train_spec_value *v = train_op_attr(b, "weight_bits");
    if (!v) return DNAS_OK;
    int list = v->kind == TRAIN_SPEC_LIST;
    if (list && v->nitems != L->c)
        return train_op_fail(b, v->line, "layer '%s': weight_bits: expected one value or %d (one per output "
                             "channel), found %d", L->name, L->c, v->nitems);
    L->wq_bits = dnas_xmalloc((size_t)L->c);
    for (int c = 0; c < L->c; c++) {
        long bits;
        dnas_status st = train_op_int(b, list ? &v->items[c] : v, "weight_bits", 2, 8, &bits);
        if (st) return st;
        L->wq_bits[c] = (unsigned char)bits;
    }
    return DNAS_OK;
}

static int find_name(const train_layer *L, const char *s) {
    for (int k = 0; k < L->nengine_names; k++)
        if (!strcmp(L->engine_names[k], s)) return k;
    return -1;
}

static dnas_status parse_engines(const op_build *b, train_layer *L) {
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

dnas_status train_op_channel_keys(const op_build *b, train_layer *L) {
    dnas_status st = parse_bits(b, L);
    return st ? st : parse_engines(b, L);
}

void train_op_channel_to_spec(const train_layer *L, train_spec_layer *s) {
    if (L->wq_bits) {
        int same = 1;
        for (int c = 1; c < L->c; c++) same &= L->wq_bits[c] == L->wq_bits[0];
        if (same) {
            train_spec_set_int(s, "weight_bits", L->wq_bits[0]);
        } else {
            long *v = dnas_xmalloc((size_t)L->c * sizeof *v);
            for (int c = 0; c < L->c; c++) v[c] = L->wq_bits[c];
            train_spec_set_ints(s, "weight_bits", v, L->c);
            free(v);
        }
    }
    if (L->engine_of) {
        const char **v = dnas_xmalloc((size_t)L->c * sizeof *v);
        for (int c = 0; c < L->c; c++) v[c] = L->engine_names[L->engine_of[c]];
        train_spec_set_strs(s, "engines", v, L->c);
        free(v);
    }
}

int64_t train_op_channel_aux(const train_layer *L, int64_t act) {
    (void)act;
    return L->wq_bits ? (int64_t)L->w_len : 0;
}

const float *train_op_weights(const op_run *r) {
    const train_layer *L = r->L;
    const float *w = r->P + L->w_off;
    if (!L->wq_bits) return w;
    // w, q (Cout, len): channel c at its own bits
    float *q = r->net->aux[r->i];
    size_t len = L->w_len / (size_t)L->c;
    for (int c = 0; c < L->c; c++)
        train_wq_forward(q + (size_t)c * len, w + (size_t)c * len, 1, (int)len, L->wq_bits[c]);
    return q;
}

const float *train_op_weights_saved(const op_run *r) {
    return r->L->wq_bits ? r->net->aux[r->i] : r->P + r->L->w_off;
}
