/* GAP8 8-core cluster latency (PLiNIO cost models; PULP-NN/DORY kernels), cycles:
 *   conv      ceil(OX/2)·ceil(OY/8)·(2·kx·ky·Cin + ceil(Cout/4)·(15 + 14·ceil(kx·ky·Cin/4)))
 *   depthwise 4·ceil(Cout/4)·OX·OY·kx·ky          (Cout = Cin)
 *   linear    ceil(Cin/2)·ceil(Cout/4)
 * Ours: a grouped conv (1 < groups < Cin) costs groups × the conv formula
 * on Cin/groups, Cout/groups. Precision does not enter (8-bit kernels). */
#include "internal.h"

static dnas_status gap8(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l, double abits,
                          double wbits, hwcost_pt *p, dnas_error *err) {
    hwcost_geom g = hwcost_geom_of(l);
    if (l->kind == HWCOST_LINEAR) {
        double a = hwcost_ceil(g.cin / 2), b = hwcost_ceil(g.cout / 4);
        p->v = a * b;
        p->dcin = b / 2;
        p->dcout = a / 4;
        return DNAS_OK;
    }
    if (g.depthwise) {
        double c4 = hwcost_ceil(g.cin / 4);
        p->v = 4 * c4 * g.ox * g.oy * g.k;
        p->dcin = g.ox * g.oy * g.k;
        p->dk = 4 * c4 * g.ox * g.oy;
        return DNAS_OK;
    }
    double G = g.groups, cin = g.cin / G, cout = g.cout / G;
    double A = hwcost_ceil(g.ox / 2) * hwcost_ceil(g.oy / 8);
    double c4 = hwcost_ceil(cout / 4), q = hwcost_ceil(g.k * cin / 4);
    p->v = G * A * (2 * g.k * cin + c4 * (15 + 14 * q));
    /* d/dCin = G·dF/dcin·(1/G) */
    p->dcin = A * (2 * g.k + c4 * 14 * g.k / 4);
    p->dcout = A * (15 + 14 * q) / 4;
    p->dk = G * A * (2 * cin + c4 * 14 * cin / 4);
    return DNAS_OK;
}

const hwcost_latency_model hwcost_lat_gap8 = {"gap8_cluster", gap8, NULL, 0};
