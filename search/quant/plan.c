/* Step 1 of the export (quant.h): which integer op each float layer
 * becomes. Layers are visited in their (topological) order:
 * - conv / linear start an op; the BN that is the layer's only reader is
 *   folded into it, then the ReLU / ReLU6 (or pact of one bit width) that
 *   is the only reader of that result is fused into its clamp (unsigned
 *   output; a pact's tensor has the pact's bits and scale);
 * - add (two inputs), avgpool and global_avgpool start an op and fuse a
 *   ReLU the same way;
 * - maxpool and flatten start an op whose output keeps the input's scale;
 * - dropout (eval: the identity) and a ReLU over an unsigned tensor (whose
 *   values are >= 0 already, and below a ReLU6's cap if one was fused
 *   before) alias their input;
 * - everything else is refused: a BN that does not directly follow a conv /
 *   linear read by it alone (folding it elsewhere would need a per-channel
 *   affine op the kernels do not have), any other ReLU (no standalone
 *   integer ReLU), an add of more than two inputs, an average pool whose
 *   windows reach into padding (the float pool divides by the real cells,
 *   the kernel by kh·kw), concat and any op the integer kernels lack, a conv
 *   reading a flattened tensor, an output in a flattened order.
 * A flatten keeps the bytes in HWC order; the tensor remembers the (C, H, W)
 * whose order that is, and the linear reading it permutes its weights. */
#include <string.h>

#include "quant_internal.h"

int search_qp_pad_after(int in, int out, int k, int s, int d, int before) {
    int64_t p = (int64_t)(out - 1) * s + (int64_t)d * (k - 1) + 1 - in - before;
    return p > 0 ? (int)p : 0;
}

typedef struct {
    const train_net *net;
    qp_plan *plan;
    int *nread;  /* readers of each layer */
    int *reader; /* the last reader of each layer */
    dnas_error *err;
} ctx;

#define LFAIL(i, ...) layer_fail(c, i, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static dnas_status layer_fail(ctx *c, int i, const char *fmt,
                                                                    ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const train_layer *L = &c->net->layers[i];
    return dnas_fail(c->err, DNAS_ERR_UNSUPPORTED,
                     "model '%s' (%s): layer '%s' (%s, line %d): %s; no integer export",
                     c->net->name, c->net->path, L->name, train_op_name(L->op), L->line, msg);
}

/* The only reader of layer i, or 0. */
static int sole_reader(ctx *c, int i) {
    return c->nread[i] == 1 ? c->reader[i] : 0;
}

static int add_tensor(ctx *c, int head, const train_layer *L) {
    qp_plan *p = c->plan;
    p->tensors = dnas_xrealloc(p->tensors, (size_t)(p->ntensors + 1) * sizeof *p->tensors);
    qp_tensor *t = &p->tensors[p->ntensors];
    memset(t, 0, sizeof *t);
    t->head = head;
    t->copy_of = -1;
    t->is_signed = 1;
    t->h = L->h, t->w = L->w, t->c = L->c;
    t->src_c = L->c, t->src_h = L->h, t->src_w = L->w;
    return p->ntensors++;
}

