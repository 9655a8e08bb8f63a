/* The `diana` backend: DIANA (configs/targets/diana.yaml), a RISC-V host
 * core with a digital 16x16 int8 engine and an analog in-memory array of
 * ternary weights. Conv and linear layers become jobs of the engine the
 * engines and split passes chose (an ODiMO layer: one job per engine, each
 * writing its channels of the one output tensor); adds, pools and
 * anything the engines do not run are dnas_rt calls on the host core.
 *
 * Files: the `c` backend's network.h, test_main.c and dnas_rt/ (the API and
 * the test program are the same), then
 *   network.c  one static arena (L2); one function per layer opened by a
 *              comment naming the op, its engine, the channels it computes
 *              and the cost model's cycles; an engine layer is one
 *              dnas_diana_job (static const), its tiles (dnas_diana_tiles:
 *              the sizes the tile pass chose, the L1_act offsets of its
 *              input and output buffers, the L1_wdig offsets of its weight
 *              buffers, two of a kind when double-buffered) and a
 *              dnas_diana_run_tiles call, which moves each tile through L1
 *              by DMA (without a target description, no tiles: one
 *              dnas_diana_run on L2); a host layer one dnas_rt kernel call.
 *              network_run() allocates the L1 blocks (NETWORK_L1_BYTES of
 *              L1_act, the most one layer uses; NETWORK_L1W_BYTES of
 *              L1_wdig) once;
 *   weights.c  per job w<k> in its engine's layout (digital: int8 blocks of
 *              16 output channels; analog: the w+ and w- bit-planes, uint8,
 *              one pair per channel tile when the job has several),
 *              its bias b<k> and multipliers m<k> (the job's channels only)
 *              and, for a split layer, c<k>: the output channels it writes;
 *              host conv / linear layers keep dnas_rt's int8 layout;
 *   diana/     the host model (deploy/runtime/diana/: dnas_diana.h/.c),
 *              which the generated code links against on the host;
 *   Makefile   `make` builds test_network with -std=c99 -Wall -Wextra
 *              -Werror, `make check` compares with the evaluator's outputs;
 *              L1 = the modelled L1_act bytes (the tiles' L1: the target's
 *              or `dnas deploy --l1`; `make -B check L1=N` rebuilds with
 *              another).
 *
 * Steps of deploy_emit_diana:
 *   1. every engine op is checked: the bits its engine reads its input at
 *      (analog: DNAS_DIANA_ANALOG_IN_BITS when the input has more; digital:
 *      the input's) must be the bits the evaluator reads it at (the qnet's
 *      engine_in_bits of its channels' engine), so the evaluator computes
 *      what the engine does; an analog op has groups 1 and ternary
 *      weights; else DNAS_ERR_UNSUPPORTED naming the op;
 *   2. the c sources (network.h, test_main.c, dnas_rt/) are written, then
 *      network.c and weights.c replaced by the DIANA ones, diana/ and the
 *      Makefile added. */
#include <string.h>

#include "compiler_internal.h"
#include "dnas_diana.h"

typedef enum { ON_HOST, ON_DIGITAL, ON_ANALOG } placement;

static int has_weights(const deploy_ir_op *o) {
    return o->kind == DEPLOY_QOP_CONV || o->kind == DEPLOY_QOP_LINEAR;
}

static placement place(const deploy_ir *ir, const deploy_ir_op *o) {
    if (!has_weights(o)) return ON_HOST;
    if (!strcmp(ir->engines[o->engine], "digital")) return ON_DIGITAL;
    if (!strcmp(ir->engines[o->engine], "analog")) return ON_ANALOG;
    return ON_HOST;
}

/* The op's conv dims for the job: cout = its channels; a linear is a 1x1
 * conv on a 1x1 input of H·W·C channels. */
static dnas_rt_conv_dims job_dims(const deploy_ir *ir, int k) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_qop *s = o->q;
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    int32_t cout = deploy_ir_op_cout(ir, k);
    if (o->kind == DEPLOY_QOP_LINEAR)
        return (dnas_rt_conv_dims){
            1, 1, I->h * I->w * I->c, 1,           1, cout, 1, 1, 1, 1, 1, 1, 0, 0, 0,
            0, 1, I->is_signed,       O->is_signed};
    return (dnas_rt_conv_dims){I->h,  I->w,  I->c,      O->h,         O->w,        cout,  s->kh,
                               s->kw, s->sh, s->sw,     s->dh,        s->dw,       s->pt, s->pb,
                               s->pl, s->pr, s->groups, I->is_signed, O->is_signed};
}

