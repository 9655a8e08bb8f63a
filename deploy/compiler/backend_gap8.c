/* The `gap8` backend: the network on a GAP8 (configs/targets/gap8.yaml):
 * conv, depthwise and linear layers on the 8-core cluster in L1 tiles,
 * the rest (adds, pools, a flatten kept as the output) on the fabric
 * controller straight on L2, as the c backend writes them.
 *
 * Files written into the output directory:
 *   network.h, weights.c, test_main.c, dnas_rt/   as the c backend's
 *                 (deploy_c_sources); the activations are the one arena,
 *                 in L2, the weights, biases and multipliers stay where the
 *                 target keeps them (L3) and move to L1 per tile;
 *   network.c     the c backend's host layers, and per cluster layer a
 *                 dnas_gap8_layer descriptor (the layer's dims, the tile
 *                 sizes the tile pass chose, the L1 offsets of its input,
 *                 weight and output buffers, two of a kind when double
 *                 buffered) run by dnas_gap8_conv: DMA of each tile's input
 *                 window and weights into L1, a fork over the 8 cores, DMA
 *                 of the output tile back to L2. A layer the split pass cut
 *                 by input clamp (an ODiMO layer with channels on an engine
 *                 that reads fewer input bits) is one descriptor per part:
 *                 its channel list c<k> and the input bits (in_bits) the
 *                 executor clamps the input tile to in L1, so each part
 *                 computes the integer evaluator's values; network_run() names the
 *                 L2 and L3 buffers to the DMA (dnas_pulp_region) and
 *                 allocates the L1 block (NETWORK_L1_BYTES, the most one
 *                 layer uses) once;
 *   pulp/         dnas_pulp.h (the PULP-style API the code is written
 *                 against), dnas_gap8.h/.c (the tile executor) and
 *                 dnas_pulp_host.c, the API's host model;
 *   Makefile      `make check` builds test_network for the host with the
 *                 host model, L1 = the modelled L1 bytes (the target's, or
 *                 `dnas deploy --l1`; `make -B check L1=N` rebuilds with
 *                 another), and compares its outputs with the evaluator's.
 * The target itself cannot run here: the host model executes the same
 * generated code and checks every transfer and the L1 bounds
 * (dnas_pulp_host.c). A port of dnas_pulp.h to the GAP SDK (PMSIS) would
 * build it for the chip; that port is not part of dnas. */
#include <string.h>

#include "compiler_internal.h"
#include "dnas_gap8.h"

/* 1 when op k runs on the cluster (the tile pass tiled it). */
static int on_cluster(const deploy_ir *ir, int k) {
    return ir->ops[k].tile.tiled;
}

/* The bits op o reads its input at in the evaluator: its channels'
 * engine's engine_in_bits when below the input's bits (the split pass put
 * channels of one such width in an op), else 0 (as it is). */
static int clamp_bits(const deploy_ir *ir, const deploy_ir_op *o) {
    if (!o->q->engine) return 0;
    int b = ir->q->engine_in_bits[o->q->engine[o->channels ? o->channels[0] : 0]];
    return b && b < ir->tensors[o->in[0]].bits ? b : 0;
}

/* The tiles op k runs in: the tile pass's, over the op's channels (a split
 * op computes nchannels of its output tensor's; tiles the tile pass sized
 * for more channels are cut to them, and every buffer only shrinks), with
 * their buffer sizes and DMA bytes; in *whole, the op as one tile (the DMA
 * lower bound). */
static dnas_status executor_tiles(const deploy_ir *ir, int k, deploy_tile *t, deploy_tile *whole,
                                  dnas_error *err) {
    const deploy_ir_op *o = &ir->ops[k];
    deploy_ir v = *ir;
    v.tensors = dnas_xmalloc((size_t)ir->ntensors * sizeof *v.tensors);
    memcpy(v.tensors, ir->tensors, (size_t)ir->ntensors * sizeof *v.tensors);
    int32_t m = deploy_ir_op_cout(ir, k);
    v.tensors[o->out].c = m;
    deploy_tile_limits lim; /* the tile pass's memory; weights there, no granularity */
    memset(&lim, 0, sizeof lim);
    lim.l1 = ir->l1_size, lim.cout_gran = lim.ow_gran = 1, lim.weights_in_l1 = 1, lim.align = 4;
    dnas_rt_conv_dims d;
    deploy_tile_conv_dims(&v, k, &d);
    dnas_status st = deploy_tile_layout(&v, k, o->tile.th, o->tile.tw,
                                        o->tile.tc < m ? o->tile.tc : m, &lim, t, err);
    if (!st) st = deploy_tile_layout(&v, k, d.hout, d.wout, m, &lim, whole, err);
    free(v.tensors);
    return st;
}

