/* ODiMO as a search method (search/method.h, algorithm in search/odimo.h).
 *
 * Construction:
 *   1. the config's target (loaded again here: the run's copy is not
 *      passed to methods) must have two or more parallel engines, each
 *      with one weight precision of 2..8 bits;
 *   2. searched layers: conv / linear layers that every parallel engine
 *      runs (hwcost kind and grouping; a depthwise conv is not a conv);
 *      the others keep their float weights and get no parameters;
 *   3. alpha: per searched layer (C, P) logits, log of the config's
 *      `init` (uniform by default), one slice "<layer>.theta" each.
 * Per step: forward θ = softmax(α/T) (hard: one-hot at argmax); apply
 * writes the view (net->params, the searched layers' weights mixed);
 * backward maps dL/dW_eff to dθ, then through the softmax to dα. BN
 * running statistics are not frozen: they follow the mixed weights during
 * the search as in plain training (training-mode forwards on training and
 * validation batches), so the exported network, which starts from them,
 * matches the supernet at the hard choice up to the soft-to-hard change of
 * the weights; fine-tuning re-estimates them on the exported network. */
#include <math.h>
#include <string.h>

#include "method.h"
#include "odimo.h"

static search_odimo *impl(const search_arch *a) { return a->impl; }

static train_wq_dims dims_of(const search_odimo *o, const search_odimo_layer *l) {
    train_wq_dims d = {.cout = l->c, .len = l->len, .theta_per_channel = 1};
    d.prec.nprec = o->P;
    for (int p = 0; p < o->P; p++) d.prec.bits[p] = o->bits[p];
    return d;
}

int search_odimo_channel_engine(const search_odimo *o, int slot, int c) {
    const float *al = o->alpha + o->layers[slot].off + (size_t)c * o->P;
    int best = 0;
    for (int p = 1; p < o->P; p++)
        if (al[p] > al[best]) best = p;
    return best;
}

static void odimo_forward(search_arch *a) {
    search_odimo *o = impl(a);
    size_t rows = o->nalpha / (size_t)o->P;
    train_softmax_temp_forward(o->theta, o->alpha, (int)rows, o->P, o->temperature);
    if (o->hard) train_softmax_hard_forward(o->theta, o->theta, (int)rows, o->P);
}

static void odimo_epoch(search_arch *a, int epoch, int nepochs) {
    search_odimo *o = impl(a);
    o->temperature = (float)search_anneal(o->cfg_temperature, o->cfg_temperature_final, epoch, nepochs, 0);
    odimo_forward(a);
}

static void odimo_apply(search_arch *a, train_net *net) {
    search_odimo *o = impl(a);
    memcpy(o->view, net->params, net->nparams * sizeof *o->view);
    for (int k = 0; k < o->nlayers; k++) {
        const search_odimo_layer *l = &o->layers[k];
        const train_layer *L = &net->layers[l->layer];
        train_wq_dims d = dims_of(o, l);
        train_wq_mix_forward(o->view + L->w_off, net->params + L->w_off, o->theta + l->off, &d);
    }
    train_net_set_param_view(net, o->view);
}

/* net->grads holds dL/dW_eff. Weights: dW = (Σ_p θ_c,p)·dW_eff = dW_eff
 * (θ from a softmax or one-hot), so map_weights leaves net->grads as it is.
 * Architecture: dθ_c,p = Σ_i dW_eff[c,i]·Q_p(W[c,i]), then the softmax. */
static void odimo_backward(search_arch *a, train_net *net, float *dalpha, int map_weights) {
    (void)map_weights;
    search_odimo *o = impl(a);
    if (!dalpha) return;
    memset(o->dtheta, 0, o->nalpha * sizeof *o->dtheta);
    for (int k = 0; k < o->nlayers; k++) {
        const search_odimo_layer *l = &o->layers[k];
        const train_layer *L = &net->layers[l->layer];
        train_wq_dims d = dims_of(o, l);
        train_wq_mix_backward(NULL, o->dtheta + l->off, net->grads + L->w_off, net->params + L->w_off,
                              o->theta + l->off, &d);
    }
    train_softmax_temp_backward(dalpha, o->dtheta, o->theta, (int)(o->nalpha / (size_t)o->P), o->P,
                                o->temperature);
}

/* share_p = Σ_c θ_c,p / C (hard: the fraction of channels whose argmax is
 * p), and the layer's weight precisions the same distribution over the
 * engines' bits (what the exported layer's per-channel wbits give: a layer the
 * bridge does not split, e.g. all channels on one engine, is priced at
 * them; split parts use their engine's bits anyway). */