/* Channel i of op o (its list, or i). */
static int32_t chan(const deploy_ir_op *o, int32_t i) {
    return o->channels ? o->channels[i] : i;
}

/* The bits op o's input is clamped to in the evaluator: its channels'
 * engine's engine_in_bits when below the input's bits, else the input's. */
static int eval_in_bits(const deploy_ir *ir, const deploy_ir_op *o) {
    int bits = ir->tensors[o->in[0]].bits;
    if (!o->q->engine) return bits;
    int b = ir->q->engine_in_bits[o->q->engine[chan(o, 0)]];
    return b && b < bits ? b : bits;
}

/* Step 1. */
static dnas_status check_ops(const deploy_ir *ir, dnas_error *err) {
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        placement pl = place(ir, o);
        if (pl == ON_HOST) continue;
        const deploy_ir_tensor *I = &ir->tensors[o->in[0]];
        size_t per = o->q->wlen / (size_t)ir->tensors[o->out].c;
        int hw = pl == ON_ANALOG && I->bits > DNAS_DIANA_ANALOG_IN_BITS ? DNAS_DIANA_ANALOG_IN_BITS
                                                                        : I->bits;
        int ev = eval_in_bits(ir, o);
        if (hw != ev)
            return dnas_fail(
                err, DNAS_ERR_UNSUPPORTED,
                "%s: op '%s' on the %s engine reads %d-bit input '%s', which the engine takes "
                "at %d bits, but the network's evaluator reads it at %d bits (engine_input_bits): "
                "the results would differ (docs/deploy.md, \"DIANA\": the analog array clamps to "
                "%d bits; a run records it from the target's input_bits)",
                ir->name, o->q->name, ir->engines[o->engine], I->bits, I->name, hw, ev,
                DNAS_DIANA_ANALOG_IN_BITS);
        if (pl != ON_ANALOG) continue;
        if (o->q->groups != 1)
            return dnas_fail(
                err, DNAS_ERR_UNSUPPORTED,
                "%s: op '%s' on the analog engine has groups %d: the array runs groups 1 only",
                ir->name, o->q->name, o->q->groups);
        for (int32_t i = 0; i < deploy_ir_op_cout(ir, k); i++)
            for (size_t j = 0; j < per; j++) {
                int v = o->q->w[(size_t)chan(o, i) * per + j];
                if (v < -1 || v > 1)
                    return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                                     "%s: op '%s' channel %d on the analog engine has weight %d: "
                                     "the array holds ternary weights (-1, 0, 1) only",
                                     ir->name, o->q->name, chan(o, i), v);
            }
    }
    return DNAS_OK;
}

static void array_bytes(FILE *f, const char *type, const char *name, const void *v, size_t n,
                        int sgn) {
    fprintf(f, "static const %s %s[%zu] = {", type, name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%d,", i % 16 ? " " : "\n    ",
                sgn ? (int)((const int8_t *)v)[i] : (int)((const uint8_t *)v)[i]);
    fprintf(f, "\n};\n");
}

