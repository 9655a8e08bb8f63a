/* One layer on the GAP8 cluster in L1 tiles (dnas_gap8.h).
 *
 * Steps of dnas_gap8_conv:
 *   1. the descriptor is checked: tile sizes inside the layer, a channel
 *      tile a multiple of the channels per group (groups > 1), distinct
 *      buffers where a kind is reloaded while the previous tile is in use,
 *      the channel list inside the output tensor;
 *   2. tile 0's input window and weights are requested (DMA jobs, one per
 *      buffer);
 *   3. for tile i: wait for its input and weights (a layer with in_bits:
 *      the cores clamp a freshly moved input tile in place); request tile
 *      i+1's input (when the input changes between tiles: more than one
 *      spatial tile, or groups > 1 and more than one channel tile) and,
 *      when the channel tile changes, its weights, into the other buffers;
 *      wait for the write-back that last used this output buffer (tile
 *      i-2); fork the cores on the tile; request the output tile's
 *      write-back to L2;
 *   4. wait for the last write-backs.
 * In a fork each core computes a share of the output tile with
 * dnas_rt_conv2d on L1: a band of output rows (tiles of several rows), of
 * columns (one-row tiles over one input row), or of output channels (a
 * 1x1 output); the kernel sees the band as a whole conv whose input is the
 * band's window and whose padding is what of the layer's padding the band
 * reaches, so every value is the whole layer's. A layer on a channel list
 * moves each run of consecutive listed channels' constants and outputs as
 * one transfer. */
#include "dnas_gap8.h"

typedef struct {
    int32_t oy, oh, ox, ow, c0, cn; /* the output tile */
    int32_t ci;                     /* channel tile index */
    dnas_rt_window wy, wx;          /* the input window */
    int32_t ci0, cin, groups;       /* its input channels and groups */
} tile;

static int32_t ceil_div(int32_t a, int32_t b) {
    return (a + b - 1) / b;
}

/* Tile i (channel tiles outer, then rows, then columns); 0 when its input
 * window is empty (all padding). */
static int tile_of(const dnas_gap8_layer *L, int32_t i, tile *t) {
    const dnas_rt_conv_dims *d = &L->d;
    int32_t nh = ceil_div(d->hout, L->th), nw = ceil_div(d->wout, L->tw);
    int32_t r = i % (nh * nw);
    t->ci = i / (nh * nw);
    t->oy = (r / nw) * L->th, t->ox = (r % nw) * L->tw, t->c0 = t->ci * L->tc;
    t->oh = d->hout - t->oy < L->th ? d->hout - t->oy : L->th;
    t->ow = d->wout - t->ox < L->tw ? d->wout - t->ox : L->tw;
    t->cn = d->cout - t->c0 < L->tc ? d->cout - t->c0 : L->tc;
    t->wy = dnas_rt_window_of(t->oy, t->oh, d->sh, d->kh, d->dh, d->pt, d->hin);
    t->wx = dnas_rt_window_of(t->ox, t->ow, d->sw, d->kw, d->dw, d->pl, d->win);
    if (d->groups == 1) {
        t->ci0 = 0, t->cin = d->cin, t->groups = 1;
    } else {
        int32_t cpg = d->cout / d->groups, cig = d->cin / d->groups;
        t->groups = t->cn / cpg;
        t->ci0 = (t->c0 / cpg) * cig, t->cin = t->groups * cig;
    }
    return t->wy.n > 0 && t->wx.n > 0;
}

static void load_input(const dnas_gap8_layer *L, const tile *t, uint8_t *dst, const uint8_t *in,
                       dnas_pulp_dma *job) {
    size_t cin = (size_t)L->d.cin, win = (size_t)L->d.win, tcin = (size_t)t->cin;
    size_t cols = (size_t)t->wx.n;
    const uint8_t *src = in + ((size_t)t->wy.a * win + (size_t)t->wx.a) * cin + (size_t)t->ci0;
    if (tcin == cin) {
        dnas_pulp_dma_2d(job, dst, src, (size_t)t->wy.n, cols * cin, cols * cin, win * cin);
        return;
    }
    for (size_t r = 0; r < (size_t)t->wy.n; r++)
        dnas_pulp_dma_2d(job, dst + r * cols * tcin, src + r * win * cin, cols, tcin, tcin, cin);
}