static qp_op *add_op(ctx *c, deploy_qop_kind kind, int layer, int in0) {
    qp_plan *p = c->plan;
    p->ops = dnas_xrealloc(p->ops, (size_t)(p->nops + 1) * sizeof *p->ops);
    qp_op *op = &p->ops[p->nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->layer = layer;
    op->in[0] = in0;
    op->in[1] = -1;
    return op;
}

/* The ReLU, or pact of one bit width, that is the only reader of head,
 * fused into op: marks it. */
static int fuse_relu(ctx *c, qp_op *op, int head, float *cap, char *absorbed) {
    int r = sole_reader(c, head);
    const train_layer *R = &c->net->layers[r];
    if (!r || (R->op != TRAIN_OP_RELU && (R->op != TRAIN_OP_PACT || R->prec.nprec != 1))) return head;
    op->relu = r;
    absorbed[r] = 1;
    *cap = R->op == TRAIN_OP_RELU ? R->cap : 0;
    return r;
}

static int permuted(const qp_tensor *t) {
    return t->src_c != t->c || t->src_h != t->h || t->src_w != t->w;
}

/* Layer i (not folded or fused into an earlier op): an op, an alias or an
 * error. */
static dnas_status visit(ctx *c, int i, char *absorbed) {
    const train_net *net = c->net;
    qp_plan *p = c->plan;
    const train_layer *L = &net->layers[i];
    int in = p->tensor_of[L->inputs[0]];
    const qp_tensor *I = &p->tensors[in];
    int head = i, out;
    float cap = 0;
    qp_op *op;
    switch (L->op) {
    case TRAIN_OP_CONV:
    case TRAIN_OP_LINEAR: {
        if (L->op == TRAIN_OP_CONV && permuted(I))
            return LFAIL(i,
                         "it reads the flattened tensor of '%s' (HWC order, not the float "
                         "network's): only a linear may",
                         net->layers[L->inputs[0]].name);
        for (int ch = 0; ch < L->c; ch++)
            if (train_layer_wbits(L, ch) > 8)
                return LFAIL(i, "wbits %d: the integer kernels run 2..8-bit weights", train_layer_wbits(L, ch));
        op = add_op(c, L->op == TRAIN_OP_CONV ? DEPLOY_QOP_CONV : DEPLOY_QOP_LINEAR, i, in);
        int r = sole_reader(c, i);
        if (r && net->layers[r].op == TRAIN_OP_BN) {
            op->bn = head = r;
            absorbed[r] = 1;
        }
        head = fuse_relu(c, op, head, &cap, absorbed);
        break;
    }
    case TRAIN_OP_ADD: {
        if (L->ninputs != 2)
            return LFAIL(i, "an add of %d inputs: the integer add takes two", L->ninputs);
        const qp_tensor *B = &p->tensors[p->tensor_of[L->inputs[1]]];
        if (B->src_c != I->src_c || B->src_h != I->src_h || B->src_w != I->src_w)
            return LFAIL(i, "its inputs hold their values in different orders (one is flattened)");
        op = add_op(c, DEPLOY_QOP_ADD, i, in);
        op->in[1] = p->tensor_of[L->inputs[1]];
        head = fuse_relu(c, op, head, &cap, absorbed);
        break;
    }
    case TRAIN_OP_AVGPOOL: {
        const train_layer *X = &net->layers[L->inputs[0]];
        if (L->pt || L->pl || search_qp_pad_after(X->h, L->h, L->kh, L->sh, 1, L->pt) ||
            search_qp_pad_after(X->w, L->w, L->kw, L->sw, 1, L->pl))
            return LFAIL(i,
                         "its windows reach into padding, where the float pool averages the real "
                         "cells only and the integer one divides by kh·kw (use padding: valid)");
    } /* fall through */
    case TRAIN_OP_GAVGPOOL:
        op = add_op(c, L->op == TRAIN_OP_AVGPOOL ? DEPLOY_QOP_AVGPOOL : DEPLOY_QOP_GAVGPOOL, i, in);
        head = fuse_relu(c, op, head, &cap, absorbed);
        break;
    case TRAIN_OP_MAXPOOL:
    case TRAIN_OP_FLATTEN:
        op = add_op(c, L->op == TRAIN_OP_MAXPOOL ? DEPLOY_QOP_MAXPOOL : DEPLOY_QOP_FLATTEN, i, in);
        break;
    case TRAIN_OP_DROPOUT: p->tensor_of[i] = in; return DNAS_OK;
    case TRAIN_OP_RELU:
        if (!I->is_signed && (L->cap == 0 || (I->cap > 0 && I->cap <= L->cap))) {
            p->tensor_of[i] = in; /* values already >= 0 (and under the cap) */
            return DNAS_OK;
        }
        return LFAIL(i,
                     "it does not follow a conv, linear, add or average pool that only it reads, "
                     "so it cannot be fused into a requantization (there is no standalone "
                     "integer ReLU)");
    case TRAIN_OP_PACT:
        if (L->prec.nprec != 1)
            return LFAIL(i, "a pact over %d candidate bit widths (a search supernet): export one width",
                         L->prec.nprec);
        if (L->prec.bits[0] < 2 || L->prec.bits[0] > 8)
            return LFAIL(i, "bits %d: the integer kernels run 2..8-bit activations", L->prec.bits[0]);
        return LFAIL(i,
                     "it does not follow a conv, linear, add or average pool that only it reads, "
                     "so it cannot be fused into a requantization");
    case TRAIN_OP_BN:
        return LFAIL(i,
                     "it does not directly follow a conv or linear whose only reader it is, so it "
                     "cannot be folded (there is no integer per-channel affine op)");
    default:
        return LFAIL(i,
                     "the integer kernels have no %s (the export handles conv, linear, "
                     "batchnorm after them, relu, relu6, add of two inputs, maxpool, avgpool, "
                     "global_avgpool, flatten, dropout)",
                     train_op_name(L->op));
    }
    /* the op's output tensor, shaped as the float layer whose value it holds */
    out = add_tensor(c, head, &net->layers[head]);
    op = &p->ops[p->nops - 1];
    op->out = out;
    qp_tensor *O = &p->tensors[out];
    I = &p->tensors[in];
    O->cap = cap;
    if (op->relu) {
        O->is_signed = 0;
        if (net->layers[op->relu].op == TRAIN_OP_PACT) O->pact = op->relu;
    } else if (op->kind == DEPLOY_QOP_ADD) {
        O->is_signed = I->is_signed || p->tensors[op->in[1]].is_signed;
    } else if (op->kind != DEPLOY_QOP_CONV && op->kind != DEPLOY_QOP_LINEAR) {
        O->is_signed = I->is_signed; /* pools and flatten keep the sign (and a cap) */
        O->cap = I->cap;
    }
    if (op->kind == DEPLOY_QOP_MAXPOOL || op->kind == DEPLOY_QOP_FLATTEN) {
        O->head = -1;
        O->copy_of = in;
    }
    if (op->kind == DEPLOY_QOP_FLATTEN ||
        (op->kind != DEPLOY_QOP_CONV && op->kind != DEPLOY_QOP_LINEAR && permuted(I))) {
        /* a flattened order survives pools over its 1x1 pixels and adds */
        O->src_c = I->src_c, O->src_h = I->src_h, O->src_w = I->src_w;
    }
    if (op->kind == DEPLOY_QOP_FLATTEN) O->h = O->w = 1, O->c = I->h * I->w * I->c;
    p->tensor_of[i] = out;
    if (op->bn) p->tensor_of[op->bn] = out;
    if (op->relu) p->tensor_of[op->relu] = out;
    return DNAS_OK;
}

dnas_status search_qp_plan_make(qp_plan *plan, const train_net *net, dnas_error *err) {
    memset(plan, 0, sizeof *plan);
    plan->nlayers = net->nlayers;
    plan->tensor_of = dnas_xmalloc((size_t)net->nlayers * sizeof(int));
    for (int i = 0; i < net->nlayers; i++)
        plan->tensor_of[i] = -1;
    ctx c = {net, plan, dnas_xcalloc((size_t)net->nlayers, sizeof(int)),
             dnas_xcalloc((size_t)net->nlayers, sizeof(int)), err};
    for (int i = 1; i < net->nlayers; i++)
        for (int k = 0; k < net->layers[i].ninputs; k++) {
            c.nread[net->layers[i].inputs[k]]++;
            c.reader[net->layers[i].inputs[k]] = i;
        }
    char *absorbed = dnas_xcalloc((size_t)net->nlayers, 1);
    plan->tensor_of[0] = add_tensor(&c, 0, &net->layers[0]);
    dnas_status st = DNAS_OK;
    for (int i = 1; i < net->nlayers && !st; i++)
        if (!absorbed[i]) st = visit(&c, i, absorbed);
    if (!st) {
        const qp_tensor *O = &plan->tensors[plan->tensor_of[net->output]];
        if (permuted(O))
            st = dnas_fail(
                err, DNAS_ERR_UNSUPPORTED,
                "model '%s' (%s): the output '%s' is a flattened tensor whose integer values "
                "come in HWC order, not the float network's CHW order (end the model with a "
                "linear); no integer export",
                net->name, net->path, net->layers[net->output].name);
    }
    free(absorbed);
    free(c.nread);
    free(c.reader);
    if (st) search_qp_plan_free(plan);
    return st;
}

void search_qp_plan_free(qp_plan *plan) {
    free(plan->tensor_of);
    free(plan->tensors);
    free(plan->ops);
    memset(plan, 0, sizeof *plan);
}
