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
 *                 of the output tile back to L2. network_run() names the
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

static dnas_status gap8_layer_of(const deploy_ir *ir, int k, dnas_gap8_layer *L, dnas_error *err) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_tile *t = &o->tile;
    memset(L, 0, sizeof *L);
    deploy_tile_conv_dims(ir, k, &L->d);
    L->th = t->th, L->tw = t->tw, L->tc = t->tc;
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

static void cluster_layer(FILE *f, const deploy_ir *ir, int k, const dnas_gap8_layer *L) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_tile *t = &o->tile;
    const dnas_rt_conv_dims *d = &L->d;
    char id[48];
    deploy_ident(o->q->name, id, 33);
    deploy_c_layer_comment(f, ir, k);
    fprintf(f,
            "/* cluster: %d tiles of %dx%dx%d outputs (%d x %d x %d along rows, columns,\n"
            " * channels); L1 %zu bytes (input %zu%s, weights %zu%s, output %zu%s bytes);\n"
            " * DMA %llu bytes per inference; cost model %.0f cycles over the tiles. */\n",
            t->nh * t->nw * t->nc, t->th, t->tw, t->tc, t->nh, t->nw, t->nc, t->l1_bytes,
            t->in_bytes, t->in_double ? " x2" : "", t->w_bytes, t->w_double ? " x2" : "",
            t->out_bytes, t->out_double ? " x2" : "", (unsigned long long)t->dma_bytes,
            t->tile_cycles);
    fprintf(f, "NETWORK_LAYER_ATTR static int layer_%d_%s(void) {\n", k, id);
    fprintf(
        f,
        "    static const dnas_gap8_layer L = {\n"
        "        {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d},\n"
        "        %d, %d, %d, /* tile rows, columns, channels */\n"
        "        %d, %d, %d, %d, /* weight bits, shift, clamp */\n"
        "        {%lu, %lu}, {%lu, %lu}, {%lu, %lu}, /* L1 offsets: input, weights, output */\n"
        "        %d};\n",
        d->hin, d->win, d->cin, d->hout, d->wout, d->cout, d->kh, d->kw, d->sh, d->sw, d->dh, d->dw,
        d->pt, d->pb, d->pl, d->pr, d->groups, d->in_signed, d->out_signed, L->th, L->tw, L->tc,
        L->wbits, L->shift, L->lo, L->hi, (unsigned long)L->l1_in[0], (unsigned long)L->l1_in[1],
        (unsigned long)L->l1_w[0], (unsigned long)L->l1_w[1], (unsigned long)L->l1_out[0],
        (unsigned long)L->l1_out[1], L->ncores);
    char bias[16] = "NULL";
    if (o->q->bias) snprintf(bias, sizeof bias, "b%d", k);
    fprintf(f,
            "    return (int)dnas_gap8_conv(&L, network_l1, network_arena + %ld, network_arena + "
            "%ld, w%d, %s, m%d);\n}\n",
            ir->tensors[o->out].offset, ir->tensors[o->in[0]].offset, k, bias, k);
}

static dnas_status write_network(FILE *f, const deploy_ir *ir, dnas_error *err) {
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
            ir->nops, ir->arena, ir->arena_bound, (unsigned long long)ir->dma_bytes,
            (unsigned long long)ir->dma_bound, ir->l1_size, ir->l1_bytes ? ir->l1_bytes : 4);
    for (int k = 0; k < ir->nops; k++) {
        if (!on_cluster(ir, k)) {
            deploy_c_layer(f, ir, k);
            continue;
        }
        dnas_gap8_layer L;
        dnas_status st = gap8_layer_of(ir, k, &L, err);
        if (st) return st;
        cluster_layer(f, ir, k, &L);
    }
    fprintf(f, "\n/* The buffers the DMA may touch: the arena (L2), the constants (L3). */\n"
               "static void network_regions(void) {\n"
               "    dnas_pulp_region(network_arena, NETWORK_ARENA_BYTES, DNAS_PULP_L2);\n");
    for (int k = 0; k < ir->nops; k++) {
        if (!on_cluster(ir, k)) continue;
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
