/* Pass "split": a layer whose output channels the qnet records on several
 * engines (an ODiMO export: deploy_qop.engine, names in deploy_qnet.engines)
 * becomes one op per engine, each computing that engine's channels and
 * writing them into the one output tensor in place (no concat copy).
 *
 * Steps:
 *   1. nothing is split unless the backend runs ops on channel subsets
 *      (p->split) and there is a target description: other backends keep
 *      every op whole on the engine the engines pass chose (one kernel
 *      over all channels computes the same values), unless some of its
 *      channels are on an engine that clamps its inputs (the qnet's
 *      engine_in_bits below the input's bits): one kernel cannot compute
 *      that, so such an op is DNAS_ERR_UNSUPPORTED naming it;
 *   2. every conv / linear op that records engines has each channel's
 *      engine looked up by name among the IR's engines (the target's); a
 *      name the target does not have, or a grouped conv with channels on
 *      several engines, is DNAS_ERR_UNSUPPORTED naming the op;
 *   3. per engine with channels, in the IR's engine order, the channel
 *      list (ascending) and the slice as the cost model sees it: the
 *      engine's narrowest weight width that holds the slice's weights
 *      (DIANA: ternary channels at 2 bits on the analog engine, 8 bits on
 *      the digital one); an engine that does not run the slice
 *      (hwcost_engine_supports, or weights wider than it takes) is
 *      DNAS_ERR_UNSUPPORTED naming op, engine and why;
 *   4. channels on one engine only: the op stays whole, on that engine
 *      (the export's assignment overrides the engines pass's); on several:
 *      the op is replaced by one op per engine, in engine order, each with
 *      its channel list (deploy_ir_op.channels, stored in ir->chan) and
 *      the cost model's cycles for its slice on its engine;
 *   5. every tensor's producer is the first op writing it (a split
 *      tensor's lifetime starts with its first slice; the plan pass reads
 *      producers).
 * Ops without recorded engines are left as they are.
 *
 * A backend that runs channel subsets of one engine, each on its input
 * clamped or as it is (p->split == 2: gap8), gets a split by input clamp
 * instead of steps 2-4: each channel of a conv / linear that records
 * engines reads its input at its engine's engine_in_bits when that is below
 * the input's bits (the evaluator's clamp), else as it is; an op whose
 * channels all read it alike stays whole (on the engine the engines pass
 * chose; its backend clamps the input when they all clamp), and an op with
 * channels of several kinds becomes one op per kind (unclamped first, then
 * by ascending bits), each with its channel list and the cost model's
 * cycles for its channels on the op's engine; a grouped conv with channels
 * of several kinds is DNAS_ERR_UNSUPPORTED naming the op. Step 5 follows. */
#include <string.h>

#include "compiler_internal.h"

/* Smallest b in 2..8 with every weight of channels ch (NULL: 0..n-1) of op
 * s inside ±(2^(b-1) - 1). */
static int slice_bits(const deploy_qop *s, const int32_t *ch, int32_t n, size_t per) {
    int m = 0;
    for (int32_t i = 0; i < n; i++)
        for (size_t j = 0; j < per; j++) {
            int v = s->w[(size_t)(ch ? ch[i] : i) * per + j];
            v = v < 0 ? -v : v;
            m = v > m ? v : m;
        }
    int b = 2;
    while (b < 8 && m > (1 << (b - 1)) - 1)
        b++;
    return b;
}

/* The engine's narrowest weight width >= bits, or 0. */
static int engine_wbits(const hwcost_engine *e, int bits) {
    int best = 0;
    for (int i = 0; i < e->nwbits; i++) {
        int b = (int)e->wbits[i];
        if (b >= bits && (!best || b < best)) best = b;
    }
    return best;
}

/* Step 3 for op o's channels ch (NULL: all n) on engine e: its cycles in
 * *cycles. */
static dnas_status slice_check(const deploy_ir *ir, const deploy_ir_op *o, int e, const int32_t *ch,
                               int32_t n, const hwcost_target *t, double *cycles, dnas_error *err) {
    const hwcost_engine *eng = &t->engines[e];
    size_t per = o->q->wlen / (size_t)ir->tensors[o->out].c;
    int need = slice_bits(o->q, ch, n, per), wb = engine_wbits(eng, need);
    if (!wb)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: op '%s': %d channels recorded on engine '%s' need %d-bit weights, "
                         "wider than any that engine of target %s takes",
                         ir->name, o->q->name, n, eng->name, need, t->name);
    hwcost_layer l = deploy_ir_op_layer(ir, o);
    l.cout = n;
    l.w = hwcost_prec_single(wb);
    if (!hwcost_engine_supports(eng, &l))
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: op '%s' (%s, groups %d): engine '%s' of target %s does not run it, "
                         "yet the network records %d of its channels there",
                         ir->name, o->q->name, deploy_qop_kind_name(o->kind), o->q->groups,
                         eng->name, t->name, n);
    hwcost_grad g;
    dnas_error ignored;
    *cycles = hwcost_latency_cycles(t, e, &l, &g, &ignored) == DNAS_OK ? g.value : 0;
    return DNAS_OK;
}

