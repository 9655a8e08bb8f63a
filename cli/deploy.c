/* dnas deploy QUANT.h5 --target c --out DIR: the integer network of a file
 * compiled to C (deploy/compiler.h). This file parses the command line,
 * runs the deployment (deploy/job.h: the qnet read and compiled, the
 * backend's files and the test vectors written) and prints what it made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "deploy.h"

/* clang-format off */
static const char *HELP =
    "usage: dnas deploy QUANT.h5 --target c --out DIR [--run ID | --group GROUP]\n"
    "                   [--target-desc T] [--l1 BYTES] [--dump-after PASS]\n"
    "                   [--vectors N] [--images FILE [--labels FILE] [--from K]]\n"
    "                   [--quiet]\n"
    "\n"
    "Compiles the integer network of a file (dnas quantize: /qnet; a run file\n"
    "of dnas search or a campaign: /runs/ID/qnet) to source code for a target\n"
    "(docs/deploy.md, \"The compiler\"). The passes, in order: fuse (ReLU into\n"
    "the requantization, flatten as a view), engines (each op on an engine of\n"
    "the target description), split (diana: a layer whose channels the network\n"
    "records on several engines becomes one op per engine; gap8: one op per\n"
    "input clamp of its channels' engines), layout (HWC bytes,\n"
    "int8 weights), tile (output tiles of the layers that run through a tiled\n"
    "memory such as GAP8's L1), plan (tensor lifetimes and offsets in one static\n"
    "arena). The generated code computes exactly the integer evaluator's outputs\n"
    "(the dnas_rt kernels).\n"
    "\n"
    "Backends (--target):\n"
    "%s"
    "\n"
    "Files in DIR (made when missing) for c: network.h, network.c, weights.c,\n"
    "test_main.c, Makefile, dnas_rt/ (the kernels), and test vectors:\n"
    "test_input.bin (random inputs, or real samples with --images, then also\n"
    "test_input_f32.bin, the same samples as floats) and test_expected.bin\n"
    "(the evaluator's outputs); `make -C DIR check` builds with -std=c99 -Wall\n"
    "-Wextra -Werror and compares. cortex-m adds startup.c and link.ld; its\n"
    "`make check` runs the test under qemu-system-arm (mps2-an386), `make size`\n"
    "prints flash and RAM, `make systick` SysTick ticks under -icount shift=0.\n"
    "diana adds diana/ (the host model of DIANA's digital and analog engines,\n"
    "its L1 and DMA, the code links against) and prints each layer's engines, channels and\n"
    "cost-model cycles. gap8 adds pulp/ (the PULP-style API, the tile executor\n"
    "and the API's host model); its `make check` runs the GAP8 code on that\n"
    "host model.\n"
    "\n"
    "options:\n"
    "  --target T        the backend (required)\n"
    "  --out DIR         the output directory (required)\n"
    "  --run ID          the run's network, /runs/ID/qnet (default: /qnet, or\n"
    "                    the only run of a run file)\n"
    "  --group GROUP     the HDF5 group of the network, e.g. /runs/0/qnet\n"
    "  --target-desc T   the target description the engines pass and the memory\n"
    "                    check read: a name (configs/targets/T.yaml) or a YAML\n"
    "                    path (default: the backend's; none for c: one engine,\n"
    "                    no memory limit)\n"
    "  --l1 BYTES        the tiled memory's size (GAP8's L1, DIANA's L1_act) the\n"
    "                    tiles must fit, instead of the target description's (a\n"
    "                    warning when no layer runs through one)\n"
    "  --dump-after PASS print the IR after PASS: build (as read), fuse, engines,\n"
    "                    split, layout, tile or plan\n"
    "  --vectors N       test samples, 1..100000 (default 8)\n"
    "  --images FILE     the test samples are samples K.. of this data file (IDX\n"
    "                    images, e.g. Fashion-MNIST's, .gz or not; or .npy),\n"
    "                    preprocessed as the network records it (layout,\n"
    "                    normalization, quantization: what its integer\n"
    "                    evaluator saw); default: random inputs\n"
    "  --labels FILE     their labels (IDX or .npy): prints the evaluator's\n"
    "                    accuracy on the test samples (accuracy=A on the\n"
    "                    result line)\n"
    "  --from K          the first sample of --images (default 0)\n"
    "  --quiet           only the result line\n"
    "  --help            this text\n"
    "\n"
    "The final line is machine-readable (bytes):\n"
    "  result arena=A lower_bound=L weight_bytes=W const_bytes=C macs=M layers=N\n"
    "         [scratch=S] [model_cycles=Y] [accuracy=P]\n"
    "with W the weight bytes (4- and 2-bit layers packed), C all constants\n"
    "(weights, int32 biases and multipliers), M the multiply-accumulates of one\n"
    "inference, S the kernels'\n"
    "scratch beside the arena (when they use one: cortex-m; the memory check\n"
    "counts it), Y the cost model's cycles of one inference on the target\n"
    "description (when it has an estimate; the engines of a split layer at\n"
    "once) and P the evaluator's accuracy on the\n"
    "test samples (--labels).\n"
    "When layers are tiled (gap8, diana) a line per tiled layer and a second result\n"
    "line follow:\n"
    "  tile LAYER NAME tiles=THxTWxTC n=N l1=B dma=D cycles=C tiled_cycles=T\n"
    "  result_tiles l1=B l1_size=S dma=D dma_bound=L cycles=C tiled_cycles=T\n"
    "with D the bytes DMA moves per inference, L its lower bound (each tiled\n"
    "layer's input values it reads, its output and constants moved once), C the\n"
    "cost model's cycles of the tiled layers whole and T summed over their\n"
    "tiles.\n"
    "\n"
    CLI_HELP_EXIT ".\n";
