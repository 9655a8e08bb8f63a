/* The compiler's IR: built from a checked qnet (one tensor per qnet tensor,
 * one op per qnet op, in schedule order), compacted when a pass drops ops,
 * and dumped as text for --dump-after. */
#include <string.h>

#include "compiler_internal.h"

dnas_status deploy_ir_build(deploy_ir *ir, const deploy_qnet *q, const char *where,
                            dnas_error *err) {
    memset(ir, 0, sizeof *ir);
    dnas_status st = deploy_qnet_check(q, where, err);
    if (st) return st;
    snprintf(ir->name, sizeof ir->name, "%s", q->name);
    ir->q = q;
    ir->ntensors = q->ntensors;
    ir->nops = q->nops;
    ir->tensors = dnas_xcalloc((size_t)q->ntensors, sizeof *ir->tensors);
    ir->ops = dnas_xcalloc((size_t)(q->nops > 0 ? q->nops : 1), sizeof *ir->ops);
    for (int i = 0; i < q->ntensors; i++) {
        const deploy_qtensor *s = &q->tensors[i];
        deploy_ir_tensor *t = &ir->tensors[i];
        memcpy(t->name, s->name, sizeof t->name);
        t->h = s->h, t->w = s->w, t->c = s->c;
        t->is_signed = s->is_signed, t->bits = s->bits, t->scale = s->scale;
        t->producer = -1;
        t->first = t->last = -1;
        t->offset = -1;
    }
    for (int k = 0; k < q->nops; k++) {
        const deploy_qop *s = &q->ops[k];
        deploy_ir_op *o = &ir->ops[k];
        o->kind = s->kind;
        o->q = s;
        o->qindex = k;
        o->in[0] = s->in[0], o->in[1] = s->in[1], o->out = s->out;
        o->engine = -1;
        const deploy_qtensor *I = &q->tensors[s->in[0]], *O = &q->tensors[s->out];
        o->depthwise =
            s->kind == DEPLOY_QOP_CONV && s->groups > 1 && s->groups == I->c && I->c == O->c;
        ir->tensors[s->out].producer = k;
    }
    ir->input = 0;
    ir->output = q->output;
    snprintf(ir->last_pass, sizeof ir->last_pass, "build");
    return DNAS_OK;
}

void deploy_ir_free(deploy_ir *ir) {
    free(ir->chan);
    free(ir->tensors);
    free(ir->ops);
    memset(ir, 0, sizeof *ir);
}

void deploy_ir_compact(deploy_ir *ir) {
    int *map = dnas_xmalloc((size_t)ir->ntensors * sizeof *map);
    for (int i = 0; i < ir->ntensors; i++)
        map[i] = i == ir->input || i == ir->output ? 0 : -1;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        map[o->in[0]] = map[o->out] = 0;
        if (o->in[1] >= 0) map[o->in[1]] = 0;
    }
    int n = 0;
    for (int i = 0; i < ir->ntensors; i++)
        if (map[i] == 0) {
            ir->tensors[n] = ir->tensors[i];
            map[i] = n++;
        }
    ir->ntensors = n;
    ir->input = map[ir->input];
    ir->output = map[ir->output];
    for (int k = 0; k < ir->nops; k++) {
        deploy_ir_op *o = &ir->ops[k];
        o->in[0] = map[o->in[0]];
        o->out = map[o->out];
        if (o->in[1] >= 0) o->in[1] = map[o->in[1]];
    }
    for (int i = 0; i < ir->ntensors; i++)
        ir->tensors[i].producer = -1;
    for (int k = 0; k < ir->nops; k++)
        ir->tensors[ir->ops[k].out].producer = k;
    free(map);
}

static const char *layout_name(deploy_layout l) {
    return l == DEPLOY_LAYOUT_HWC ? "HWC" : "-";
}

/* The op's attributes as the dump and the generated comments print them. */
void deploy_ir_op_attrs(const deploy_ir_op *o, char *buf, size_t len) {
    const deploy_qop *s = o->q;
    switch (o->kind) {
    case DEPLOY_QOP_CONV:
        snprintf(buf, len,
                 "%dx%d stride %dx%d dilation %dx%d pad t%d b%d l%d r%d groups %d%s w%d%s shift %d "
                 "clamp %d..%d",
                 s->kh, s->kw, s->sh, s->sw, s->dh, s->dw, s->pt, s->pb, s->pl, s->pr, s->groups,
                 o->depthwise ? " (depthwise)" : "", s->wbits, s->bias ? " bias" : "", s->shift,
                 s->lo, s->hi);
        break;
    case DEPLOY_QOP_LINEAR:
        snprintf(buf, len, "w%d%s shift %d clamp %d..%d", s->wbits, s->bias ? " bias" : "",
                 s->shift, s->lo, s->hi);
        break;
    case DEPLOY_QOP_ADD:
        snprintf(buf, len, "ma %d mb %d shift %d clamp %d..%d", s->ma, s->mb, s->shift, s->lo,
                 s->hi);
        break;
    case DEPLOY_QOP_MAXPOOL:
        snprintf(buf, len, "%dx%d stride %dx%d pad t%d b%d l%d r%d", s->kh, s->kw, s->sh, s->sw,
                 s->pt, s->pb, s->pl, s->pr);
        break;
    case DEPLOY_QOP_AVGPOOL:
        snprintf(buf, len, "%dx%d stride %dx%d pad t%d b%d l%d r%d m %d shift %d clamp %d..%d",
                 s->kh, s->kw, s->sh, s->sw, s->pt, s->pb, s->pl, s->pr, s->ma, s->shift, s->lo,
                 s->hi);
        break;
    case DEPLOY_QOP_GAVGPOOL:
        snprintf(buf, len, "m %d shift %d clamp %d..%d", s->ma, s->shift, s->lo, s->hi);
        break;
    default: snprintf(buf, len, "-"); break;
    }
}

