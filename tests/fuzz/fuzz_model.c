/* Fuzz target: the model loader (train_net_load_string), input = model
 * YAML text. A network that loads and is small (bounds below) is then
 * reserved at batch 1, initialized and run forward in eval and training
 * mode and backward, on zeros: the kernels index their buffers with the
 * shapes the loader inferred, so a wrong shape shows up as an ASan report
 * here rather than in a training run. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "net.h"

/* Bounds for running the network (per sample): activations of all layers,
 * conv scratch, and work (conv/linear MACs + pooling window reads), so one
 * input stays well under the fuzzer's time and memory limits. */
#define MAX_ACT_VALUES 1000000
#define MAX_SCRATCH_FLOATS 4000000
#define MAX_WORK 20000000

static int small_enough(const train_net *net) {
    int64_t act = 0, work = train_net_total_counts(net).macs;
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        int64_t vals = (int64_t)L->c * L->h * L->w;
        act += vals;
        if (L->op == TRAIN_OP_MAXPOOL || L->op == TRAIN_OP_AVGPOOL) work += vals * L->kh * L->kw;
        if (L->op == TRAIN_OP_CONV) {
            const train_layer *in = &net->layers[L->inputs[0]];
            /* as net.c lays it out for batch 1 */
            // clang-format off
            train_conv_dims d = {
                .n = 1, .cin = in->c, .hin = in->h, .win = in->w, .cout = L->c, .hout = L->h,
                .wout = L->w, .kh = L->kh, .kw = L->kw, .sh = L->sh, .sw = L->sw, .dh = L->dh,
                .dw = L->dw, .pt = L->pt, .pl = L->pl, .groups = L->groups};
            // clang-format on
            if (train_conv2d_scratch_floats(&d) > MAX_SCRATCH_FLOATS) return 0;
        }
        if (act > MAX_ACT_VALUES || work > MAX_WORK) return 0;
    }
    return 1;
}

/* Reserves buffers for batch; a refusal (too much memory) must come with a
 * valid status and message, and skips the run. */
static int reserve(train_net *net, int batch) {
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = train_net_reserve(net, batch, &err);
    fuzz_check(st, &err, "train_net_reserve");
    return st == DNAS_OK;
}

static void run(train_net *net) {
    if (!reserve(net, 1)) return;
    train_net_init(net, 1);
    const train_layer *in = &net->layers[0];
    float *x = dnas_xcalloc((size_t)in->c * in->h * in->w, sizeof *x);
    float *dout = dnas_xcalloc((size_t)train_net_output_size(net), sizeof *dout);
    train_net_forward(net, x, 1, 0);
    train_net_forward(net, x, 1, 1);
    train_net_backward(net, dout, 1);
    free(x);
    free(dout);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    char *text = fuzz_cstr(data, size);
    train_net *net = NULL;
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = train_net_load_string(&net, text, "fuzz_model.yaml", &err);
    fuzz_check(st, &err, "train_net_load_string");
    if (st == DNAS_OK) {
        if (small_enough(net)) run(net);
        train_net_free(net);
    } else if (net) {
        fprintf(stderr, "fuzz: train_net_load_string failed but set *net\n");
        abort();
    }
    free(text);
    return 0;
}
