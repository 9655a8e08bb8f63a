/* The cost bridge: a network's costs on a target, and their gradients with
 * respect to the search state, from the graph read in bridge_graph.c.
 *
 * Algorithm (s: the state, one entry per layer; t: the target):
 *   1. Channels, in layer order: ch[0] = the input's C; a conv/linear takes
 *      s[owner].cout (its own c when the owner is the input: fixed);
 *      depthwise, BN, ReLU, dropout, pools and add take input 0's channels
 *      (an add's inputs share one owner, so they are equal); concat sums its
 *      inputs'; flatten multiplies input 0's by its H·W.
 *   2. Tensors: each produced tensor has ch[producer] channels, the
 *      producer's θa, and its lifetime [producing layer, last reader].
 *   3. Rows: each conv/linear becomes an hwcost_layer: cin = ch[input]
 *      (linear: × the input's H·W), cout = ch[layer], k and θw from its
 *      entry, θa from its input tensor, kernel and output size from the net.
 *   4. Engine, per row: FASTEST the fastest engine that runs it (kind,
 *      grouping, every precision with θ > 0; the first on ties), FIXED the
 *      given engine, PARALLEL (ODiMO) one part per parallel engine
 *      (cout_p = share_p·cout; weights at the engine's bits when it lists
 *      one, else at θw) when every parallel engine runs the kind, else
 *      FASTEST; a layer whose state puts every channel on one parallel
 *      engine (the others' share exactly 0: a hard choice) runs on that
 *      engine alone. A layer that records its channels' engines (model key
 *      `engines`, an ODiMO export) runs as recorded unless FIXED or
 *      ignore_engines: on its one engine, or split over the parallel
 *      engines with share_q = its channels on q / C (in FASTEST mode too).
 *      A row that no engine runs has no latency (nunmapped).
 *   5. Costs of a row: the seven target-independent models (split: Σ over
 *      the parts); cycles on its engine (split: hwcost's smooth max),
 *      seconds = cycles / clock, energy = seconds · power (split:
 *      hwcost_parallel_energy); input + output tensor bytes. Totals are
 *      sums over the rows in layer order.
 *   6. Peak activations: hwcost_peak_activation_bytes over the tensors; its
 *      gradient is that of the tensors alive at the peak step (the first
 *      such step on ties). Memory = weight bytes + peak.
 *   7. Levels of the target: Σ of what each level holds, with the gradient
 *      of each term — network weights (a level with an engine: that
 *      engine's rows, of a split row that engine's part), the peak, the
 *      largest row's weights, the largest row's input + output bytes (the
 *      argmax row's gradient; the first row on ties).
 *   8. Gradients: every hwcost partial of steps 5–7 is routed to the state
 *      (bridge_grad.c), then one reverse sweep per cost carries the channel
 *      partials back along step 1's rules to the owners' d_cout.
 * Presence (SuperNet): steps 5 and 7 count a row's values (models,
 * cycles, seconds, energy, weight bytes) `presence` times, and step 2
 * prices a tensor at ch·presence channels; at presence 1 (the default)
 * every value is the unscaled one, bit for bit.
 * The values are dnas cost's, computed by the same operations in the same
 * order (bit-identical output).
 *
 * What it does not guarantee:
 *   - the gradient of a max (fastest engine, peak step, largest row) is
 *     one-sided and that of a ceil straight-through: a finite difference
 *     across a switch or a step does not match it;
 *   - peak activations are a lower bound on deploy's arena (BN, ReLU,
 *     dropout and flatten in place; no other reuse, no fragmentation);
 *   - FASTEST prices only engines that have every precision with θ > 0:
 *     a search over precisions an engine lacks uses FIXED or PARALLEL;
 *   - a split part at its engine's bits drops the layer's 0-bit (pruned)
 *     candidate; pools and adds cost nothing (hwcost does not model them);
 *   - the network output's channels are whatever the state says. */
#include <math.h>
#include <string.h>

#include "bridge_internal.h"

static int bad(double x) {
    return !(x >= 0) || isinf(x);
}

