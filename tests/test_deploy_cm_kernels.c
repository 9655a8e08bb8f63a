/* The Cortex-M kernels (deploy/runtime/cm) equal dnas_rt's reference
 * kernels on random shapes and values (tests/cm/cm_kernels_check.c): on
 * the host, where the portable definitions of SXTB16, SMLAD, SMLABB and
 * SMLATT run, and built for Cortex-M4 (arm-none-eabi-gcc -O3 -Wconversion,
 * __ARM_FEATURE_DSP: the ACLE intrinsics) and run under QEMU on
 * mps2-an386, with the startup code and linker script the cortex-m
 * backend writes. The QEMU half is skipped when arm-none-eabi-gcc or
 * qemu-system-arm is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cm/cm_kernels_check.c"
#include "deploy.h"
#include "deploy_test_util.h"

#define CASES 2000 /* of each kind */

static void host_portable(void **state) {
    (void)state;
    int bad = cm_check_run(12345, CASES, stderr);
    assert_int_equal(bad, 0);
}

static void qemu_dsp(void **state) {
    (void)state;
    if (system("command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > "
               "/dev/null") != 0) {
        printf("arm-none-eabi-gcc or qemu-system-arm is not installed: skipped\n");
        skip();
    }
    /* startup.c, link.ld and dnas_rt/ (with dnas_cm) as the backend writes them */
    deploy_qnet q;
    dtu_zoo_qnet(&q, "tcn_fmnist");
    char dir[64] = "/tmp/dnas_cm_check_XXXXXX";
    assert_non_null(mkdtemp(dir));
    const deploy_backend *be = deploy_backend_find("cortex-m");
    assert_non_null(be);
    deploy_compile_params p = deploy_backend_params(be);
    deploy_ir ir;
    dnas_error err;
    deploy_emit_info info = {"test_deploy_cm_kernels", "tcn_fmnist", NULL, "test"};
    if (deploy_compile(&ir, &q, "tcn_fmnist", &p, &err) || be->emit(&ir, &info, dir, &err))
        fail_msg("%s", err.msg);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
    const char *src = getenv("DNAS_SOURCE_DIR");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard "
             "-mfpu=fpv4-sp-d16 -O3 -std=c99 -Wall -Wextra -Werror -Wconversion -DCM_CHECK_MAIN "
             "-Idnas_rt -o cm_check.elf startup.c '%s/tests/cm/cm_kernels_check.c' dnas_rt/*.c "
             "--specs=rdimon.specs -T link.ld > check.log 2>&1 && "
             "qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none "
             "-semihosting-config enable=on,target=native,arg=cm_check,arg=%d "
             "-kernel cm_check.elf >> check.log 2>&1",
             dir, src ? src : DNAS_SOURCE_DIR, CASES);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "cat '%s/check.log'", dir);
    if (system(cmd) != 0) fail_msg("no log");
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(host_portable), cmocka_unit_test(qemu_dsp)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
