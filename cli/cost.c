/* dnas cost MODEL.yaml --target T [--wbits W] [--abits A] [--csv]:
 * every hwcost model per layer on one target, totals, and each memory
 * level's use against its capacity. The bridge between train/ (the
 * network) and hwcost/ (which knows nothing of it): conv/linear layers
 * become hwcost_layer descriptions, every produced tensor an
 * hwcost_tensor with its lifetime over the layer order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwcost.h"
#include "train.h"

/* Bits a --wbits / --abits value may ask for. */
#define MAX_BITS 32

/* clang-format off */
static const char *HELP =
    "usage: dnas cost MODEL.yaml --target T [--wbits 8] [--abits 8] [--csv]\n"
    "\n"
    "Evaluates the hardware cost models (docs/hwcost.md) of every conv/linear\n"
    "layer of a model YAML on one target, at one weight and one activation\n"
    "precision, then prints the totals and each memory level of the target\n"
    "with its use against its capacity.\n"
    "\n"
    "  --target T   a target name (configs/targets/T.yaml, looked up in the\n"
    "               current directory, then $DNAS_SOURCE_DIR, then the source\n"
    "               tree dnas was built from) or a path to a target YAML\n"
    "  --wbits W    weight bits of every layer, 0.." CLI_STR(MAX_BITS) " (default 8; 0 = pruned)\n"
    "  --abits A    activation bits of every tensor, 1.." CLI_STR(MAX_BITS) " (default 8)\n"
    "  --csv        comma-separated, a header row and a final 'total' row\n"
    "               (no memory-level lines)\n"
    "\n"
    "columns:\n"
    "  layer, kind  layer name; conv, depthwise or linear\n"
    "  cin, cout    input / output channels (linear: flattened input size)\n"
    "  params       weights + biases: Cout*(Cin/groups*kh*kw + 1 if bias)\n"
    "  params_nb    weights only (no bias)\n"
    "  macs         params x output pixels: each bias add COUNTS as one op\n"
    "  macs_nb      weights x output pixels: bias adds NOT counted (what\n"
    "               'dnas summary' calls macs and MLPerf Tiny publishes)\n"
    "  bit_params   params_nb x weight bits\n"
    "  bit_ops      macs_nb x weight bits x activation bits\n"
    "  w_bytes      stored weights: ceil(params_nb*wbits/8) + 4 B per bias\n"
    "  act_bytes    input + output activation bytes of the layer\n"
    "  cyc_<E>      cycles on engine E of the target ('-': E cannot run the\n"
    "               layer's kind or grouping)\n"
    "  engine       the fastest engine that runs the layer at the requested\n"
    "               precisions ('none' when no engine does)\n"
    "  cycles, us   cycles and microseconds on that engine (clock of the target)\n"
    "  uJ           energy on that engine: engine power x time\n"
    "               (CSV: seconds and joules instead of us and uJ)\n"
    "\n"
    "memory: total weight bytes + peak activation bytes (largest sum of the\n"
    "tensors alive at one layer, in layer order). Each level of the target\n"
    "holds what its 'holds' list says: the network's weights and/or peak\n"
    "activations, or the largest single layer's weights / activations (for\n"
    "levels that deploy tiles through, an overflow means tiling, not failure).\n"
    "\n"
    CLI_HELP_EXIT "; a network that does not fit is not\n"
    "a failure (exit 0).\n";
/* clang-format on */

/* Target file from a name or a path: a path (a '/' in it, or '.yaml') as it
 * is; a name as configs/targets/NAME.yaml in the first directory that has
 * it. buf holds a found name's path; NULL when no directory has it. */
static const char *resolve_target(const char *t, char *buf, size_t len) {
    if (strchr(t, '/') || strstr(t, ".yaml")) return t;
    const char *env = getenv("DNAS_SOURCE_DIR");
    const char *dirs[] = {".", env, DNAS_SOURCE_DIR};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i]) continue;
        int n = snprintf(buf, len, "%s/configs/targets/%s.yaml", dirs[i], t);
        if (n < 0 || (size_t)n >= len) continue; /* longer than any path open() takes */
        FILE *f = fopen(buf, "r");
        if (f) {
            fclose(f);
            return buf;
        }
    }
    return NULL;
}

/* Tensor of a layer's output: BN, ReLU, dropout and flatten reuse their
 * input's (folded or in place at deploy). */
static int tensor_of(const train_net *net, int i) {
    while (i > 0) {
        train_op op = net->layers[i].op;
        if (op != TRAIN_OP_BN && op != TRAIN_OP_RELU && op != TRAIN_OP_DROPOUT && op != TRAIN_OP_FLATTEN)
            break;
        i = net->layers[i].inputs[0];
    }
    return i;
}

