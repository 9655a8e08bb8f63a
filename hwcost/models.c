/* Target-independent models (PLiNIO cost models): params, MACs, bit-params,
 * bit-ops and weight bytes, each as a mixture over precision pairs. */
#include <string.h>

#include "internal.h"

hwcost_prec hwcost_prec_single(double bits) {
    hwcost_prec p;
    memset(&p, 0, sizeof p);
    p.n = 1;
    p.bits[0] = bits;
    p.prob[0] = 1.0;
    return p;
}

hwcost_layer hwcost_layer_default(void) {
    hwcost_layer l;
    memset(&l, 0, sizeof l);
    l.kind = HWCOST_CONV;
    l.cin = l.cout = l.k = 1;
    l.kh = l.kw = l.oh = l.ow = l.groups = 1;
    l.w = hwcost_prec_single(8);
    l.a = hwcost_prec_single(8);
    return l;
}

static dnas_status check_prec(const hwcost_prec *p, const char *what, dnas_error *err) {
    if (p->n < 1 || p->n > HWCOST_MAX_PREC)
        return dnas_fail(err, DNAS_ERR_INVALID, "%s precisions: %d candidates, expected 1..%d", what,
                           p->n, HWCOST_MAX_PREC);
    for (int i = 0; i < p->n; i++)
        if (!(p->bits[i] >= 0) || !(p->prob[i] >= 0))
            return dnas_fail(err, DNAS_ERR_INVALID, "%s precision %d: bits %g, prob %g: expected >= 0",
                               what, i, p->bits[i], p->prob[i]);
    return DNAS_OK;
}

dnas_status hwcost_layer_check(const hwcost_layer *l, dnas_error *err) {
    if ((unsigned)l->kind >= HWCOST_KIND_COUNT_)
        return dnas_fail(err, DNAS_ERR_INVALID, "layer kind %d unknown", (int)l->kind);
    if (!(l->cin >= 0) || !(l->cout >= 0) || !(l->k >= 0))
        return dnas_fail(err, DNAS_ERR_INVALID, "%s layer: cin %g, cout %g, k %g: expected >= 0",
                           hwcost_kind_name(l->kind), l->cin, l->cout, l->k);
    if (l->kh < 1 || l->kw < 1 || l->oh < 1 || l->ow < 1 || l->groups < 1)
        return dnas_fail(err, DNAS_ERR_INVALID,
                           "%s layer: kh %d, kw %d, oh %d, ow %d, groups %d: expected >= 1",
                           hwcost_kind_name(l->kind), l->kh, l->kw, l->oh, l->ow, l->groups);
    dnas_status st = check_prec(&l->w, "weight", err);
    return st ? st : check_prec(&l->a, "activation", err);
}

void hwcost_grad_scale(hwcost_grad *g, double s) {
    g->value *= s;
    g->d_cin *= s;
    g->d_cout *= s;
    g->d_k *= s;
    for (int i = 0; i < HWCOST_MAX_PREC; i++) {
        g->d_w[i] *= s;
        g->d_a[i] *= s;
    }
}

dnas_status hwcost_mix(const hwcost_layer *l, hwcost_pair_fn f, const void *ctx, hwcost_grad *g,
                         dnas_error *err) {
    memset(g, 0, sizeof *g);
    dnas_status st = hwcost_layer_check(l, err);
    if (st) return st;
    for (int i = 0; i < l->a.n; i++)
        for (int j = 0; j < l->w.n; j++) {
            if (l->w.bits[j] == 0) continue; /* pruned: costs nothing */
            hwcost_pt p = {0, 0, 0, 0};
            st = f(ctx, l, l->a.bits[i], l->w.bits[j], &p, err);
            if (st) return st;
            double pa = l->a.prob[i], pw = l->w.prob[j];
            g->value += pa * pw * p.v;
            g->d_cin += pa * pw * p.dcin;
            g->d_cout += pa * pw * p.dcout;
            g->d_k += pa * pw * p.dk;
            g->d_w[j] += pa * p.v;
            g->d_a[i] += pw * p.v;
        }
    return DNAS_OK;
}