/* The bits channel c of op o reads its input at in the evaluator: its
 * engine's engine_in_bits when below the input's bits, else 0 (as it is). */
static int channel_clamp(const deploy_ir *ir, const deploy_ir_op *o, int32_t c) {
    int b = ir->q->engine_in_bits[o->q->engine[c]], bits = ir->tensors[o->in[0]].bits;
    return b && b < bits ? b : 0;
}

/* 1 when op o is a conv / linear that records engines. */
static int records_engines(const deploy_ir_op *o) {
    return o->q->engine && (o->kind == DEPLOY_QOP_CONV || o->kind == DEPLOY_QOP_LINEAR);
}

/* Step 5. */
static void set_producers(deploy_ir *ir) {
    for (int i = 0; i < ir->ntensors; i++)
        ir->tensors[i].producer = -1;
    for (int k = ir->nops - 1; k >= 0; k--)
        ir->tensors[ir->ops[k].out].producer = k;
}

/* The split by input clamp (p->split == 2). */
static dnas_status split_by_clamp(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    const hwcost_target *t = p->target;
    int extra = 0;
    size_t nchan = 0;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        if (!records_engines(o)) continue;
        int kinds[9] = {0}, n = 0;
        for (int32_t c = 0; c < ir->tensors[o->out].c; c++)
            n += kinds[channel_clamp(ir, o, c)]++ == 0;
        if (n > 1 && o->q->groups != 1)
            return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                             "%s: op %d '%s' has groups %d and channels on engines that read "
                             "its input at %d different widths (engine_input_bits): only a "
                             "conv with groups 1 (or a linear) can be split by channel",
                             ir->name, o->qindex, o->q->name, o->q->groups, n);
        if (n > 1) extra += n - 1, nchan += (size_t)ir->tensors[o->out].c;
    }
    if (!extra) return DNAS_OK;
    deploy_ir_op *ops = dnas_xcalloc((size_t)(ir->nops + extra), sizeof *ops);
    free(ir->chan);
    ir->chan = dnas_xmalloc(nchan * sizeof *ir->chan);
    size_t at = 0;
    int n = 0;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        int32_t cout = ir->tensors[o->out].c, cnt[9] = {0};
        int kinds = 0;
        for (int32_t c = 0; records_engines(o) && c < cout; c++)
            kinds += cnt[channel_clamp(ir, o, c)]++ == 0;
        if (kinds < 2) {
            ops[n++] = *o;
            continue;
        }
        for (int b = 0; b <= 8; b++) {
            if (!cnt[b]) continue;
            deploy_ir_op s = *o;
            s.channels = ir->chan + at;
            s.nchannels = 0;
            for (int32_t c = 0; c < cout; c++)
                if (channel_clamp(ir, o, c) == b) ir->chan[at + (size_t)s.nchannels++] = c;
            at += (size_t)s.nchannels;
            s.cycles = 0;
            if (t && o->engine >= 0 && o->engine < t->nengines) {
                hwcost_layer l = deploy_ir_op_layer(ir, o);
                l.cout = s.nchannels;
                hwcost_grad g;
                dnas_error ignored;
                if (hwcost_latency_cycles(t, o->engine, &l, &g, &ignored) == DNAS_OK)
                    s.cycles = g.value;
            }
            ops[n++] = s;
        }
    }
    free(ir->ops);
    ir->ops = ops;
    ir->nops = n;
    set_producers(ir);
    return DNAS_OK;
}

