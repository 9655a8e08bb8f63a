/* Pass "tile": output tiles for every op that runs through a small tiled
 * memory (the target description's level marked `tiled: true`, e.g. GAP8's
 * L1 of 64,000 B, DIANA's L1_act of 128,000 B), so that a layer whose working set does not fit still runs:
 * its output is cut into tiles and each tile's input window, weights and
 * output pass through the memory, moved by DMA from and to L2/L3.
 *
 * Steps:
 *   1. without a target description, or for a backend that runs whole
 *      layers (deploy_compile_params.tile = 0: c, cortex-m), nothing is
 *      tiled. Else an op is tiled when it is a conv or linear on an engine
 *      of the target and a tiled level holding layer activations serves
 *      that engine; the memory's size is p->l1_bytes when set (`dnas deploy
 *      --l1`), else the level's bytes; weight tiles count there when the
 *      level holds layer weights too. A split op (ODiMO) is tiled on its
 *      own channels. Where the weights go follows the target too: a tiled
 *      level holding layer weights (not activations) of the op's engine
 *      only (DIANA's L1_wdig) takes the weight tiles instead, stored in
 *      blocks of the channel granularity (the digital array's 16 lanes),
 *      and bounds them by its own size; an untiled level holding the
 *      engine's layer weights (DIANA's analog array) keeps them: no weight
 *      buffers, no weight DMA, and channel tiles only of `cout_max` (the
 *      array's columns) when the layer has more channels, else all;
 *   2. the engine's granularity (`granularity: {cout: N, ox: N, cout_max:
 *      N}` of the target) bounds the tiles: channel tiles a multiple of
 *      cout (or all channels; for groups > 1 also a multiple of the
 *      channels per group, so a tile holds whole groups) and at most
 *      cout_max, column tiles a multiple of ox (or all columns). Input
 *      channels are never tiled (a tile reads every input channel of its
 *      groups);
 *   3. every candidate (th rows, tw columns, tc channels) gets its buffers
 *      (deploy_tile_layout): the input window of th output rows is
 *      (th-1)·stride + (kh-1)·dilation + 1 rows (the halo; fewer at the
 *      layer's edges, where padding is not stored), the same for columns;
 *      a weight buffer holds tc channels' weights (padded to 4 bytes), int32
 *      biases and multipliers. With more than one tile the input and output
 *      buffers are doubled when their contents change between tiles, and the
 *      weight buffer when there is more than one channel tile (double
 *      buffering: the next tile's transfers run while the cores compute);
 *   4. the largest tile that fits wins: the most output values th·tw·tc,
 *      then the most channels, then the most columns (fewer re-read inputs
 *      and halos). The whole layer is a single tile when it fits. When none
 *      fits, DNAS_ERR_UNSUPPORTED names the layer and the smallest memory
 *      any candidate needs (or the smallest weight memory, when no channel
 *      tile's weights fit theirs);
 *   5. the op records its tiles, buffer sizes, its bytes in the memory, the
 *      DMA bytes per inference (the executor's order: channel tiles outer,
 *      then rows, then columns; an input window moved per tile when inputs
 *      change, weights once per channel tile, each output value once) and
 *      the cost model's cycles summed over its tiles (the tiling overhead
 *      beside o->cycles, the whole layer's); the IR the most memory any op
 *      uses, the DMA bytes and their lower bound (each tiled op's input
 *      values that it reads, its output and its constants moved once: the
 *      DMA of the layer as one tile). */
#include <string.h>

#include "compiler_internal.h"

void deploy_tile_conv_dims(const deploy_ir *ir, int k, dnas_rt_conv_dims *d) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_qop *s = o->q;
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    int32_t cout = deploy_ir_op_cout(ir, k); /* a split op: its channels */
    if (o->kind == DEPLOY_QOP_LINEAR) {
        int32_t cin = I->h * I->w * I->c;
        *d = (dnas_rt_conv_dims){1, 1, cin, 1, 1, cout,         1,           1, 1, 1, 1, 1,
                                 0, 0, 0,   0, 1, I->is_signed, O->is_signed};
        return;
    }
    *d = (dnas_rt_conv_dims){I->h,  I->w,  I->c,      O->h,         O->w,        cout,  s->kh,
                             s->kw, s->sh, s->sw,     s->dh,        s->dw,       s->pt, s->pb,
                             s->pl, s->pr, s->groups, I->is_signed, O->is_signed};
}

typedef struct {
    int32_t a, n; /* first input row (column) read, and how many */
} span;