typedef struct {
    int layer; /* index in the net */
    hwcost_layer d;
    double v[HWCOST_MODEL_COUNT_];
    double act_bytes;
    double cyc[HWCOST_MAX_ENGINES];
    int ok[HWCOST_MAX_ENGINES];
    int engine; /* chosen, -1 none */
    double cycles, seconds, joules;
} row;

static void fmt_num(char *buf, size_t len, double v, int ok) {
    if (!ok)
        snprintf(buf, len, "-");
    else if (fabs(v) < 1e15 && v == (double)(long long)v)
        snprintf(buf, len, "%lld", (long long)v);
    else
        snprintf(buf, len, "%.6g", v);
}

static void print_row(int csv, const hwcost_target *t, const char *name, const char *kind, const row *r,
                      const int *eng_ok) {
    char b[32];
    const char *sep = csv ? "," : " ";
    if (csv)
        printf("%s,%s", name, kind);
    else
        printf("%-16s %-9s", name, kind);
    double cols[] = {r->d.cin,
                     r->d.cout,
                     r->v[HWCOST_PARAMS],
                     r->v[HWCOST_PARAMS_NO_BIAS],
                     r->v[HWCOST_MACS],
                     r->v[HWCOST_MACS_NO_BIAS],
                     r->v[HWCOST_BIT_PARAMS],
                     r->v[HWCOST_BIT_OPS],
                     r->v[HWCOST_WEIGHT_BYTES],
                     r->act_bytes};
    static const int widths[] = {5, 5, 8, 8, 10, 10, 10, 12, 8, 9};
    for (int c = 0; c < 10; c++) {
        fmt_num(b, sizeof b, cols[c], strcmp(name, "total") || c >= 2);
        if (csv && !strcmp(b, "-")) b[0] = 0;
        if (csv)
            printf("%s%s", sep, b);
        else
            printf(" %*s", widths[c], b);
    }
    for (int e = 0; e < t->nengines; e++) {
        fmt_num(b, sizeof b, r->cyc[e], eng_ok[e]);
        if (csv && !strcmp(b, "-")) b[0] = 0;
        if (csv)
            printf(",%s", b);
        else
            printf(" %12s", b);
    }
    const char *en = r->engine >= 0 ? t->engines[r->engine].name : (r->engine == -2 ? "" : "none");
    if (r->engine == -1) {
        printf(csv ? ",%s,,,\n" : " %-8s %10s %10s %10s\n", en, "-", "-", "-");
    } else if (csv) {
        printf(",%s,%.9g,%.9g,%.9g\n", en, r->cycles, r->seconds, r->joules);
    } else {
        fmt_num(b, sizeof b, r->cycles, 1);
        printf(" %-8s %10s %10.2f %10.3f\n", en, b, r->seconds * 1e6, r->joules * 1e6);
    }
}

static void print_header(int csv, const hwcost_target *t) {
    static const char *cols[] = {"cin",     "cout",       "params",  "params_nb", "macs",
                                 "macs_nb", "bit_params", "bit_ops", "w_bytes",   "act_bytes"};
    static const int widths[] = {5, 5, 8, 8, 10, 10, 10, 12, 8, 9};
    if (csv) {
        printf("layer,kind");
        for (int c = 0; c < 10; c++) printf(",%s", cols[c]);
        for (int e = 0; e < t->nengines; e++) printf(",cyc_%s", t->engines[e].name);
        printf(",engine,cycles,seconds,joules\n");
        return;
    }
    printf("%-16s %-9s", "layer", "kind");
    for (int c = 0; c < 10; c++) printf(" %*s", widths[c], cols[c]);
    for (int e = 0; e < t->nengines; e++) {
        char h[48];
        snprintf(h, sizeof h, "cyc_%s", t->engines[e].name);
        printf(" %12s", h);
    }
    printf(" %-8s %10s %10s %10s\n", "engine", "cycles", "us", "uJ");
}

