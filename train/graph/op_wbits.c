/* `wbits` of conv and linear layers: the precision their weights are
 * fake-quantized to in forward (what a mixed-precision search exports and
 * fine-tuning trains through). Symmetric per output channel, train_wq_*
 * (ops.h): Q(W) is computed into the layer's aux buffer (w_len floats) at
 * every forward and read by forward and backward in place of W; the
 * weight gradient is straight-through (dW = dQ), which the kernels' weight
 * gradient with respect to the weights they read already is.
 *
 * In YAML: `wbits: 4` (every channel) or `wbits: [8, 4, 0, ...]` (one per
 * output channel, 0 = the channel's weights are 0; 2..16 otherwise).
 * Absent: float weights. The integer export (search/quant) quantizes each
 * channel at its own precision, so fake-quantized and integer weights are
 * the same values. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

dnas_status train_op_wbits_build(const op_build *b, train_layer *L) {
    const train_spec_value *v = train_op_attr(b, "wbits");
    L->wbits = 0;
    L->wbits_ch = NULL;
    if (!v) return DNAS_OK;
    dnas_status st;
    long bits;
    if (v->kind != TRAIN_SPEC_LIST) {
        if ((st = train_op_int(b, v, "wbits", 2, TRAIN_FQ_MAX_BITS, &bits))) return st;
        L->wbits = (int)bits;
        return DNAS_OK;
    }
    if (v->nitems != L->c)
        return train_op_fail(b, v->line,
                             "wbits: expected one bit width per output channel (%d), found %d",
                             L->c, v->nitems);
    unsigned char *ch = dnas_xmalloc((size_t)L->c);
    for (int c = 0; c < L->c; c++) {
        if ((st = train_op_int(b, &v->items[c], "wbits", 0, TRAIN_FQ_MAX_BITS, &bits))) {
            free(ch);
            return st;
        }
        if (bits == 1) {
            free(ch);
            return train_op_fail(b, v->items[c].line,
                                 "wbits: expected 0 (zero channel) or 2..%d, found 1",
                                 TRAIN_FQ_MAX_BITS);
        }
        ch[c] = (unsigned char)bits;
    }
    L->wbits = -1;
    L->wbits_ch = ch;
    return DNAS_OK;
}

void train_op_wbits_to_spec(const train_layer *L, train_spec_layer *s) {
    if (L->wbits > 0) train_spec_set_int(s, "wbits", L->wbits);
    if (L->wbits >= 0) return;
    long *v = dnas_xmalloc((size_t)L->c * sizeof *v);
    for (int c = 0; c < L->c; c++)
        v[c] = L->wbits_ch[c];
    train_spec_set_ints(s, "wbits", v, L->c);
    free(v);
}

int64_t train_op_wbits_aux(const train_layer *L, int64_t act) {
    (void)act;
    return L->wbits ? (int64_t)L->w_len : 0;
}

int train_layer_wbits(const train_layer *L, int c) {
    return L->wbits >= 0 ? L->wbits : L->wbits_ch[c];
}

const float *train_op_wbits_weights(const op_run *r, const float *w) {
    const train_layer *L = r->L;
    if (!L->wbits) return w;
    float *q = r->net->aux[r->i]; /* (Cout, len) */
    int len = (int)(L->w_len / (size_t)L->c);
    if (L->wbits > 0) {
        train_wq_forward(q, w, L->c, len, L->wbits);
    } else {
        for (int c = 0; c < L->c; c++)
            train_wq_forward(q + (size_t)c * len, w + (size_t)c * len, 1, len, L->wbits_ch[c]);
    }
    return q;
}