/* The input rows output rows o0..o0+n-1 read (clipped to the input). */
static span span_of(int32_t o0, int32_t n, int32_t s, int32_t k, int32_t dil, int32_t p,
                    int32_t in) {
    int32_t lo = o0 * s - p, hi = (o0 + n - 1) * s - p + (k - 1) * dil + 1;
    int32_t a = lo < 0 ? 0 : lo, b = hi > in ? in : hi;
    return (span){a, b > a ? b - a : 0};
}

/* The most input rows any tile of n output rows reads. */
static int32_t window_rows(int32_t n, int32_t s, int32_t k, int32_t dil, int32_t in) {
    int64_t r = (int64_t)(n - 1) * s + (int64_t)(k - 1) * dil + 1;
    return r < in ? (int32_t)r : in;
}

static size_t round_up(size_t v, size_t a) {
    return (v + a - 1) / a * a;
}

static int32_t ceil_div(int32_t a, int32_t b) {
    return (a + b - 1) / b;
}

static size_t limits_align(const deploy_tile_limits *lim) {
    return lim->align < 4 ? 4 : lim->align;
}

void deploy_tile_offsets(const deploy_tile *t, size_t align, size_t off[6]) {
    size_t at = 0;
    const size_t bytes[3] = {t->in_bytes, t->w_bytes, t->out_bytes};
    const int twice[3] = {t->in_double, t->w_double, t->out_double};
    align = align < 4 ? 4 : align;
    for (int b = 0; b < 3; b++) {
        off[2 * b] = at;
        at += round_up(bytes[b], align);
        off[2 * b + 1] = twice[b] ? at : off[2 * b];
        if (twice[b]) at += round_up(bytes[b], align);
    }
}

static int32_t lanes_of(const deploy_tile_limits *lim) {
    return lim->w_lanes > 1 ? lim->w_lanes : 1;
}

/* Weight bytes of cn channels of k taps: whole blocks of lanes channels. */
static size_t weight_bytes(int32_t cn, size_t k, int32_t lanes) {
    return (size_t)ceil_div(cn, lanes) * (size_t)lanes * k;
}

/* Whether a channel tile of tc is on the granularity (and at most max > 0). */
static int channels_ok(const dnas_rt_conv_dims *d, int32_t tc, int32_t gran, int32_t max) {
    if (tc < 1 || tc > d->cout || (max > 0 && tc > max)) return 0;
    if (d->groups > 1 && tc % (d->cout / d->groups) != 0) return 0;
    return tc == d->cout || tc % gran == 0;
}

/* Buffers and memory bytes of the tiling (no DMA count). */
static void buffers(const dnas_rt_conv_dims *d, int has_bias, int32_t th, int32_t tw, int32_t tc,
                    const deploy_tile_limits *lim, deploy_tile *t) {
    memset(t, 0, sizeof *t);
    t->tiled = 1;
    t->th = th, t->tw = tw, t->tc = tc;
    t->nh = ceil_div(d->hout, th), t->nw = ceil_div(d->wout, tw), t->nc = ceil_div(d->cout, tc);
    int32_t cin = d->groups == 1 ? d->cin : tc / (d->cout / d->groups) * (d->cin / d->groups);
    size_t k = (size_t)d->kh * (size_t)d->kw * (size_t)(d->cin / d->groups);
    t->in_bytes = (size_t)window_rows(th, d->sh, d->kh, d->dh, d->hin) *
                  (size_t)window_rows(tw, d->sw, d->kw, d->dw, d->win) * (size_t)cin;
    t->out_bytes = (size_t)th * (size_t)tw * (size_t)tc;
    t->w_bytes = round_up(weight_bytes(tc, k, lanes_of(lim)), 4) + (has_bias ? 4 * (size_t)tc : 0) +
                 4 * (size_t)tc;
    long n = (long)t->nh * t->nw * t->nc;
    int in_changes = t->nh * t->nw > 1 || (d->groups > 1 && t->nc > 1);
    t->in_double = n > 1 && in_changes;
    t->out_double = n > 1;
    t->w_double = t->nc > 1;
    if (lim->weights_fixed) t->w_bytes = 0, t->w_double = 0;
    size_t off[6];
    deploy_tile t2 = *t;
    if (!lim->weights_in_l1 || lim->w_l1) t2.w_bytes = 0, t2.w_double = 0;
    deploy_tile_offsets(&t2, limits_align(lim), off);
    t->l1_bytes = off[5] + round_up(t->out_bytes, limits_align(lim));
}