static void odimo_state(const search_arch *a, search_layer_state *s, int hard) {
    const search_odimo *o = impl(a);
    for (int k = 0; k < o->nlayers; k++) {
        const search_odimo_layer *l = &o->layers[k];
        double *sh = s[l->layer].share;
        for (int p = 0; p < HWCOST_MAX_ENGINES; p++) sh[p] = 0;
        for (int c = 0; c < l->c; c++) {
            if (hard) {
                sh[search_odimo_channel_engine(o, k, c)] += 1.0 / l->c;
                continue;
            }
            for (int p = 0; p < o->P; p++) sh[p] += o->theta[l->off + (size_t)c * o->P + p] / l->c;
        }
        hwcost_prec *w = &s[l->layer].w;
        w->n = 0;
        for (int p = 0; p < o->P; p++) {
            if (hard && sh[p] == 0) continue;
            w->bits[w->n] = o->bits[p], w->prob[w->n++] = sh[p];
        }
    }
}

/* dθ_c,p = scale·d_share_p / C, then the softmax. */
static void odimo_state_backward(search_arch *a, const search_layer_grad *g, double scale, float *dalpha) {
    search_odimo *o = impl(a);
    memset(o->dtheta, 0, o->nalpha * sizeof *o->dtheta);
    for (int k = 0; k < o->nlayers; k++) {
        const search_odimo_layer *l = &o->layers[k];
        for (int c = 0; c < l->c; c++)
            for (int p = 0; p < o->P; p++)
                o->dtheta[l->off + (size_t)c * o->P + p] = (float)(scale * g[l->layer].d_share[p] / l->c);
    }
    train_softmax_temp_backward(dalpha, o->dtheta, o->theta, (int)(o->nalpha / (size_t)o->P), o->P,
                                o->temperature);
}

/* The same network with each searched layer's per-channel `wbits` and `engines`
 * at the hard choice, its parameters and BN statistics copied. */
static dnas_status odimo_export(const search_arch *a, const train_net *net, train_net **out, dnas_error *err) {
    const search_odimo *o = impl(a);
    train_spec *spec = train_net_spec(net);
    for (int k = 0; k < o->nlayers; k++) {
        const search_odimo_layer *l = &o->layers[k];
        train_spec_layer *sl = spec->layers[l->layer - 1];
        long *bits = dnas_xmalloc((size_t)l->c * sizeof *bits);
        const char **names = dnas_xmalloc((size_t)l->c * sizeof *names);
        for (int c = 0; c < l->c; c++) {
            int p = search_odimo_channel_engine(o, k, c);
            bits[c] = o->bits[p];
            names[c] = o->target.engines[o->target.parallel[p]].name;
        }
        train_spec_set_ints(sl, "wbits", bits, l->c);
        train_spec_set_strs(sl, "engines", names, l->c);
        free(bits);
        free(names);
    }
    dnas_status st = train_net_build(out, spec, net->path, err);
    train_spec_free(spec);
    if (st) return st;
    DNAS_ASSERT((*out)->nparams == net->nparams && (*out)->nstate == net->nstate);
    memcpy((*out)->params, net->params, net->nparams * sizeof *net->params);
    memcpy((*out)->state, net->state, net->nstate * sizeof *net->state);
    return DNAS_OK;
}

static void odimo_detach(search_arch *a, train_net *net) {
    (void)a;
    train_net_set_param_view(net, NULL);
}

static void odimo_destroy(search_arch *a) {
    search_odimo *o = impl(a);
    free(o->layers);
    free(o->slot_of);
    free(o->alpha);
    free(o->theta);
    free(o->dtheta);
    free(o->view);
    free(o);
}

/* Step 1. */
static dnas_status check_target(search_odimo *o, const search_config *cfg, dnas_error *err) {
    if (!cfg->target[0])
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s:%d: method odimo needs a target with parallel engines "
                         "(target: diana)", cfg->path, cfg->odimo.line);
    dnas_status st = hwcost_target_load(&o->target, cfg->target, err);
    if (st) return st;
    const hwcost_target *t = &o->target;
    if (t->nparallel < 2)
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s:%d: method odimo: target %s (%s) has no parallel engines "
                         "(a `parallel:` section with two or more engines)", cfg->path, cfg->odimo.line, t->name,
                         t->path);
    if (cfg->odimo.ninit && cfg->odimo.ninit != t->nparallel)
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s:%d: odimo: init has %d values, target %s has %d parallel engines",
                         cfg->path, cfg->odimo.init_line, cfg->odimo.ninit, t->name, t->nparallel);
    o->P = t->nparallel;
    for (int p = 0; p < o->P; p++) {
        const hwcost_engine *e = &t->engines[t->parallel[p]];
        if (e->nwbits != 1 || e->wbits[0] < 2 || e->wbits[0] > 8 || e->wbits[0] != (int)e->wbits[0])
            return dnas_fail(err, DNAS_ERR_CONFIG,
                             "%s:%d: method odimo: engine '%s' of target %s needs one weight precision of 2..8 "
                             "bits (weight_bits, %s:%d)", cfg->path, cfg->odimo.line, e->name, t->name, t->path,
                             e->line);
        o->bits[p] = (int)e->wbits[0];
    }
    return DNAS_OK;
}