hwcost_geom hwcost_geom_of(const hwcost_layer *l) {
    hwcost_geom g;
    g.cin = l->cin;
    g.cout = l->cout;
    g.k = l->k;
    g.ky = l->kh;
    g.kx = l->k / l->kh;
    g.ox = l->ow;
    g.oy = l->oh;
    g.groups = l->groups;
    g.depthwise = l->kind == HWCOST_DEPTHWISE;
    if (l->kind == HWCOST_LINEAR) g.k = g.kx = g.ky = g.ox = g.oy = 1, g.groups = 1;
    if (g.depthwise) g.cout = g.cin, g.groups = g.cin;
    return g;
}

/* conv:      P = Cout·Cin/groups·Πk   dP/dCin = Cout·Πk/g, dP/dCout = Cin·Πk/g, dP/dk = Cout·Cin/g
 * depthwise: P = Cin·Πk               dP/dCin = Πk, dP/dk = Cin
 * linear:    P = Cout·Cin */
hwcost_pt hwcost_params_nb(const hwcost_layer *l) {
    hwcost_pt p = {0, 0, 0, 0};
    switch (l->kind) {
    case HWCOST_CONV:
        p.v = l->cout * l->cin / l->groups * l->k;
        p.dcin = l->cout * l->k / l->groups;
        p.dcout = l->cin * l->k / l->groups;
        p.dk = l->cout * l->cin / l->groups;
        break;
    case HWCOST_DEPTHWISE:
        p.v = l->cin * l->k;
        p.dcin = l->k;
        p.dk = l->cin;
        break;
    case HWCOST_LINEAR:
        p.v = l->cout * l->cin;
        p.dcin = l->cout;
        p.dcout = l->cin;
        break;
    default: break;
    }
    return p;
}

/* Bias count: Cout (depthwise: Cin) when the layer has a bias. */
static hwcost_pt bias_count(const hwcost_layer *l) {
    hwcost_pt p = {0, 0, 0, 0};
    if (!l->bias) return p;
    if (l->kind == HWCOST_CONV || l->kind == HWCOST_LINEAR) p.v = l->cout, p.dcout = 1;
    if (l->kind == HWCOST_DEPTHWISE) p.v = l->cin, p.dcin = 1;
    return p;
}

static hwcost_pt pt_axpy(hwcost_pt x, double a, hwcost_pt y) {
    hwcost_pt r = {a * x.v + y.v, a * x.dcin + y.dcin, a * x.dcout + y.dcout, a * x.dk + y.dk};
    return r;
}

static dnas_status pair_model(const void *ctx, const hwcost_layer *l, double abits, double wbits,
                                hwcost_pt *p, dnas_error *err) {
    hwcost_model m = *(const hwcost_model *)ctx;
    hwcost_geom g = hwcost_geom_of(l);
    hwcost_pt pnb = hwcost_params_nb(l), b = bias_count(l), zero = {0, 0, 0, 0};
    double pix = g.ox * g.oy;
    switch (m) {
    case HWCOST_PARAMS: *p = pt_axpy(pnb, 1, b); break;
    case HWCOST_PARAMS_NO_BIAS: *p = pnb; break;
    case HWCOST_MACS: *p = pt_axpy(pt_axpy(pnb, 1, b), pix, zero); break;
    case HWCOST_MACS_NO_BIAS: *p = pt_axpy(pnb, pix, zero); break;
    case HWCOST_BIT_PARAMS: *p = pt_axpy(pnb, wbits, zero); break;
    case HWCOST_BIT_OPS: *p = pt_axpy(pnb, pix * wbits * abits, zero); break;
    case HWCOST_WEIGHT_BYTES: {
        /* ceil(P·w/8) + 4·bias, straight-through: d/dP = w/8 */
        hwcost_pt wb = pt_axpy(pnb, wbits / 8, zero);
        wb.v = hwcost_ceil(wb.v);
        *p = pt_axpy(b, 4, wb);
        break;
    }
    default: return dnas_fail(err, DNAS_ERR_INVALID, "cost model %d unknown", (int)m);
    }
    return DNAS_OK;
}

const char *hwcost_model_name(hwcost_model m) {
    static const char *names[] = {"params",     "params_no_bias", "macs",        "macs_no_bias",
                                  "bit_params", "bit_ops",        "weight_bytes"};
    return (unsigned)m < HWCOST_MODEL_COUNT_ ? names[m] : "?";
}

dnas_status hwcost_eval(hwcost_model m, const hwcost_layer *l, hwcost_grad *g, dnas_error *err) {
    return hwcost_mix(l, pair_model, &m, g, err);
}