size_t deploy_tile_w_l1_bytes(const deploy_tile *t, const deploy_tile_limits *lim) {
    if (!lim->w_l1 || lim->weights_fixed) return 0;
    return round_up(t->w_bytes, limits_align(lim)) * (t->w_double ? 2 : 1);
}

/* The DMA bytes per inference of the tiling in t (the executor's order). */
static uint64_t dma_bytes(const dnas_rt_conv_dims *d, int has_bias, const deploy_tile *t,
                          const deploy_tile_limits *lim) {
    int in_changes = t->nh * t->nw > 1 || (d->groups > 1 && t->nc > 1);
    size_t k = (size_t)d->kh * (size_t)d->kw * (size_t)(d->cin / d->groups);
    uint64_t bytes = 0;
    for (int32_t c = 0; c < t->nc; c++) {
        int32_t c0 = c * t->tc, cn = d->cout - c0 < t->tc ? d->cout - c0 : t->tc;
        int32_t cin = d->groups == 1 ? d->cin : cn / (d->cout / d->groups) * (d->cin / d->groups);
        if (!lim->weights_fixed)
            bytes += weight_bytes(cn, k, lanes_of(lim)) + (uint64_t)cn * ((has_bias ? 4 : 0) + 4);
        for (int32_t y = 0; y < t->nh; y++) {
            int32_t oy = y * t->th, oh = d->hout - oy < t->th ? d->hout - oy : t->th;
            span sy = span_of(oy, oh, d->sh, d->kh, d->dh, d->pt, d->hin);
            for (int32_t x = 0; x < t->nw; x++) {
                int32_t ox = x * t->tw, ow = d->wout - ox < t->tw ? d->wout - ox : t->tw;
                span sx = span_of(ox, ow, d->sw, d->kw, d->dw, d->pl, d->win);
                if (in_changes || (c == 0 && y == 0 && x == 0))
                    bytes += (uint64_t)sy.n * (uint64_t)sx.n * (uint64_t)cin;
                bytes += (uint64_t)oh * (uint64_t)ow * (uint64_t)cn;
            }
        }
    }
    return bytes;
}

dnas_status deploy_tile_layout(const deploy_ir *ir, int k, int32_t th, int32_t tw, int32_t tc,
                               const deploy_tile_limits *lim, deploy_tile *t, dnas_error *err) {
    dnas_rt_conv_dims d;
    deploy_tile_conv_dims(ir, k, &d);
    int32_t og = lim->ow_gran > 1 ? lim->ow_gran : 1, cg = lim->cout_gran > 1 ? lim->cout_gran : 1;
    if (th < 1 || th > d.hout || tw < 1 || tw > d.wout || (tw != d.wout && tw % og) ||
        !channels_ok(&d, tc, cg, lim->cout_max))
        return dnas_fail(err, DNAS_ERR_INVALID,
                         "%s: layer %d: tile %dx%dx%d is outside the output [%d][%d][%d] or off "
                         "the granularity (channels %d, columns %d)",
                         ir->name, k, th, tw, tc, d.hout, d.wout, d.cout, cg, og);
    int has_bias = ir->ops[k].q->bias != NULL;
    buffers(&d, has_bias, th, tw, tc, lim, t);
    t->dma_bytes = dma_bytes(&d, has_bias, t, lim);
    return DNAS_OK;
}

/* 1 when every output row (column) reads at least one input row (column). */
static int reads_input(int32_t out, int32_t s, int32_t k, int32_t dil, int32_t p, int32_t in) {
    return span_of(0, 1, s, k, dil, p, in).n > 0 && span_of(out - 1, 1, s, k, dil, p, in).n > 0;
}

