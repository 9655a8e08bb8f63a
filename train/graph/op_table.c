/* The op table: one descriptor per engine op (graph_internal.h says what a
 * descriptor holds), defined in the op family files op_*.c. The builder,
 * the graph walk (net.c), the counts and the YAML writer all go through
 * it; adding an op is a descriptor and a line here. */
#include "graph_internal.h"

const op_desc *const OP_TABLE[TRAIN_OP_COUNT_] = {
    [TRAIN_OP_INPUT] = &op_input_desc,       [TRAIN_OP_CONV] = &op_conv_desc,
    [TRAIN_OP_LINEAR] = &op_linear_desc,     [TRAIN_OP_BN] = &op_bn_desc,
    [TRAIN_OP_RELU] = &op_relu_desc,         [TRAIN_OP_MAXPOOL] = &op_maxpool_desc,
    [TRAIN_OP_AVGPOOL] = &op_avgpool_desc,   [TRAIN_OP_GAVGPOOL] = &op_gavgpool_desc,
    [TRAIN_OP_ADD] = &op_add_desc,           [TRAIN_OP_CONCAT] = &op_concat_desc,
    [TRAIN_OP_FLATTEN] = &op_flatten_desc,   [TRAIN_OP_DROPOUT] = &op_dropout_desc,
    [TRAIN_OP_MIX] = &op_mix_desc,           [TRAIN_OP_PACT] = &op_pact_desc,
};

const char *train_op_name(train_op op) {
    return op >= 0 && op < TRAIN_OP_COUNT_ ? OP_TABLE[op]->name : "?";
}

const char *train_layer_op_name(const train_layer *L) {
    const op_desc *d = OP_TABLE[L->op];
    return L->variant < d->nvariants ? d->variants[L->variant].name : d->name;
}