dnas_status deploy_pass_split(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    const hwcost_target *t = p->target;
    const deploy_qnet *q = ir->q;
    if (p->split == 2) return split_by_clamp(ir, p, err);
    if (!p->split || !t) { /* 1. */
        for (int k = 0; k < ir->nops; k++) {
            const deploy_ir_op *o = &ir->ops[k];
            int bits = ir->tensors[o->in[0]].bits;
            for (int32_t c = 0; o->q->engine && c < ir->tensors[o->out].c; c++) {
                int b = q->engine_in_bits[o->q->engine[c]];
                if (b && b < bits)
                    return dnas_fail(
                        err, DNAS_ERR_UNSUPPORTED,
                        "%s: op %d '%s' channel %d is on engine '%s', which clamps its "
                        "%d-bit input to %d bits (the network's engine_input_bits): "
                        "this backend computes every channel of an op on one input; "
                        "a backend that splits layers per engine or per input clamp (diana, gap8) "
                        "can",
                        ir->name, o->qindex, o->q->name, c, q->engines[o->q->engine[c]], bits, b);
            }
        }
        return DNAS_OK;
    }
    int extra = 0;
    size_t nchan = 0;
    int8_t(*eng)[DEPLOY_QNET_MAX_ENGINES] = NULL; /* per op: IR engine of each qnet engine */
    eng = dnas_xcalloc((size_t)(ir->nops > 0 ? ir->nops : 1), sizeof *eng);
    for (int k = 0; k < ir->nops; k++) { /* 2. */
        const deploy_ir_op *o = &ir->ops[k];
        if (!o->q->engine || (o->kind != DEPLOY_QOP_CONV && o->kind != DEPLOY_QOP_LINEAR)) continue;
        int used[DEPLOY_IR_MAX_ENGINES] = {0}, nused = 0;
        for (int32_t c = 0; c < ir->tensors[o->out].c; c++) {
            int qe = o->q->engine[c], e = hwcost_target_engine(t, q->engines[qe]);
            if (e < 0) {
                char names[HWCOST_MAX_ENGINES * (HWCOST_NAME_LEN + 2)] = "";
                for (int i = 0; i < t->nengines; i++)
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                             i ? ", " : "", t->engines[i].name);
                free(eng);
                return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                                 "%s: op %d '%s' channel %d is recorded on engine '%s', which "
                                 "target %s does not have (its engines: %s)",
                                 ir->name, o->qindex, o->q->name, c, q->engines[qe], t->name,
                                 names);
            }
            eng[k][qe] = (int8_t)(e + 1);
            nused += !used[e];
            used[e] = 1;
        }
        if (nused > 1 && o->q->groups != 1) {
            free(eng);
            return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                             "%s: op %d '%s' has groups %d and channels on %d engines: only a conv "
                             "with groups 1 (or a linear) can be split by channel",
                             ir->name, o->qindex, o->q->name, o->q->groups, nused);
        }
        if (nused > 1) extra += nused - 1, nchan += (size_t)ir->tensors[o->out].c;
    }
    deploy_ir_op *ops =
        dnas_xcalloc((size_t)(ir->nops + extra > 0 ? ir->nops + extra : 1), sizeof *ops);
    free(ir->chan);
    ir->chan = nchan ? dnas_xmalloc(nchan * sizeof *ir->chan) : NULL;
    size_t at = 0;
    int n = 0;
    dnas_status st = DNAS_OK;
    for (int k = 0; k < ir->nops && !st; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        if (!o->q->engine || (o->kind != DEPLOY_QOP_CONV && o->kind != DEPLOY_QOP_LINEAR)) {
            ops[n++] = *o;
            continue;
        }
        int32_t cout = ir->tensors[o->out].c, cnt[DEPLOY_IR_MAX_ENGINES] = {0};
        int nused = 0;
        for (int32_t c = 0; c < cout; c++)
            nused += cnt[eng[k][o->q->engine[c]] - 1]++ == 0;
        for (int e = 0; e < t->nengines && !st; e++) { /* 3., 4. */
            if (!cnt[e]) continue;
            int32_t *ch = nused > 1 ? ir->chan + at : NULL, m = cout;
            if (ch) {
                m = 0;
                for (int32_t c = 0; c < cout; c++)
                    if (eng[k][o->q->engine[c]] - 1 == e) ch[m++] = c;
                at += (size_t)m;
            }
            double cyc = 0;
            st = slice_check(ir, o, e, ch, m, t, &cyc, err);
            deploy_ir_op s = *o;
            s.engine = e;
            s.cycles = cyc;
            s.channels = ch;
            s.nchannels = ch ? m : 0;
            ops[n++] = s;
        }
    }
    free(eng);
    if (st) {
        free(ops);
        return st;
    }
    free(ir->ops);
    ir->ops = ops;
    ir->nops = n;
    set_producers(ir); /* 5. */
    return DNAS_OK;
}