void deploy_ir_dump(const deploy_ir *ir, FILE *f) {
    fprintf(f, "ir %s after %s: %d ops, %d tensors", ir->name, ir->last_pass, ir->nops,
            ir->ntensors);
    if (ir->nengines) {
        fprintf(f, ", engines");
        for (int e = 0; e < ir->nengines; e++)
            fprintf(f, " %s", ir->engines[e]);
    }
    fprintf(f, "\ntensors:\n");
    for (int i = 0; i < ir->ntensors; i++) {
        const deploy_ir_tensor *t = &ir->tensors[i];
        char shape[64], live[32] = "-", off[32] = "-";
        snprintf(shape, sizeof shape, "[%d][%d][%d]", t->h, t->w, t->c);
        if (t->first >= 0) snprintf(live, sizeof live, "%d..%d", t->first, t->last);
        if (t->offset >= 0) snprintf(off, sizeof off, "@%ld", t->offset);
        fprintf(f, "  t%-3d %-16s %-16s %s%d scale %-11.6g %-3s %7zu B live %-7s %s%s%s\n", i,
                t->name, shape, t->is_signed ? "s" : "u", t->bits, (double)t->scale,
                layout_name(t->layout), t->bytes, live, off, i == ir->input ? " input" : "",
                i == ir->output ? " output" : "");
    }
    fprintf(f, "ops:\n");
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        char ins[32], attrs[256];
        if (o->in[1] >= 0)
            snprintf(ins, sizeof ins, "t%d, t%d", o->in[0], o->in[1]);
        else
            snprintf(ins, sizeof ins, "t%d", o->in[0]);
        deploy_ir_op_attrs(o, attrs, sizeof attrs);
        fprintf(f, "  %-3d %-14s %-16s %s -> t%d  %s%s", k, deploy_qop_kind_name(o->kind),
                o->q->name, ins, o->out, attrs, o->act == DEPLOY_ACT_RELU ? " relu" : "");
        if (o->engine >= 0) fprintf(f, "  engine %s", ir->engines[o->engine]);
        if (o->channels) fprintf(f, "  channels %d of %d", o->nchannels, ir->tensors[o->out].c);
        if (o->wbytes) fprintf(f, "  const %zu B", o->wbytes);
        if (deploy_ir_op_macs(ir, k))
            fprintf(f, "  macs %llu", (unsigned long long)deploy_ir_op_macs(ir, k));
        if (o->tile.tiled)
            fprintf(f, "  tiles %dx%dx%d (%d) L1 %zu B dma %llu B", o->tile.th, o->tile.tw,
                    o->tile.tc, o->tile.nh * o->tile.nw * o->tile.nc, o->tile.l1_bytes,
                    (unsigned long long)o->tile.dma_bytes);
        fprintf(f, "\n");
    }
    if (ir->weight_bytes) fprintf(f, "constants: %zu B\n", ir->weight_bytes);
    if (ir->l1_size)
        fprintf(f, "tiles: L1 %zu B of %zu B, dma %llu B per inference (lower bound %llu B)\n",
                ir->l1_bytes, ir->l1_size, (unsigned long long)ir->dma_bytes,
                (unsigned long long)ir->dma_bound);
    if (ir->arena)
        fprintf(f, "arena: %zu B, lower bound %zu B (%.3fx)", ir->arena, ir->arena_bound,
                ir->arena_bound ? (double)ir->arena / (double)ir->arena_bound : 1.0);
    if (ir->arena && ir->scratch) fprintf(f, "; kernel scratch %zu B beside it", ir->scratch);
    if (ir->arena) fprintf(f, "\n");
}

uint64_t deploy_ir_op_macs(const deploy_ir *ir, int k) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    if (o->kind == DEPLOY_QOP_CONV)
        return (uint64_t)O->h * (uint64_t)O->w * (uint64_t)deploy_ir_op_cout(ir, k) *
               (uint64_t)o->q->kh * (uint64_t)o->q->kw * (uint64_t)(I->c / o->q->groups);
    if (o->kind == DEPLOY_QOP_LINEAR)
        return (uint64_t)I->h * (uint64_t)I->w * (uint64_t)I->c *
               (uint64_t)deploy_ir_op_cout(ir, k);
    return 0;
}

int32_t deploy_ir_op_cout(const deploy_ir *ir, int k) {
    const deploy_ir_op *o = &ir->ops[k];
    return o->channels ? o->nchannels : ir->tensors[o->out].c;
}

int deploy_ir_layer_first(const deploy_ir *ir, int k) {
    while (k > 0 && ir->ops[k - 1].qindex == ir->ops[k].qindex)
        k--;
    return k;
}

uint64_t deploy_ir_macs(const deploy_ir *ir) {
    uint64_t macs = 0;
    for (int k = 0; k < ir->nops; k++)
        macs += deploy_ir_op_macs(ir, k);
    return macs;
}