/* w<k>, b<k>, m<k> (and c<k>) of op k. */
static void write_op_consts(FILE *f, const deploy_ir *ir, int k) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_qop *s = o->q;
    placement pl = place(ir, o);
    int32_t n = deploy_ir_op_cout(ir, k), cout = ir->tensors[o->out].c;
    size_t per = s->wlen / (size_t)cout;
    char id[16], nm[DEPLOY_QNET_NAME_LEN + 8];
    deploy_comment_text(s->name, nm, sizeof nm);
    int8_t *w = dnas_xmalloc((size_t)n * per + 1); /* the op's channels' rows */
    int32_t *b = dnas_xmalloc((size_t)n * sizeof *b + 1),
            *m = dnas_xmalloc((size_t)n * sizeof *m + 1);
    for (int32_t i = 0; i < n; i++) {
        memcpy(w + (size_t)i * per, s->w + (size_t)chan(o, i) * per, per);
        m[i] = s->m[chan(o, i)];
        if (s->bias) b[i] = s->bias[chan(o, i)];
    }
    dnas_rt_conv_dims d = job_dims(ir, k);
    snprintf(id, sizeof id, "w%d", k);
    if (pl == ON_DIGITAL) {
        size_t len = dnas_diana_digital_bytes(&d);
        int8_t *blk = dnas_xmalloc(len);
        dnas_diana_pack_digital(blk, w, n, (int32_t)per);
        fprintf(f,
                "\n/* layer %d '%s', digital engine: %d channels, int8 weights in %d blocks of %d "
                "output channels [block][%zu taps][%d] */\n",
                k, nm, n, (n + DNAS_DIANA_BLOCK - 1) / DNAS_DIANA_BLOCK, DNAS_DIANA_BLOCK, per,
                DNAS_DIANA_BLOCK);
        array_bytes(f, "int8_t", id, blk, len, 1);
        free(blk);
    } else if (pl == ON_ANALOG) {
        /* one pack per channel tile (the whole job without tiles or with one) */
        int32_t tc = o->tile.tiled && o->tile.nc > 1 ? o->tile.tc : n;
        dnas_rt_conv_dims dt = d;
        dt.cout = tc;
        size_t len = 0, tile_len = dnas_diana_analog_bytes(&dt);
        uint8_t *planes = dnas_xmalloc(tile_len * (size_t)((n + tc - 1) / tc));
        for (int32_t c0 = 0; c0 < n; c0 += tc) {
            int32_t cn = n - c0 < tc ? n - c0 : tc;
            DNAS_ASSERT(dnas_diana_pack_analog(planes + len, w + (size_t)c0 * per, cn,
                                               (int32_t)per) == DNAS_RT_OK); /* step 1 */
            dt.cout = cn;
            len += dnas_diana_analog_bytes(&dt);
        }
        if (tc == n)
            fprintf(f,
                    "\n/* layer %d '%s', analog engine: %d channels, ternary weights as the w+ "
                    "and w- bit-planes [2][%zu rows][%d bytes] */\n",
                    k, nm, n, per, (n + 7) / 8);
        else
            fprintf(f,
                    "\n/* layer %d '%s', analog engine: %d channels in tiles of %d, per tile the "
                    "ternary weights as the w+ and w- bit-planes [2][%zu rows][%d bytes] */\n",
                    k, nm, n, tc, per, (tc + 7) / 8);
        array_bytes(f, "uint8_t", id, planes, len, 0);
        free(planes);
    } else {
        fprintf(f, "\n/* layer %d '%s', host core: weights [%d][%zu] int8 at %d bits */\n", k, nm,
                n, per, s->wbits);
        array_bytes(f, "int8_t", id, w, (size_t)n * per, 1);
    }
    if (s->bias) {
        snprintf(id, sizeof id, "b%d", k);
        deploy_c_array_i32(f, id, b, (size_t)n);
    }
    snprintf(id, sizeof id, "m%d", k);
    deploy_c_array_i32(f, id, m, (size_t)n);
    if (o->channels) {
        snprintf(id, sizeof id, "c%d", k);
        deploy_c_array_i32(f, id, o->channels, (size_t)n);
    }
    free(w), free(b), free(m);
}

static void write_weights(FILE *f, const deploy_ir *ir) {
    fprintf(f, "/* Included by network.c (one translation unit). Per engine layer the\n"
               " * weights w<k> in the engine's layout, bias b<k> and multipliers m<k> of\n"
               " * the channels it computes, and for a layer split between the engines\n"
               " * c<k>, the output channels it writes. */\n");
    for (int k = 0; k < ir->nops; k++)
        if (has_weights(&ir->ops[k])) write_op_consts(f, ir, k);
}

static const char *type_name(int is_signed) {
    return is_signed ? "int8" : "uint8";
}