static dnas_status gap8_layer_of(const deploy_ir *ir, int k, dnas_gap8_layer *L, dnas_error *err) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_tile *t = &o->tile;
    memset(L, 0, sizeof *L);
    deploy_tile_conv_dims(ir, k, &L->d);
    L->ctotal = ir->tensors[o->out].c;
    L->d.cout = deploy_ir_op_cout(ir, k);
    L->chan = o->channels;
    L->in_bits = clamp_bits(ir, o);
    L->th = t->th, L->tw = t->tw, L->tc = t->tc < L->d.cout ? t->tc : L->d.cout;
    L->wbits = o->q->wbits, L->shift = o->q->shift, L->lo = o->q->lo, L->hi = o->q->hi;
    size_t off[6];
    deploy_tile_offsets(t, 4, off);
    if (off[5] + t->out_bytes > ir->l1_bytes || ir->l1_bytes > UINT32_MAX)
        return dnas_fail(err, DNAS_ERR_INVALID,
                         "%s: layer %d: its L1 buffers end past the %zu "
                         "bytes the tile pass reserved",
                         ir->name, k, ir->l1_bytes);
    for (int b = 0; b < 2; b++) {
        L->l1_in[b] = (uint32_t)off[b];
        L->l1_w[b] = (uint32_t)off[2 + b];
        L->l1_out[b] = (uint32_t)off[4 + b];
    }
    L->ncores = DNAS_PULP_CORES;
    return DNAS_OK;
}

static void cluster_layer(FILE *f, const deploy_ir *ir, int k, const dnas_gap8_layer *L,
                          const deploy_tile *t) {
    const deploy_ir_op *o = &ir->ops[k];
    const dnas_rt_conv_dims *d = &L->d;
    char id[48], cid[16] = "NULL";
    deploy_ident(o->q->name, id, 33);
    deploy_c_layer_comment(f, ir, k);
    if (o->channels) {
        fprintf(f, "/* channels %d of %d, reading the input %s (c%d: the channels) */\n", d->cout,
                L->ctotal, L->in_bits ? "clamped" : "as it is", k);
        snprintf(cid, sizeof cid, "c%d", k);
        deploy_c_array_i32(f, cid, o->channels, (size_t)o->nchannels);
    }
    if (L->in_bits)
        fprintf(f, "/* the input clamped to %d bits in L1 (its channels' engine_input_bits) */\n",
                L->in_bits);
    fprintf(f,
            "/* cluster: %d tiles of %dx%dx%d outputs (%d x %d x %d along rows, columns,\n"
            " * channels); L1 %zu bytes (input %zu%s, weights %zu%s, output %zu%s bytes);\n"
            " * DMA %llu bytes per inference; cost model %.0f cycles %s. */\n",
            t->nh * t->nw * t->nc, t->th, t->tw, t->tc, t->nh, t->nw, t->nc, t->l1_bytes,
            t->in_bytes, t->in_double ? " x2" : "", t->w_bytes, t->w_double ? " x2" : "",
            t->out_bytes, t->out_double ? " x2" : "", (unsigned long long)t->dma_bytes,
            o->channels ? o->cycles : o->tile.tile_cycles,
            o->channels ? "for its channels" : "over the tiles");
    fprintf(f, "NETWORK_LAYER_ATTR static int layer_%d_%s(void) {\n", k, id);
    fprintf(
        f,
        "    static const dnas_gap8_layer L = {\n"
        "        {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d},\n"
        "        %d, %d, %d, /* tile rows, columns, channels */\n"
        "        %d, %d, %d, %d, /* weight bits, shift, clamp */\n"
        "        {%lu, %lu}, {%lu, %lu}, {%lu, %lu}, /* L1 offsets: input, weights, output */\n"
        "        %d, %d, %s, %d}; /* cores; output channels, channel list, input bits */\n",
        d->hin, d->win, d->cin, d->hout, d->wout, d->cout, d->kh, d->kw, d->sh, d->sw, d->dh, d->dw,
        d->pt, d->pb, d->pl, d->pr, d->groups, d->in_signed, d->out_signed, L->th, L->tw, L->tc,
        L->wbits, L->shift, L->lo, L->hi, (unsigned long)L->l1_in[0], (unsigned long)L->l1_in[1],
        (unsigned long)L->l1_w[0], (unsigned long)L->l1_w[1], (unsigned long)L->l1_out[0],
        (unsigned long)L->l1_out[1], L->ncores, L->ctotal, cid, L->in_bits);
    char bias[16] = "NULL";
    int c0 = deploy_ir_layer_first(ir, k); /* the layer's constants, shared by its parts */
    if (o->q->bias) snprintf(bias, sizeof bias, "b%d", c0);
    fprintf(f,
            "    return (int)dnas_gap8_conv(&L, network_l1, network_arena + %ld, network_arena + "
            "%ld, w%d, %s, m%d);\n}\n",
            ir->tensors[o->out].offset, ir->tensors[o->in[0]].offset, c0, bias, c0);
}

