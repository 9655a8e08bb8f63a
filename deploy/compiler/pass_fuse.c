/* Pass "fuse": what runs as one kernel call, and what runs as none.
 *
 * Steps:
 *   1. conv + requant + ReLU: a qnet has no standalone ReLU or requant op;
 *      the export already folded BN and fused the ReLU into the clamp of
 *      the op before it (lo = 0). This step records it: every op that
 *      requantizes (conv, linear, add, avgpool, global avgpool) with
 *      lo = 0 gets act = DEPLOY_ACT_RELU, which the dump and the generated
 *      comments show. Nothing is left to fuse, so no op is removed here;
 *   2. flatten: the kernels read a tensor's H·W·C bytes whatever its shape
 *      (linear takes Cin = H·W·C in HWC order), so a flatten is a view.
 *      Each flatten whose output is not the network output is removed and
 *      its readers read its input instead (one buffer fewer to plan and no
 *      copy). A flatten that produces the network output stays (a copy);
 *   3. tensors no op touches any more are dropped (deploy_ir_compact).
 * The outputs are unchanged: every removed op was the identity on bytes. */
#include "compiler.h"

dnas_status deploy_pass_fuse(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    (void)p, (void)err;
    for (int k = 0; k < ir->nops; k++) { /* 1. */
        deploy_ir_op *o = &ir->ops[k];
        int requant = o->kind != DEPLOY_QOP_MAXPOOL && o->kind != DEPLOY_QOP_FLATTEN;
        o->act = requant && o->q->lo == 0 ? DEPLOY_ACT_RELU : DEPLOY_ACT_NONE;
    }
    int n = 0; /* 2. */
    for (int k = 0; k < ir->nops; k++) {
        deploy_ir_op o = ir->ops[k];
        if (o.kind == DEPLOY_QOP_FLATTEN && o.out != ir->output) {
            for (int j = k + 1; j < ir->nops; j++)
                for (int s = 0; s < 2; s++)
                    if (ir->ops[j].in[s] == o.out) ir->ops[j].in[s] = o.in[0];
            continue;
        }
        ir->ops[n++] = o;
    }
    ir->nops = n;
    deploy_ir_compact(ir); /* 3. */
    return DNAS_OK;
}
