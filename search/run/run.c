/* One search run: setup and checks, then warmup -> search -> export ->
 * fine-tune -> evaluate (search/run.h). The search phase is in
 * run_search.c, plain training and evaluation in run_train.c, the
 * regularizer in run_loss.c. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <time.h>

#include "quant.h"
#include "run_internal.h"

search_run_opts search_run_default_opts(void) {
    search_run_opts o = {0, NULL, NULL, NULL, NULL, 0};
    return o;
}

const char *search_status_name(search_status s) {
    static const char *NAMES[] = {"ok", "diverged", "failed"};
    return (unsigned)s <= SEARCH_STATUS_FAILED ? NAMES[s] : "?";
}

void search_result_free(search_result *res) {
    train_net_free(res->seed);
    train_net_free(res->exported);
    if (res->qnet) deploy_qnet_free(res->qnet);
    free(res->qnet);
    free(res->target);
    free(res->alpha);
    free(res->slices);
    free(res->choices);
    memset(res, 0, sizeof *res);
}

static void metrics_none(search_metrics *m) {
    m->val_loss = m->val_acc = m->test_loss = m->test_acc = -1;
}

/* Every cost of net (plain, at the config's bits) into v (SEARCH_COST_SLOTS).
 * unsplit: layers that record their channels' engines (ODiMO) are priced
 * as if they did not (every weight at the config's bits, the fastest
 * engine: on DIANA all digital). */
static dnas_status costs_of(const train_net *net, const search_config *cfg, const hwcost_target *t, double *v,
                            int *nmem, int unsplit, dnas_error *err) {
    search_bridge *b;
    dnas_status st = search_bridge_init(&b, net, err);
    if (st) return st;
    search_layer_state *s = dnas_xcalloc((size_t)net->nlayers, sizeof *s);
    search_bridge_state_default(b, s, cfg->bits, cfg->bits);
    for (int i = 0; unsplit && i < net->nlayers; i++) s[i].w = hwcost_prec_single(cfg->bits);
    search_cost_result r;
    search_cost_result_init(&r, b);
    search_cost_params p = search_cost_default_params();
    p.target = t;
    p.ignore_engines = unsplit;
    if (!(st = search_bridge_eval(b, s, &p, &r, err))) {
        memcpy(v, r.value, sizeof r.value);
        *nmem = r.nmem;
    }
    search_cost_result_free(&r);
    free(s);
    search_bridge_free(b);
    return st;
}

/* Everything that can be checked before training: target, model, data, the
 * method's view of the model, the seed's costs. */
static dnas_status setup(run_ctx *c, dnas_error *err) {
    const search_config *cfg = c->cfg;
    search_result *res = c->res;
    dnas_status st;
    if (cfg->target[0]) {
        res->target = dnas_xmalloc(sizeof *res->target);
        if ((st = hwcost_target_load(res->target, cfg->target, err))) return st;
    }
    if ((st = train_net_load(&res->seed, cfg->model, err)) || (st = search_arch_prepare(cfg, &res->seed, err)))
        return st;
    c->net = res->seed;
    train_config *t = &c->tcfg;
    snprintf(t->path, sizeof t->path, "%s", cfg->path);
    snprintf(t->model, sizeof t->model, "%s", cfg->model);
    t->data = cfg->data;
    t->seed = cfg->seed;
    t->loss = cfg->loss;
    t->batch = cfg->batch;
    if ((st = search_quant_prepare_data(t, &c->train, &c->val, &c->test, &c->prep, err))) return st;
    if ((st = train_data_check(c->net, &c->train, t, err)) ||
        (c->val.count && (st = train_data_check(c->net, &c->val, t, err))) ||
        (c->test.count && (st = train_data_check(c->net, &c->test, t, err))))
        return st;
    if ((st = search_bridge_init(&c->bridge, c->net, err)) ||
        (st = search_arch_create(&c->arch, cfg, c->net, c->bridge, err)))
        return st;
    c->cp = search_cost_default_params();
    c->cp.target = res->target;
    c->cp.mode = c->arch->engine_mode;
    search_cost_result_init(&c->cr, c->bridge);
    c->state = dnas_xcalloc((size_t)c->net->nlayers, sizeof *c->state);
    c->acc = dnas_xcalloc((size_t)c->net->nlayers, sizeof *c->acc);
    if ((st = costs_of(c->net, cfg, res->target, res->seed_cost, &res->nmem, 0, err))) return st;
    res->nslices = c->arch->nslices;
    res->slices = dnas_xcalloc((size_t)res->nslices + 1, sizeof *res->slices);
    memcpy(res->slices, c->arch->slices, (size_t)res->nslices * sizeof *res->slices);
    res->nalpha = c->arch->nalpha;
    res->alpha = dnas_xcalloc(c->arch->nalpha + 1, sizeof *res->alpha);
    return DNAS_OK;
}