static void layer_comment(FILE *f, const deploy_ir *ir, int k) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    char nm[DEPLOY_QNET_NAME_LEN + 8], attrs[256];
    deploy_comment_text(o->q->name, nm, sizeof nm);
    deploy_ir_op_attrs(o, attrs, sizeof attrs);
    const char *kind = o->depthwise ? "depthwise conv" : deploy_qop_kind_name(o->kind);
    fprintf(f, "\n/* layer %d: %s, source layer '%s' (qnet op %d); %s%s\n", k, kind, nm, o->qindex,
            attrs, o->act == DEPLOY_ACT_RELU ? " (ReLU fused)" : "");
    fprintf(f, " * in  [%d][%d][%d] %s, %d bits @%ld", I->h, I->w, I->c, type_name(I->is_signed),
            I->bits, I->offset);
    if (o->in[1] >= 0) {
        const deploy_ir_tensor *B = &ir->tensors[o->in[1]];
        fprintf(f, ", [%d][%d][%d] %s, %d bits @%ld", B->h, B->w, B->c, type_name(B->is_signed),
                B->bits, B->offset);
    }
    fprintf(f, "\n * out [%d][%d][%d] %s, %d bits @%ld; engine %s", O->h, O->w, O->c,
            type_name(O->is_signed), O->bits, O->offset, ir->engines[o->engine]);
    if (has_weights(o)) fprintf(f, ", channels %d of %d", deploy_ir_op_cout(ir, k), O->c);
    if (o->cycles > 0) fprintf(f, "; cost model %.0f cycles", o->cycles);
    fprintf(f, "; %llu MACs */\n", (unsigned long long)deploy_ir_op_macs(ir, k));
}

static size_t round4(size_t v) {
    return (v + 3) / 4 * 4;
}

/* The L1_act offsets of t's buffers (deploy_tile_offsets without weights:
 * in[0], in[1], -, -, out[0], out[1]) and its L1_wdig weight buffers. */
static void tile_offsets(const deploy_tile *t, size_t act[6], size_t wl[2]) {
    deploy_tile a = *t;
    a.w_bytes = 0, a.w_double = 0;
    deploy_tile_offsets(&a, 4, act);
    wl[0] = 0;
    wl[1] = t->w_double ? round4(t->w_bytes) : 0;
}

/* Bytes of L1_wdig op k's weight buffers take. */
static size_t wdig_bytes(const deploy_tile *t) {
    return round4(t->w_bytes) * (t->w_double ? 2 : 1);
}

static void call(FILE *f, const char *kernel, long out, long in, const char *rest) {
    fprintf(f, "    return (int)%s(network_arena + %ld, network_arena + %ld%s);\n", kernel, out, in,
            rest);
}

static void write_dims(FILE *f, const dnas_rt_conv_dims *d) {
    fprintf(f, "{%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d}",
            d->hin, d->win, d->cin, d->hout, d->wout, d->cout, d->kh, d->kw, d->sh, d->sw, d->dh,
            d->dw, d->pt, d->pb, d->pl, d->pr, d->groups, d->in_signed, d->out_signed);
}

/* An engine layer: a job of the digital or analog engine; a host layer
 * (adds, pools, what no engine runs): the c backend's dnas_rt call. */