dnas_status deploy_tile_choose(const deploy_ir *ir, int k, const deploy_tile_limits *lim,
                               deploy_tile *t, dnas_error *err) {
    dnas_rt_conv_dims d;
    deploy_tile_conv_dims(ir, k, &d);
    const deploy_qop *s = ir->ops[k].q;
    if (!reads_input(d.hout, d.sh, d.kh, d.dh, d.pt, d.hin) ||
        !reads_input(d.wout, d.sw, d.kw, d.dw, d.pl, d.win))
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: layer %d '%s': an output row or column reads only padding, which "
                         "the tiler does not split",
                         ir->name, k, s->name);
    int has_bias = s->bias != NULL;
    int32_t og = lim->ow_gran > 1 ? lim->ow_gran : 1, cg = lim->cout_gran > 1 ? lim->cout_gran : 1;
    deploy_tile best = {0}, cand, smallest = {0}, smallest_w = {0};
    uint64_t best_vol = 0;
    for (int32_t tc = d.cout; tc >= 1; tc--) { /* 3. */
        if (!channels_ok(&d, tc, cg, lim->cout_max)) continue;
        if (lim->w_l1) { /* the weight tiles of tc channels fit their own memory */
            buffers(&d, has_bias, d.hout, d.wout, tc, lim, &cand);
            size_t wb = deploy_tile_w_l1_bytes(&cand, lim);
            if (!smallest_w.tiled || wb < deploy_tile_w_l1_bytes(&smallest_w, lim))
                smallest_w = cand;
            if (wb > lim->w_l1) continue;
        }
        for (int32_t tw = d.wout; tw >= 1; tw--) {
            if (tw != d.wout && tw % og) continue;
            for (int32_t th = d.hout; th >= 1; th--) {
                buffers(&d, has_bias, th, tw, tc, lim, &cand);
                if (!smallest.tiled || cand.l1_bytes < smallest.l1_bytes) smallest = cand;
                if (cand.l1_bytes > lim->l1) continue;
                uint64_t vol = (uint64_t)th * (uint64_t)tw * (uint64_t)tc; /* 4. */
                if (vol > best_vol ||
                    (vol == best_vol && (tc > best.tc || (tc == best.tc && tw > best.tw)))) {
                    best = cand;
                    best_vol = vol;
                }
                break; /* smaller th only shrinks the tile */
            }
        }
    }
    if (!best.tiled) {
        char attrs[256];
        deploy_ir_op_attrs(&ir->ops[k], attrs, sizeof attrs);
        if (!smallest.tiled) { /* no channel tile's weights fit the weight memory */
            size_t wb = deploy_tile_w_l1_bytes(&smallest_w, lim);
            return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                             "%s: layer %d '%s' (%s, output [%d][%d][%d]) does not fit a weight "
                             "memory of %zu bytes in any tiling: its smallest weight tiles (%d "
                             "channels%s) need %zu bytes; a weight memory of %zu bytes would do",
                             ir->name, k, s->name, attrs, d.hout, d.wout, d.cout, lim->w_l1,
                             smallest_w.tc, smallest_w.w_double ? ", double-buffered" : "", wb,
                             wb);
        }
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: layer %d '%s' (%s, output [%d][%d][%d]) does not fit a tiled memory "
                         "of %zu bytes in any tiling: its smallest tiles (%dx%dx%d outputs%s) "
                         "need %zu bytes; a memory of %zu bytes would do",
                         ir->name, k, s->name, attrs, d.hout, d.wout, d.cout, lim->l1, smallest.th,
                         smallest.tw, smallest.tc,
                         smallest.in_double || smallest.out_double ? ", double-buffered" : "",
                         smallest.l1_bytes, smallest.l1_bytes);
    }
    *t = best; /* 5. */
    t->dma_bytes = dma_bytes(&d, has_bias, t, lim);
    return DNAS_OK;
}

static double engine_gran(const hwcost_engine *e, const char *name, double dflt) {
    for (int i = 0; i < e->ngran; i++)
        if (!strcmp(e->gran[i].name, name)) return e->gran[i].value;
    return dflt;
}

/* The first memory of t that `holds` for engine e, tiled or not as asked
 * (an engine-specific memory before a shared one, when specific). */
static const hwcost_memory *memory_for(const hwcost_target *t, int e, unsigned holds, int tiled,
                                       int specific) {
    for (int m = 0; m < t->nmem; m++)
        if (!t->mem[m].tiled == !tiled && (t->mem[m].holds & holds) &&
            (specific ? t->mem[m].engine == e : t->mem[m].engine < 0 || t->mem[m].engine == e))
            return &t->mem[m];
    return NULL;
}

