/* The `cortex-m` backend end to end (deploy_check_util.h), as
 * test_deploy_c for `c`: resnet8_fmnist, dscnn_fmnist,
 * mobilenetv1_025_fmnist and fc_autoencoder are built by the generated
 * Makefile with arm-none-eabi-gcc for Cortex-M4 (-std=c99 -Wall -Wextra
 * -Werror -Wconversion) and run under qemu-system-arm on mps2-an386 on 16
 * real Fashion-MNIST test images: every output byte equals the integer
 * evaluator's; a weight changed by hand in weights.c makes QEMU's exit
 * code (main's) report the difference. Skipped when arm-none-eabi-gcc or
 * qemu-system-arm is missing (scripts/install-deps.sh installs them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NCHECK 16 /* QEMU runs each image: 16 keep the test near 30 s */
#include "deploy_check_util.h"

#define CFLAGS NULL /* the Makefile's, -Wconversion included */

/* cmocka's skip when the cross toolchain or QEMU is missing. */
static void need_tools(void) {
    if (system("command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > "
               "/dev/null") != 0) {
        printf("arm-none-eabi-gcc or qemu-system-arm is not installed: skipped\n");
        skip();
    }
}

static void resnet8_fmnist(void **state) {
    (void)state;
    need_tools();
    dck_bit_exact("resnet8_fmnist", "cortex-m", CFLAGS);
}
static void dscnn_fmnist(void **state) {
    (void)state;
    need_tools();
    dck_bit_exact("dscnn_fmnist", "cortex-m", CFLAGS);
}
static void mobilenetv1_025_fmnist(void **state) {
    (void)state;
    need_tools();
    dck_bit_exact("mobilenetv1_025_fmnist", "cortex-m", CFLAGS);
}
static void fc_autoencoder(void **state) {
    (void)state;
    need_tools();
    dck_bit_exact("fc_autoencoder", "cortex-m", CFLAGS);
}
static void changed_weight_caught(void **state) {
    (void)state;
    need_tools();
    dck_changed_weight_caught("cortex-m");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resnet8_fmnist),         cmocka_unit_test(dscnn_fmnist),
        cmocka_unit_test(mobilenetv1_025_fmnist), cmocka_unit_test(fc_autoencoder),
        cmocka_unit_test(changed_weight_caught),
    };
    return cmocka_run_group_tests(tests, dck_setup, dck_teardown);
}
