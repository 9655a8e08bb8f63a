/* bench_cost: time of evaluating every hwcost model and its gradient over a
 * whole network, against one training step of the same network.
 *
 * The budget: all costs + gradients of a network in under 1% of one
 * training step (train_net_forward + train_net_backward, batch 128, one
 * thread). Network: configs/models/resnet8_fmnist.yaml (or argv[1]).
 * Per "cost evaluation" it computes, for every conv/linear layer with
 * 3 weight precisions {2, 4, 8} (softmax-like θ) and 8-bit activations:
 * the 7 target-independent models, latency (cycles, seconds) and energy on
 * every engine of every target in configs/targets/ (6 targets, 8 engines),
 * ODiMO's parallel latency and energy on DIANA (half the channels each),
 * and the network's peak activation bytes with its gradient.
 * Then the cost bridge (search/bridge.h) on the same network and state,
 * per target: search_bridge_eval, i.e. every cost of the network (models,
 * latency and energy of the chosen engine, memory and each memory level)
 * with its gradient with respect to every layer's Cout_eff, K_eff and θ;
 * engines "fastest" on every target, and the ODiMO split on DIANA.
 *
 * Built with the project (scripts/build.sh); run from the source tree:
 *
 *   OPENBLAS_NUM_THREADS=1 build/bench/bench_cost [MODEL.yaml]
 *
 * Output: seconds per cost evaluation, per training step, and their ratio;
 * then one line per target: seconds per bridge evaluation and the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwcost.h"
#include "search.h"
#include "train.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static const char *TARGETS[] = {"diana", "gap8", "mpic", "ne16", "cortex_m4", "cortex_m7"};
#define NT 6

typedef struct {
    hwcost_layer l[256];
    int n;
    hwcost_tensor t[256];
    int nt;
} net_desc;

/* Same conversion as cli/cost.c, without the aliasing of BN/ReLU outputs
 * (every layer's output is a tensor: more work, not less). */
static void describe(const train_net *net, net_desc *d) {
    d->n = d->nt = 0;
    for (int i = 0; i < net->nlayers && d->nt < 256; i++) {
        const train_layer *L = &net->layers[i];
        d->t[d->nt++] = (hwcost_tensor){L->c, L->h, L->w, i, i, hwcost_prec_single(8)};
        for (int j = 0; j < L->ninputs; j++)
            if (d->t[L->inputs[j]].last < i) d->t[L->inputs[j]].last = i;
        if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) continue;
        const train_layer *I = &net->layers[L->inputs[0]];
        hwcost_layer *l = &d->l[d->n++];
        *l = hwcost_layer_default();
        l->kind = L->op == TRAIN_OP_LINEAR               ? HWCOST_LINEAR
                  : (L->groups > 1 && L->groups == L->c) ? HWCOST_DEPTHWISE
                                                         : HWCOST_CONV;
        l->cin = L->op == TRAIN_OP_LINEAR ? (double)I->c * I->h * I->w : I->c;
        l->cout = L->c;
        if (L->op == TRAIN_OP_CONV) {
            l->kh = L->kh, l->kw = L->kw, l->k = L->kh * L->kw;
            l->oh = L->h, l->ow = L->w, l->groups = L->groups;
        }
        l->bias = L->has_bias;
        l->w.n = 3;
        l->w.bits[0] = 2, l->w.bits[1] = 4, l->w.bits[2] = 8;
        l->w.prob[0] = 0.2, l->w.prob[1] = 0.3, l->w.prob[2] = 0.5;
    }
}

/* Seconds per search_bridge_eval on target t (repeated for at least 0.1 s):
 * weights over {2, 4, 8} bits as above, 8-bit activations, half of every
 * layer's channels on each parallel engine. */
static double time_bridge(const train_net *net, const hwcost_target *t, search_engine_mode mode,
                          double *chk) {
    search_bridge *b;
    dnas_error err;
    if (search_bridge_init(&b, net, &err)) {
        fprintf(stderr, "bench_cost: %s\n", err.msg);
        exit(1);
    }
    search_layer_state *s = calloc((size_t)net->nlayers, sizeof *s);
    search_bridge_state_default(b, s, 8, 8);
    for (int i = 0; i < net->nlayers; i++) {
        s[i].w.n = 3;
        s[i].w.bits[0] = 2, s[i].w.bits[1] = 4, s[i].w.bits[2] = 8;
        s[i].w.prob[0] = 0.2, s[i].w.prob[1] = 0.3, s[i].w.prob[2] = 0.5;
        s[i].share[0] = s[i].share[1] = 0.5;
    }
    search_cost_result r;
    search_cost_result_init(&r, b);
    search_cost_params p = search_cost_default_params();
    p.target = t;
    p.mode = mode;
    long reps = 0;
    double t0 = now(), dt;
    do {
        for (int k = 0; k < 20; k++) {
            if (search_bridge_eval(b, s, &p, &r, &err)) {
                fprintf(stderr, "bench_cost: %s\n", err.msg);
                exit(1);
            }
            *chk += r.value[SEARCH_COST_MEMORY] + r.grad[SEARCH_COST_CYCLES][1].d_cout;
        }
        reps += 20;
    } while ((dt = now() - t0) < 0.1);
    search_cost_result_free(&r);
    free(s);
    search_bridge_free(b);
    return dt / reps;
}