static dnas_status check_prec(const hwcost_prec *p, const char *what, const char *layer, dnas_error *err) {
    if (p->n < 1 || p->n > HWCOST_MAX_PREC)
        return dnas_fail(err, DNAS_ERR_INVALID, "layer '%s': %s precisions: %d candidates, expected 1..%d",
                         layer, what, p->n, HWCOST_MAX_PREC);
    for (int i = 0; i < p->n; i++)
        if (bad(p->bits[i]) || bad(p->prob[i]))
            return dnas_fail(err, DNAS_ERR_INVALID,
                             "layer '%s': %s precision %d: bits %g, prob %g: expected finite numbers >= 0",
                             layer, what, i, p->bits[i], p->prob[i]);
    return DNAS_OK;
}

/* Everything the evaluation reads, so that hwcost sees only valid layers. */
static dnas_status check(const search_bridge *b, const search_layer_state *s, const search_cost_params *p,
                         dnas_error *err) {
    const hwcost_target *t = p->target;
    if (p->mode == SEARCH_ENGINE_FIXED && (!t || p->engine < 0 || p->engine >= t->nengines))
        return dnas_fail(err, DNAS_ERR_INVALID, "cost bridge: fixed engine %d: the target has %d engines",
                         p->engine, t ? t->nengines : 0);
    if (p->mode == SEARCH_ENGINE_PARALLEL && (!t || t->nparallel < 2))
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "cost bridge: target %s has no parallel engines (ODiMO)",
                         t ? t->name : "(none)");
    const train_layer *layers = b->net->layers;
    for (int i = 0; i < b->nlayers; i++)
        if (bad(s[i].presence))
            return dnas_fail(err, DNAS_ERR_INVALID, "layer '%s': presence %g: expected a finite number >= 0",
                             layers[i].name, s[i].presence);
    for (int k = 0; k < b->ntens; k++) {
        int i = b->tens[k].producer;
        dnas_status st = check_prec(&s[i].a, "activation", layers[i].name, err);
        if (st) return st;
    }
    for (int r = 0; r < b->nrows; r++) {
        int i = b->rows[r].layer, o = b->owner[i];
        dnas_status st = check_prec(&s[i].w, "weight", layers[i].name, err);
        if (st) return st;
        if (bad(s[i].k) && b->rows[r].kind != HWCOST_LINEAR)
            return dnas_fail(err, DNAS_ERR_INVALID, "layer '%s': k_eff %g: expected a finite number >= 0",
                             layers[i].name, s[i].k);
        if (o > 0 && bad(s[o].cout))
            return dnas_fail(err, DNAS_ERR_INVALID, "layer '%s': cout_eff %g: expected a finite number >= 0",
                             layers[o].name, s[o].cout);
        for (int q = 0; p->mode == SEARCH_ENGINE_PARALLEL && q < t->nparallel; q++)
            if (bad(s[i].share[q]))
                return dnas_fail(err, DNAS_ERR_INVALID,
                                 "layer '%s': share[%d] %g: expected a finite number >= 0", layers[i].name, q,
                                 s[i].share[q]);
    }
    return DNAS_OK;
}

/* Steps 1 and 2. */
static void channels_and_tensors(const search_bridge *b, const search_layer_state *s,
                                 search_cost_result *res) {
    const train_net *net = b->net;
    double *ch = res->priv->ch;
    for (int i = 0; i < b->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        switch (b->rule[i]) {
        case BRIDGE_CH_SOURCE: ch[i] = b->owner[i] > 0 ? s[b->owner[i]].cout : L->c; break;
        case BRIDGE_CH_PASS: ch[i] = ch[L->inputs[0]]; break;
        case BRIDGE_CH_FLATTEN: ch[i] = ch[L->inputs[0]] * b->flat[i]; break;
        case BRIDGE_CH_CONCAT:
            ch[i] = 0;
            for (int j = 0; j < L->ninputs; j++) ch[i] += ch[L->inputs[j]];
            break;
        default: ch[i] = L->c; /* the input, unknown ops */
        }
    }
    for (int k = 0; k < b->ntens; k++) {
        const bridge_tensor *T = &b->tens[k];
        res->priv->tens[k] =
            (hwcost_tensor){ch[T->producer] * s[T->producer].presence, T->h, T->w, T->first, T->last,
                            s[T->producer].a};
    }
}

