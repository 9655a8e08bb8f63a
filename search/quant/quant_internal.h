/* The export's plan (plan.c), shared by the builder (build.c); not part of
 * the API. */
#ifndef DNAS_SEARCH_QUANT_INTERNAL_H
#define DNAS_SEARCH_QUANT_INTERNAL_H

#include "quant.h"

/* One tensor of the integer network. */
typedef struct {
    int head;      /* the float layer whose activation it holds (its range), or -1: a copy */
    int copy_of;   /* maxpool / flatten: the tensor whose scale, sign and bits it keeps; -1 */
    int is_signed; /* 0 after a fused ReLU, or when every value is >= 0 by construction */
    float cap;     /* fused ReLU6: its cap (the range is clipped to it); 0 none */
    int pact;      /* the fused pact layer whose bits and clip set the tensor's (not calibrated); 0 none */
    int h, w, c;   /* qnet shape [H][W][C] */
    int src_c, src_h, src_w; /* its bytes are the HWC order of a float tensor of this (C, H, W):
                                the own shape, except after a flatten */
} qp_tensor;

/* One integer op: float layer `layer`, with a BN folded and a ReLU fused. */
typedef struct {
    deploy_qop_kind kind;
    int layer, bn, relu; /* bn, relu: 0 when none */
    int in[2];           /* plan tensors read (in[1] = -1 but for add) */
    int out;             /* plan tensor written */
} qp_op;

typedef struct {
    int nlayers;
    int *tensor_of; /* [nlayers]: the tensor holding each float layer's value, -1 none */
    int ntensors, nops;
    qp_tensor *tensors; /* tensors[0] is the network input */
    qp_op *ops;
} qp_plan;

/* DNAS_ERR_INVALID naming the parameter out of range (bits 2..8,
 * percentile in (0, 100], calibration batches, batch size). */
dnas_status search_qp_check_params(const search_quant_params *p, dnas_error *err);

/* Step 1 of quant.h. Errors name the model and the layer. */
dnas_status search_qp_plan_make(qp_plan *plan, const train_net *net, dnas_error *err);
void search_qp_plan_free(qp_plan *plan);

/* Padding after (bottom / right) a window op needs for `out` outputs:
 * max(0, (out - 1)·s + d·(k - 1) + 1 - in - before). */
int search_qp_pad_after(int in, int out, int k, int s, int d, int before);

/* search_quant_fold's per-channel factor a_c (1 without a BN) and folded
 * bias b (C each), without the weights. */
void search_qb_fold_coef(const train_net *net, int layer, double *a, float *b, int *bn);

/* The weights, bias, multipliers, shift and clamp of conv / linear op
 * (fold.c) into qop, whose in / out tensors of q already have their
 * scales. */
dnas_status search_qb_weighted(deploy_qop *qop, deploy_qnet *q, const train_net *net,
                        const qp_plan *plan, const qp_op *op, int wbits, dnas_error *err);

#endif