/* The integer network of the fine-tuned exported network at cfg->int_bits
 * (a layer's own wbits and a pact's bits where it has them: MixPrec)
 * (activation ranges from training batches) and its test accuracy. An
 * export the integer path refuses (DNAS_ERR_UNSUPPORTED: an op it has no
 * kernel for) is a warning: no qnet, int_test_acc stays -1; so is an
 * output accuracy cannot be read from (the qnet is kept). Other errors
 * fail the run. */
static dnas_status run_integer(run_ctx *c, FILE *warn, dnas_error *err) {
    const search_config *cfg = c->cfg;
    search_result *res = c->res;
    search_quant_params p = search_quant_default_params();
    p.wbits = p.abits = cfg->int_bits;
    p.batch = cfg->batch;
    p.seed = cfg->seed;
    int per_epoch = (c->train.count + cfg->batch - 1) / cfg->batch;
    if (p.calib_batches > per_epoch) p.calib_batches = per_epoch > 0 ? per_epoch : 1;
    deploy_qnet *q = dnas_xcalloc(1, sizeof *q);
    dnas_status st = search_quant_export(q, res->exported, &c->train, &p, err);
    if (st) {
        deploy_qnet_free(q);
        free(q);
        if (st != DNAS_ERR_UNSUPPORTED) return st;
        fprintf(warn, "warning: no integer network: %s\n", err->msg);
        fflush(warn);
        return DNAS_OK;
    }
    res->qnet = q;
    for (int e = 0; res->target && e < q->nengines; e++) { /* engines that clamp their inputs */
        int te = hwcost_target_engine(res->target, q->engines[e]);
        if (te >= 0 && res->target->engines[te].input_bits < 8)
            q->engine_in_bits[e] = res->target->engines[te].input_bits;
    }
    deploy_qnet_copy_input(&q->input, &c->prep);
    float acc = -1;
    if (cfg->loss == TRAIN_LOSS_XENT && c->test.count && (st = search_quant_accuracy(q, &c->test, &acc, err))) {
        if (st != DNAS_ERR_INVALID) return st;
        fprintf(warn, "warning: no integer accuracy: %s\n", err->msg); /* e.g. output not [1][1][K] */
        fflush(warn);
        acc = -1;
    }
    res->int_test_acc = acc;
    if (c->log) {
        int own = 0; /* layers with their own widths (a MixPrec export) */
        for (int i = 1; i < res->exported->nlayers; i++) {
            const train_layer *L = &res->exported->layers[i];
            own |= L->wbits != 0 || (L->op == TRAIN_OP_PACT && L->prec.nprec == 1);
        }
        fprintf(c->log, "integer: %d-bit%s, %d ops, scales from %d batches", cfg->int_bits,
                own ? " default, layers' own widths" : "", q->nops, p.calib_batches);
        if (acc >= 0)
            fprintf(c->log, " | test acc float %.2f%% integer %.2f%%", 100.0 * res->finetune.test_acc,
                    100.0 * acc);
        fputc('\n', c->log);
        fflush(c->log);
    }
    return DNAS_OK;
}