/* Step 3. */
static void describe(const search_bridge *b, const search_layer_state *s, search_cost_result *res, int r) {
    const bridge_row *br = &b->rows[r];
    const train_layer *L = &b->net->layers[br->layer];
    search_cost_row *row = &res->rows[r];
    row->layer = br->layer;
    row->engine = -1;
    hwcost_layer *d = &row->d;
    *d = hwcost_layer_default();
    d->kind = br->kind;
    d->cin = res->priv->ch[br->in] * br->cin_scale;
    d->cout = res->priv->ch[br->layer];
    if (br->kind != HWCOST_LINEAR) {
        d->kh = L->kh, d->kw = L->kw, d->k = s[br->layer].k;
        d->oh = L->h, d->ow = L->w;
        d->groups = L->groups;
    }
    d->bias = L->has_bias;
    d->w = s[br->layer].w;
    d->a = s[b->tens[br->tin].producer].a;
}

/* Step 4, a layer that records its channels' engines: -1 when the record
 * does not apply (none, ignored, FIXED mode, a name the target lacks, an
 * engine that cannot run the layer), else the one engine of every channel
 * (>= 0), or -2 with share[q] = each parallel engine's fraction when the
 * channels are spread over parallel engines only. */
static int recorded(const train_layer *L, const search_cost_params *p, const search_cost_row *row,
                    double *share) {
    const hwcost_target *t = p->target;
    if (!L->engine_of || p->ignore_engines || p->mode == SEARCH_ENGINE_FIXED) return -1;
    int eng[TRAIN_MAX_ENGINE_NAMES];
    for (int k = 0; k < L->nengine_names; k++)
        if ((eng[k] = hwcost_target_engine(t, L->engine_names[k])) < 0) return -1;
    double n[HWCOST_MAX_ENGINES] = {0};
    int one = eng[L->engine_of[0]], spread = 0, off = 0; /* off: a channel not on a parallel engine */
    for (int c = 0; c < L->c; c++) {
        int e = eng[L->engine_of[c]], q = 0;
        spread |= e != one;
        while (q < t->nparallel && t->parallel[q] != e) q++;
        if (q < t->nparallel)
            n[q] += 1;
        else
            off = 1;
    }
    if (!spread) return row->ok[one] ? one : -1;
    if (off) return -1;
    for (int q = 0; q < t->nparallel; q++) share[q] = n[q] / L->c;
    return -2;
}

/* Step 4. ge[e]: cycles of the whole layer on engine e; gp[q]: of part q. */
static void choose_engine(const train_layer *L, const search_layer_state *sl, const search_cost_params *p,
                          search_cost_row *row, bridge_row_grads *rg, hwcost_grad *ge, hwcost_grad *gp) {
    const hwcost_target *t = p->target;
    for (int e = 0; e < t->nengines; e++) {
        /* not ok: the engine cannot run the kind or grouping, or has no
         * MAC/cycle figure at this precision */
        row->ok[e] = hwcost_latency_cycles(t, e, &row->d, &ge[e], NULL) == DNAS_OK;
        if (!row->ok[e]) continue;
        row->cyc[e] = ge[e].value;
        if (p->mode != SEARCH_ENGINE_FIXED && hwcost_engine_supports(&t->engines[e], &row->d) &&
            (row->engine < 0 || ge[e].value < row->cycles))
            row->engine = e, row->cycles = ge[e].value;
    }
    if (p->mode == SEARCH_ENGINE_FIXED) {
        row->engine = row->ok[p->engine] ? p->engine : -1;
        row->cycles = row->engine >= 0 ? row->cyc[p->engine] : 0;
    }
    for (int q = 0; q < t->nparallel; q++) rg->share[q] = sl->share[q];
    int rec = recorded(L, p, row, rg->share);
    if (rec >= 0) {
        row->engine = rec, row->cycles = row->cyc[rec];
        return;
    }
    if (rec == -1 && p->mode != SEARCH_ENGINE_PARALLEL) return;
    if (rec == -1) { /* the state's split: all channels on one engine that every parallel engine's kind check
                        passes -> that engine alone (the others do not run: no fixed costs) */
        int only = -1, n = 0, all_ok = 1;
        for (int q = 0; q < t->nparallel; q++) {
            all_ok &= row->ok[t->parallel[q]];
            if (rg->share[q] > 0) n++, only = q;
        }
        if (all_ok && n == 1) {
            row->engine = t->parallel[only], row->cycles = row->cyc[row->engine];
            return;
        }
    }
    for (int q = 0; q < t->nparallel; q++) {
        const hwcost_engine *e = &t->engines[t->parallel[q]];
        row->part[q] = row->d;
        row->part[q].cout = rg->share[q] * row->d.cout;
        rg->layer_w[q] = e->nwbits != 1;
        if (!rg->layer_w[q]) row->part[q].w = hwcost_prec_single(e->wbits[0]);
    }
    double c;
    if (hwcost_parallel_latency(t, row->part, &c, gp, NULL) == DNAS_OK)
        row->split = 1, row->engine = -1, row->cycles = c;
}