/* Step 2: every parallel engine runs layer i. */
static int searched(const search_odimo *o, const train_net *net, int i) {
    const train_layer *L = &net->layers[i];
    if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) return 0;
    const train_layer *I = &net->layers[L->inputs[0]];
    int dw = L->op == TRAIN_OP_CONV && L->groups > 1 && L->groups == L->c && L->groups == I->c;
    hwcost_kind kind = L->op == TRAIN_OP_LINEAR ? HWCOST_LINEAR : dw ? HWCOST_DEPTHWISE : HWCOST_CONV;
    for (int p = 0; p < o->P; p++) {
        const hwcost_engine *e = &o->target.engines[o->target.parallel[p]];
        if (!(e->ops & (1u << kind))) return 0;
        if (kind == HWCOST_CONV && L->groups > 1 && !e->grouped) return 0;
    }
    return 1;
}

dnas_status search_odimo_method(search_arch *a, const search_config *cfg, train_net *net, const search_bridge *b,
                                dnas_error *err) {
    (void)b;
    search_odimo *o = dnas_xcalloc(1, sizeof *o);
    a->impl = o;
    a->destroy = odimo_destroy;
    o->net = net;
    o->temperature = o->cfg_temperature = cfg->odimo.temperature > 0 ? cfg->odimo.temperature : 1;
    o->cfg_temperature_final = cfg->odimo.temperature_final > 0 ? cfg->odimo.temperature_final : o->temperature;
    dnas_status st = check_target(o, cfg, err);
    if (st) return st;
    o->slot_of = dnas_xmalloc((size_t)net->nlayers * sizeof *o->slot_of);
    o->layers = dnas_xcalloc((size_t)net->nlayers, sizeof *o->layers);
    for (int i = 0; i < net->nlayers; i++) {
        o->slot_of[i] = -1;
        if (i == 0 || !searched(o, net, i)) continue;
        const train_layer *L = &net->layers[i];
        search_odimo_layer *l = &o->layers[o->nlayers];
        l->layer = i, l->c = L->c, l->len = (int)(L->w_len / (size_t)L->c), l->off = o->nalpha;
        o->nalpha += (size_t)L->c * o->P;
        o->slot_of[i] = o->nlayers++;
    }
    if (!o->nlayers)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "%s: method odimo: no layer of model '%s' runs on every "
                         "parallel engine of target %s", cfg->path, net->name, o->target.name);
    o->alpha = dnas_xcalloc(o->nalpha + 1, sizeof *o->alpha);
    o->theta = dnas_xcalloc(o->nalpha + 1, sizeof *o->theta);
    o->dtheta = dnas_xcalloc(o->nalpha + 1, sizeof *o->dtheta);
    o->view = dnas_xmalloc((net->nparams + 1) * sizeof *o->view);
    for (size_t k = 0; k < o->nalpha; k++) {
        int p = (int)(k % (size_t)o->P);
        o->alpha[k] = cfg->odimo.ninit ? o->temperature * logf(cfg->odimo.init[p] > 1e-30f ? cfg->odimo.init[p]
                                                                                            : 1e-30f)
                                       : 0;
    }
    for (int k = 0; k < o->nlayers; k++)
        search_arch_add_slice(a, net->layers[o->layers[k].layer].name, "theta", o->layers[k].off,
                              (size_t)o->layers[k].c * o->P);
    a->nalpha = o->nalpha;
    a->alpha = o->alpha;
    a->engine_mode = SEARCH_ENGINE_PARALLEL;
    a->forward = odimo_forward;
    a->apply = odimo_apply;
    a->backward = odimo_backward;
    a->state = odimo_state;
    a->state_backward = odimo_state_backward;
    a->export_net = odimo_export;
    a->detach = odimo_detach;
    a->epoch = odimo_epoch;
    odimo_forward(a);
    return DNAS_OK;
}
