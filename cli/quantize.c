/* dnas quantize CKPT.h5 --out QUANT.h5: the integer network of a trained
 * checkpoint (search/quant.h), its float and integer test accuracy. This
 * file parses the command line, loads, calls the export and prints. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "deploy.h"
#include "search.h"
#include "train.h"

/* clang-format off */
static const char *HELP =
    "usage: dnas quantize CKPT.h5 --out QUANT.h5 [--config CONFIG.yaml] [--bits 8]\n"
    "                     [--calib-batches 10] [--percentile 99.99] [--threads T] [--quiet]\n"
    "\n"
    "Turns the float network of a checkpoint (dnas train) into an integer\n"
    "network (docs/deploy.md): BN folded into the conv or linear before it,\n"
    "ReLU/ReLU6 fused into the requantization, weights symmetric per output\n"
    "channel, activation scales calibrated on training batches (a percentile\n"
    "of the values each tensor takes), int32 biases, per-channel multipliers\n"
    "with one shift per layer. Writes it to QUANT.h5 (group /qnet) and prints the float\n"
    "and the integer accuracy on the test split; the integer one runs the\n"
    "dnas_rt kernels, bit for bit what deployed code computes.\n"
    "\n"
    "The model is the one stored in the checkpoint. The data (and batch size,\n"
    "seed) come from the config stored in it, whose relative paths are read\n"
    "from the current directory, or from --config.\n"
    "\n"
    "options:\n"
    "  --out QUANT.h5        the file to write (required)\n"
    "  --config CONFIG.yaml  the training config to take the data from\n"
    "  --bits B              weight and activation bits, 2..8 (default 8)\n"
    "  --calib-batches N     training batches for the activation ranges,\n"
    "                        1.." CLI_STR(SEARCH_QUANT_MAX_CALIB) " (default 10; at most one epoch's)\n"
    "  --percentile P        the percentile of |x| that sets a tensor's scale,\n"
    "                        in (0, 100] (default 99.99; 100: the largest |x|;\n"
    "                        larger values clip)\n"
    "  --threads T           threads of the float network, 1.." CLI_STR(TRAIN_MAX_THREADS) "\n"
    "                        (default: the config's, else one per core)\n"
    "  --quiet               only the result line\n"
    "  --help                this text\n"
    "\n"
    "The final line is machine-readable (accuracies in [0, 1], -1 when the\n"
    "config's loss is mse or there is no test split):\n"
    "  result float_acc=A int_acc=B ops=N weight_bytes=W\n"
    "\n"
    "Refused with exit code 1, naming the layer: a batchnorm not directly\n"
    "after a conv/linear read by it alone, a relu that cannot be fused,\n"
    "concat, an add of more than two inputs, an avgpool with padding.\n"
    "\n"
    CLI_HELP_EXIT ".\n";
/* clang-format on */

typedef struct {
    const char *ckpt, *out, *config;
    long bits, calib, threads;
    double percentile;
    int quiet;
} opts;

static int parse(int argc, char **argv, opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!strcmp(a, "--quiet"))
            o->quiet = 1;
        else if (!strcmp(a, "--out"))
            rc = cli_opt_path(argc, argv, &i, "QUANT.h5", 4090, &o->out);
        else if (!strcmp(a, "--config"))
            rc = cli_opt_str(argc, argv, &i, "CONFIG.yaml", &o->config);
        else if (!strcmp(a, "--bits"))
            rc = cli_opt_long(argc, argv, &i, "B", 2, 8, &o->bits);
        else if (!strcmp(a, "--calib-batches"))
            rc = cli_opt_long(argc, argv, &i, "N", 1, SEARCH_QUANT_MAX_CALIB, &o->calib);
        else if (!strcmp(a, "--percentile"))
            rc = cli_opt_double(argc, argv, &i, "P", 0, 100, 1, &o->percentile);
        else if (!strcmp(a, "--threads"))
            rc = cli_opt_long(argc, argv, &i, "T", 1, TRAIN_MAX_THREADS, &o->threads);
        else
            rc = cli_positional(argv, i, "CKPT.h5", &o->ckpt);
        if (rc) return rc;
    }
    if (!o->ckpt) return cli_missing(argv, "CKPT.h5", HELP);
    if (!o->out) return cli_missing(argv, "--out QUANT.h5", HELP);
    return 0;
}

/* The config, and the network with the checkpoint's weights. */
static dnas_status load(const opts *o, train_net **net, train_config *cfg, dnas_error *err) {
    char *cfg_text = NULL, *model_text = NULL, name[4200];
    memset(cfg, 0, sizeof *cfg);
    dnas_status st = train_ckpt_load_texts(o->ckpt, o->config ? NULL : &cfg_text, &model_text, err);
    if (st) return st;
    snprintf(name, sizeof name, "%s:/config_yaml", o->ckpt);
    if (o->config)
        st = train_config_load(cfg, o->config, err);
    else if (!cfg_text[0])
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                       "%s: the checkpoint holds no config text (pass --config)", o->ckpt);
    else
        st = train_config_load_text(cfg, cfg_text, name, err);
    snprintf(name, sizeof name, "%s:/model_yaml", o->ckpt);
    if (!st && !model_text[0])
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: the checkpoint holds no model text", o->ckpt);
    else if (!st)
        st = train_net_load_string(net, model_text, name, err);
    free(cfg_text);
    free(model_text);
    if (!st && !strcmp((*net)->name, "model_yaml")) {
        /* no name in the text: the one dnas train gave it, from the model file's name */
        const char *base = strrchr(cfg->model, '/') ? strrchr(cfg->model, '/') + 1 : cfg->model;
        if (base[0])
            snprintf((*net)->name, sizeof(*net)->name, "%.*s", (int)strcspn(base, "."), base);
    }
    train_ckpt_meta meta;
    if (!st) st = train_ckpt_load(o->ckpt, *net, NULL, &meta, err);
    return st;
}

