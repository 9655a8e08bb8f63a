/* dnas cost MODEL.yaml --target T [--wbits W] [--abits A] [--csv]:
 * every hwcost model per layer on one target, totals, and each memory
 * level's use against its capacity. The numbers come from the cost bridge
 * (search/bridge.h) at the network as it is and one precision; this file
 * parses the command line and prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwcost.h"
#include "search.h"
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
    "  --wbits W    weight bits of every layer, 0.." CLI_STR(MAX_BITS) " (default 8; 0 = pruned);\n"
    "               layers with their own 'wbits' keep those\n"
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
    "               precisions ('none' when no engine does); a layer whose\n"
    "               channels record their engines (model key 'engines', an\n"
    "               ODiMO export) runs as recorded: on its one engine, or\n"
    "               'split' across the target's parallel engines, each part's\n"
    "               channels at that engine's weight bits, the layer's cycles\n"
    "               the smooth max of the parts', its energy the target's\n"
    "               parallel power model (docs/hwcost.md)\n"
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

static void fmt_num(char *buf, size_t len, double v, int ok) {
    if (!ok)
        snprintf(buf, len, "-");
    else if (fabs(v) < 1e15 && v == (double)(long long)v)
        snprintf(buf, len, "%lld", (long long)v);
    else
        snprintf(buf, len, "%.6g", v);
}

static void print_row(int csv, const hwcost_target *t, const char *name, const char *kind,
                      const search_cost_row *r, const int *eng_ok) {
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
    const char *en = r->engine >= 0 ? t->engines[r->engine].name
                     : r->split        ? "split"
                     : r->engine == -2 ? ""
                                       : "none";
    if (r->engine == -1 && !r->split) {
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

static void print_memory(const hwcost_target *t, const char *tpath, const train_net *net,
                         const search_cost_result *res) {
    char a[32], b[32], c[32];
    double peak = res->value[SEARCH_COST_PEAK_ACT], wsum = res->value[SEARCH_COST_WEIGHT_BYTES];
    printf("\nmemory: %s B = weights %s B + peak activations %s B (at layer '%s')\n",
           dnas_fmt_thousands(res->value[SEARCH_COST_MEMORY], a, sizeof a),
           dnas_fmt_thousands(wsum, b, sizeof b), dnas_fmt_thousands(peak, c, sizeof c),
           net->layers[res->peak_layer].name);
    printf("memory levels of %s (%s):\n", t->name, tpath);
    for (int m = 0; m < t->nmem; m++) {
        const hwcost_memory *M = &t->mem[m];
        double use = res->value[SEARCH_COST_LEVEL(m)];
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
    const char *tpath = cli_target_path(target, buf, sizeof buf);
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
    int rc = CLI_EXIT_OK;
    search_bridge *b = NULL;
    search_cost_result res = {0};
    if (search_bridge_init(&b, net, &err)) {
        fprintf(stderr, "dnas cost: %s\n", err.msg);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    search_layer_state *state = dnas_xcalloc((size_t)net->nlayers, sizeof *state);
    search_bridge_state_default(b, state, (double)wbits, (double)abits);
    search_cost_params params = search_cost_default_params();
    params.target = t;
    search_cost_result_init(&res, b);
    dnas_status st = search_bridge_eval(b, state, &params, &res, &err);
    free(state);
    if (st) {
        fprintf(stderr, "dnas cost: %s\n", err.msg);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    const search_cost_row *rows = res.rows;
    int nrows = res.nrows;
    /* the total row: sums of the columns, the largest act_bytes */
    search_cost_row total;
    memset(&total, 0, sizeof total);
    total.engine = -2;
    for (int m = 0; m < HWCOST_MODEL_COUNT_; m++) total.v[m] = res.value[m];
    total.cycles = res.value[SEARCH_COST_CYCLES];
    total.seconds = res.value[SEARCH_COST_SECONDS];
    total.joules = res.value[SEARCH_COST_ENERGY];
    int eng_ok[HWCOST_MAX_ENGINES];
    for (int e = 0; e < t->nengines; e++) eng_ok[e] = 1;
    for (int r = 0; r < nrows; r++) {
        total.act_bytes = rows[r].act_bytes > total.act_bytes ? rows[r].act_bytes : total.act_bytes;
        for (int e = 0; e < t->nengines; e++) {
            total.cyc[e] += rows[r].cyc[e];
            eng_ok[e] &= rows[r].ok[e];
        }
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
        if (res.nunmapped)
            printf("note: %d layer(s) have no engine on %s at w%ld a%ld (not in the latency total)\n",
                   res.nunmapped, t->name, wbits, abits);
        print_memory(t, tpath, net, &res);
    }
done:
    search_cost_result_free(&res);
    search_bridge_free(b);
    train_net_free(net);
    free(t);
    return rc;
}