static void write_layer(FILE *f, const deploy_ir *ir, int k) {
    const deploy_ir_op *o = &ir->ops[k];
    placement pl = place(ir, o);
    if (pl == ON_HOST) {
        deploy_c_layer(f, ir, k);
        return;
    }
    const deploy_qop *s = o->q;
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    char id[48], bias[16] = "NULL", cmap[16] = "NULL";
    deploy_ident(s->name, id, 33);
    if (s->bias) snprintf(bias, sizeof bias, "b%d", k);
    if (o->channels) snprintf(cmap, sizeof cmap, "c%d", k);
    layer_comment(f, ir, k);
    if (o->tile.tiled) {
        const deploy_tile *t = &o->tile;
        fprintf(f,
                "/* tiles: %d of %dx%dx%d outputs (%d x %d x %d along rows, columns, channels);\n"
                " * L1_act %zu bytes (input %zu%s, output %zu%s), L1_wdig %zu bytes; DMA %llu\n"
                " * bytes per inference; cost model %.0f cycles over the tiles. */\n",
                t->nh * t->nw * t->nc, t->th, t->tw, t->tc, t->nh, t->nw, t->nc, t->l1_bytes,
                t->in_bytes, t->in_double ? " x2" : "", t->out_bytes, t->out_double ? " x2" : "",
                wdig_bytes(t), (unsigned long long)t->dma_bytes, t->tile_cycles);
    }
    fprintf(f, "NETWORK_LAYER_ATTR static int layer_%d_%s(void) {\n", k, id);
    dnas_rt_conv_dims d = job_dims(ir, k);
    int32_t lo = 0, hi = 0;
    if (pl == ON_ANALOG) dnas_rt_saturate_range(I->is_signed, DNAS_DIANA_ANALOG_IN_BITS, &lo, &hi);
    fprintf(f, "    static const dnas_diana_job j = {\n        %s,\n        ",
            pl == ON_ANALOG ? "DNAS_DIANA_ANALOG" : "DNAS_DIANA_DIGITAL");
    write_dims(f, &d);
    fprintf(f, ",\n        %s, %d, %d, %d, w%d, %s, {m%d, %d, %d, %d}};\n", cmap, O->c, lo, hi, k,
            bias, k, s->shift, s->lo, s->hi);
    if (!o->tile.tiled) { /* no target description: the whole job */
        call(f, "dnas_diana_run", O->offset, I->offset, ", &j");
        fprintf(f, "}\n");
        return;
    }
    const deploy_tile *t = &o->tile;
    size_t act[6], wl[2];
    tile_offsets(t, act, wl);
    fprintf(f,
            "    static const dnas_diana_tiles t = {%d, %d, %d, {%zu, %zu}, {%zu, %zu}, {%zu, %zu}, "
            "%zu, %zu, %zu};\n",
            t->th, t->tw, t->tc, act[0], act[1], act[4], act[5], wl[0], wl[1], t->in_bytes,
            t->out_bytes, t->w_bytes);
    fprintf(f,
            "    return (int)dnas_diana_run_tiles(network_arena + %ld, network_arena + %ld, &j, &t, "
            "network_l1, %s);\n}\n",
            O->offset, I->offset, pl == ON_DIGITAL ? "network_l1w" : "NULL");
}

/* 1 when some op runs in L1 tiles; *wdig: the most L1_wdig bytes one uses. */
static int any_tiled(const deploy_ir *ir, size_t *wdig) {
    int any = 0;
    *wdig = 0;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_tile *t = &ir->ops[k].tile;
        if (!t->tiled) continue;
        any = 1;
        if (wdig_bytes(t) > *wdig) *wdig = wdig_bytes(t);
    }
    return any;
}

static void write_network(FILE *f, const deploy_ir *ir) {
    size_t wdig;
    int tiled = any_tiled(ir, &wdig);
    fprintf(f,
            "/* %d layers on one static arena of %zu bytes (lower bound %zu); @N in the\n"
            " * comments is a tensor's arena offset. Engine layers are jobs of the\n"
            " * digital or analog engine (dnas_diana.h), host layers dnas_rt calls. */\n"
            "#include <stddef.h>\n#include <stdint.h>\n\n#include \"dnas_rt.h\"\n"
            "#include \"dnas_diana.h\"\n#include \"network.h\"\n#include \"weights.c\"\n\n"
            "#ifndef NETWORK_LAYER_ATTR\n#define NETWORK_LAYER_ATTR\n#endif\n\n"
            "/* L2: the activation arena, word-aligned */\n"
            "static uint32_t network_arena_words[(NETWORK_ARENA_BYTES + 3) / 4];\n"
            "static uint8_t *const network_arena = (uint8_t *)network_arena_words;\n",
            ir->nops, ir->arena, ir->arena_bound);
    if (tiled)
        fprintf(f,
                "\n/* L1: the engine layers run in tiles through the blocks below (the most one\n"
                " * layer uses of the %zu bytes of L1_act the tiles were chosen for, and of\n"
                " * L1_wdig); DMA moves %llu bytes per inference between L2 and L1 (lower\n"
                " * bound, each input value read, each output and constant moved once: %llu). */\n"
                "#define NETWORK_L1_BYTES %zu\n#define NETWORK_L1W_BYTES %zu\n"
                "static uint8_t *network_l1, *network_l1w;\n",
                ir->l1_size, (unsigned long long)ir->dma_bytes, (unsigned long long)ir->dma_bound,
                ir->l1_bytes ? ir->l1_bytes : 4, wdig ? wdig : 4);
    for (int k = 0; k < ir->nops; k++)
        write_layer(f, ir, k);
    deploy_c_entry_points(f, ir);
    if (!tiled) {
        fprintf(f, "\nint network_run(void) {\n");
    } else {
        fprintf(f,
                "\n/* Returns %d when L1 cannot hold NETWORK_L1_BYTES and NETWORK_L1W_BYTES. */\n"
                "int network_run(void) {\n"
                "    if (!network_l1) {\n"
                "        network_l1 = (uint8_t *)dnas_diana_l1_alloc(DNAS_DIANA_L1_ACT, "
                "NETWORK_L1_BYTES);\n"
                "        network_l1w = (uint8_t *)dnas_diana_l1_alloc(DNAS_DIANA_L1_WDIG, "
                "NETWORK_L1W_BYTES);\n"
                "        if (!network_l1 || !network_l1w) {\n"
                "            network_l1 = NULL;\n"
                "            return %d;\n"
                "        }\n"
                "    }\n",
                ir->nops + 1, ir->nops + 1);
    }
    deploy_c_layer_calls(f, ir);
}

