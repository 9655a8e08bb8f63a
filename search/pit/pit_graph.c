/* PIT's view of a network, read once: channel groups and which of them
 * stay fixed, the channel map of every layer's output, which conv/linear
 * layers the view masks, and the time-masked convs.
 *
 * Algorithm:
 *   1. Groups: one per distinct channel owner (search_bridge_channel_owner)
 *      of the conv/linear layers that start a channel set (not depthwise),
 *      owner 0 (the input's set) excluded. Single-channel groups are fixed.
 *   2. Channel maps, in layer order, with fixed groups mapping to -1: a
 *      conv/linear starting a set maps channel c to (its group, c); BN,
 *      ReLU, dropout, pools, pact, add, mix and depthwise convs copy input
 *      0's map; concat joins its inputs' maps; flatten repeats each
 *      channel's entry H·W times.
 *   3. Fix what cannot be pruned exactly: the groups in the output's map,
 *      the groups an add or mix combines channel by channel with a
 *      different map (e.g. a concat's), the input and output groups of
 *      grouped (not depthwise) convs. Repeat 2–3 until nothing changes.
 *   4. alpha: each unfixed group's `a` (in group order), then `b` and `g`
 *      of each conv1d with stride 1 and K >= 2 (in layer order); the maps
 *      of step 2 again, now pointing into alpha. */
#include <stdlib.h>
#include <string.h>

#include "pit.h"

/* bridge's depthwise rule: groups = channels in and out */
static int is_depthwise(const train_net *net, const train_layer *L) {
    const train_layer *I = &net->layers[L->inputs[0]];
    return L->op == TRAIN_OP_CONV && L->groups > 1 && L->groups == L->c && L->groups == I->c;
}

static int starts_set(const train_net *net, int i) {
    const train_layer *L = &net->layers[i];
    return (L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR) && !is_depthwise(net, L);
}

/* Step 2 with base[g] the first index of group g's channels (-1: fixed).
 * DNAS_ERR_UNSUPPORTED for an op it does not know. */
static dnas_status build_maps(search_pit *p, const long *base, dnas_error *err) {
    const train_net *net = p->net;
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        int *m = p->chmap + p->choff[i];
        const int *in0 = i > 0 && L->ninputs > 0 ? p->chmap + p->choff[L->inputs[0]] : NULL;
        if (i == 0) {
            for (int c = 0; c < L->c; c++)
                m[c] = -1;
            continue;
        }
        switch (L->op) {
        case TRAIN_OP_CONV:
        case TRAIN_OP_LINEAR:
            if (!starts_set(net, i)) {
                memcpy(m, in0, (size_t)L->c * sizeof *m);
            } else {
                int g = p->group_of[i];
                for (int c = 0; c < L->c; c++)
                    m[c] = g >= 0 && base[g] >= 0 ? (int)(base[g] + c) : -1;
            }
            break;
        case TRAIN_OP_BN:
        case TRAIN_OP_RELU:
        case TRAIN_OP_DROPOUT:
        case TRAIN_OP_MAXPOOL:
        case TRAIN_OP_AVGPOOL:
        case TRAIN_OP_GAVGPOOL:
        case TRAIN_OP_PACT:
        case TRAIN_OP_ADD:
        case TRAIN_OP_MIX:
            DNAS_ASSERT(L->c == net->layers[L->inputs[0]].c);
            memcpy(m, in0, (size_t)L->c * sizeof *m);
            break;
        case TRAIN_OP_CONCAT: {
            int at = 0;
            for (int j = 0; j < L->ninputs; j++) {
                const train_layer *I = &net->layers[L->inputs[j]];
                memcpy(m + at, p->chmap + p->choff[L->inputs[j]], (size_t)I->c * sizeof *m);
                at += I->c;
            }
            DNAS_ASSERT(at == L->c);
            break;
        }
        case TRAIN_OP_FLATTEN: {
            const train_layer *I = &net->layers[L->inputs[0]];
            int hw = I->h * I->w;
            for (int f = 0; f < L->c; f++)
                m[f] = in0[f / hw];
            break;
        }
        default:
            return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "pit: layer '%s' (%s): op not supported by PIT",
                             L->name, train_layer_op_name(L));
        }
    }
    return DNAS_OK;
}