static dnas_status layer_fail(const train_layer *L, dnas_status st, const dnas_error *e, dnas_error *err) {
    return dnas_fail(err, st, "layer '%s': %s", L->name, e->msg);
}

/* Step 5, the target-independent models (split: Σ over the parts). */
static dnas_status models(const search_bridge *b, const search_layer_state *s, const hwcost_target *t,
                          search_cost_result *res, int r, dnas_error *err) {
    search_cost_row *row = &res->rows[r];
    bridge_row_grads *rg = &res->priv->rg[r];
    int nparts = row->split ? t->nparallel : 1;
    const double pr = s[row->layer].presence;
    for (int m = 0; m < HWCOST_MODEL_COUNT_; m++) {
        row->v[m] = 0;
        for (int q = 0; q < nparts; q++) {
            int part = row->split ? q : -1;
            hwcost_grad g;
            dnas_error e;
            dnas_status st = hwcost_eval((hwcost_model)m, row->split ? &row->part[q] : &row->d, &g, &e);
            if (st) return layer_fail(&b->net->layers[row->layer], st, &e, err);
            row->v[m] += pr * g.value;
            search_bridge_route_row(b, s, res, m, r, part, &g, 1);
            search_bridge_route_presence(b, res, m, r, g.value);
            if (m != HWCOST_WEIGHT_BYTES) continue;
            search_bridge_route_row(b, s, res, SEARCH_COST_MEMORY, r, part, &g, 1);
            search_bridge_route_presence(b, res, SEARCH_COST_MEMORY, r, g.value);
            rg->gw[part + 1] = g;
            int eng = row->split ? t->parallel[q] : row->engine;
            if (eng >= 0) row->wbytes[eng] += pr * g.value;
        }
        res->value[m] += row->v[m];
    }
    return DNAS_OK;
}