/* Fills rows (conv/linear layers) and tensors (one per produced tensor). */
static int build(const train_net *net, const hwcost_target *t, int wbits, int abits, row *rows,
                 hwcost_tensor *tens, int *ntens) {
    int *tid = malloc((size_t)net->nlayers * sizeof *tid); /* layer -> tensor index */
    int n = 0, nrows = 0;
    for (int i = 0; i < net->nlayers; i++) {
        int src = tensor_of(net, i);
        if (src != i) {
            tid[i] = tid[src];
        } else {
            const train_layer *L = &net->layers[i];
            tid[i] = n;
            tens[n] = (hwcost_tensor){L->c, L->h, L->w, i, i, hwcost_prec_single(abits)};
            n++;
        }
        for (int j = 0; j < net->layers[i].ninputs; j++) {
            hwcost_tensor *in = &tens[tid[net->layers[i].inputs[j]]];
            if (in->last < i) in->last = i;
        }
    }
    tens[tid[net->output]].last = net->nlayers - 1;
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) continue;
        const train_layer *I = &net->layers[L->inputs[0]];
        row *r = &rows[nrows++];
        memset(r, 0, sizeof *r);
        r->layer = i;
        hwcost_layer *d = &r->d;
        *d = hwcost_layer_default();
        if (L->op == TRAIN_OP_LINEAR) {
            d->kind = HWCOST_LINEAR;
            d->cin = (double)I->c * I->h * I->w;
        } else {
            d->kind =
                L->groups > 1 && L->groups == L->c && L->groups == I->c ? HWCOST_DEPTHWISE : HWCOST_CONV;
            d->cin = I->c;
            d->kh = L->kh, d->kw = L->kw, d->k = L->kh * L->kw;
            d->oh = L->h, d->ow = L->w;
            d->groups = L->groups;
        }
        d->cout = L->c;
        d->bias = L->has_bias;
        d->w = hwcost_prec_single(wbits);
        d->a = hwcost_prec_single(abits);
        dnas_error err;
        hwcost_grad g;
        for (int m = 0; m < HWCOST_MODEL_COUNT_; m++) {
            if (hwcost_eval((hwcost_model)m, d, &g, &err)) {
                fprintf(stderr, "dnas cost: layer '%s': %s\n", L->name, err.msg);
                free(tid);
                return -1;
            }
            r->v[m] = g.value;
        }
        hwcost_tensor_bytes(&tens[tid[L->inputs[0]]], &g);
        r->act_bytes = g.value;
        hwcost_tensor_bytes(&tens[tid[i]], &g);
        r->act_bytes += g.value;
        r->engine = -1;
        for (int e = 0; e < t->nengines; e++) {
            /* not ok: the engine cannot run the kind or grouping, or has
             * no MAC/cycle figure at this precision */
            r->ok[e] = hwcost_latency_cycles(t, e, d, &g, &err) == DNAS_OK;
            if (!r->ok[e]) continue;
            r->cyc[e] = g.value;
            if (hwcost_engine_supports(&t->engines[e], d) && (r->engine < 0 || g.value < r->cycles))
                r->engine = e, r->cycles = g.value;
        }
        if (r->engine >= 0) {
            r->seconds = r->cycles / t->clock_hz;
            r->joules = r->seconds * t->engines[r->engine].power_w;
        }
    }
    *ntens = n;
    free(tid);
    return nrows;
}

static void print_memory(const hwcost_target *t, const char *tpath, const train_net *net, const row *rows,
                         int nrows, const hwcost_tensor *tens, int ntens) {
    char a[32], b[32], c[32];
    int step;
    double peak = hwcost_peak_activation_bytes(tens, ntens, NULL, NULL, &step);
    double wsum = 0;
    for (int r = 0; r < nrows; r++) wsum += rows[r].v[HWCOST_WEIGHT_BYTES];
    printf("\nmemory: %s B = weights %s B + peak activations %s B (at layer '%s')\n",
           dnas_fmt_thousands(wsum + peak, a, sizeof a), dnas_fmt_thousands(wsum, b, sizeof b),
           dnas_fmt_thousands(peak, c, sizeof c), net->layers[step].name);
    printf("memory levels of %s (%s):\n", t->name, tpath);
    for (int m = 0; m < t->nmem; m++) {
        const hwcost_memory *M = &t->mem[m];
        double use = 0, lw = 0, la = 0, nw = 0;
        for (int r = 0; r < nrows; r++) {
            if (M->engine >= 0 && rows[r].engine != M->engine) continue;
            nw += rows[r].v[HWCOST_WEIGHT_BYTES];
            if (rows[r].v[HWCOST_WEIGHT_BYTES] > lw) lw = rows[r].v[HWCOST_WEIGHT_BYTES];
            if (rows[r].act_bytes > la) la = rows[r].act_bytes;
        }
        if (M->holds & HWCOST_HOLD_NETWORK_WEIGHTS) use += nw;
        if (M->holds & HWCOST_HOLD_NETWORK_ACTIVATIONS) use += peak;
        if (M->holds & HWCOST_HOLD_LAYER_WEIGHTS) use += lw;
        if (M->holds & HWCOST_HOLD_LAYER_ACTIVATIONS) use += la;
        dnas_fmt_thousands(use, a, sizeof a);
        dnas_fmt_thousands(M->bytes, b, sizeof b);
        const char *what = M->holds == HWCOST_HOLD_NETWORK_WEIGHTS       ? "weights"
                           : M->holds == HWCOST_HOLD_NETWORK_ACTIVATIONS ? "activations"
                           : (M->holds & (HWCOST_HOLD_LAYER_WEIGHTS | HWCOST_HOLD_LAYER_ACTIVATIONS))
                               ? "largest layer"
                               : "network";
        if (round(use) <= round(M->bytes))
            printf("  %s: %s B of %s B — fits, %s B free (%s)\n", M->name, a, b,
                   dnas_fmt_thousands(M->bytes - use, c, sizeof c), what);
        else
            printf("  %s: %s B of %s B — does not fit by %s B (%s%s)\n", M->name, a, b,
                   dnas_fmt_thousands(use - M->bytes, c, sizeof c), what,
                   M->tiled ? "; deploy must tile" : "");
    }
}

