/* train_net -> spec -> YAML: each layer's op writes the attributes that
 * rebuild it (op_desc.to_spec); inputs are written unless the layer reads
 * the one before it. */
#include "graph_internal.h"

train_spec *train_net_spec(const train_net *net) {
    const train_layer *in = &net->layers[0];
    train_spec *s = train_spec_new(net->name, in->c, in->h, in->w);
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        train_spec_layer *l = train_spec_add(s, L->name, train_layer_op_name(L));
        if (L->ninputs != 1 || L->inputs[0] != i - 1)
            for (int k = 0; k < L->ninputs; k++) train_spec_add_input(l, net->layers[L->inputs[k]].name);
        if (TRAIN_OP_TABLE[L->op]->to_spec) TRAIN_OP_TABLE[L->op]->to_spec(net, L, l);
    }
    return s;
}

int train_net_write_yaml(FILE *f, const train_net *net) {
    train_spec *s = train_net_spec(net);
    int r = train_spec_write_yaml(f, s);
    train_spec_free(s);
    return r;
}