typedef struct {
    size_t k;       /* weights per output channel */
    size_t bias_at; /* offsets of the biases and multipliers in a weight buffer */
    size_t m_at;
} wlayout;

/* The run of consecutive layer channels at tile position i of the channel
 * tile c0..c0+cn-1: its first channel in *ch, its length returned. */
static int32_t run_at(const dnas_gap8_layer *L, int32_t c0, int32_t cn, int32_t i, int32_t *ch) {
    if (!L->chan) {
        *ch = c0 + i;
        return cn - i;
    }
    int32_t n = 1;
    *ch = L->chan[c0 + i];
    while (i + n < cn && L->chan[c0 + i + n] == *ch + n)
        n++;
    return n;
}

static void load_weights(const dnas_gap8_layer *L, const tile *t, const wlayout *wl, uint8_t *dst,
                         const int8_t *w, const int32_t *bias, const int32_t *m,
                         dnas_pulp_dma *job) {
    int32_t n, ch;
    for (int32_t i = 0; i < t->cn; i += n) {
        n = run_at(L, t->c0, t->cn, i, &ch);
        size_t at = (size_t)i, c = (size_t)ch, len = (size_t)n;
        dnas_pulp_dma_1d(job, dst + at * wl->k, w + c * wl->k, len * wl->k);
        if (bias)
            dnas_pulp_dma_1d(job, dst + wl->bias_at + at * sizeof *bias, bias + c,
                             len * sizeof *bias);
        dnas_pulp_dma_1d(job, dst + wl->m_at + at * sizeof *m, m + c, len * sizeof *m);
    }
}

static void store_output(const dnas_gap8_layer *L, const tile *t, uint8_t *out, const uint8_t *src,
                         dnas_pulp_dma *job) {
    size_t cout = (size_t)(L->ctotal ? L->ctotal : L->d.cout), wout = (size_t)L->d.wout,
           cn = (size_t)t->cn;
    size_t ow = (size_t)t->ow;
    uint8_t *dst = out + ((size_t)t->oy * wout + (size_t)t->ox) * cout;
    if (cn == cout) {
        dnas_pulp_dma_2d(job, dst, src, (size_t)t->oh, ow * cout, wout * cout, ow * cout);
        return;
    }
    int32_t n, ch;
    for (int32_t i = 0; i < t->cn; i += n) {
        n = run_at(L, t->c0, t->cn, i, &ch);
        for (size_t y = 0; y < (size_t)t->oh; y++)
            dnas_pulp_dma_2d(job, dst + y * wout * cout + (size_t)ch, src + y * ow * cn + (size_t)i,
                             ow, (size_t)n, cout, cn);
    }
}

typedef struct {
    uint8_t *buf; /* an input tile in L1 */
    size_t n;
    int sgn;
    int32_t lo, hi;
    dnas_rt_status st[DNAS_PULP_CORES];
} clamp_work;

/* A core's share of the input tile clamped in place. */
static void clamp_input(void *arg) {
    clamp_work *cw = arg;
    int c = dnas_pulp_core_id(), nc = dnas_pulp_ncores();
    size_t q = (cw->n + (size_t)nc - 1) / (size_t)nc, lo = q * (size_t)c;
    size_t hi = lo + q < cw->n ? lo + q : cw->n;
    cw->st[c] = DNAS_RT_OK;
    if (lo < hi)
        cw->st[c] = dnas_rt_saturate(cw->buf + lo, cw->buf + lo, hi - lo, cw->sgn, cw->lo, cw->hi);
}

typedef struct {
    const dnas_gap8_layer *L;
    const tile *t;
    const uint8_t *in; /* the tile's buffers in L1 */
    const int8_t *w;
    const int32_t *bias, *m;
    uint8_t *out;
    size_t k;
    dnas_rt_status st[DNAS_PULP_CORES];
} work;

/* [*lo, *hi): core c's share of n items over nc cores. */
static void share(int32_t n, int c, int nc, int32_t *lo, int32_t *hi) {
    int32_t q = ceil_div(n, nc);
    *lo = q * c < n ? q * c : n;
    *hi = *lo + q < n ? *lo + q : n;
}