/* Fixes the group of every channel in map[0..n) (gid: channel -> group). */
static int fix_map(const int *map, int n, const int *gid, char *fixed) {
    int changed = 0;
    for (int c = 0; c < n; c++)
        if (map[c] >= 0 && !fixed[gid[map[c]]]) fixed[gid[map[c]]] = 1, changed = 1;
    return changed;
}

/* Step 3 once; returns 1 when a group was newly fixed. */
static int fix_groups(search_pit *p, const int *gid, char *fixed) {
    const train_net *net = p->net;
    int changed = fix_map(p->chmap + p->choff[net->output], net->layers[net->output].c, gid, fixed);
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        const int *m = p->chmap + p->choff[i];
        if (L->op == TRAIN_OP_ADD || L->op == TRAIN_OP_MIX) {
            for (int j = 1; j < L->ninputs; j++) {
                const int *mj = p->chmap + p->choff[L->inputs[j]];
                if (memcmp(m, mj, (size_t)L->c * sizeof *m)) {
                    changed |= fix_map(m, L->c, gid, fixed);
                    changed |= fix_map(mj, L->c, gid, fixed);
                }
            }
        }
        if (L->op == TRAIN_OP_CONV && L->groups > 1 && !is_depthwise(net, L)) {
            changed |= fix_map(p->chmap + p->choff[L->inputs[0]], net->layers[L->inputs[0]].c, gid, fixed);
            changed |= fix_map(m, L->c, gid, fixed);
        }
    }
    return changed;
}

static void find_groups(search_pit *p) {
    const train_net *net = p->net;
    int *gof_owner = dnas_xmalloc((size_t)net->nlayers * sizeof *gof_owner);
    for (int i = 0; i < net->nlayers; i++)
        gof_owner[i] = -1, p->group_of[i] = -1;
    p->groups = dnas_xcalloc((size_t)net->nlayers, sizeof *p->groups);
    for (int i = 1; i < net->nlayers; i++) {
        if (!starts_set(net, i)) continue;
        int o = search_bridge_channel_owner(p->bridge, i);
        if (o <= 0) continue;
        if (gof_owner[o] < 0) {
            gof_owner[o] = p->ngroups;
            p->groups[p->ngroups++] = (search_pit_group){o, net->layers[o].c, 0};
        }
        DNAS_ASSERT(net->layers[i].c == net->layers[o].c);
        p->group_of[i] = gof_owner[o];
    }
    free(gof_owner);
}

static int is_time_masked(const train_layer *L) {
    return L->op == TRAIN_OP_CONV && L->variant == 1 && L->kh == 1 && L->sw == 1 && L->kw >= 2;
}

