/* PIT (pruning in time, REFERENCE.md §1): trainable masks over a network's
 * channels, receptive fields and dilations, how they enter the network
 * through the effective-parameter view (train_net_set_param_view), their
 * gradients, their cost state for the bridge, and the export of the
 * pruned network. docs/search.md "PIT" describes it for users.
 *
 * Masks. Architecture parameters live in one float array `alpha` (all 1.0
 * at init), carved into:
 *   - a channel mask `a` (C floats) per prunable channel group: the layers
 *     whose output channels must stay equal (an add's inputs, a depthwise
 *     conv and its input: search_bridge_channel_owner's groups), held by
 *     the group's owner; keep-alive on the last channel;
 *   - receptive-field `b` (K floats) and dilation `g` (L = max(ceil(log2 K),
 *     1) floats) masks per conv1d layer with stride 1 and K >= 2; keep-alive
 *     on tap 0 and g_{L-1} (train/ops.h "PIT masks": tap order, formulas).
 * Binarization H(t) = 1[t > 0.5] forward, identity backward (straight-
 * through). A channel mask entry is H(a'_c); a tap's is H(tb[i])·H(tg[i]).
 *
 * Where masks enter (the design; why in docs/search.md): the mask of a
 * group multiplies the *input-channel axis* of every conv/linear that reads
 * a tensor of that group — through BN, ReLU, pools, dropout, pact, add,
 * mix, depthwise convs, concat and flatten (a linear reading C·H·W features
 * masks each channel's H·W block) — and time masks multiply the conv's own
 * taps:  W_eff[o, c, kw] = W[o, c, kw] · m_in[c] · tm[K-1-kw].
 * Producers stay unmasked. So dL/dm_c = Σ dL/dW_eff[:, c]·W[:, c] is not
 * zero while channel c carries activations (a pruned channel can come
 * back), and removing channel c from every layer of its group at export
 * changes nothing downstream (the export is exact).
 *
 * Fixed (never pruned) channel groups: the network input's, the groups
 * that reach the network output, those of grouped (not depthwise) convs'
 * inputs and outputs, groups whose channels meet other groups' in an add,
 * mix or concat that maps channels differently, and single-channel groups.
 *
 * Supported ops: every op of train/ (input, conv2d/conv1d/depthwise, linear,
 * batchnorm, relu, pools, add, concat, flatten, dropout, mix, pact). */
#ifndef DNAS_SEARCH_PIT_H
#define DNAS_SEARCH_PIT_H

#include <stddef.h>

#include "bridge.h"
#include "net.h"

typedef struct {
    int owner;    /* the group's owner layer (a conv/linear) */
    int c;        /* channels */
    size_t a_off; /* its mask `a` in alpha */
} search_pit_group;

typedef struct {
    int layer;    /* a conv1d with stride 1 and K >= 2 */
    int k, l;     /* taps, dilation mask length */
    size_t b_off; /* b (K) then g (L) in alpha */
    size_t g_off;
    size_t t_off; /* its K entries in tb, tg, tm (tap order) */
} search_pit_time;

typedef struct search_pit {
    const train_net *net;
    const search_bridge *bridge;
    int ngroups;
    search_pit_group *groups;
    int *group_of; /* per layer: the group of a conv/linear's output channels, -1 fixed or none */
    int ntime;
    search_pit_time *time;
    int *time_of; /* per layer: index in time, -1 none */
    /* channel maps: for layer i, chmap[choff[i] + c], c < layers[i].c, is
     * alpha's index of the mask of channel c (a group's a_off + c), or -1
     * for a fixed channel. */
    size_t *choff;
    int *chmap;
    int *masked; /* per layer: 1 for a conv/linear whose weights the view masks */

    size_t nalpha;
    float *alpha; /* architecture parameters (the caller's optimizer updates them) */
    /* set by search_pit_forward from alpha: */
    float *prime; /* (nalpha) a', b', g' after keep-alive */
    float *hm;    /* (nalpha) H(a') at channel entries (b, g entries unused) */
    size_t ntaps;
    float *tb, *tg, *tm; /* (ntaps) per time conv: tb, tg, tm = H(tb)·H(tg) */
    float *view;         /* (net->nparams) effective parameters */
    /* scratch of the backward functions */
    double *dprime;          /* (nalpha) d/da', d/db', d/dg' */
    double *dtm;             /* (ntaps) d/dtm */
    float *dtb, *dtg, *dbuf; /* (ntaps), (ntaps), (nalpha) */
} search_pit;

