/* dnas summary MODEL.yaml [--csv]: per-layer shapes, parameters and MACs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "train.h"

static const char *HELP =
    "usage: dnas summary MODEL.yaml [--csv]\n"
    "\n"
    "Loads a model YAML (format: docs/models.md), infers every shape and prints\n"
    "one row per layer: op, output shape (C x H x W), weights, biases, BN\n"
    "parameters and MACs, then the totals.\n"
    "\n"
    "  weights  conv/linear weights, biases not included\n"
    "  biases   conv/linear biases\n"
    "  bn       batchnorm gamma + beta (running statistics not counted)\n"
    "  macs     weights x output pixels: multiply-accumulates of conv/linear\n"
    "           layers; bias adds, BN, pooling and activations not counted\n"
    "\n"
    "options:\n"
    "  --csv    comma-separated output with a header row and a final 'total' row\n"
    "  --help   this text\n"
    "\n"
    CLI_HELP_EXIT ".\n";

static void print_row(int csv, const char *name, const char *op, const char *shape, const train_counts *c) {
    if (csv)
        printf("%s,%s,%s,%lld,%lld,%lld,%lld\n", name, op, shape, (long long)c->weights,
               (long long)c->biases, (long long)c->bn, (long long)c->macs);
    else
        printf("%-20s %-15s %-14s %10lld %8lld %6lld %12lld\n", name, op, shape, (long long)c->weights,
               (long long)c->biases, (long long)c->bn, (long long)c->macs);
}

int cli_summary(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    const char *path = NULL;
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--csv"))
            csv = 1;
        else if (cli_positional(argv, i, "MODEL.yaml", &path))
            return CLI_EXIT_USAGE;
    }
    if (!path) return cli_missing(argv, "MODEL.yaml", HELP);
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, path, &err)) {
        fprintf(stderr, "dnas summary: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    if (csv)
        printf("layer,op,shape,weights,biases,bn,macs\n");
    else
        printf("model %s (%s)\n%-20s %-15s %-14s %10s %8s %6s %12s\n", net->name, path, "layer", "op",
               "output", "weights", "biases", "bn", "macs");
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        char shape[48];
        snprintf(shape, sizeof shape, csv ? "%dx%dx%d" : "%d x %d x %d", L->c, L->h, L->w);
        train_counts c = train_net_layer_counts(net, i);
        const char *op = train_op_name(L->op);
        if (L->op == TRAIN_OP_CONV && L->groups > 1 && L->groups == L->c) op = "depthwise";
        if (L->op == TRAIN_OP_RELU && L->cap > 0) op = "relu6";
        print_row(csv, L->name, op, shape, &c);
    }
    train_counts t = train_net_total_counts(net);
    if (!csv) printf("%.*s\n", 95, "-----------------------------------------------------------------------------------------------");
    print_row(csv, "total", "", "", &t);
    if (!csv)
        printf("parameters: %lld (weights %lld + biases %lld + bn %lld)\n",
               (long long)(t.weights + t.biases + t.bn), (long long)t.weights, (long long)t.biases,
               (long long)t.bn);
    train_net_free(net);
    return CLI_EXIT_OK;
}