dnas_status search_pit_init(search_pit **out, const train_net *net, const search_bridge *bridge,
                            dnas_error *err) {
    *out = NULL;
    search_pit *p = dnas_xcalloc(1, sizeof *p);
    size_t n = (size_t)net->nlayers;
    p->net = net;
    p->bridge = bridge;
    p->group_of = dnas_xmalloc(n * sizeof *p->group_of);
    p->time_of = dnas_xmalloc(n * sizeof *p->time_of);
    p->choff = dnas_xmalloc((n + 1) * sizeof *p->choff);
    p->masked = dnas_xcalloc(n, sizeof *p->masked);
    p->choff[0] = 0;
    for (int i = 0; i < net->nlayers; i++)
        p->choff[i + 1] = p->choff[i] + (size_t)net->layers[i].c;
    p->chmap = dnas_xmalloc(p->choff[n] * sizeof *p->chmap + 1);
    find_groups(p);

    // steps 2-3 over global channel ids gbase[g] + c, then step 4
    long *base = dnas_xmalloc(((size_t)p->ngroups + 1) * sizeof *base);
    char *fixed = dnas_xcalloc((size_t)p->ngroups + 1, 1);
    long total = 0;
    for (int g = 0; g < p->ngroups; g++)
        total += p->groups[g].c;
    int *gid = dnas_xmalloc(((size_t)total + 1) * sizeof *gid);
    total = 0;
    for (int g = 0; g < p->ngroups; g++) {
        for (int c = 0; c < p->groups[g].c; c++)
            gid[total + c] = g;
        total += p->groups[g].c;
        fixed[g] = p->groups[g].c < 2;
    }
    dnas_status st;
    do {
        long at = 0;
        for (int g = 0; g < p->ngroups; g++)
            base[g] = fixed[g] ? -1 : at, at += p->groups[g].c;
        if ((st = build_maps(p, base, err))) goto done;
    } while (fix_groups(p, gid, fixed));

    size_t off = 0;
    for (int g = 0; g < p->ngroups; g++) {
        base[g] = fixed[g] ? -1 : (long)off;
        if (!fixed[g]) p->groups[g].a_off = off, off += (size_t)p->groups[g].c;
    }
    if ((st = build_maps(p, base, err))) goto done;
    // drop the fixed groups from the list (group_of then -1)
    int *renum = dnas_xmalloc(((size_t)p->ngroups + 1) * sizeof *renum), ng = 0;
    for (int g = 0; g < p->ngroups; g++) {
        renum[g] = fixed[g] ? -1 : ng;
        if (!fixed[g]) p->groups[ng++] = p->groups[g];
    }
    for (int i = 0; i < net->nlayers; i++)
        if (p->group_of[i] >= 0) p->group_of[i] = renum[p->group_of[i]];
    p->ngroups = ng;
    free(renum);

    p->time = dnas_xcalloc(n, sizeof *p->time);
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        p->time_of[i] = -1;
        if (!is_time_masked(L)) continue;
        search_pit_time *t = &p->time[p->ntime];
        t->layer = i;
        t->k = L->kw;
        t->l = train_pit_dil_len(L->kw);
        t->b_off = off;
        t->g_off = off + (size_t)t->k;
        t->t_off = p->ntaps;
        off += (size_t)(t->k + t->l);
        p->ntaps += (size_t)t->k;
        p->time_of[i] = p->ntime++;
    }
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) continue;
        const int *m = p->chmap + p->choff[L->inputs[0]];
        for (int c = 0; c < net->layers[L->inputs[0]].c && !p->masked[i]; c++)
            p->masked[i] = m[c] >= 0;
        p->masked[i] |= p->time_of[i] >= 0;
    }
    p->nalpha = off;
    p->alpha = dnas_xmalloc((off + 1) * sizeof *p->alpha);
    for (size_t k = 0; k < off; k++)
        p->alpha[k] = 1.0f;
    p->prime = dnas_xcalloc(off + 1, sizeof *p->prime);
    p->hm = dnas_xcalloc(off + 1, sizeof *p->hm);
    p->tb = dnas_xcalloc(p->ntaps + 1, sizeof *p->tb);
    p->tg = dnas_xcalloc(p->ntaps + 1, sizeof *p->tg);
    p->tm = dnas_xcalloc(p->ntaps + 1, sizeof *p->tm);
    p->dprime = dnas_xcalloc(off + 1, sizeof *p->dprime);
    p->dtm = dnas_xcalloc(p->ntaps + 1, sizeof *p->dtm);
    p->dtb = dnas_xcalloc(p->ntaps + 1, sizeof *p->dtb);
    p->dtg = dnas_xcalloc(p->ntaps + 1, sizeof *p->dtg);
    p->dbuf = dnas_xcalloc(off + 1, sizeof *p->dbuf);
    p->view = dnas_xcalloc(net->nparams + 1, sizeof *p->view);
    search_pit_forward(p);
    *out = p;
    p = NULL;
done:
    free(base);
    free(fixed);
    free(gid);
    search_pit_free(p);
    return st;
}

void search_pit_free(search_pit *p) {
    if (!p) return;
    free(p->groups);
    free(p->group_of);
    free(p->time);
    free(p->time_of);
    free(p->choff);
    free(p->chmap);
    free(p->masked);
    free(p->alpha);
    free(p->prime);
    free(p->hm);
    free(p->tb);
    free(p->tg);
    free(p->tm);
    free(p->dprime);
    free(p->dtm);
    free(p->dtb);
    free(p->dtg);
    free(p->dbuf);
    free(p->view);
    free(p);
}
