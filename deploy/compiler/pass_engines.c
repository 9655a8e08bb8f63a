/* Pass "engines": which engine of the target runs each op, read from the
 * target description (configs/targets/NAME.yaml, the file the search's cost
 * model read), never from a target name.
 *
 * Steps:
 *   1. the IR's engine list is the target's engines in file order, then the
 *      host engine (p->host_engine) when the target has no engine of that
 *      name; without a target description it is the host engine alone;
 *   2. each op becomes a hwcost_layer as the cost model sees it (kind conv,
 *      depthwise, linear, add or pool; channels, kernel, output size,
 *      groups, bias, weight bits and input activation bits);
 *   3. it goes to the first engine, in file order, that runs that layer
 *      (hwcost_engine_supports: kind, groups, weight and activation bits),
 *      else to the host engine: adds and pools that no engine lists, a
 *      flatten, and anything the accelerators cannot run;
 *   4. the cost model's latency of the layer on that engine
 *      (hwcost_latency_cycles) is kept as the op's cycles, which the
 *      generated layer comments and the Cortex-M bench print beside the
 *      measured instructions (0 when the engine has no estimate).
 * For the `c` backend (no target description) every op is on "cpu". */
#include <string.h>

#include "compiler_internal.h"

hwcost_layer deploy_op_cost_layer(const deploy_ir *ir, const deploy_ir_op *o) {
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    const deploy_qop *s = o->q;
    hwcost_layer l = hwcost_layer_default();
    l.cin = I->c, l.cout = O->c, l.oh = O->h, l.ow = O->w;
    l.a = hwcost_prec_single(I->bits);
    switch (o->kind) {
    case DEPLOY_QOP_CONV:
        l.kind = o->depthwise ? HWCOST_DEPTHWISE : HWCOST_CONV;
        l.kh = s->kh, l.kw = s->kw, l.k = (double)s->kh * s->kw;
        l.groups = s->groups;
        break;
    case DEPLOY_QOP_LINEAR:
        l.kind = HWCOST_LINEAR;
        l.cin = (double)I->h * I->w * I->c;
        l.oh = l.ow = 1;
        break;
    case DEPLOY_QOP_ADD: l.kind = HWCOST_ADD; break;
    default: l.kind = HWCOST_POOL; break;
    }
    if (o->kind == DEPLOY_QOP_CONV || o->kind == DEPLOY_QOP_LINEAR) {
        l.w = hwcost_prec_single(s->wbits);
        l.bias = s->bias != NULL;
    }
    return l;
}

dnas_status deploy_pass_engines(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    (void)err;
    const hwcost_target *t = p->target;
    const char *host = p->host_engine ? p->host_engine : "cpu";
    ir->nengines = 0; /* 1. */
    for (int e = 0; t && e < t->nengines; e++)
        snprintf(ir->engines[ir->nengines++], HWCOST_NAME_LEN, "%s", t->engines[e].name);
    int hosti = t ? hwcost_target_engine(t, host) : -1;
    if (hosti < 0) {
        hosti = ir->nengines;
        snprintf(ir->engines[ir->nengines++], HWCOST_NAME_LEN, "%s", host);
    }
    for (int k = 0; k < ir->nops; k++) {
        deploy_ir_op *o = &ir->ops[k];
        o->engine = hosti;
        if (!t || o->kind == DEPLOY_QOP_FLATTEN) continue;
        hwcost_layer l = deploy_op_cost_layer(ir, o);     /* 2. */
        for (int e = 0; e < t->nengines; e++) /* 3. */
            if (hwcost_engine_supports(&t->engines[e], &l)) {
                o->engine = e;
                break;
            }
        hwcost_grad g; /* 4. */
        dnas_error ignored;
        o->cycles = 0;
        if (o->engine < t->nengines && hwcost_latency_cycles(t, o->engine, &l, &g, &ignored) == DNAS_OK)
            o->cycles = g.value;
    }
    return DNAS_OK;
}