static void compute(void *arg) {
    work *wk = arg;
    const dnas_gap8_layer *L = wk->L;
    const tile *t = wk->t;
    const dnas_rt_conv_dims *D = &L->d;
    int c = dnas_pulp_core_id(), nc = dnas_pulp_ncores();
    dnas_rt_conv_dims d = *D;
    d.hin = t->wy.n, d.pt = t->wy.pb, d.pb = t->wy.pa;
    d.win = t->wx.n, d.pl = t->wx.pb, d.pr = t->wx.pa;
    d.cin = t->cin, d.groups = t->groups;
    d.hout = t->oh, d.wout = t->ow, d.cout = t->cn;
    const uint8_t *in = wk->in;
    const int8_t *w = wk->w;
    const int32_t *bias = wk->bias, *m = wk->m;
    uint8_t *out = wk->out;
    int32_t lo, hi;
    size_t tcin = (size_t)t->cin;
    wk->st[c] = DNAS_RT_OK;
    if (t->oh > 1) { /* a band of rows */
        share(t->oh, c, nc, &lo, &hi);
        if (lo == hi) return;
        dnas_rt_window wy =
            dnas_rt_window_of(t->oy + lo, hi - lo, D->sh, D->kh, D->dh, D->pt, D->hin);
        in += (size_t)(wy.a - t->wy.a) * (size_t)t->wx.n * tcin;
        d.hin = wy.n, d.pt = wy.pb, d.pb = wy.pa, d.hout = hi - lo;
        out += (size_t)lo * (size_t)t->ow * (size_t)t->cn;
    } else if (t->ow > 1 && t->wy.n == 1) { /* a band of columns of one row */
        share(t->ow, c, nc, &lo, &hi);
        if (lo == hi) return;
        dnas_rt_window wx =
            dnas_rt_window_of(t->ox + lo, hi - lo, D->sw, D->kw, D->dw, D->pl, D->win);
        in += (size_t)(wx.a - t->wx.a) * tcin;
        d.win = wx.n, d.pl = wx.pb, d.pr = wx.pa, d.wout = hi - lo;
        out += (size_t)lo * (size_t)t->cn;
    } else if (t->ow == 1 && (t->groups == 1 || t->wy.n * t->wx.n == 1)) { /* channels */
        int32_t cpg = t->cn / t->groups, cig = t->cin / t->groups;
        share(t->groups == 1 ? t->cn : t->groups, c, nc, &lo, &hi);
        if (lo == hi) return;
        int32_t c0 = t->groups == 1 ? lo : lo * cpg, c1 = t->groups == 1 ? hi : hi * cpg;
        if (t->groups > 1) {
            in += (size_t)(lo * cig);
            d.cin = (hi - lo) * cig, d.groups = hi - lo;
        }
        d.cout = c1 - c0;
        w += (size_t)c0 * wk->k;
        if (bias) bias += c0;
        m += c0;
        out += (size_t)c0;
    } else if (c != 0) { /* one core does it all */
        return;
    }
    dnas_rt_weights wt = {w, L->wbits, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, L->shift, L->lo, L->hi};
    wk->st[c] = dnas_rt_conv2d(out, in, &wt, bias, &rq, &d);
}

