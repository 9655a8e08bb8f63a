/* Per-target latency and energy: the registry of latency models, and the
 * target-independent code around it (support checks, mixing over
 * precisions, seconds, energy, the parallel split). Nothing here names a
 * target: a target file names its models, the table below finds them. */
#include <string.h>

#include "internal.h"

const hwcost_latency_model *const HWCOST_LATENCY_MODELS[] = {
    &hwcost_lat_diana_digital, &hwcost_lat_diana_analog, &hwcost_lat_gap8,
    &hwcost_lat_mac_table,     &hwcost_lat_ne16,         &hwcost_lat_cortex_m,
};
const int HWCOST_NLATENCY_MODELS = (int)(sizeof HWCOST_LATENCY_MODELS / sizeof HWCOST_LATENCY_MODELS[0]);

const char *hwcost_latency_model_name(int i) {
    return i >= 0 && i < HWCOST_NLATENCY_MODELS ? HWCOST_LATENCY_MODELS[i]->name : NULL;
}

dnas_status hwcost_engine_mpc(const hwcost_engine *e, double abits, double wbits, double *mpc,
                                dnas_error *err) {
    for (int i = 0; i < e->nmpc; i++)
        if (e->mpc[i].a_bits == abits && e->mpc[i].w_bits == wbits) {
            *mpc = e->mpc[i].macs_per_cycle;
            return DNAS_OK;
        }
    return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                       "engine '%s': no MAC/cycle figure for %g-bit activations x %g-bit weights "
                       "(macs_per_cycle table, line %d)",
                       e->name, abits, wbits, e->line);
}

static int has_bits(const double *list, int n, double b) {
    for (int i = 0; i < n; i++)
        if (list[i] == b) return 1;
    return 0;
}

/* Kind and grouping only (precision is the model's business). */
static dnas_status check_kind(const hwcost_target *t, const hwcost_engine *e, const hwcost_layer *l,
                                dnas_error *err) {
    if (l->kind == HWCOST_ADD || l->kind == HWCOST_POOL) return DNAS_OK; /* not modelled: 0 */
    if (!(e->ops & (1u << l->kind)))
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "%s engine '%s' (%s:%d) does not run %s layers",
                           t->name, e->name, t->path, e->line, hwcost_kind_name(l->kind));
    if (l->kind == HWCOST_CONV && l->groups > 1 && !e->grouped)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                           "%s engine '%s' (%s:%d) runs only groups = 1 convolutions, layer has groups = %d",
                           t->name, e->name, t->path, e->line, l->groups);
    return DNAS_OK;
}

int hwcost_engine_supports(const hwcost_engine *e, const hwcost_layer *l) {
    if (!(e->ops & (1u << l->kind))) return 0;
    if (l->kind == HWCOST_CONV && l->groups > 1 && !e->grouped) return 0;
    for (int i = 0; i < l->w.n; i++)
        if (l->w.prob[i] > 0 && l->w.bits[i] > 0 && !has_bits(e->wbits, e->nwbits, l->w.bits[i])) return 0;
    for (int i = 0; i < l->a.n; i++)
        if (l->a.prob[i] > 0 && !has_bits(e->abits, e->nabits, l->a.bits[i])) return 0;
    return 1;
}

typedef struct {
    const hwcost_target *t;
    const hwcost_engine *e;
    const hwcost_latency_model *m;
} lat_ctx;

static dnas_status pair_latency(const void *ctx, const hwcost_layer *l, double abits, double wbits,
                                  hwcost_pt *p, dnas_error *err) {
    const lat_ctx *c = ctx;
    if (l->kind == HWCOST_ADD || l->kind == HWCOST_POOL) return DNAS_OK; /* not modelled: 0 */
    return c->m->cycles(c->t, c->e, l, abits, wbits, p, err);
}

dnas_status hwcost_latency_cycles(const hwcost_target *t, int engine, const hwcost_layer *l, hwcost_grad *g,
                                    dnas_error *err) {
    memset(g, 0, sizeof *g);
    if (engine < 0 || engine >= t->nengines)
        return dnas_fail(err, DNAS_ERR_INVALID, "%s: engine %d out of range", t->name, engine);
    const hwcost_engine *e = &t->engines[engine];
    dnas_status st = check_kind(t, e, l, err);
    if (st) return st;
    lat_ctx c = {t, e, HWCOST_LATENCY_MODELS[e->model]};
    return hwcost_mix(l, pair_latency, &c, g, err);
}

