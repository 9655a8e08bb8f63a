/* dnas deploy QUANT.h5 --target c --out DIR: the integer network of a file
 * compiled to C (deploy/compiler.h). This file parses the command line,
 * reads the qnet, runs the compiler and the backend, writes test vectors
 * and prints what it made. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "deploy.h"
#include "train.h"
#include "dnas_build_info.h"

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
    "description (when it has an estimate) and P the evaluator's accuracy on the\n"
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

static dnas_status make_dir(const char *dir, dnas_error *err) {
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode)
                   ? DNAS_OK
                   : dnas_fail(err, DNAS_ERR_IO, "%s: exists and is not a directory", dir);
    if (mkdir(dir, 0777) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot make the directory: %s", dir,
                         strerror(errno));
    return DNAS_OK;
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

/* Bytes of the weights as stored (int4 / int2 layers packed). */
static size_t weight_values(const deploy_ir *ir) {
    size_t n = 0;
    for (int k = 0; k < ir->nops; k++) /* the ops of a split layer share its weights */
        if (!k || ir->ops[k - 1].qindex != ir->ops[k].qindex)
            n += dnas_rt_packed_bytes(ir->ops[k].wpack, ir->ops[k].q->wlen);
    return n;
}

/* Per layer of the qnet: the engine(s) of its ops, the channels each
 * computes and the cost model's cycles there (targets with parallel
 * engines, e.g. DIANA, where the split pass divides layers); then the
 * cycles per engine and the sum over layers of the slowest engine of each
 * (the engines of a split layer run at once). */
static void print_layers(const deploy_ir *ir) {
    double per[DEPLOY_IR_MAX_ENGINES] = {0}, total = 0;
    printf("layers (engine: channels, cost model cycles):\n");
    for (int k = 0; k < ir->nops;) {
        const deploy_ir_op *o = &ir->ops[k];
        double most = 0;
        printf("  %-3d %-16s %-14s", o->qindex, o->q->name,
               o->depthwise ? "depthwise" : deploy_qop_kind_name(o->kind));
        int j = k;
        for (; j < ir->nops && ir->ops[j].qindex == o->qindex; j++) {
            const deploy_ir_op *s = &ir->ops[j];
            printf("%s%s", j > k ? " | " : " ", ir->engines[s->engine]);
            if (s->kind == DEPLOY_QOP_CONV || s->kind == DEPLOY_QOP_LINEAR)
                printf(" %d ch", deploy_ir_op_cout(ir, j));
            if (s->cycles > 0) printf(" %.0f cycles", s->cycles);
            per[s->engine] += s->cycles;
            most = s->cycles > most ? s->cycles : most;
        }
        total += most;
        k = j;
        printf("\n");
    }
    printf("cycles per engine (cost model):");
    for (int e = 0; e < ir->nengines; e++)
        if (per[e] > 0) printf(" %s %.0f", ir->engines[e], per[e]);
    printf("; layers in order, engines of a layer at once: %.0f (host-core layers not modelled)\n",
           total);
}

/* The cost model's cycles of one inference: the sum of the ops' estimates
 * (the engines pass's; 0 for ops it has none for). */
static double model_cycles(const deploy_ir *ir) {
    double c = 0;
    for (int k = 0; k < ir->nops; k++)
        c += ir->ops[k].cycles;
    return c;
}