/* Step 5, latency and energy; then the row's activation bytes. */
static dnas_status latency(const search_bridge *b, const search_layer_state *s, const hwcost_target *t,
                           search_cost_result *res, int r, const hwcost_grad *ge, const hwcost_grad *gp,
                           dnas_error *err) {
    search_cost_row *row = &res->rows[r];
    const double pr = s[row->layer].presence;
    if (row->split) {
        hwcost_grad gj[HWCOST_MAX_ENGINES];
        dnas_error e;
        dnas_status st = hwcost_parallel_energy(t, row->part, &row->joules, gj, &e);
        if (st) return layer_fail(&b->net->layers[row->layer], st, &e, err);
        row->seconds = row->cycles / t->clock_hz;
        for (int q = 0; q < t->nparallel; q++) {
            search_bridge_route_row(b, s, res, SEARCH_COST_CYCLES, r, q, &gp[q], 1);
            search_bridge_route_row(b, s, res, SEARCH_COST_SECONDS, r, q, &gp[q], 1 / t->clock_hz);
            search_bridge_route_row(b, s, res, SEARCH_COST_ENERGY, r, q, &gj[q], 1);
        }
    } else if (row->engine >= 0) {
        double pw = t->engines[row->engine].power_w;
        row->seconds = row->cycles / t->clock_hz;
        row->joules = row->seconds * pw;
        search_bridge_route_row(b, s, res, SEARCH_COST_CYCLES, r, -1, &ge[row->engine], 1);
        search_bridge_route_row(b, s, res, SEARCH_COST_SECONDS, r, -1, &ge[row->engine], 1 / t->clock_hz);
        search_bridge_route_row(b, s, res, SEARCH_COST_ENERGY, r, -1, &ge[row->engine], pw / t->clock_hz);
    } else {
        res->nunmapped++;
    }
    search_bridge_route_presence(b, res, SEARCH_COST_CYCLES, r, row->cycles);
    search_bridge_route_presence(b, res, SEARCH_COST_SECONDS, r, row->seconds);
    search_bridge_route_presence(b, res, SEARCH_COST_ENERGY, r, row->joules);
    row->cycles *= pr, row->seconds *= pr, row->joules *= pr;
    res->value[SEARCH_COST_CYCLES] += row->cycles;
    res->value[SEARCH_COST_SECONDS] += row->seconds;
    res->value[SEARCH_COST_ENERGY] += row->joules;
    return DNAS_OK;
}

static void act_bytes(const search_bridge *b, search_cost_result *res, int r) {
    bridge_row_grads *rg = &res->priv->rg[r];
    hwcost_tensor_bytes(&res->priv->tens[b->rows[r].tin], &rg->gin);
    hwcost_tensor_bytes(&res->priv->tens[b->rows[r].tout], &rg->gout);
    res->rows[r].act_bytes = rg->gin.value;
    res->rows[r].act_bytes += rg->gout.value;
}

/* Step 6. */
static void peak(const search_bridge *b, const search_layer_state *s, search_cost_result *res) {
    struct search_cost_scratch *P = res->priv;
    double v = hwcost_peak_activation_bytes(P->tens, b->ntens, P->dtens, P->dprob, &res->peak_layer);
    res->value[SEARCH_COST_PEAK_ACT] = v;
    res->value[SEARCH_COST_MEMORY] = res->value[SEARCH_COST_WEIGHT_BYTES] + v;
    for (int k = 0; k < b->ntens; k++) {
        search_bridge_route_tensor(b, s, res, SEARCH_COST_PEAK_ACT, k, P->dtens[k], P->dprob[k], 1);
        search_bridge_route_tensor(b, s, res, SEARCH_COST_MEMORY, k, P->dtens[k], P->dprob[k], 1);
    }
}

/* Weight bytes of row r on engine eng (-1: all of it) into slot. */
static void route_wbytes(const search_bridge *b, const search_layer_state *s, const hwcost_target *t,
                         search_cost_result *res, int slot, int r, int eng) {
    bridge_row_grads *rg = &res->priv->rg[r];
    if (!res->rows[r].split) {
        search_bridge_route_row(b, s, res, slot, r, -1, &rg->gw[0], 1);
        search_bridge_route_presence(b, res, slot, r, rg->gw[0].value);
        return;
    }
    for (int q = 0; q < t->nparallel; q++)
        if (eng < 0 || t->parallel[q] == eng) {
            search_bridge_route_row(b, s, res, slot, r, q, &rg->gw[q + 1], 1);
            search_bridge_route_presence(b, res, slot, r, rg->gw[q + 1].value);
        }
}

static int runs_on(const hwcost_target *t, const search_cost_row *row, int eng) {
    if (eng < 0) return 1;
    if (!row->split) return row->engine == eng;
    for (int q = 0; q < t->nparallel; q++)
        if (t->parallel[q] == eng) return 1;
    return 0;
}