dnas_status hwcost_latency_seconds(const hwcost_target *t, int engine, const hwcost_layer *l,
                                     hwcost_grad *g, dnas_error *err) {
    dnas_status st = hwcost_latency_cycles(t, engine, l, g, err);
    if (!st) hwcost_grad_scale(g, 1.0 / t->clock_hz);
    return st;
}

dnas_status hwcost_energy(const hwcost_target *t, int engine, const hwcost_layer *l, hwcost_grad *g,
                            dnas_error *err) {
    dnas_status st = hwcost_latency_seconds(t, engine, l, g, err);
    if (!st) hwcost_grad_scale(g, t->engines[engine].power_w);
    return st;
}

static dnas_status parallel_cycles(const hwcost_target *t, const hwcost_layer *layers, double *c,
                                     hwcost_grad *g, dnas_error *err) {
    if (t->nparallel < 2)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "target %s (%s) has no parallel engines", t->name,
                           t->path);
    for (int e = 0; e < t->nparallel; e++) {
        dnas_status st = hwcost_latency_cycles(t, t->parallel[e], &layers[e], &g[e], err);
        if (st) return st;
        c[e] = g[e].value;
    }
    return DNAS_OK;
}

/* S = Σ_e p_e t_e with p = softmax(t/τ);
 * dS/dt_k = p_k + Σ_e t_e dp_e/dt_k = p_k + p_k (t_k - S)/τ. */
dnas_status hwcost_parallel_latency(const hwcost_target *t, const hwcost_layer *layers, double *cycles,
                                      hwcost_grad *g, dnas_error *err) {
    double c[HWCOST_MAX_ENGINES], p[HWCOST_MAX_ENGINES];
    dnas_status st = parallel_cycles(t, layers, c, g, err);
    if (st) return st;
    double tau = t->smooth_max_tau, mx = c[0], z = 0, s = 0;
    for (int e = 1; e < t->nparallel; e++)
        if (c[e] > mx) mx = c[e];
    for (int e = 0; e < t->nparallel; e++) z += p[e] = exp((c[e] - mx) / tau);
    for (int e = 0; e < t->nparallel; e++) s += (p[e] /= z) * c[e];
    for (int e = 0; e < t->nparallel; e++) hwcost_grad_scale(&g[e], p[e] + p[e] * (c[e] - s) / tau);
    for (int e = 0; e < t->nparallel; e++) g[e].value = s;
    *cycles = s;
    return DNAS_OK;
}

/* E = P_all·t_min + Σ_e P_e (t_e - t_min), t in seconds (t_min: hard min,
 * its derivative goes to the first engine that attains it):
 * dE/dt_e = P_e + [e = argmin]·(P_all - Σ_f P_f). */
dnas_status hwcost_parallel_energy(const hwcost_target *t, const hwcost_layer *layers, double *joules,
                                     hwcost_grad *g, dnas_error *err) {
    double c[HWCOST_MAX_ENGINES];
    dnas_status st = parallel_cycles(t, layers, c, g, err);
    if (st) return st;
    int amin = 0;
    double psum = 0;
    for (int e = 0; e < t->nparallel; e++) {
        if (c[e] < c[amin]) amin = e;
        psum += t->engines[t->parallel[e]].power_w;
    }
    double tmin = c[amin] / t->clock_hz, en = t->parallel_power_w * tmin;
    for (int e = 0; e < t->nparallel; e++)
        en += t->engines[t->parallel[e]].power_w * (c[e] / t->clock_hz - tmin);
    for (int e = 0; e < t->nparallel; e++) {
        double de = t->engines[t->parallel[e]].power_w + (e == amin ? t->parallel_power_w - psum : 0);
        hwcost_grad_scale(&g[e], de / t->clock_hz);
        g[e].value = en;
    }
    *joules = en;
    return DNAS_OK;
}
