/* The op table: one descriptor per engine op (graph_internal.h says what a
 * descriptor holds), defined in the op family files op_*.c. The builder,
 * the graph walk (net.c), the counts and the YAML writer all go through
 * it; adding an op is a descriptor and a line here. */
#include "graph_internal.h"

const op_desc *const TRAIN_OP_TABLE[TRAIN_OP_COUNT_] = {
    [TRAIN_OP_INPUT] = &train_op_input_desc,       [TRAIN_OP_CONV] = &train_op_conv_desc,
    [TRAIN_OP_LINEAR] = &train_op_linear_desc,     [TRAIN_OP_BN] = &train_op_bn_desc,
    [TRAIN_OP_RELU] = &train_op_relu_desc,         [TRAIN_OP_MAXPOOL] = &train_op_maxpool_desc,
    [TRAIN_OP_AVGPOOL] = &train_op_avgpool_desc,   [TRAIN_OP_GAVGPOOL] = &train_op_gavgpool_desc,
    [TRAIN_OP_ADD] = &train_op_add_desc,           [TRAIN_OP_CONCAT] = &train_op_concat_desc,
    [TRAIN_OP_FLATTEN] = &train_op_flatten_desc,   [TRAIN_OP_DROPOUT] = &train_op_dropout_desc,
    [TRAIN_OP_MIX] = &train_op_mix_desc,           [TRAIN_OP_PACT] = &train_op_pact_desc,
};

const char *train_op_name(train_op op) {
    return op >= 0 && op < TRAIN_OP_COUNT_ ? TRAIN_OP_TABLE[op]->name : "?";
}

const char *train_layer_op_name(const train_layer *L) {
    const op_desc *d = TRAIN_OP_TABLE[L->op];
    return L->variant < d->nvariants ? d->variants[L->variant].name : d->name;
}
