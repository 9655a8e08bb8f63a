/* Pass "layout": how each tensor and each weight array is stored.
 *
 * Steps:
 *   1. every activation tensor is HWC, [H][W][C] with the channel fastest,
 *      one value per byte (int8 or uint8; a 4-bit tensor is bytes with a
 *      narrower range): bytes = H·W·C. The qnet is HWC already (the export
 *      converts from NCHW), so nothing moves;
 *   2. every conv / linear keeps its weights [Cout][kh][kw][Cin/groups]
 *      (linear [Cout][Cin]) in the narrowest packing its weight bits allow
 *      among those the backend reads (p->wpack, the narrowest it reads:
 *      INT8 one weight a byte; INT4 also two a byte for wbits <= 4; INT2
 *      also four a byte for wbits <= 2; dnas_rt.h), plus int32 bias and
 *      multipliers: wbytes = packed weights + 4·Cout (bias) + 4·Cout
 *      (multipliers);
 *   3. the network's constant bytes are the sum (ir->weight_bytes). */
#include "compiler.h"

dnas_status deploy_pass_layout(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err) {
    if (p->wpack != DNAS_RT_PACK_INT8 && p->wpack != DNAS_RT_PACK_INT4 &&
        p->wpack != DNAS_RT_PACK_INT2)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: weight packing %d is not one the dnas_rt kernels run (int8, int4, "
                         "int2)",
                         ir->name, (int)p->wpack);
    for (int i = 0; i < ir->ntensors; i++) { /* 1. */
        deploy_ir_tensor *t = &ir->tensors[i];
        t->layout = DEPLOY_LAYOUT_HWC;
        t->bytes = (size_t)t->h * (size_t)t->w * (size_t)t->c;
    }
    ir->weight_bytes = 0;
    for (int k = 0; k < ir->nops; k++) { /* 2. */
        deploy_ir_op *o = &ir->ops[k];
        o->wpack = DNAS_RT_PACK_INT8;
        o->wbytes = 0;
        if (o->kind != DEPLOY_QOP_CONV && o->kind != DEPLOY_QOP_LINEAR) continue;
        if (o->q->wbits <= 2 && p->wpack == DNAS_RT_PACK_INT2)
            o->wpack = DNAS_RT_PACK_INT2;
        else if (o->q->wbits <= 4 && p->wpack != DNAS_RT_PACK_INT8)
            o->wpack = DNAS_RT_PACK_INT4;
        size_t cout = (size_t)deploy_ir_op_cout(ir, k); /* a split op: its channels' share */
        size_t wlen = o->q->wlen / (size_t)ir->tensors[o->out].c * cout;
        o->wbytes = dnas_rt_packed_bytes(o->wpack, wlen) + (o->q->bias ? 4 * cout : 0) + 4 * cout;
        ir->weight_bytes += o->wbytes; /* 3. */
    }
    return DNAS_OK;
}
