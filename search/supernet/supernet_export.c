/* SuperNet export: each choice block replaced by its chosen branch.
 *
 *   1. The supernet's spec with every input named (so that dropping layers
 *      changes nothing else's input).
 *   2. Per block: readers of the mix read the chosen input instead (the
 *      branch's last layer, or the block's input for an empty branch; when
 *      that input is another block's mix, what stands in for that one).
 *   3. The mixes and the layers of the other branches are removed.
 *   4. Built; weights, biases, BN γ, β and running statistics copied by
 *      layer name (every kept layer has its supernet shapes).
 * With one-hot θ at the choices a mix outputs exactly its chosen input
 * (1·x + 0·others), so in eval mode the export computes what the supernet
 * computes. */
#include <string.h>

#include "supernet.h"

static const char *name_of(const train_net *net, int i) {
    return i == 0 ? "input" : net->layers[i].name;
}

/* The layer that stands for layer i in the export: i, or for a mix the
 * stand-in of its chosen input (a skip may choose the previous block's mix). */
static int stand_in(const search_supernet *s, int i) {
    while (s->net->layers[i].op == TRAIN_OP_MIX) {
        int b = 0;
        while (s->blocks[b].mix != i) b++;
        i = s->net->layers[i].inputs[search_supernet_choice(s, b)];
    }
    return i;
}

static int dropped(const search_supernet *s, int i) {
    if (s->net->layers[i].op == TRAIN_OP_MIX) return 1;
    int b = s->block_of[i];
    return b >= 0 && s->branch_of[i] != search_supernet_choice(s, b);
}

dnas_status search_supernet_export(const search_supernet *s, const train_net *net, train_net **out,
                                   dnas_error *err) {
    DNAS_ASSERT(net == s->net);
    train_spec *spec = train_net_spec(net);
    train_spec_name_inputs(spec);
    for (int b = 0; b < s->nblocks; b++)
        train_spec_rename_input(spec, net->layers[s->blocks[b].mix].name, name_of(net, stand_in(s, s->blocks[b].mix)));
    for (int i = net->nlayers - 1; i >= 1; i--)
        if (dropped(s, i)) {
            int at = train_spec_find(spec, net->layers[i].name);
            DNAS_ASSERT(at >= 0);
            train_spec_remove(spec, at);
        }
    dnas_status st = train_net_build(out, spec, net->path, err);
    train_spec_free(spec);
    if (st) return st;
    train_net *o = *out;
    for (int e = 1; e < o->nlayers; e++) {
        const train_layer *E = &o->layers[e];
        int i = train_net_find(net, E->name);
        DNAS_ASSERT(i > 0 && !dropped(s, i));
        const train_layer *L = &net->layers[i];
        DNAS_ASSERT(E->op == L->op && E->w_len == L->w_len && E->b_len == L->b_len && E->c == L->c);
        memcpy(o->params + E->w_off, net->params + L->w_off, L->w_len * sizeof *o->params);
        memcpy(o->params + E->b_off, net->params + L->b_off, L->b_len * sizeof *o->params);
        if (L->op == TRAIN_OP_BN)
            memcpy(o->state + E->state_off, net->state + L->state_off, 2 * (size_t)L->c * sizeof *o->state);
    }
    return DNAS_OK;
}