static void write_makefile(FILE *f, const deploy_ir *ir, const deploy_emit_info *info) {
    fprintf(f,
            "# Makefile of the network '%s', generated by dnas %s, backend diana.\n"
            "# `make` builds test_network against the DIANA host model (diana/);\n"
            "# `make check` runs it on the test vectors. L1 is the modelled activation\n"
            "# L1 (L1_act) in bytes (the tiles were chosen for %zu); `make -B check L1=N`\n"
            "# rebuilds with another.\n"
            "CC = cc\nCFLAGS = -std=c99 -Wall -Wextra -Werror -O2\nL1 = %zu\nRT =",
            ir->name, info && info->version ? info->version : "-", ir->l1_size,
            ir->l1_size ? ir->l1_size : (size_t)DNAS_DIANA_L1_ACT_BYTES);
    deploy_c_rt_sources(f, 0);
    for (int i = 0; i < deploy_rt_diana_nfiles; i++) {
        size_t n = strlen(deploy_rt_diana_files[i].name);
        if (n > 2 && !strcmp(deploy_rt_diana_files[i].name + n - 2, ".c"))
            fprintf(f, " diana/%s", deploy_rt_diana_files[i].name);
    }
    fprintf(f, "\n\ntest_network: network.c network.h weights.c test_main.c $(RT) dnas_rt/*.h "
               "diana/*.h\n"
               "\t$(CC) $(CFLAGS) -DDNAS_DIANA_L1_ACT_BYTES=$(L1) -Idnas_rt -Idiana -o $@ network.c "
               "test_main.c $(RT)\n\n"
               "check: test_network\n\t./test_network test_input.bin test_expected.bin\n\n"
               "clean:\n\trm -f test_network\n\n.PHONY: check clean\n");
}

static dnas_status write_one(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                             const char *name, const char *what, int which, dnas_error *err) {
    deploy_out o;
    dnas_status st = deploy_out_open(&o, dir, name, err);
    if (st) return st;
    if (which == 2) {
        write_makefile(o.f, ir, info);
    } else {
        deploy_c_head(o.f, name, what, ir, info, "diana");
        if (which == 0)
            write_network(o.f, ir);
        else
            write_weights(o.f, ir);
    }
    return deploy_out_close(&o, err);
}

dnas_status deploy_emit_diana(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                              dnas_error *err) {
    dnas_status st = check_ops(ir, err);                         /* 1. */
    if (!st) st = deploy_c_sources(ir, info, "diana", dir, err); /* 2. */
    if (!st) st = write_one(ir, info, dir, "network.c", "the layers", 0, err);
    if (!st) st = write_one(ir, info, dir, "weights.c", "the constants", 1, err);
    if (!st) st = write_one(ir, info, dir, "Makefile", NULL, 2, err);
    char sub[4200];
    if (!st) st = deploy_out_mkdir(dir, "diana", sub, sizeof sub, err);
    for (int i = 0; !st && i < deploy_rt_diana_nfiles; i++) {
        deploy_out o;
        if ((st = deploy_out_open(&o, sub, deploy_rt_diana_files[i].name, err))) break;
        fwrite(deploy_rt_diana_files[i].data, 1, deploy_rt_diana_files[i].len, o.f);
        st = deploy_out_close(&o, err);
    }
    return st;
}