/* The phases; a failure returns its status and sets res->phase. */
static dnas_status phases(run_ctx *c, const search_run_opts *opts, dnas_error *err) {
    const search_config *cfg = c->cfg;
    search_result *res = c->res;
    dnas_status st;
    float loss = 0;
    snprintf(res->phase, sizeof res->phase, "warmup");
    if ((st = search_run_warmup(c, opts->warmup_ckpt, &loss, err))) return st;
    if (opts->warmup_only) {
        res->phase[0] = 0;
        return DNAS_OK;
    }
    if ((st = search_run_strengths(c, loss, err))) return st;
    snprintf(res->phase, sizeof res->phase, "search");
    st = search_run_search_phase(c, err);
    memcpy(res->alpha, c->arch->alpha, c->arch->nalpha * sizeof *res->alpha);
    if (c->arch->choices) {
        res->nchoices = c->arch->nchoices;
        res->choices = dnas_xcalloc((size_t)res->nchoices + 1, sizeof *res->choices);
        c->arch->choices(c->arch, res->choices);
    }
    if (st) return st;
    snprintf(res->phase, sizeof res->phase, "export");
    st = c->arch->export_net(c->arch, c->net, &res->exported, err);
    c->arch->detach(c->arch, c->net);
    if (st || (st = search_run_evaluate(c, res->exported, &res->search, err))) return st;
    int nmem;
    if ((st = costs_of(res->exported, cfg, res->target, res->cost, &nmem, 0, err))) return st;
    for (int i = 1; i < res->exported->nlayers && !res->has_unsplit; i++)
        res->has_unsplit = res->exported->layers[i].engine_of != NULL;
    if (res->has_unsplit && (st = costs_of(res->exported, cfg, res->target, res->cost_unsplit, &nmem, 1, err)))
        return st;
    if (c->log) {
        char a[64], b[64];
        fprintf(c->log, "exported: %s %s (seed %s", search_config_cost_name(cfg->cost),
                search_run_fmt_cost(res->cost[cfg->cost], a, sizeof a),
                search_run_fmt_cost(res->seed_cost[cfg->cost], b, sizeof b));
        if (res->has_unsplit)
            fprintf(c->log, ", unsplit %s", search_run_fmt_cost(res->cost_unsplit[cfg->cost], a, sizeof a));
        fputc(')', c->log);
        search_run_print_metrics(c->log, &res->search);
        fputc('\n', c->log);
        if (res->nchoices) {
            fprintf(c->log, "chosen:");
            for (int k = 0; k < res->nchoices; k++)
                fprintf(c->log, " %s=%s", res->choices[k].name, res->choices[k].choice);
            fputc('\n', c->log);
        }
        fflush(c->log);
    }
    snprintf(res->phase, sizeof res->phase, "finetune");
    if ((st = search_run_plain(c, res->exported, "finetune", cfg->finetune, &loss, err)) ||
        (st = search_run_evaluate(c, res->exported, &res->finetune, err)))
        return st;
    snprintf(res->phase, sizeof res->phase, "quantize");
    if (cfg->int_bits && (st = run_integer(c, c->log ? c->log : stderr, err))) return st;
    snprintf(res->phase, sizeof res->phase, "evaluate");
    if (opts->after_finetune && (st = opts->after_finetune(opts->ctx, res->exported, &c->test, res, err)))
        return st;
    res->phase[0] = 0;
    return DNAS_OK;
}

dnas_status search_run(const search_config *cfg, const search_run_opts *opts_in, search_result *res,
                       dnas_error *err) {
    search_run_opts opts = opts_in ? *opts_in : search_run_default_opts();
    memset(res, 0, sizeof *res);
    res->int_test_acc = -1;
    metrics_none(&res->warmup), metrics_none(&res->search), metrics_none(&res->finetune);
    res->start_time = (double)time(NULL);
    double t0 = search_run_now();
    omp_set_num_threads(cfg->threads > 0 ? cfg->threads : omp_get_num_procs());
    openblas_set_num_threads(1);
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.res = res;
    c.log = opts.quiet ? NULL : opts.log ? opts.log : stderr;
    dnas_status st = setup(&c, err);
    if (!st) {
        train_net_init(c.net, cfg->seed);
        c.t0 = search_run_now();
        c.samples_all = (long)c.train.count * (cfg->warmup + cfg->search + cfg->finetune);
        st = phases(&c, &opts, err);
        if (st) {
            res->status = st == DNAS_ERR_NAN ? SEARCH_STATUS_DIVERGED : SEARCH_STATUS_FAILED;
            snprintf(res->error, sizeof res->error, "%s", err->msg);
            st = DNAS_OK;
        }
    }
    if (c.net && c.arch) c.arch->detach(c.arch, c.net);
    search_cost_result_free(&c.cr);
    free(c.state);
    free(c.acc);
    search_arch_free(c.arch);
    search_bridge_free(c.bridge);
    train_dataset_free(&c.train);
    train_dataset_free(&c.val);
    train_dataset_free(&c.test);
    deploy_qnet_input_free(&c.prep);
    res->seconds = search_run_now() - t0;
    res->end_time = (double)time(NULL);
    return st;
}