/* The target description of the backend (or --target-desc), or NULL. */
static dnas_status load_desc(const opts *o, const deploy_backend *be, hwcost_target **t,
                             dnas_error *err) {
    const char *name = o->desc ? o->desc : be->target;
    *t = NULL;
    if (!name) return DNAS_OK;
    char buf[4096];
    const char *path = cli_target_path(name, buf, sizeof buf);
    if (!path)
        return dnas_fail(err, DNAS_ERR_IO,
                         "target description '%s' not found (looked for configs/targets/%s.yaml "
                         "in ., $DNAS_SOURCE_DIR and %s)",
                         name, name, DNAS_SOURCE_DIR);
    *t = dnas_xmalloc(sizeof **t);
    dnas_status st = hwcost_target_load(*t, path, err);
    if (st) {
        free(*t);
        *t = NULL;
    }
    return st;
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

static int ends_with(const char *s, const char *end) {
    size_t n = strlen(s), m = strlen(end);
    return n >= m && !strcmp(s + n - m, end);
}

/* o->vectors samples of --images from --from, as the network's input
 * bytes (in) and their labels (y, when --labels), preprocessed as q
 * records it (deploy_qnet_input). */
static dnas_status real_inputs(const opts *o, const deploy_qnet *q, const char *where, uint8_t *in,
                               float *raw, int32_t *y, dnas_error *err) {
    const deploy_qnet_input *prep = &q->input;
    const deploy_qtensor *t = &q->tensors[0];
    if (!prep->recorded)
        return dnas_fail(err, DNAS_ERR_FORMAT,
                         "%s: the network records no input preprocessing (a file written before "
                         "qnets stored it): quantize it again, or leave out --images",
                         where);
    train_dataset ds = {0};
    int npy = ends_with(o->images, ".npy");
    dnas_status st = npy ? train_data_load_npy(&ds, o->images, o->labels, err)
                         : train_data_load_idx(&ds, o->images, o->labels, err);
    if (!st && prep->rows) st = train_data_to_rows(&ds, err);
    if (!st && (ds.c != t->c || ds.h != t->h || ds.w != t->w))
        st = dnas_fail(err, DNAS_ERR_SHAPE,
                       "%s: samples of (C, H, W) = (%d, %d, %d)%s, but the network's input is "
                       "(%d, %d, %d)",
                       o->images, ds.c, ds.h, ds.w, prep->rows ? " read as rows" : "", t->c, t->h,
                       t->w);
    if (!st && (long)ds.count < o->from + o->vectors)
        st = dnas_fail(err, DNAS_ERR_SHAPE, "%s: %d samples: samples %ld..%ld do not exist",
                       o->images, ds.count, o->from, o->from + o->vectors - 1);
    if (!st) {
        size_t per = deploy_qtensor_size(t);
        float *x = dnas_xmalloc((size_t)o->vectors * per * sizeof *x);
        memcpy(x, ds.x + (size_t)o->from * per, (size_t)o->vectors * per * sizeof *x);
        memcpy(raw, x, (size_t)o->vectors * per * sizeof *x); /* before the normalization */
        deploy_qnet_normalize(q, x, (int)o->vectors);
        deploy_qnet_input_bytes(q, x, (int)o->vectors, in);
        if (y && ds.y) memcpy(y, ds.y + o->from, (size_t)o->vectors * sizeof *y);
        free(x);
    }
    train_dataset_free(&ds);
    return st;
}

/* Samples of in (bytes of the input tensor) whose output argmax is y. */
static dnas_status count_correct(const deploy_qnet *q, const uint8_t *in, const int32_t *y, int n,
                                 long *correct, dnas_error *err) {
    deploy_qeval ev;
    dnas_status st = deploy_qeval_init(&ev, q, q->name, err);
    if (st) return st;
    const deploy_qtensor *o = &q->tensors[q->output];
    size_t isz = deploy_qtensor_size(&q->tensors[0]), osz = deploy_qtensor_size(o);
    int32_t *out = dnas_xmalloc(osz * sizeof *out);
    *correct = 0;
    for (int s = 0; s < n && !st; s++) {
        st = deploy_qeval_sample(&ev, out, in + (size_t)s * isz, err);
        if (!st) *correct += deploy_qnet_argmax(out, (int)osz) == y[s];
    }
    free(out);
    deploy_qeval_free(&ev);
    return st;
}

static int run(int argc, char **argv, const opts *o) {
    const deploy_backend *be = deploy_backend_find(o->target);
    deploy_qnet q;
    deploy_ir ir = {0};
    dnas_error err;
    char group[1100] = "", run_id[256] = "";
    hwcost_target *desc = NULL;
    int32_t *y = NULL; /* --labels */
    long correct = 0;
    dnas_status st = deploy_qnet_load_from(o->in, o->group, o->run, &q, group, sizeof group, run_id,
                                           sizeof run_id, &err);
    if (!st) st = load_desc(o, be, &desc, &err);
    deploy_compile_params p = deploy_backend_params(be);
    p.target = desc;
    p.dump_after = o->dump_after;
    p.l1_bytes = (size_t)o->l1;
    char where[4200];
    snprintf(where, sizeof where, "%s:%s", o->in, group);
    if (!st) st = deploy_compile(&ir, &q, where, &p, &err);
    if (!st && o->l1 && !p.tile)
        fprintf(stderr, "dnas deploy: warning: --l1 %ld has no effect: backend %s runs whole layers\n",
                o->l1, be->name);
    else if (!st && o->l1 && !ir.l1_size)
        fprintf(stderr,
                "dnas deploy: warning: --l1 %ld has no effect: no layer runs through a tiled "
                "memory of target %s\n",
                o->l1, desc ? desc->name : "(none)");
    if (!st) st = make_dir(o->out, &err);
    char cmd[8192], version[128];
    command_line(argc, argv, cmd, sizeof cmd);
    snprintf(version, sizeof version, "%s (commit %s)", DNAS_VERSION, DNAS_GIT_COMMIT);
    deploy_emit_info info = {cmd, where, run_id[0] ? run_id : NULL, version};
    if (!st) st = be->emit(&ir, &info, o->out, &err);
    if (!st) {
        /* the inputs and the expected outputs are held at once */
        size_t isz = deploy_qtensor_size(&q.tensors[0]);
        size_t osz = deploy_qtensor_size(&q.tensors[q.output]);
        st = dnas_check_bytes((uint64_t)o->vectors * (isz + osz), "the --vectors test samples",
                              &err);
        if (!st && o->images)
            st = dnas_check_bytes((uint64_t)o->vectors * isz * 5, "the --images test samples",
                                  &err);
        uint8_t *in = st ? NULL : dnas_xmalloc((size_t)o->vectors * isz);
        float *raw = st || !o->images ? NULL : dnas_xmalloc((size_t)o->vectors * isz * sizeof *raw);
        if (!st && o->labels) y = dnas_xmalloc((size_t)o->vectors * sizeof *y);
        if (!st && o->images)
            st = real_inputs(o, &q, where, in, raw, y, &err);
        else if (!st)
            deploy_random_inputs(&q, in, (int)o->vectors, 1);
        if (!st) st = deploy_emit_vectors(&q, in, (int)o->vectors, o->out, &err);
        if (!st && raw) st = deploy_emit_float_vectors(&q, raw, (int)o->vectors, o->out, &err);
        free(raw);
        if (!st && y) st = count_correct(&q, in, y, (int)o->vectors, &correct, &err);
        free(in);
    }
    if (!st && !o->quiet) {
        printf("network %s from %s%s%s: %d layers, backend %s, target %s, engines", ir.name, where,
               run_id[0] ? ", run " : "", run_id, ir.nops, be->name, desc ? desc->name : "(none)");
        for (int e = 0; e < ir.nengines; e++)
            printf(" %s", ir.engines[e]);
        printf("\narena %zu bytes, lower bound %zu bytes (%.3fx)\n", ir.arena, ir.arena_bound,
               ir.arena_bound ? (double)ir.arena / (double)ir.arena_bound : 1.0);
        if (ir.scratch)
            printf("kernel scratch %zu bytes beside the arena: RAM %zu bytes\n", ir.scratch,
                   ir.arena + ir.scratch);
        printf("weights %zu bytes (int8; 4- and 2-bit layers packed two and four a byte), "
               "constants %zu bytes with biases and multipliers\n",
               weight_values(&ir), ir.weight_bytes);
        printf("MACs %llu per inference\n", (unsigned long long)deploy_ir_macs(&ir));
        if (desc && desc->nparallel > 0) print_layers(&ir);
        if (desc && model_cycles(&ir) > 0)
            printf("cost model (%s): %.0f cycles per inference (the sum over the layers it "
                   "estimates)\n",
                   desc->name, model_cycles(&ir));
        else if (desc)
            printf("cost model (%s): no estimate for these layers\n", desc->name);
        printf("wrote %s/: network.h network.c weights.c test_main.c Makefile dnas_rt/ %s"
               "test_input.bin test_expected.bin (%ld samples)\n",
               o->out,
               be->emit == deploy_emit_diana ? "diana/ " : be->emit == deploy_emit_gap8 ? "pulp/ " : "",
               o->vectors);
        if (o->images)
            printf("test samples: %s samples %ld..%ld, layout %s, %s, quantized at scale %g "
                   "(as floats too: test_input_f32.bin, for network_quantize_input)\n",
                   o->images, o->from, o->from + o->vectors - 1, q.input.rows ? "rows" : "chw",
                   q.input.c ? "normalized by the network's mean and std" : "not normalized",
                   (double)q.tensors[0].scale);
        if (y)
            printf("evaluator accuracy on them: %ld of %ld, %.2f%%\n", correct, o->vectors,
                   100.0 * (double)correct / (double)o->vectors);
        printf("build and compare: make -C %s check\n", o->out);
    }
    if (!st)
        printf("result arena=%zu lower_bound=%zu weight_bytes=%zu const_bytes=%zu macs=%llu "
               "layers=%d",
               ir.arena, ir.arena_bound, weight_values(&ir), ir.weight_bytes,
               (unsigned long long)deploy_ir_macs(&ir), ir.nops);
    if (!st && ir.scratch) printf(" scratch=%zu", ir.scratch);
    if (!st && desc && model_cycles(&ir) > 0) printf(" model_cycles=%.0f", model_cycles(&ir));
    if (!st && y) printf(" accuracy=%.4f", (double)correct / (double)o->vectors);
    if (!st) printf("\n");
    if (!st && ir.l1_size) print_tiles(&ir, o->quiet);
    if (st)
        fprintf(stderr, "dnas deploy: %s\n", err.msg);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
    free(desc);
    free(y);
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
