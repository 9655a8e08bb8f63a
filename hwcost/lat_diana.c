/* DIANA latency models (PLiNIO cost models), cycles at the target clock.
 *
 * digital (16×16 PEs, 8-bit):
 *   cycles = ceil(Cout/groups/B)·Cin·ceil(OX/X)·OY·kx·ky + OX·OY·(Cout+Cin)/io
 *   B = granularity.cout (16), X = granularity.ox (16),
 *   io = params.io_bytes_per_cycle (8); the second term only when Cout >= 1
 *   (straight-through: its derivative is kept for Cout < 1 too, so the gradient
 *   still pulls channels down). Depthwise: Cout = Cin = groups.
 *
 * analog (AIMC array rows × cols, ternary weights, groups = 1 only):
 *   u = largest of {1, 2, 4, .., max_unroll} with u·Cout <= cols and
 *       (u + kx - 1)·max(min_rows, Cin)·ky <= rows (1 when none);
 *   cycles = load·Cin·kx·ky + ceil(Cout/cols)·ceil(Cin/cin_block)·OX·OY/u·step
 *   with rows 1152, cols 512, cin_block 128, min_rows 64, max_unroll 8,
 *   load 8 cycles, step 18.2 cycles (70 ns at 260 MHz) from params.
 *   u is piecewise constant in Cin, Cout, k: derivative 0. */
#include "internal.h"

static dnas_status digital(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l,
                             double abits, double wbits, hwcost_pt *p, dnas_error *err) {
    hwcost_geom g = hwcost_geom_of(l);
    double B = hwcost_engine_gran(e, "cout", 16), X = hwcost_engine_gran(e, "ox", 16);
    double io = hwcost_engine_param(e, "io_bytes_per_cycle", 8);
    double cx = hwcost_ceil(g.ox / X);
    double rest = cx * g.oy * g.k; /* ceil(OX/X)·OY·kx·ky */
    if (g.depthwise) {
        /* ceil(1/B) = 1: cycles = Cin·rest + OX·OY·2·Cin/io */
        p->v = g.cin * rest + (g.cin >= 1 ? g.ox * g.oy * 2 * g.cin / io : 0);
        p->dcin = rest + 2 * g.ox * g.oy / io;
        p->dk = g.cin * cx * g.oy;
        return DNAS_OK;
    }
    double cb = hwcost_ceil(g.cout / g.groups / B);
    p->v = cb * g.cin * rest + (g.cout >= 1 ? g.ox * g.oy * (g.cout + g.cin) / io : 0);
    p->dcin = cb * rest + g.ox * g.oy / io;
    p->dcout = g.cin * rest / (g.groups * B) + g.ox * g.oy / io;
    p->dk = cb * g.cin * cx * g.oy;
    return DNAS_OK;
}

/* io divides the I/O term: well above 0. */
static const hwcost_param_spec DIGITAL_PARAMS[] = {
    {"io_bytes_per_cycle", 1e-6, 1e6, 0, 0},
    {NULL, 0, 0, 0, 0},
};
const hwcost_latency_model hwcost_lat_diana_digital = {"diana_digital", digital, DIGITAL_PARAMS, 0};

static dnas_status analog(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l,
                            double abits, double wbits, hwcost_pt *p, dnas_error *err) {
    hwcost_geom g = hwcost_geom_of(l);
    double rows = hwcost_engine_param(e, "rows", 1152), cols = hwcost_engine_param(e, "cols", 512);
    double cin_block = hwcost_engine_param(e, "cin_block", 128);
    double min_rows = hwcost_engine_param(e, "min_rows", 64);
    double max_unroll = hwcost_engine_param(e, "max_unroll", 8);
    double load = hwcost_engine_param(e, "load_cycles", 8),
           step = hwcost_engine_param(e, "step_cycles", 18.2);
    double u = 1;
    for (double c = 2; c <= max_unroll; c *= 2)
        if (c * g.cout <= cols && (c + g.kx - 1) * fmax(min_rows, g.cin) * g.ky <= rows) u = c;
    double co = hwcost_ceil(g.cout / cols), ci = hwcost_ceil(g.cin / cin_block);
    double steps = g.ox * g.oy / u * step;
    p->v = load * g.cin * g.k + co * ci * steps;
    p->dcin = load * g.k + co * steps / cin_block;
    p->dcout = ci * steps / cols;
    p->dk = load * g.cin;
    return DNAS_OK;
}

/* cols and cin_block divide; max_unroll bounds the doubling loop over u
 * (at most 10 steps); step_cycles > 0 so a layer's compute is never free. */
static const hwcost_param_spec ANALOG_PARAMS[] = {
    {"rows", 1, 1 << 20, 0, 1},      {"cols", 1, 1 << 20, 0, 1},
    {"cin_block", 1, 1 << 20, 0, 1}, {"min_rows", 0, 1 << 20, 0, 1},
    {"max_unroll", 1, 1024, 0, 1},   {"load_cycles", 0, 1e6, 0, 0},
    {"step_cycles", 0, 1e6, 1, 0},   {NULL, 0, 0, 0, 0},
};
const hwcost_latency_model hwcost_lat_diana_analog = {"diana_analog", analog, ANALOG_PARAMS, 0};