/* The DMA bytes per inference of the cluster layers as the executor runs
 * them, and their lower bound (executor_tiles). */
static dnas_status network_dma(const deploy_ir *ir, uint64_t *dma, uint64_t *bound,
                               dnas_error *err) {
    *dma = *bound = 0;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *o = &ir->ops[k];
        if (!on_cluster(ir, k)) {
            if (o->channels || clamp_bits(ir, o))
                return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                                 "%s: layer %d '%s' computes a channel subset or reads its input "
                                 "clamped, which only a cluster layer does, and it is not on the "
                                 "cluster (no tiled memory serves its engine)",
                                 ir->name, k, o->q->name);
            continue;
        }
        deploy_tile t, whole;
        dnas_status st = executor_tiles(ir, k, &t, &whole, err);
        if (st) return st;
        *dma += t.dma_bytes, *bound += whole.dma_bytes;
    }
    return DNAS_OK;
}

static dnas_status write_network(FILE *f, const deploy_ir *ir, dnas_error *err) {
    uint64_t dma, bound;
    dnas_status st = network_dma(ir, &dma, &bound, err);
    if (st) return st;
    fprintf(f,
            "/* %d layers: conv, depthwise and linear on the cluster in L1 tiles\n"
            " * (dnas_gap8_conv), the rest on the fabric controller on L2. The\n"
            " * activations are one static arena of %zu bytes in L2 (the most live at one\n"
            " * step: %zu); @N in the comments is a tensor's arena offset. DMA moves %llu\n"
            " * bytes per inference between L2/L3 and L1 (lower bound, each input value\n"
            " * read, each output and constant moved once: %llu). */\n"
            "#include <stddef.h>\n#include <stdint.h>\n\n#include \"dnas_gap8.h\"\n"
            "#include \"dnas_pulp.h\"\n#include \"dnas_rt.h\"\n"
            "#include \"network.h\"\n#include \"weights.c\"\n\n"
            "#ifndef NETWORK_LAYER_ATTR\n#define NETWORK_LAYER_ATTR\n#endif\n\n"
            "/* L2: the activation arena, word-aligned */\n"
            "static uint32_t network_arena_words[(NETWORK_ARENA_BYTES + 3) / 4];\n"
            "static uint8_t *const network_arena = (uint8_t *)network_arena_words;\n\n"
            "/* L1: the block every cluster layer's buffers are in (the most one layer\n"
            " * uses of the %zu bytes the tiles were chosen for) */\n"
            "#define NETWORK_L1_BYTES %zu\n"
            "static uint8_t *network_l1;\n",
            ir->nops, ir->arena, ir->arena_bound, (unsigned long long)dma,
            (unsigned long long)bound, ir->l1_size, ir->l1_bytes ? ir->l1_bytes : 4);
    for (int k = 0; k < ir->nops; k++) {
        if (!on_cluster(ir, k)) {
            deploy_c_layer(f, ir, k);
            continue;
        }
        dnas_gap8_layer L;
        deploy_tile t, whole;
        if ((st = gap8_layer_of(ir, k, &L, err)) || (st = executor_tiles(ir, k, &t, &whole, err)))
            return st;
        cluster_layer(f, ir, k, &L, &t);
    }
    fprintf(f, "\n/* The buffers the DMA may touch: the arena (L2), the constants (L3). */\n"
               "static void network_regions(void) {\n"
               "    dnas_pulp_region(network_arena, NETWORK_ARENA_BYTES, DNAS_PULP_L2);\n");
    for (int k = 0; k < ir->nops; k++) {
        if (!on_cluster(ir, k) || deploy_ir_layer_first(ir, k) != k) continue;
        fprintf(f, "    dnas_pulp_region(w%d, sizeof w%d, DNAS_PULP_L3);\n", k, k);
        if (ir->ops[k].q->bias)
            fprintf(f, "    dnas_pulp_region(b%d, sizeof b%d, DNAS_PULP_L3);\n", k, k);
        fprintf(f, "    dnas_pulp_region(m%d, sizeof m%d, DNAS_PULP_L3);\n", k, k);
    }
    fprintf(f, "}\n");
    deploy_c_entry_points(f, ir);
    fprintf(f,
            "\n/* Returns %d when L1 cannot hold NETWORK_L1_BYTES. */\n"
            "int network_run(void) {\n"
            "    if (!network_l1) {\n"
            "        network_regions();\n"
            "        network_l1 = (uint8_t *)dnas_pulp_l1_malloc(NETWORK_L1_BYTES);\n"
            "        if (!network_l1) return %d;\n"
            "    }\n",
            ir->nops + 1, ir->nops + 1);
    deploy_c_layer_calls(f, ir);
    return DNAS_OK;
}