/* Step 2: the limits of op k's tiles on engine e through memory mem. */
static deploy_tile_limits limits_of(const hwcost_target *t, int e, const hwcost_memory *mem,
                                    const deploy_compile_params *p) {
    const hwcost_engine *en = &t->engines[e];
    deploy_tile_limits lim = {p->l1_bytes ? p->l1_bytes : (size_t)mem->bytes,
                              (int32_t)engine_gran(en, "cout", 1),
                              (int32_t)engine_gran(en, "ox", 1),
                              (mem->holds & HWCOST_HOLD_LAYER_WEIGHTS) != 0,
                              p->align,
                              0,
                              1,
                              (int32_t)engine_gran(en, "cout_max", 0),
                              0};
    const hwcost_memory *wmem = memory_for(t, e, HWCOST_HOLD_LAYER_WEIGHTS, 1, 1);
    if (wmem && !(wmem->holds & HWCOST_HOLD_LAYER_ACTIVATIONS)) {
        lim.w_l1 = (size_t)wmem->bytes; /* weights in blocks of the channel granularity */
        lim.w_lanes = lim.cout_gran;
    } else if (memory_for(t, e, HWCOST_HOLD_LAYER_WEIGHTS, 0, 1)) {
        lim.weights_fixed = 1; /* the engine keeps its weights: channel tiles as it allows */
        lim.cout_gran = lim.cout_max > 0 ? lim.cout_max : INT32_MAX;
    }
    return lim;
}

/* The cost model's cycles over the tiles of op k: one estimate per
 * distinct tile shape (full or last along each axis) times its count. */
static double tile_cycles(const deploy_ir *ir, int k, const hwcost_target *t) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_tile *tl = &o->tile;
    dnas_rt_conv_dims d;
    deploy_tile_conv_dims(ir, k, &d);
    int32_t h[2] = {tl->th, d.hout - (tl->nh - 1) * tl->th};
    int32_t w[2] = {tl->tw, d.wout - (tl->nw - 1) * tl->tw};
    int32_t c[2] = {tl->tc, d.cout - (tl->nc - 1) * tl->tc};
    int32_t nh[2] = {tl->nh - 1, 1}, nw[2] = {tl->nw - 1, 1}, nc[2] = {tl->nc - 1, 1};
    double total = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int e = 0; e < 2; e++) {
                double count = (double)nh[a] * nw[b] * nc[e];
                if (count == 0) continue;
                hwcost_layer l = deploy_ir_op_layer(ir, o);
                if (o->kind == DEPLOY_QOP_CONV) l.oh = h[a], l.ow = w[b];
                l.cout = c[e];
                if (o->depthwise)
                    l.cin = c[e];
                else if (d.groups > 1)
                    l.cin = (double)c[e] / (d.cout / d.groups) * (d.cin / d.groups),
                    l.groups = c[e] / (d.cout / d.groups);
                hwcost_grad g;
                dnas_error ignored;
                if (hwcost_latency_cycles(t, o->engine, &l, &g, &ignored) != DNAS_OK) return 0;
                total += count * g.value;
            }
    return total;
}

dnas_status deploy_pass_tile(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    const hwcost_target *t = p->target;
    ir->l1_size = ir->l1_bytes = 0;
    ir->dma_bytes = ir->dma_bound = 0;
    for (int k = 0; k < ir->nops; k++)
        memset(&ir->ops[k].tile, 0, sizeof ir->ops[k].tile);
    if (!t || !p->tile) return DNAS_OK; /* 1. */
    for (int k = 0; k < ir->nops; k++) {
        deploy_ir_op *o = &ir->ops[k];
        if ((o->kind != DEPLOY_QOP_CONV && o->kind != DEPLOY_QOP_LINEAR) || o->engine < 0 ||
            o->engine >= t->nengines)
            continue;
        const hwcost_memory *mem =
            memory_for(t, o->engine, HWCOST_HOLD_LAYER_ACTIVATIONS, 1, 0);
        if (!mem) continue;
        deploy_tile_limits lim = limits_of(t, o->engine, mem, p); /* 2. */
        dnas_status st = deploy_tile_choose(ir, k, &lim, &o->tile, err); /* 3., 4. */
        if (st) return st;
        o->tile.tile_cycles = tile_cycles(ir, k, t); /* 5. */
        ir->l1_size = lim.l1;
        if (o->tile.l1_bytes > ir->l1_bytes) ir->l1_bytes = o->tile.l1_bytes;
        ir->dma_bytes += o->tile.dma_bytes;
        deploy_tile whole; /* the lower bound: the layer as one tile */
        dnas_rt_conv_dims d;
        deploy_tile_conv_dims(ir, k, &d);
        deploy_tile_limits any = lim; /* the whole layer, whatever the granularity */
        any.cout_gran = any.ow_gran = 1, any.cout_max = 0;
        deploy_tile_layout(ir, k, d.hout, d.wout, d.cout, &any, &whole, err);
        ir->dma_bound += whole.dma_bytes;
    }
    return DNAS_OK;
}
