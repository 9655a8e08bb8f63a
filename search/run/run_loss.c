/* The search's regularizer (REFERENCE.md §1, "Regularizers and
 * constraints"):
 *   R = μ·C + Σ_h λ_h·max(0, M_h − M*_h)
 * C the config's cost, M_h each constraint's cost (or, for `levels`, the
 * Σ of the overflows of the target's untiled memory levels, each against
 * its bytes), all through the cost bridge at the masks' state.
 *
 * λ_h is the constraint's `strength` when given; otherwise DUCCIO-style
 *   s_h = L_task(after warmup) / max(M_h(seed) − M*_h, 0.01·M*_h)
 * (levels: the seed's overflow, at least 1% of the levels' bytes), ramped
 * linearly from s_h/100 to s_h over the first half of the search's
 * architecture steps, then s_h. The floor keeps λ finite when the seed
 * already meets the budget (the hinge is then 0 until it is crossed). */
#include <math.h>
#include <string.h>

#include "run_internal.h"

static double lambda_now(const run_ctx *c, int h) {
    const search_constraint *k = &c->cfg->constraints[h];
    if (k->strength >= 0) return k->strength;
    double r = c->ramp_steps > 0 ? (double)c->arch_steps / (double)c->ramp_steps : 1.0;
    if (r > 1) r = 1;
    return c->strength[h] * (0.01 + 0.99 * r);
}

static dnas_status eval_costs(run_ctx *c, int hard, dnas_error *err) {
    search_bridge_state_default(c->bridge, c->state, c->cfg->bits, c->cfg->bits);
    c->arch->state(c->arch, c->state, hard);
    return search_bridge_eval(c->bridge, c->state, &c->cp, &c->cr, err);
}

dnas_status search_run_regularizer(run_ctx *c, float *dalpha, double *cost, double *reg, dnas_error *err) {
    const search_config *cfg = c->cfg;
    dnas_status st = eval_costs(c, 0, err);
    if (st) return st;
    memset(c->acc, 0, (size_t)c->net->nlayers * sizeof *c->acc);
    search_layer_grad *acc = dalpha ? c->acc : NULL;
    *cost = c->cr.value[cfg->cost];
    double r = cfg->mu * *cost;
    if (acc && cfg->mu > 0) search_cost_accumulate(&c->cr, cfg->cost, cfg->mu, acc);
    for (int h = 0; h < cfg->nconstraints; h++) {
        const search_constraint *k = &cfg->constraints[h];
        double lam = lambda_now(c, h), hinge;
        c->res->lambda[h] = lam;
        if (k->slot == SEARCH_SLOT_LEVELS)
            hinge = search_cost_memory_hinge(&c->cr, c->res->target, lam, acc);
        else
            hinge = search_cost_hinge(&c->cr, k->slot, k->max, lam, acc);
        r += lam * hinge;
    }
    *reg = r;
    if (dalpha) c->arch->state_backward(c->arch, c->acc, 1.0, dalpha);
    return DNAS_OK;
}

dnas_status search_run_strengths(run_ctx *c, float task_loss, dnas_error *err) {
    const search_config *cfg = c->cfg;
    dnas_status st = eval_costs(c, 0, err);
    if (st) return st;
    for (int h = 0; h < cfg->nconstraints; h++) {
        const search_constraint *k = &cfg->constraints[h];
        double over, floor;
        if (k->slot == SEARCH_SLOT_LEVELS) {
            const hwcost_target *t = c->res->target;
            over = search_cost_memory_hinge(&c->cr, t, 0, NULL);
            floor = 0;
            for (int m = 0; m < t->nmem; m++)
                if (!t->mem[m].tiled) floor += 0.01 * t->mem[m].bytes;
        } else {
            over = c->cr.value[k->slot] - k->max;
            floor = 0.01 * k->max;
        }
        c->strength[h] = (double)task_loss / (over > floor ? over : floor > 0 ? floor : 1);
        c->res->lambda[h] = k->strength >= 0 ? k->strength : 0.01 * c->strength[h];
    }
    return DNAS_OK;
}

dnas_status search_run_hard_cost(run_ctx *c, double *cost, dnas_error *err) {
    dnas_status st = eval_costs(c, 1, err);
    if (!st) *cost = c->cr.value[c->cfg->cost];
    return st;
}
