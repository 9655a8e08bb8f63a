/* The `c` backend end to end (deploy_check_util.h): resnet8_fmnist,
 * dscnn_fmnist, mobilenetv1_025_fmnist and fc_autoencoder (seeded random
 * weights, quantized by search_quant_export on real Fashion-MNIST images)
 * are compiled, the generated C is built with cc -std=c99 -Wall -Wextra
 * -Werror -pedantic (ASan and UBSan on, so the kernels and the generated
 * code run these inputs without undefined behaviour or an access outside
 * the arena) and run on 32 real test images: its outputs equal the integer
 * evaluator's (deploy_qeval) byte for byte. Then one weight of
 * dscnn_fmnist's weights.c is changed by hand and the same comparison must
 * fail: the check is not vacuous. fc_autoencoder reads 640 values: the
 * first 640 pixels of each image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deploy_check_util.h"

#define CFLAGS                                                                                     \
    "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -fsanitize=address,undefined "                   \
    "-fno-sanitize-recover=undefined"

static void resnet8_fmnist(void **state) {
    (void)state;
    dck_bit_exact("resnet8_fmnist", "c", CFLAGS);
}
static void dscnn_fmnist(void **state) {
    (void)state;
    dck_bit_exact("dscnn_fmnist", "c", CFLAGS);
}
static void mobilenetv1_025_fmnist(void **state) {
    (void)state;
    dck_bit_exact("mobilenetv1_025_fmnist", "c", CFLAGS);
}
static void fc_autoencoder(void **state) {
    (void)state;
    dck_bit_exact("fc_autoencoder", "c", CFLAGS);
}
static void changed_weight_caught(void **state) {
    (void)state;
    dck_changed_weight_caught("c");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resnet8_fmnist),         cmocka_unit_test(dscnn_fmnist),
        cmocka_unit_test(mobilenetv1_025_fmnist), cmocka_unit_test(fc_autoencoder),
        cmocka_unit_test(changed_weight_caught),
    };
    return cmocka_run_group_tests(tests, dck_setup, dck_teardown);
}
