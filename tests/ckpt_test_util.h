/* Shared by the config and checkpoint tests: a temporary directory made by
 * the group setup and removed by its teardown, and the small model they
 * save and load (conv 2x1x3x3 + BN + linear 3x8: 51 parameters in 6
 * tensors). Include after <cmocka.h> and "train.h". */
#ifndef DNAS_TESTS_CKPT_TEST_UTIL_H
#define DNAS_TESTS_CKPT_TEST_UTIL_H

#include "tmpdir_test_util.h"

static const char SMALL_NET_YAML[] = "input: [1, 4, 4]\nlayers:\n"
                                     "  - {name: c, op: conv2d, out: 2, kernel: 3}\n"
                                     "  - {name: bn, op: batchnorm}\n"
                                     "  - {name: fc, op: linear, out: 3}\n";

static train_net *small_net(void) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, SMALL_NET_YAML, "m.yaml", &err)) fail_msg("%s", err.msg);
    return net;
}

#endif
