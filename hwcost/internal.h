/* Internal helpers of hwcost: the per-precision-pair evaluation behind every
 * model, the straight-through ceil, and the latency-model registry. */
#ifndef DNAS_HWCOST_INTERNAL_H
#define DNAS_HWCOST_INTERNAL_H

#include <math.h>

#include "hwcost.h"

/* f(layer | a_bits, w_bits) and its partials in cin, cout, k. */
typedef struct {
    double v, dcin, dcout, dk;
} hwcost_pt;

typedef dnas_status (*hwcost_pair_fn)(const void *ctx, const hwcost_layer *l, double abits, double wbits,
                                        hwcost_pt *p, dnas_error *err);

/* g = Σ_ij θa_i θw_j f(a_i, w_j) with all partials; pairs with w_bits = 0
 * cost 0 and are not evaluated. */
dnas_status hwcost_mix(const hwcost_layer *l, hwcost_pair_fn f, const void *ctx, hwcost_grad *g,
                         dnas_error *err);

/* Scales value and every partial. */
void hwcost_grad_scale(hwcost_grad *g, double s);

/* Geometry of a layer as the formulas use it: per-kind conventions applied
 * (linear: k = kx = ky = OX = OY = 1; depthwise: cout = cin, groups = cin).
 * dcout_dcin = 1 for depthwise (cout follows cin), else 0. */
typedef struct {
    double cin, cout, k, kx, ky, ox, oy, groups;
    int depthwise;
} hwcost_geom;
hwcost_geom hwcost_geom_of(const hwcost_layer *l);

/* params without bias of a conv/depthwise/linear layer, with partials. */
hwcost_pt hwcost_params_nb(const hwcost_layer *l);

/* A constant a latency model reads from an engine's `params:`, with the
 * range the target loader enforces, so that no value a file can hold makes
 * the model divide by zero, loop without end or return a non-finite
 * number: a finite number in [lo, hi] (lo excluded when lo_open), an
 * integer when `integer`. */
typedef struct {
    const char *name;
    double lo, hi;
    int lo_open;
    int integer;
} hwcost_param_spec;

/* Latency model: cycles of one (a_bits, w_bits) pair on one engine. */
typedef struct {
    const char *name;
    dnas_status (*cycles)(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l,
                            double abits, double wbits, hwcost_pt *p, dnas_error *err);
    /* every constant the model reads from `params:`, all required (a NULL
     * name ends the list; NULL: none) */
    const hwcost_param_spec *params;
    int needs_table; /* 1: needs a macs_per_cycle table; 0: takes none */
} hwcost_latency_model;

extern const hwcost_latency_model *const HWCOST_LATENCY_MODELS[];
extern const int HWCOST_NLATENCY_MODELS;

/* Registered models (one file each). */
extern const hwcost_latency_model hwcost_lat_diana_digital, hwcost_lat_diana_analog, hwcost_lat_gap8,
    hwcost_lat_mac_table, hwcost_lat_ne16, hwcost_lat_cortex_m;

/* MAC/cycle of an engine for (a, w), or a clear error naming the engine. */
dnas_status hwcost_engine_mpc(const hwcost_engine *e, double abits, double wbits, double *mpc,
                                dnas_error *err);

/* Straight-through ceil: value ceil(x), derivative taken as 1. */
static inline double hwcost_ceil(double x) { return ceil(x); }

#endif