/* One full evaluation; returns a checksum so nothing is optimized away. */
static double eval_all(const net_desc *d, const hwcost_target *t) {
    double sum = 0, dch[256], dp[256][HWCOST_MAX_PREC];
    hwcost_grad g, gp[HWCOST_MAX_ENGINES];
    for (int i = 0; i < d->n; i++) {
        const hwcost_layer *l = &d->l[i];
        for (int m = 0; m < HWCOST_MODEL_COUNT_; m++)
            if (!hwcost_eval((hwcost_model)m, l, &g, NULL)) sum += g.value + g.d_cin;
        for (int k = 0; k < NT; k++) {
            for (int e = 0; e < t[k].nengines; e++) {
                if (!hwcost_latency_cycles(&t[k], e, l, &g, NULL)) sum += g.value + g.d_cout;
                if (!hwcost_latency_seconds(&t[k], e, l, &g, NULL)) sum += g.value;
                if (!hwcost_energy(&t[k], e, l, &g, NULL)) sum += g.value;
            }
            if (t[k].nparallel == 2) {
                hwcost_layer parts[2] = {*l, *l};
                parts[0].cout = parts[1].cout = l->cout / 2;
                double v;
                if (!hwcost_parallel_latency(&t[k], parts, &v, gp, NULL)) sum += v + gp[0].d_cout;
                if (!hwcost_parallel_energy(&t[k], parts, &v, gp, NULL)) sum += v;
            }
        }
    }
    sum += hwcost_peak_activation_bytes(d->t, d->nt, dch, dp, NULL);
    return sum;
}

int main(int argc, char **argv) {
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/models/resnet8_fmnist.yaml", DNAS_SOURCE_DIR);
    const char *model = argc > 1 ? argv[1] : path;
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, model, &err)) {
        fprintf(stderr, "bench_cost: %s\n", err.msg);
        return 1;
    }
    hwcost_target *t = malloc(NT * sizeof *t);
    for (int k = 0; k < NT; k++) {
        dnas_error herr;
        snprintf(path, sizeof path, "%s/configs/targets/%s.yaml", DNAS_SOURCE_DIR, TARGETS[k]);
        if (hwcost_target_load(&t[k], path, &herr)) {
            fprintf(stderr, "bench_cost: %s\n", herr.msg);
            return 1;
        }
    }
    static net_desc d;
    describe(net, &d);

    /* cost: repeat until at least 0.2 s */
    double chk = 0, t0 = now(), tc;
    long reps = 0;
    do {
        for (int r = 0; r < 100; r++) chk += eval_all(&d, t);
        reps += 100;
    } while ((tc = now() - t0) < 0.2);
    double cost_s = tc / reps;

    /* training step: forward + backward, batch 128, after one warm-up */
    int batch = 128, in = net->layers[0].c * net->layers[0].h * net->layers[0].w;
    int out = train_net_output_size(net);
    train_net_init(net, 1);
    if (train_net_reserve(net, batch, &err)) {
        fprintf(stderr, "bench_cost: %s\n", err.msg);
        return 1;
    }
    float *x = malloc(sizeof(float) * batch * in), *dout = malloc(sizeof(float) * batch * out);
    for (int i = 0; i < batch * in; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f;
    for (int i = 0; i < batch * out; i++) dout[i] = (float)((i * 104729) % 100) / 1e4f;
    int steps = 3;
    for (int s = -1; s < steps; s++) {
        if (s == 0) t0 = now();
        memset(net->grads, 0, net->nparams * sizeof(float));
        train_net_forward(net, x, batch, 1);
        train_net_backward(net, dout, batch);
    }
    double step_s = (now() - t0) / steps;
    printf("model %s: %d conv/linear layers, %d tensors, %d targets\n", net->name, d.n, d.nt, NT);
    printf("cost + gradients, all models and targets: %.3g s (%ld reps; checksum %.6g)\n", cost_s, reps,
           chk / reps);
    printf("training step (forward + backward, batch %d): %.3g s\n", batch, step_s);
    printf("ratio cost / step: %.3g (%.5f%%; budget 1%%)\n", cost_s / step_s, 100 * cost_s / step_s);

    /* the cost bridge, whole network, every cost and gradient, per target */
    printf("\ncost bridge (search_bridge_eval: all costs + gradients w.r.t. Cout_eff, K_eff, theta):\n");
    printf("%-10s %-9s %12s %12s %10s\n", "target", "engines", "s/eval", "s/step", "ratio");
    double worst = 0, bchk = 0;
    for (int k = 0; k <= NT; k++) {
        const hwcost_target *tk = &t[k < NT ? k : 0]; /* the last line: ODiMO on DIANA */
        search_engine_mode mode = k < NT ? SEARCH_ENGINE_FASTEST : SEARCH_ENGINE_PARALLEL;
        double b_s = time_bridge(net, tk, mode, &bchk);
        if (b_s / step_s > worst) worst = b_s / step_s;
        printf("%-10s %-9s %12.3g %12.3g %10.3g\n", tk->name, k < NT ? "fastest" : "odimo", b_s, step_s,
               b_s / step_s);
    }
    printf("worst bridge ratio: %.3g (%.5f%%; budget 1%%; checksum %.6g)\n", worst, 100 * worst, bchk);
    free(x);
    free(dout);
    free(t);
    train_net_free(net);
    return cost_s / step_s < 0.01 && worst < 0.01 ? 0 : 1;
}
