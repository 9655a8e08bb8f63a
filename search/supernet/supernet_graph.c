/* SuperNet's view of a network, read once: its choice blocks (one per mix
 * layer) and the layers of each branch.
 *
 * Algorithm (layers are in topological order: a layer reads only earlier
 * ones):
 *   1. Readers: how many times each layer is read (a layer reading x twice
 *      counts twice), and by whom.
 *   2. Per mix M, per input k (x_k): x_k is in branch k when it is not the
 *      network input and M is its only reader; then, for i = x_k − 1 down
 *      to 1, layer i is in branch k when it is read and every reader of it
 *      is in branch k (the exclusive ancestors of x_k).
 *   3. Checks: no mix reads a layer twice, none is the network output, none
 *      lies in another block's branch (nested blocks; a layer in two
 *      branches means that too: all its paths end in both mixes).
 *   4. alpha: the blocks' logits in layer order of their mixes, 1/N each. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supernet.h"

typedef struct {
    int *count; /* per layer: times read */
    int *start; /* per layer: its readers at who[start[i] .. start[i + 1]) */
    int *who;
} readers;

static void readers_init(readers *r, const train_net *net) {
    int n = net->nlayers, total = 0;
    r->count = dnas_xcalloc((size_t)n, sizeof *r->count);
    r->start = dnas_xcalloc((size_t)n + 1, sizeof *r->start);
    for (int i = 1; i < n; i++)
        for (int j = 0; j < net->layers[i].ninputs; j++) r->count[net->layers[i].inputs[j]]++, total++;
    for (int i = 0; i < n; i++) r->start[i + 1] = r->start[i] + r->count[i];
    r->who = dnas_xcalloc((size_t)total + 1, sizeof *r->who);
    int *at = dnas_xcalloc((size_t)n, sizeof *at);
    for (int i = 1; i < n; i++)
        for (int j = 0; j < net->layers[i].ninputs; j++) {
            int x = net->layers[i].inputs[j];
            r->who[r->start[x] + at[x]++] = i;
        }
    free(at);
}

static const char *name_of_input(const train_net *net, int i) {
    return i ? net->layers[i].name : "input";
}

static void readers_free(readers *r) {
    free(r->count);
    free(r->start);
    free(r->who);
}

/* "<model>:<line>: supernet: ..." for layer i (no line for a spec made in C). */
static dnas_status fail_at(const train_net *net, int i, dnas_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dnas_status fail_at(const train_net *net, int i, dnas_error *err, const char *fmt, ...) {
    char what[DNAS_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (net->layers[i].line > 0)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "%s:%d: supernet: mix '%s' %s", net->path, net->layers[i].line,
                         net->layers[i].name, what);
    return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "%s: supernet: mix '%s' %s", net->path, net->layers[i].name, what);
}

/* Step 2 for input k of block b; mark: scratch, nlayers. */
static dnas_status mark_branch(search_supernet *s, const readers *r, int b, int k, char *mark, dnas_error *err) {
    const train_net *net = s->net;
    int m = s->blocks[b].mix, x = net->layers[m].inputs[k];
    if (x == 0 || r->count[x] != 1) return DNAS_OK; /* empty branch (a skip) */
    memset(mark, 0, (size_t)net->nlayers);
    mark[x] = 1;
    for (int i = x - 1; i >= 1; i--) { /* readers after x (M included) are never marked */
        if (!r->count[i]) continue;
        int all = 1;
        for (int q = r->start[i]; q < r->start[i + 1] && all; q++) all = mark[r->who[q]];
        mark[i] = (char)all;
    }
    for (int i = 1; i <= x; i++) {
        if (!mark[i]) continue;
        if (s->block_of[i] >= 0) /* only when that block's mix leads into this branch (step 3) */
            return fail_at(net, s->blocks[s->block_of[i]].mix, err,
                           "is inside a branch of mix '%s' (nested choice blocks are not supported)",
                           net->layers[m].name);
        s->block_of[i] = b, s->branch_of[i] = k;
    }
    return DNAS_OK;
}

static dnas_status find_blocks(search_supernet *s, dnas_error *err) {
    train_net *net = s->net;
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_MIX) continue;
        if (i == net->output)
            return fail_at(net, i, err, "is the network output (a choice block needs a layer after it)");
        for (int j = 0; j < L->ninputs; j++)
            for (int q = 0; q < j; q++)
                if (L->inputs[j] == L->inputs[q])
                    return fail_at(net, i, err, "reads '%s' twice", name_of_input(net, L->inputs[j]));
        search_supernet_block *B = &s->blocks[s->nblocks++];
        B->mix = i, B->n = L->ninputs, B->off = s->nalpha;
        s->nalpha += (size_t)L->ninputs;
    }
    if (!s->nblocks)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                         "%s: supernet: the model has no choice block (a mix layer over the branches; "
                         "docs/models.md \"Choice blocks\")",
                         net->path);
    readers r;
    readers_init(&r, net);
    char *mark = dnas_xcalloc((size_t)net->nlayers, 1);
    dnas_status st = DNAS_OK;
    for (int b = 0; b < s->nblocks && !st; b++)
        for (int k = 0; k < s->blocks[b].n && !st; k++) st = mark_branch(s, &r, b, k, mark, err);
    for (int b = 0; b < s->nblocks && !st; b++) {
        int m = s->blocks[b].mix;
        if (s->block_of[m] >= 0)
            st = fail_at(net, m, err, "is inside a branch of mix '%s' (nested choice blocks are not supported)",
                         net->layers[s->blocks[s->block_of[m]].mix].name);
    }
    free(mark);
    readers_free(&r);
    return st;
}

dnas_status search_supernet_init(search_supernet **out, train_net *net, const search_supernet_params *p,
                                 uint64_t seed, dnas_error *err) {
    *out = NULL;
    search_supernet *s = dnas_xcalloc(1, sizeof *s);
    size_t n = (size_t)net->nlayers;
    s->net = net;
    s->p = *p;
    s->blocks = dnas_xcalloc(n, sizeof *s->blocks);
    s->block_of = dnas_xmalloc(n * sizeof *s->block_of);
    s->branch_of = dnas_xmalloc(n * sizeof *s->branch_of);
    for (size_t i = 0; i < n; i++) s->block_of[i] = s->branch_of[i] = -1;
    dnas_status st = find_blocks(s, err);
    if (st) {
        search_supernet_free(s);
        return st;
    }
    size_t na = s->nalpha + 1;
    s->alpha = dnas_xcalloc(na, sizeof *s->alpha);
    s->soft = dnas_xcalloc(na, sizeof *s->soft);
    s->theta = dnas_xcalloc(na, sizeof *s->theta);
    s->dtheta = dnas_xcalloc(na, sizeof *s->dtheta);
    s->tmp = dnas_xcalloc(na, sizeof *s->tmp);
    for (int b = 0; b < s->nblocks; b++)
        for (int k = 0; k < s->blocks[b].n; k++) s->alpha[s->blocks[b].off + (size_t)k] = 1.0f / (float)s->blocks[b].n;
    /* its own stream: the data order and initialization draw from the seed too */
    s->rng = seed ^ 0x5375706572ull;
    s->tau = (float)p->tau_start;
    search_supernet_forward(s);
    *out = s;
    return DNAS_OK;
}

void search_supernet_free(search_supernet *s) {
    if (!s) return;
    free(s->blocks);
    free(s->block_of);
    free(s->branch_of);
    free(s->alpha);
    free(s->soft);
    free(s->theta);
    free(s->dtheta);
    free(s->tmp);
    free(s);
}