int cli_cost(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    const char *model = NULL, *target = NULL;
    int csv = 0;
    long wbits = 8, abits = 8;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!strcmp(a, "--csv"))
            csv = 1;
        else if (!strcmp(a, "--target"))
            rc = cli_opt_str(argc, argv, &i, "T", &target);
        else if (!strcmp(a, "--wbits"))
            rc = cli_opt_long(argc, argv, &i, "W", 0, MAX_BITS, &wbits);
        else if (!strcmp(a, "--abits"))
            rc = cli_opt_long(argc, argv, &i, "A", 1, MAX_BITS, &abits);
        else
            rc = cli_positional(argv, i, "MODEL.yaml", &model);
        if (rc) return rc;
    }
    if (!model || !target) return cli_missing(argv, model ? "--target T" : "MODEL.yaml", HELP);
    char buf[4096];
    const char *tpath = resolve_target(target, buf, sizeof buf);
    if (!tpath) {
        fprintf(stderr,
                "dnas cost: target '%s' not found (looked for configs/targets/%s.yaml in ., "
                "$DNAS_SOURCE_DIR and %s)\n",
                target, target, DNAS_SOURCE_DIR);
        return CLI_EXIT_FAIL;
    }
    hwcost_target *t = malloc(sizeof *t);
    dnas_error herr;
    if (hwcost_target_load(t, tpath, &herr)) {
        fprintf(stderr, "dnas cost: %s\n", herr.msg);
        free(t);
        return CLI_EXIT_FAIL;
    }
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, model, &err)) {
        fprintf(stderr, "dnas cost: %s\n", err.msg);
        free(t);
        return CLI_EXIT_FAIL;
    }
    row *rows = calloc((size_t)net->nlayers, sizeof *rows);
    hwcost_tensor *tens = calloc((size_t)net->nlayers, sizeof *tens);
    int ntens = 0, rc = CLI_EXIT_OK;
    int nrows = build(net, t, (int)wbits, (int)abits, rows, tens, &ntens);
    if (nrows < 0) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    row total;
    memset(&total, 0, sizeof total);
    total.engine = -2;
    int eng_ok[HWCOST_MAX_ENGINES], nnone = 0;
    for (int e = 0; e < t->nengines; e++) eng_ok[e] = 1;
    for (int r = 0; r < nrows; r++) {
        for (int m = 0; m < HWCOST_MODEL_COUNT_; m++) total.v[m] += rows[r].v[m];
        total.act_bytes = rows[r].act_bytes > total.act_bytes ? rows[r].act_bytes : total.act_bytes;
        for (int e = 0; e < t->nengines; e++) {
            total.cyc[e] += rows[r].cyc[e];
            eng_ok[e] &= rows[r].ok[e];
        }
        total.cycles += rows[r].cycles;
        total.seconds += rows[r].seconds;
        total.joules += rows[r].joules;
        nnone += rows[r].engine < 0;
    }
    if (!csv)
        printf("model %s (%s) on target %s (%s), %g MHz, w%ld a%ld\n", net->name, model, t->name, tpath,
               t->clock_hz / 1e6, wbits, abits);
    print_header(csv, t);
    for (int r = 0; r < nrows; r++)
        print_row(csv, t, net->layers[rows[r].layer].name, hwcost_kind_name(rows[r].d.kind), &rows[r],
                  rows[r].ok);
    if (!csv)
        printf("%.*s\n", 150,
               "---------------------------------------------------------------------------------------------"
               "---------------------------------------------------------");
    print_row(csv, t, "total", "", &total, eng_ok);
    if (!csv) {
        printf("(total act_bytes: the largest layer's; total cycles/us/uJ: layers with an engine)\n");
        if (nnone)
            printf("note: %d layer(s) have no engine on %s at w%ld a%ld (not in the latency total)\n", nnone,
                   t->name, wbits, abits);
        print_memory(t, tpath, net, rows, nrows, tens, ntens);
    }
done:
    free(rows);
    free(tens);
    train_net_free(net);
    free(t);
    return rc;
}