/* Reads the network's graph (groups from the bridge's owners, channel maps,
 * time-masked convs) and allocates alpha = 1. net and bridge (built on net)
 * must outlive p. DNAS_ERR_UNSUPPORTED naming the layer for an op PIT does
 * not know. */
dnas_status search_pit_init(search_pit **p, const train_net *net, const search_bridge *bridge,
                            dnas_error *err);
void search_pit_free(search_pit *p);

/* Masks from alpha: keep-alive, tb / tg, binarization (fills prime, hm,
 * tb, tg, tm). Call after every change of alpha. */
void search_pit_forward(search_pit *p);
/* W_eff = net->params with the masks applied (header comment) into
 * p->view, and the view set on net. Call after every change of alpha
 * (after search_pit_forward) or of net->params. */
void search_pit_apply(search_pit *p, train_net *net);

/* After a backward through the view (net->grads = dL/dW_eff):
 *   dalpha (nalpha, or NULL) += dL/dalpha through the straight-through
 *   chain (W_eff -> masks -> H -> keep-alive, rf and dilation sums);
 *   map_weights: net->grads of masked weights become dL/dW = dL/dW_eff ·
 *   masks (all other entries are already dL/dparams). */
void search_pit_backward(search_pit *p, train_net *net, float *dalpha, int map_weights);

/* The search state of the masks for the bridge: s (nlayers, filled first
 * by search_bridge_state_default) gets cout = Σ_c H(a'_c) at each prunable
 * group's owner and, at each time-masked conv, k = K_eff (train_pit_keff:
 * soft, the regularizer's; it exceeds K when masks grow above 1) or, with
 * hard, the number of kept taps (what the masks select). */
void search_pit_state(const search_pit *p, search_layer_state *s, int hard);
/* dalpha += scale · d(cost)/dalpha from the bridge's per-layer gradients
 * g (nlayers): d_cout at the owners (straight-through: each channel's
 * a'_c gets d_cout) and d_k at the time-masked convs. */
void search_pit_state_backward(search_pit *p, const search_layer_grad *g, double scale, float *dalpha);

/* The found architecture of one layer. */
typedef struct {
    int cout;         /* output channels kept (c when fixed or not a conv/linear) */
    int cin;          /* input channels (features of a linear) kept */
    int k, dilation;  /* conv: taps kept and dilation along w (seed's when not time-masked) */
    int pad_l, pad_r; /* conv: padding along w of the exported layer */
} search_pit_layer_arch;

/* Binarized choice of layer i (after search_pit_forward). */
search_pit_layer_arch search_pit_layer(const search_pit *p, int i);
/* 1 when output channel c of layer i is kept. */
int search_pit_channel_kept(const search_pit *p, int i, int c);

/* The pruned network (docs/search.md "Export"): channels and taps whose
 * binarized mask is 1, dilation (longest run of dropped taps + 1) × the
 * seed's, padding such that every kept tap reads the sample it read;
 * weights, biases, BN affine and running statistics of what is kept copied
 * from net (net->params and net->state, not the view). In eval mode it
 * computes what net computes through the view. Errors as train_net_build's
 * (a caller bug when they happen). */
dnas_status search_pit_export(const search_pit *p, const train_net *net, train_net **out, dnas_error *err);

#endif
