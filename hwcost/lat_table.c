/* Latency models built on a MAC/cycle table (macs_per_cycle in the target
 * file, by activation and weight bits). MACs here are without bias adds.
 *
 * mac_table (MPIC, PLiNIO cost model): cycles = MACs / mpc(a, w).
 *
 * ne16 (ours; GAP9's NE16): the engine works on blocks of
 *   granularity.cin input channels × granularity.cout output channels ×
 *   granularity.ox × granularity.oy output pixels, so MACs are counted on
 *   the padded shape, then divided by mpc(a, w) (weights are bit-serial, so
 *   the table scales with 1/w_bits):
 *     conv      ceil(Cout/bo)·bo · ceil(Cin/bi)·bi · ceil(OX/tx)·tx · ceil(OY/ty)·ty · kx·ky
 *     depthwise ceil(C/bi)·bi · bi · (same spatial padding) · kx·ky
 *               (one channel per input-channel lane: 1/bi of the array busy)
 *     linear    ceil(Cout/bo)·bo · ceil(Cin/bi)·bi
 *
 * cortex_m (ours; CMSIS-NN-like s8 kernels on one core):
 *     conv      MACs/mpc + OX·OY·Cin·kx·ky·im2col_cycles + OX·OY·Cout·out_cycles
 *     depthwise MACs/(mpc·depthwise_efficiency) + OX·OY·Cout·out_cycles
 *     linear    MACs/mpc + Cout·out_cycles
 *   im2col_cycles: cycles per element copied and sign-extended into the
 *   im2col buffer; out_cycles: requantization, clamp and store per output. */
#include "internal.h"

static dnas_status mac_table(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l,
                               double abits, double wbits, hwcost_pt *p, dnas_error *err) {
    double mpc;
    dnas_status st = hwcost_engine_mpc(e, abits, wbits, &mpc, err);
    if (st) return st;
    hwcost_geom g = hwcost_geom_of(l);
    hwcost_pt w = hwcost_params_nb(l);
    double s = g.ox * g.oy / mpc;
    *p = (hwcost_pt){w.v * s, w.dcin * s, w.dcout * s, w.dk * s};
    return DNAS_OK;
}

const hwcost_latency_model hwcost_lat_mac_table = {"mac_table", mac_table, NULL, 1};

static dnas_status ne16(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l, double abits,
                          double wbits, hwcost_pt *p, dnas_error *err) {
    double mpc;
    dnas_status st = hwcost_engine_mpc(e, abits, wbits, &mpc, err);
    if (st) return st;
    hwcost_geom g = hwcost_geom_of(l);
    double bi = hwcost_engine_gran(e, "cin", 16), bo = hwcost_engine_gran(e, "cout", 32);
    double tx = hwcost_engine_gran(e, "ox", 3), ty = hwcost_engine_gran(e, "oy", 3);
    /* padded counts; straight-through: d(ceil(c/b)·b)/dc = 1 */
    double pin = hwcost_ceil(g.cin / bi) * bi, pout = hwcost_ceil(g.cout / bo) * bo;
    double pix = l->kind == HWCOST_LINEAR ? 1 : hwcost_ceil(g.ox / tx) * tx * hwcost_ceil(g.oy / ty) * ty;
    if (g.depthwise) {
        p->v = pin * bi * pix * g.k / mpc;
        p->dcin = bi * pix * g.k / mpc;
        p->dk = pin * bi * pix / mpc;
    } else {
        p->v = pout * pin * pix * g.k / mpc;
        p->dcin = pout * pix * g.k / mpc;
        p->dcout = pin * pix * g.k / mpc;
        p->dk = pout * pin * pix / mpc;
    }
    return DNAS_OK;
}

const hwcost_latency_model hwcost_lat_ne16 = {"ne16", ne16, NULL, 1};

static dnas_status cortex_m(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l,
                              double abits, double wbits, hwcost_pt *p, dnas_error *err) {
    double mpc;
    dnas_status st = hwcost_engine_mpc(e, abits, wbits, &mpc, err);
    if (st) return st;
    hwcost_geom g = hwcost_geom_of(l);
    double im2col = hwcost_engine_param(e, "im2col_cycles", 1),
           out = hwcost_engine_param(e, "out_cycles", 10);
    if (g.depthwise) mpc *= hwcost_engine_param(e, "depthwise_efficiency", 0.5);
    hwcost_pt w = hwcost_params_nb(l);
    double pix = g.ox * g.oy, s = pix / mpc;
    *p = (hwcost_pt){w.v * s, w.dcin * s, w.dcout * s, w.dk * s};
    /* output stage: Cout·OX·OY·out (depthwise: Cout = Cin) */
    if (g.depthwise) {
        p->v += pix * g.cin * out;
        p->dcin += pix * out;
    } else {
        p->v += pix * g.cout * out;
        p->dcout += pix * out;
    }
    if (l->kind == HWCOST_CONV) {
        p->v += pix * g.cin * g.k * im2col;
        p->dcin += pix * g.k * im2col;
        p->dk += pix * g.cin * im2col;
    }
    return DNAS_OK;
}

/* depthwise_efficiency scales the MAC/cycle figure that divides: a
 * fraction of the conv rate, well above 0. */
static const hwcost_param_spec CORTEX_M_PARAMS[] = {
    {"im2col_cycles", 0, 1e6, 0, 0},
    {"out_cycles", 0, 1e6, 0, 0},
    {"depthwise_efficiency", 1e-6, 1, 0, 0},
    {NULL, 0, 0, 0, 0},
};
const hwcost_latency_model hwcost_lat_cortex_m = {"cortex_m", cortex_m, CORTEX_M_PARAMS, 1};