static void write_makefile(FILE *f, const deploy_ir *ir, const deploy_emit_info *info) {
    fprintf(f,
            "# Makefile of the network '%s', generated by dnas %s, backend gap8.\n"
            "# The GAP8 code runs here on the host model of the PULP-style API\n"
            "# (pulp/dnas_pulp_host.c): `make` builds test_network, `make check` runs it\n"
            "# on the test vectors. L1 is the modelled L1 in bytes (the tiles were chosen\n"
            "# for %zu); `make -B check L1=N` rebuilds with another.\n"
            "CC = cc\nCFLAGS = -std=c99 -Wall -Wextra -Werror -O2\nL1 = %zu\nRT =",
            ir->name, info && info->version ? info->version : "-", ir->l1_size,
            ir->l1_size ? ir->l1_size : (size_t)64000);
    deploy_c_rt_sources(f, 0);
    fprintf(f, "\nPULP = pulp/dnas_gap8.c pulp/dnas_pulp_host.c\n\n"
               "test_network: network.c network.h weights.c test_main.c $(RT) $(PULP) dnas_rt/*.h "
               "pulp/*.h\n"
               "\t$(CC) $(CFLAGS) -DDNAS_PULP_L1_BYTES=$(L1) -Idnas_rt -Ipulp -o $@ network.c "
               "test_main.c $(RT) $(PULP)\n\n"
               "check: test_network\n\t./test_network test_input.bin test_expected.bin\n\n"
               "clean:\n\trm -f test_network\n\n.PHONY: check clean\n");
}

static dnas_status copy_pulp(const char *dir, dnas_error *err) {
    char path[4200];
    dnas_status st = deploy_out_mkdir(dir, "pulp", path, sizeof path, err);
    for (int i = 0; !st && i < deploy_pulp_nfiles; i++) {
        deploy_out o;
        if ((st = deploy_out_open(&o, path, deploy_pulp_files[i].name, err))) break;
        fwrite(deploy_pulp_files[i].data, 1, deploy_pulp_files[i].len, o.f);
        st = deploy_out_close(&o, err);
    }
    return st;
}

dnas_status deploy_emit_gap8(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                             dnas_error *err) {
    dnas_status st = deploy_c_sources(ir, info, "gap8", dir, err);
    deploy_out o;
    if (!st && (st = deploy_out_open(&o, dir, "network.c", err)) == DNAS_OK) {
        deploy_c_head(o.f, "network.c", "the layers", ir, info, "gap8");
        dnas_status wst = write_network(o.f, ir, err);
        st = deploy_out_close(&o, err);
        if (wst) st = wst;
    }
    if (!st) st = copy_pulp(dir, err);
    if (!st && (st = deploy_out_open(&o, dir, "Makefile", err)) == DNAS_OK) {
        write_makefile(o.f, ir, info);
        st = deploy_out_close(&o, err);
    }
    return st;
}