/* Step 7 (the sums in dnas cost's order). */
static void levels(const search_bridge *b, const search_layer_state *s, const hwcost_target *t,
                   search_cost_result *res) {
    struct search_cost_scratch *P = res->priv;
    for (int m = 0; m < t->nmem; m++) {
        const hwcost_memory *M = &t->mem[m];
        int slot = SEARCH_COST_LEVEL(m), rw = -1, ra = -1;
        double use = 0, lw = 0, la = 0, nw = 0;
        for (int r = 0; r < res->nrows; r++) {
            const search_cost_row *row = &res->rows[r];
            if (!runs_on(t, row, M->engine)) continue;
            double wb = row->split && M->engine >= 0 ? row->wbytes[M->engine] : row->v[HWCOST_WEIGHT_BYTES];
            nw += wb;
            if (M->holds & HWCOST_HOLD_NETWORK_WEIGHTS) route_wbytes(b, s, t, res, slot, r, M->engine);
            if (wb > lw) lw = wb, rw = r;
            if (row->act_bytes > la) la = row->act_bytes, ra = r;
        }
        if (M->holds & HWCOST_HOLD_NETWORK_WEIGHTS) use += nw;
        if (M->holds & HWCOST_HOLD_NETWORK_ACTIVATIONS) {
            use += res->value[SEARCH_COST_PEAK_ACT];
            for (int k = 0; k < b->ntens; k++)
                search_bridge_route_tensor(b, s, res, slot, k, P->dtens[k], P->dprob[k], 1);
        }
        if (M->holds & HWCOST_HOLD_LAYER_WEIGHTS) {
            use += lw;
            if (rw >= 0) route_wbytes(b, s, t, res, slot, rw, M->engine);
        }
        if (M->holds & HWCOST_HOLD_LAYER_ACTIVATIONS) {
            use += la;
            if (ra >= 0) {
                const bridge_row_grads *rg = &P->rg[ra];
                search_bridge_route_tensor(b, s, res, slot, b->rows[ra].tin, rg->gin.d_cin, rg->gin.d_a, 1);
                search_bridge_route_tensor(b, s, res, slot, b->rows[ra].tout, rg->gout.d_cin, rg->gout.d_a, 1);
            }
        }
        res->value[slot] = use;
        res->largest[m][0] = rw;
        res->largest[m][1] = ra;
    }
}

static void clear(const search_bridge *b, search_cost_result *res, const hwcost_target *t) {
    size_t n = (size_t)b->nlayers;
    memset(res->value, 0, sizeof res->value);
    memset(res->grad[0], 0, SEARCH_COST_SLOTS * n * sizeof *res->grad[0]);
    memset(res->priv->dch, 0, SEARCH_COST_SLOTS * n * sizeof *res->priv->dch);
    memset(res->rows, 0, (size_t)b->nrows * sizeof *res->rows);
    memset(res->priv->rg, 0, (size_t)b->nrows * sizeof *res->priv->rg);
    res->nmem = t ? t->nmem : 0;
    res->nunmapped = 0;
    res->peak_layer = -1;
}

dnas_status search_bridge_eval(const search_bridge *b, const search_layer_state *s,
                               const search_cost_params *p, search_cost_result *res, dnas_error *err) {
    DNAS_ASSERT(res->nlayers == b->nlayers && res->nrows == b->nrows);
    const hwcost_target *t = p->target;
    dnas_status st = check(b, s, p, err);
    if (st) return st;
    clear(b, res, t);
    channels_and_tensors(b, s, res);
    for (int r = 0; r < b->nrows; r++) {
        hwcost_grad ge[HWCOST_MAX_ENGINES], gp[HWCOST_MAX_ENGINES];
        describe(b, s, res, r);
        if (t)
            choose_engine(&b->net->layers[b->rows[r].layer], &s[b->rows[r].layer], p, &res->rows[r],
                          &res->priv->rg[r], ge, gp);
        st = models(b, s, t, res, r, err);
        if (!st && t) st = latency(b, s, t, res, r, ge, gp, err);
        if (st) return st;
        act_bytes(b, res, r);
    }
    peak(b, s, res);
    if (t) levels(b, s, t, res);
    search_bridge_sweep(b, res);
    return DNAS_OK;
}
