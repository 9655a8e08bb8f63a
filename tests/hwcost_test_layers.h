/* Layers with hand-worked costs, shared by the hwcost tests. */
#ifndef DNAS_TESTS_HWCOST_TEST_LAYERS_H
#define DNAS_TESTS_HWCOST_TEST_LAYERS_H

#include "hwcost.h"

static inline hwcost_layer mk(hwcost_kind kind, double cin, double cout, int kh, int kw, int oh,
                              int ow, int bias) {
    hwcost_layer l = hwcost_layer_default();
    l.kind = kind;
    l.cin = cin;
    l.cout = cout;
    l.kh = kh;
    l.kw = kw;
    l.k = kh * kw;
    l.oh = oh;
    l.ow = ow;
    l.bias = bias;
    return l;
}

/* resnet8_fmnist s1_conv1: 3x3, 16 -> 16, 28x28 out, no bias */
static inline hwcost_layer conv3x3(void) { return mk(HWCOST_CONV, 16, 16, 3, 3, 28, 28, 0); }
/* dscnn DW: 3x3 depthwise on 64 channels, 25x5 out (here with bias) */
static inline hwcost_layer dw(void) { return mk(HWCOST_DEPTHWISE, 64, 64, 3, 3, 5, 25, 1); }
/* dscnn PW: 1x1, 64 -> 64, 25x5 out, no bias */
static inline hwcost_layer pw(void) { return mk(HWCOST_CONV, 64, 64, 1, 1, 5, 25, 0); }
/* resnet8 FC: 64 -> 10 with bias */
static inline hwcost_layer fc(void) { return mk(HWCOST_LINEAR, 64, 10, 1, 1, 1, 1, 1); }
/* resnet8_fmnist s2_conv1: 3x3 stride 2, 16 -> 32, 14x14 out */
static inline hwcost_layer strided(void) { return mk(HWCOST_CONV, 16, 32, 3, 3, 14, 14, 0); }
/* tcn_fmnist conv1: conv1d k9, 28 -> 32, 28 steps (H = 1) */
static inline hwcost_layer conv1d(void) { return mk(HWCOST_CONV, 28, 32, 1, 9, 1, 28, 0); }

#endif