/* The data fits the network (as dnas train checks it). */
static dnas_status check_data(const train_net *net, const train_config *cfg,
                              const train_dataset *ds, dnas_error *err) {
    const train_layer *in = &net->layers[0];
    if (ds->c != in->c || ds->h != in->h || ds->w != in->w)
        return dnas_fail(err, DNAS_ERR_SHAPE,
                         "%s: data samples are (%d, %d, %d) but model %s expects "
                         "input [%d, %d, %d]",
                         cfg->path, ds->c, ds->h, ds->w, net->name, in->c, in->h, in->w);
    int k = train_net_output_size(net);
    if (cfg->loss == TRAIN_LOSS_XENT && (!ds->y || ds->num_classes > k))
        return dnas_fail(err, DNAS_ERR_SHAPE, "%s: %s but model %s outputs %d values", cfg->path,
                         ds->y ? "the data has more classes" : "the data has no labels", net->name,
                         k);
    return DNAS_OK;
}

static size_t weight_bytes(const deploy_qnet *q) {
    size_t n = 0;
    for (int k = 0; k < q->nops; k++)
        n += q->ops[k].wlen;
    return n;
}

static void print_ops(const deploy_qnet *q) {
    printf("%-4s %-16s %-15s %-16s %-3s %4s %12s %5s\n", "op", "layer", "kind", "out [H][W][C]",
           "sgn", "bits", "scale", "shift");
    for (int k = 0; k < q->nops; k++) {
        const deploy_qop *op = &q->ops[k];
        const deploy_qtensor *t = &q->tensors[op->out];
        char shape[48];
        snprintf(shape, sizeof shape, "[%d][%d][%d]", t->h, t->w, t->c);
        printf("%-4d %-16s %-15s %-16s %-3s %4d %12.6g %5d\n", k, op->name,
               deploy_qop_kind_name(op->kind), shape, t->is_signed ? "s" : "u", t->bits,
               (double)t->scale, op->shift);
    }
}

static int run(const opts *o) {
    train_net *net = NULL;
    train_config cfg;
    train_dataset train, val, test;
    memset(&train, 0, sizeof train), memset(&val, 0, sizeof val), memset(&test, 0, sizeof test);
    deploy_qnet q;
    deploy_qnet_init(&q, "");
    deploy_qnet_input prep = {0};
    dnas_error err;
    float facc = -1, iacc = -1, floss;
    dnas_status st = load(o, &net, &cfg, &err);
    if (!st) st = search_quant_check(net, &err); /* before the data is read */
    if (!st) {
        int threads = o->threads ? (int)o->threads : cfg.threads;
        omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
        openblas_set_num_threads(1); /* as dnas train: the engine threads its own loops */
        st = search_quant_prepare_data(&cfg, &train, &val, &test, &prep, &err);
    }
    if (!st) st = check_data(net, &cfg, &train, &err);
    if (!st && test.count) st = check_data(net, &cfg, &test, &err);
    search_quant_params p = search_quant_default_params();
    p.wbits = p.abits = (int)o->bits;
    p.calib_batches = (int)o->calib;
    p.percentile = o->percentile;
    p.batch = cfg.batch;
    p.seed = cfg.seed;
    if (!st) st = search_quant_export(&q, net, &train, &p, &err);
    if (!st) deploy_qnet_copy_input(&q.input, &prep); /* how raw samples become its input */
    int classify = cfg.loss == TRAIN_LOSS_XENT && test.count > 0;
    if (!st && classify) st = train_evaluate(net, &test, cfg.batch, cfg.loss, &floss, &facc, &err);
    if (!st && classify) st = search_quant_accuracy(&q, &test, &iacc, &err);
    deploy_quant_info info = {o->ckpt, facc, iacc};
    if (!st) st = deploy_qnet_save(o->out, &q, &info, &err);
    if (!st && !o->quiet) {
        printf("model %s from %s: %d integer ops, %d-bit weights and activations, scales from the "
               "%g%% percentile over %d batches of %d\n",
               net->name, o->ckpt, q.nops, p.wbits, p.percentile, p.calib_batches, p.batch);
        print_ops(&q);
        if (classify)
            printf("test accuracy (%d samples): float %.2f%%, integer %.2f%%\n", test.count,
                   100.0 * facc, 100.0 * iacc);
        else
            printf("no accuracy: %s\n", test.count ? "the config's loss is mse" : "no test split");
        printf("wrote %s\n", o->out);
    }
    if (!st)
        printf("result float_acc=%.4f int_acc=%.4f ops=%d weight_bytes=%zu\n", facc, iacc, q.nops,
               weight_bytes(&q));
    else
        fprintf(stderr, "dnas quantize: %s\n", err.msg);
    deploy_qnet_free(&q);
    deploy_qnet_input_free(&prep);
    train_dataset_free(&train), train_dataset_free(&val), train_dataset_free(&test);
    train_config_free(&cfg);
    train_net_free(net);
    return st ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_quantize(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    search_quant_params d = search_quant_default_params();
    opts o = {.bits = d.wbits, .calib = d.calib_batches, .percentile = d.percentile};
    int rc = parse(argc, argv, &o);
    return rc ? rc : run(&o);
}
