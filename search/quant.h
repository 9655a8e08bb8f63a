/* Integer export: a float train_net (eval mode: BN running statistics,
 * dropout off) -> a deploy_qnet (deploy/qnet.h) whose integer evaluation
 * through the dnas_rt kernels is the deployed network. Post-training
 * quantization; the steps, formulas and what is refused are in
 * docs/deploy.md, "Export from a float network":
 *   1. plan: every float layer becomes an integer op, is folded or fused
 *      into one, or aliases its input (dropout; a ReLU on an unsigned
 *      tensor); anything else is DNAS_ERR_UNSUPPORTED naming the layer;
 *   2. calibrate: per-tensor ranges of the float activations over N
 *      training batches: min, max and a percentile of |x| (99.99 by
 *      default; 100 = the max), which sets the scale;
 *   3. build: BN folded into the preceding conv / linear, weights quantized
 *      per output channel exactly as train_wq_export rounds (at the layer's
 *      own `wbits`, per channel when it has a list, else p->wbits), bias at
 *      scale s_x·s_w,c in int32, multipliers and one shift per op, NCHW ->
 *      HWC.
 * A pact layer of one bit width b is fused like a ReLU into the op it
 * follows; its tensor is not calibrated but takes PACT's grid: unsigned, b
 * bits, scale clip / (2^b - 1), so the requantization's round half up and
 * clamp to [0, 2^b - 1] give the levels the float pact computes (train/ops.h,
 * PACT). */
#ifndef DNAS_SEARCH_QUANT_H
#define DNAS_SEARCH_QUANT_H

#include "deploy.h"
#include "train.h"

#define SEARCH_QUANT_MAX_CALIB 100000 /* most calibration batches */

typedef struct {
    int wbits;         /* weight bits of every conv / linear without its own `wbits`, 2..8 (default 8) */
    int abits;         /* activation bits of every tensor but a pact's, the input included, 2..8
                          (default 8) */
    int calib_batches; /* training batches the ranges come from, 1..SEARCH_QUANT_MAX_CALIB (default
                          10); at most one epoch's */
    int batch;         /* samples per calibration batch (default 128) */
    uint64_t seed;     /* order of the calibration samples (a shuffle of the training set) */
    double percentile; /* of |x| that sets a tensor's scale, in (0, 100] (default 99.99; 100: the
                          largest |x|) */
} search_quant_params;

/* What calibration saw of one layer's activations. */
typedef struct {
    float lo, hi; /* min and max */
    float amax;   /* the percentile of |x| (max(|lo|, |hi|) at 100) */
} search_quant_range;

search_quant_params search_quant_default_params(void);

/* Step 1 alone: DNAS_OK when net can be exported, else the error the
 * export would give (DNAS_ERR_UNSUPPORTED naming the model, the layer, its
 * line and why), without running anything. */
dnas_status search_quant_check(const train_net *net, dnas_error *err);

/* BN folding of conv / linear layer `layer`: w (w_len floats, the layer's
 * weight layout) and b (C floats) such that the layer followed by its BN
 * (when a BN is the only reader of the layer) equals w·x + b in eval mode:
 *   a_c = γ_c / sqrt(var_c + eps),  w'_c = a_c·w_c,  b'_c = a_c·(b_c - mean_c) + β_c
 * with the BN's running mean and variance (b_c = 0 without a bias),
 * computed in double. Without such a BN, w and b are the layer's own (b
 * zeros without a bias). *bn gets the folded BN's index or 0. A layer that
 * is not conv / linear is a caller bug (assert). */
void search_quant_fold(const train_net *net, int layer, float *w, float *b, int *bn);

/* Ranges r[i] of every layer i's activations (eval mode) over the first
 * p->calib_batches shuffled batches of ds (epoch 0 of a shuffle seeded by
 * p->seed), two passes (calib.c). A BN that runs fused with its ReLU has
 * no activation of its own: NAN (its ReLU has the range). Fails as
 * train_net_reserve does, DNAS_ERR_SHAPE when ds does not fit the input,
 * DNAS_ERR_INVALID for parameters out of range or no samples, or
 * DNAS_ERR_NAN naming the layer when an activation is not finite. */
dnas_status search_quant_calibrate(train_net *net, const train_dataset *ds,
                                   const search_quant_params *p, search_quant_range *r,
                                   dnas_error *err);

/* Steps 1 and 3 from given ranges (r[i] per layer, as calibrate gives
 * them); q is initialized here (and empty after an error). */
dnas_status search_quant_export_ranges(deploy_qnet *q, const train_net *net,
                                       const search_quant_range *r, const search_quant_params *p,
                                       dnas_error *err);

/* The whole export: plan (unsupported layers are found before any batch
 * runs), calibrate on ds (training data), build. */
dnas_status search_quant_export(deploy_qnet *q, train_net *net, const train_dataset *ds,
                                const search_quant_params *p, dnas_error *err);

/* train_data_prepare (the datasets a config names, layout, validation
 * split, limits, normalization by the training split's statistics) with
 * the same results, and in *in what the qnet records of it (layout rows,
 * the per-channel mean and std when the config normalizes; *in is freed
 * first, so it must be zeroed or hold a preprocessing). Copy it into an
 * exported qnet's `input` (deploy_qnet_copy_input) so that deploy can
 * turn raw samples into the inputs the integer evaluator sees. */
dnas_status search_quant_prepare_data(const train_config *cfg, train_dataset *train,
                                      train_dataset *val, train_dataset *test,
                                      deploy_qnet_input *in, dnas_error *err);

/* Argmax accuracy of q on ds (x (count, C, H, W) as the float network
 * reads it, labels y) in [0, 1]; DNAS_ERR_INVALID when ds has no labels or
 * the output is not [1][1][K]. */
dnas_status search_quant_accuracy(const deploy_qnet *q, const train_dataset *ds, float *acc,
                                  dnas_error *err);

#endif