/* clang-format on */

typedef struct {
    const char *in, *target, *out, *run, *group, *dump_after, *desc, *images, *labels;
    long vectors, l1, from;
    int quiet;
} opts;

static void print_help(FILE *f) {
    char list[1024] = "";
    for (int i = 0; deploy_backends[i].name; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "  %-17s %s\n",
                 deploy_backends[i].name, deploy_backends[i].help);
    fprintf(f, HELP, list);
}

static int parse(int argc, char **argv, opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!strcmp(a, "--quiet"))
            o->quiet = 1;
        else if (!strcmp(a, "--target"))
            rc = cli_opt_str(argc, argv, &i, "T", &o->target);
        else if (!strcmp(a, "--out"))
            rc = cli_opt_path(argc, argv, &i, "DIR", 4000, &o->out);
        else if (!strcmp(a, "--run"))
            rc = cli_opt_path(argc, argv, &i, "ID", 200, &o->run);
        else if (!strcmp(a, "--group"))
            rc = cli_opt_path(argc, argv, &i, "GROUP", 1000, &o->group);
        else if (!strcmp(a, "--target-desc"))
            rc = cli_opt_str(argc, argv, &i, "T", &o->desc);
        else if (!strcmp(a, "--dump-after"))
            rc = cli_opt_str(argc, argv, &i, "PASS", &o->dump_after);
        else if (!strcmp(a, "--l1"))
            rc = cli_opt_long(argc, argv, &i, "BYTES", 1, 1L << 30, &o->l1);
        else if (!strcmp(a, "--vectors"))
            rc = cli_opt_long(argc, argv, &i, "N", 1, 100000, &o->vectors);
        else if (!strcmp(a, "--images"))
            rc = cli_opt_path(argc, argv, &i, "FILE", 4000, &o->images);
        else if (!strcmp(a, "--labels"))
            rc = cli_opt_path(argc, argv, &i, "FILE", 4000, &o->labels);
        else if (!strcmp(a, "--from"))
            rc = cli_opt_long(argc, argv, &i, "K", 0, 100000000, &o->from);
        else
            rc = cli_positional(argv, i, "QUANT.h5", &o->in);
        if (rc) return rc;
    }
    if (!o->in) return cli_missing(argv, "QUANT.h5", HELP);
    if (!o->target) return cli_missing(argv, "--target T", HELP);
    if (!o->out) return cli_missing(argv, "--out DIR", HELP);
    if ((o->labels || o->from) && !o->images) {
        fprintf(stderr, "dnas deploy: %s needs --images FILE\n", o->labels ? "--labels" : "--from");
        return CLI_EXIT_USAGE;
    }
    if (o->run && o->group) {
        fprintf(stderr, "dnas deploy: --run and --group both name the network: give one\n");
        return CLI_EXIT_USAGE;
    }
    if (!deploy_backend_find(o->target)) {
        fprintf(stderr, "dnas deploy: --target: unknown backend '%s' (the backends:", o->target);
        for (int i = 0; deploy_backends[i].name; i++)
            fprintf(stderr, " %s", deploy_backends[i].name);
        fprintf(stderr, ")\n");
        return CLI_EXIT_USAGE;
    }
    if (o->dump_after && !deploy_pass_known(o->dump_after)) {
        fprintf(stderr, "dnas deploy: --dump-after: no pass '%s' (the passes: build",
                o->dump_after);
        for (int i = 0; deploy_passes[i].name; i++)
            fprintf(stderr, ", %s", deploy_passes[i].name);
        fprintf(stderr, ")\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* "dnas deploy ..." as typed (arguments with spaces quoted). */
static void command_line(int argc, char **argv, char *buf, size_t len) {
    snprintf(buf, len, "dnas");
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(buf);
        const char *q = strchr(argv[i], ' ') ? "'" : "";
        snprintf(buf + n, len - n, " %s%s%s", q, argv[i], q);
    }
}

/* Per layer of the qnet: the engine(s) of its ops, the channels each
 * computes and the cost model's cycles there (targets with parallel
 * engines, e.g. DIANA, where the split pass divides layers); then the
 * cycles per engine and the sum over layers of the slowest engine of each
 * (the engines of a split layer run at once). */
static void print_layers(const deploy_ir *ir) {
    double per[DEPLOY_IR_MAX_ENGINES] = {0};
    printf("layers (engine: channels, cost model cycles):\n");
    for (int k = 0; k < ir->nops;) {
        const deploy_ir_op *o = &ir->ops[k];
        printf("  %-3d %-16s %-14s", o->qindex, o->q->name,
               o->depthwise ? "depthwise" : deploy_qop_kind_name(o->kind));
        int next;
        deploy_ir_layer_cycles(ir, k, &next);
        for (int j = k; j < next; j++) {
            const deploy_ir_op *s = &ir->ops[j];
            printf("%s%s", j > k ? " | " : " ", ir->engines[s->engine]);
            if (s->kind == DEPLOY_QOP_CONV || s->kind == DEPLOY_QOP_LINEAR)
                printf(" %d ch", deploy_ir_op_cout(ir, j));
            if (s->cycles > 0) printf(" %.0f cycles", s->cycles);
            per[s->engine] += s->cycles;
        }
        k = next;
        printf("\n");
    }
    printf("cycles per engine (cost model):");
    for (int e = 0; e < ir->nengines; e++)
        if (per[e] > 0) printf(" %s %.0f", ir->engines[e], per[e]);
    printf("; layers in order, engines of a layer at once: %.0f (host-core layers not modelled)\n",
           deploy_ir_model_cycles(ir));
}

/* The tiled layers and the DMA report (docs/deploy.md, "Tiling"). */
static void print_tiles(const deploy_ir *ir, int quiet) {
    double whole = 0, tiled = 0;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_ir_op *op = &ir->ops[k];
        if (!op->tile.tiled) continue;
        whole += op->cycles, tiled += op->tile.tile_cycles;
        if (!quiet)
            printf("tile %d %s tiles=%dx%dx%d n=%d l1=%zu dma=%llu cycles=%.0f "
                   "tiled_cycles=%.0f\n",
                   k, op->q->name, op->tile.th, op->tile.tw, op->tile.tc,
                   op->tile.nh * op->tile.nw * op->tile.nc, op->tile.l1_bytes,
                   (unsigned long long)op->tile.dma_bytes, op->cycles, op->tile.tile_cycles);
    }
    printf("result_tiles l1=%zu l1_size=%zu dma=%llu dma_bound=%llu cycles=%.0f "
           "tiled_cycles=%.0f\n",
           ir->l1_bytes, ir->l1_size, (unsigned long long)ir->dma_bytes,
           (unsigned long long)ir->dma_bound, whole, tiled);
}