dnas_rt_status dnas_gap8_conv(const dnas_gap8_layer *L, uint8_t *l1, uint8_t *out,
                              const uint8_t *in, const int8_t *w, const int32_t *bias,
                              const int32_t *m) {
    if (!L || !l1 || !out || !in || !w || !m) return DNAS_RT_ERR_ARG; /* 1. */
    const dnas_rt_conv_dims *d = &L->d;
    if (d->groups < 1 || d->hout < 1 || d->wout < 1 || d->cout < 1 || d->cout % d->groups ||
        d->cin % d->groups || L->th < 1 || L->th > d->hout || L->tw < 1 || L->tw > d->wout ||
        L->tc < 1 || L->tc > d->cout || L->ncores < 1 || L->ncores > DNAS_PULP_CORES)
        return DNAS_RT_ERR_ARG;
    if (d->groups > 1 && L->tc % (d->cout / d->groups) != 0) return DNAS_RT_ERR_ARG;
    int32_t ctotal = L->ctotal ? L->ctotal : d->cout;
    if (ctotal < d->cout || (!L->chan && ctotal != d->cout) || L->in_bits < 0 || L->in_bits > 8)
        return DNAS_RT_ERR_ARG;
    for (int32_t c = 0; L->chan && c < d->cout; c++)
        if (L->chan[c] < 0 || L->chan[c] >= ctotal) return DNAS_RT_ERR_ARG;
    int32_t nh = ceil_div(d->hout, L->th), nw = ceil_div(d->wout, L->tw);
    int32_t nct = ceil_div(d->cout, L->tc), n = nh * nw * nct;
    int in_changes = nh * nw > 1 || (d->groups > 1 && nct > 1);
    if (n > 1 && ((in_changes && L->l1_in[0] == L->l1_in[1]) || L->l1_out[0] == L->l1_out[1] ||
                  (nct > 1 && L->l1_w[0] == L->l1_w[1])))
        return DNAS_RT_ERR_ARG;
    wlayout wl;
    wl.k = (size_t)d->kh * (size_t)d->kw * (size_t)(d->cin / d->groups);
    wl.bias_at = ((size_t)L->tc * wl.k + 3) / 4 * 4;
    wl.m_at = wl.bias_at + (bias ? 4 * (size_t)L->tc : 0);
    dnas_pulp_dma jin[2], jw[2], jout[2];
    for (int b = 0; b < 2; b++)
        dnas_pulp_dma_init(&jin[b]), dnas_pulp_dma_init(&jw[b]), dnas_pulp_dma_init(&jout[b]);
    tile cur, next;
    if (!tile_of(L, 0, &cur)) return DNAS_RT_ERR_ARG;
    next = cur;
    load_input(L, &cur, l1 + L->l1_in[0], in, &jin[0]); /* 2. */
    load_weights(L, &cur, &wl, l1 + L->l1_w[0], w, bias, m, &jw[0]);
    dnas_rt_status st = DNAS_RT_OK;
    for (int32_t i = 0; i < n && st == DNAS_RT_OK; i++) { /* 3. */
        int si = in_changes ? (int)(i & 1) : 0, sw = (int)(cur.ci & 1), so = (int)(i & 1);
        dnas_pulp_dma_wait(&jin[si]);
        dnas_pulp_dma_wait(&jw[sw]);
        if (L->in_bits && (i == 0 || in_changes)) { /* a freshly moved input tile */
            clamp_work cw;
            cw.buf = l1 + L->l1_in[si];
            cw.n = (size_t)cur.wy.n * (size_t)cur.wx.n * (size_t)cur.cin;
            cw.sgn = d->in_signed;
            dnas_rt_saturate_range(d->in_signed, L->in_bits, &cw.lo, &cw.hi);
            dnas_pulp_fork(L->ncores, clamp_input, &cw);
            for (int c = 0; c < L->ncores; c++)
                if (cw.st[c] != DNAS_RT_OK && st == DNAS_RT_OK) st = cw.st[c];
            if (st != DNAS_RT_OK) break;
        }
        if (i + 1 < n) {
            if (!tile_of(L, i + 1, &next)) {
                st = DNAS_RT_ERR_ARG;
                break;
            }
            if (in_changes) load_input(L, &next, l1 + L->l1_in[1 - si], in, &jin[1 - si]);
            if (next.ci != cur.ci)
                load_weights(L, &next, &wl, l1 + L->l1_w[next.ci & 1], w, bias, m,
                             &jw[next.ci & 1]);
        }
        dnas_pulp_dma_wait(&jout[so]);
        work wk;
        wk.L = L, wk.t = &cur, wk.k = wl.k;
        wk.in = l1 + L->l1_in[si];
        wk.w = (const int8_t *)(l1 + L->l1_w[sw]);
        wk.bias = bias ? (const int32_t *)(const void *)(l1 + L->l1_w[sw] + wl.bias_at) : NULL;
        wk.m = (const int32_t *)(const void *)(l1 + L->l1_w[sw] + wl.m_at);
        wk.out = l1 + L->l1_out[so];
        dnas_pulp_fork(L->ncores, compute, &wk);
        for (int c = 0; c < L->ncores; c++)
            if (wk.st[c] != DNAS_RT_OK && st == DNAS_RT_OK) st = wk.st[c];
        if (st == DNAS_RT_OK) store_output(L, &cur, out, wk.out, &jout[so]);
        cur = next;
    }
    for (int b = 0; b < 2; b++) /* 4. */
        dnas_pulp_dma_wait(&jin[b]), dnas_pulp_dma_wait(&jw[b]), dnas_pulp_dma_wait(&jout[b]);
    return st;
}
