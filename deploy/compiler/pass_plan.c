/* Pass "plan": every tensor's lifetime from the schedule and its offset in
 * the one arena.
 *
 * Steps:
 *   1. op k runs at step k. A tensor is live from the step of the op that
 *      writes it (the network input: step 0, written by the caller before
 *      the run) to the last step that reads it; the network output stays
 *      live to the last step (the caller reads it after the run). So an
 *      op's inputs and its output are live together at its step and never
 *      share bytes, as the kernels require;
 *   2. the planner (planner.c: largest first, first fit) gives offsets,
 *      multiples of p->align;
 *   3. the arena is reported beside its lower bound, the most bytes live at
 *      one step (deploy_plan_lower_bound), and the plan is checked: no two
 *      tensors live at a common step overlap (a planner bug aborts);
 *   4. with a target description, each memory level that holds the
 *      network's activations and/or weights (not a tiled one) must hold
 *      the arena (plus the kernels' scratch, p->scratch_bytes, which lives
 *      beside it) and/or the constant bytes: DNAS_ERR_UNSUPPORTED naming the
 *      level, what it must hold and the smallest size that would do. */
#include "compiler.h"

dnas_status deploy_pass_plan(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    int last_step = ir->nops > 0 ? ir->nops - 1 : 0;
    for (int i = 0; i < ir->ntensors; i++) { /* 1. */
        deploy_ir_tensor *t = &ir->tensors[i];
        t->first = t->producer >= 0 ? t->producer : 0;
        t->last = i == ir->output ? last_step : t->first;
    }
    for (int k = 0; k < ir->nops; k++)
        for (int s = 0; s < 2; s++) {
            int i = ir->ops[k].in[s];
            if (i >= 0 && ir->tensors[i].last < k) ir->tensors[i].last = k;
        }
    deploy_plan_buf *b = dnas_xcalloc((size_t)(ir->ntensors > 0 ? ir->ntensors : 1), sizeof *b);
    for (int i = 0; i < ir->ntensors; i++)
        b[i] =
            (deploy_plan_buf){ir->tensors[i].bytes, ir->tensors[i].first, ir->tensors[i].last, 0};
    ir->arena = deploy_plan_arena(b, ir->ntensors, p->align);   /* 2. */
    ir->arena_bound = deploy_plan_lower_bound(b, ir->ntensors); /* 3. */
    DNAS_ASSERT(!deploy_plan_overlap(b, ir->ntensors, NULL, NULL));
    for (int i = 0; i < ir->ntensors; i++)
        ir->tensors[i].offset = (long)b[i].offset;
    free(b);
    ir->scratch = p->scratch_bytes ? p->scratch_bytes(ir) : 0;
    const hwcost_target *t = p->target; /* 4. */
    for (int m = 0; t && m < t->nmem; m++) {
        const hwcost_memory *mem = &t->mem[m];
        int acts = (mem->holds & HWCOST_HOLD_NETWORK_ACTIVATIONS) != 0;
        int weights = (mem->holds & HWCOST_HOLD_NETWORK_WEIGHTS) != 0;
        if (mem->tiled || (!acts && !weights)) continue;
        double need = (acts ? (double)ir->arena + (double)ir->scratch : 0) +
                      (weights ? (double)ir->weight_bytes : 0);
        if (need > mem->bytes)
            return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                             "%s: memory '%s' of target %s holds %.0f bytes but the network "
                             "needs %.0f there (%s%s%s%s): a memory of %.0f bytes would fit",
                             ir->name, mem->name, t->name, mem->bytes, need,
                             acts ? "the activation arena" : "",
                             acts && ir->scratch ? " + the kernels' scratch" : "",
                             acts && weights ? " + " : "",
                             weights ? "the weights, biases and multipliers" : "", need);
    }
    return DNAS_OK;
}