static int run(int argc, char **argv, const opts *o) {
    char cmd[8192];
    command_line(argc, argv, cmd, sizeof cmd);
    deploy_job j = {.in = o->in,
                    .group = o->group,
                    .run = o->run,
                    .backend = o->target,
                    .desc = o->desc,
                    .l1 = o->l1,
                    .dump_after = o->dump_after,
                    .out = o->out,
                    .vectors = o->vectors,
                    .images = o->images,
                    .labels = o->labels,
                    .from = o->from,
                    .command = cmd};
    deploy_job_result r;
    dnas_error err;
    dnas_status st = deploy_job_compile(&j, &r, &err);
    const deploy_backend *be = r.be;
    const deploy_ir *ir = &r.ir;
    const hwcost_target *desc = r.desc;
    if (!st && o->l1 && !r.tiles)
        fprintf(stderr,
                "dnas deploy: warning: --l1 %ld has no effect: backend %s runs whole layers\n",
                o->l1, be->name);
    else if (!st && o->l1 && !ir->l1_size)
        fprintf(stderr,
                "dnas deploy: warning: --l1 %ld has no effect: no layer runs through a tiled "
                "memory of target %s\n",
                o->l1, desc ? desc->name : "(none)");
    if (!st) st = deploy_job_emit(&j, &r, &err);
    double cycles = st ? 0 : deploy_ir_model_cycles(ir);
    if (!st && !o->quiet) {
        printf("network %s from %s%s%s: %d layers, backend %s, target %s, engines", ir->name,
               r.where, r.run_id[0] ? ", run " : "", r.run_id, ir->nops, be->name,
               desc ? desc->name : "(none)");
        for (int e = 0; e < ir->nengines; e++)
            printf(" %s", ir->engines[e]);
        printf("\narena %zu bytes, lower bound %zu bytes (%.3fx)\n", ir->arena, ir->arena_bound,
               ir->arena_bound ? (double)ir->arena / (double)ir->arena_bound : 1.0);
        if (ir->scratch)
            printf("kernel scratch %zu bytes beside the arena: RAM %zu bytes\n", ir->scratch,
                   ir->arena + ir->scratch);
        printf("weights %zu bytes (int8; 4- and 2-bit layers packed two and four a byte), "
               "constants %zu bytes with biases and multipliers\n",
               deploy_ir_weight_values(ir), ir->weight_bytes);
        printf("MACs %llu per inference\n", (unsigned long long)deploy_ir_macs(ir));
        if (desc && desc->nparallel > 0) print_layers(ir);
        if (desc && cycles > 0)
            printf("cost model (%s): %.0f cycles per inference (the layers it estimates in "
                   "order, the engines of a layer at once)\n",
                   desc->name, cycles);
        else if (desc)
            printf("cost model (%s): no estimate for these layers\n", desc->name);
        printf("wrote %s/: network.h network.c weights.c test_main.c Makefile dnas_rt/ %s"
               "test_input.bin test_expected.bin (%ld samples)\n",
               o->out,
               be->emit == deploy_emit_diana  ? "diana/ "
               : be->emit == deploy_emit_gap8 ? "pulp/ "
                                              : "",
               o->vectors);
        if (o->images)
            printf("test samples: %s samples %ld..%ld, layout %s, %s, quantized at scale %g "
                   "(as floats too: test_input_f32.bin, for network_quantize_input)\n",
                   o->images, o->from, o->from + o->vectors - 1, r.q.input.rows ? "rows" : "chw",
                   r.q.input.c ? "normalized by the network's mean and std" : "not normalized",
                   (double)r.q.tensors[0].scale);
        if (o->labels)
            printf("evaluator accuracy on them: %ld of %ld, %.2f%%\n", r.correct, o->vectors,
                   100.0 * (double)r.correct / (double)o->vectors);
        printf("build and compare: make -C %s check\n", o->out);
    }
    if (!st)
        printf("result arena=%zu lower_bound=%zu weight_bytes=%zu const_bytes=%zu macs=%llu "
               "layers=%d",
               ir->arena, ir->arena_bound, deploy_ir_weight_values(ir), ir->weight_bytes,
               (unsigned long long)deploy_ir_macs(ir), ir->nops);
    if (!st && ir->scratch) printf(" scratch=%zu", ir->scratch);
    if (!st && desc && cycles > 0) printf(" model_cycles=%.0f", cycles);
    if (!st && o->labels) printf(" accuracy=%.4f", (double)r.correct / (double)o->vectors);
    if (!st) printf("\n");
    if (!st && ir->l1_size) print_tiles(ir, o->quiet);
    if (st) fprintf(stderr, "dnas deploy: %s\n", err.msg);
    deploy_job_free(&r);
    return st ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_deploy(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        print_help(stdout);
        return CLI_EXIT_OK;
    }
    opts o = {.vectors = 8};
    int rc = parse(argc, argv, &o);
    return rc ? rc : run(argc, argv, &o);
}
