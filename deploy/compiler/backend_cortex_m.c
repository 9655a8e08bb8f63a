/* The `cortex-m` backend: the `c` backend's sources (network.h, network.c,
 * weights.c, test_main.c, dnas_rt/) built for an Arm Cortex-M4 with
 * arm-none-eabi-gcc and newlib's semihosting library (rdimon), and run
 * under QEMU on the mps2-an386 board, whose semihosting gives the test
 * program its command line, its files and its exit code.
 *
 * Files beyond the `c` sources:
 *   startup.c  the vector table (initial stack pointer, reset handler, a
 *              fault handler that exits with status 99 through semihosting)
 *              and the reset handler: enable the FPU (CPACR 0xE000ED88, bits
 *              20-23, before any floating-point instruction of a hard-float
 *              build), then newlib's _start (.bss, semihosting, argv, main,
 *              exit with main's value: QEMU's exit code);
 *   link.ld    mps2-an386's memory map: code and constants in SSRAM1 at
 *              0x00000000 (4 MB, the vector table first), data, .bss and
 *              the stack in SSRAM2/3 at 0x20000000 (4 MB); QEMU loads every
 *              segment where it belongs, so nothing is copied at reset;
 *   Makefile   `make` builds test_network.elf (-mcpu=cortex-m4 -mthumb
 *              -mfloat-abi=hard -mfpu=fpv4-sp-d16, -std=c99 -Wall -Wextra
 *              -Werror -Wconversion), `make check` runs it under
 *              qemu-system-arm on the test vectors, `make size` prints flash
 *              and RAM with arm-none-eabi-size, `make icount ICOUNT=...so`
 *              the instructions network_run() executes (bench/qemu/icount.c
 *              between test_main's markers), `make systick` the SysTick
 *              ticks around it under -icount shift=0 (40 instructions a tick).
 * Conv and linear layers call the Cortex-M kernels (dnas_rt/dnas_cm.c:
 * SMLAD paths under __ARM_FEATURE_DSP, dnas_rt's results bit for bit) with
 * one static scratch buffer sized for the largest layer (outside the arena,
 * NETWORK_SCRATCH_BYTES, deploy_cm_scratch_bytes; the plan pass's memory
 * check counts it beside the arena). The board has more memory than
 * the target described in configs/targets/cortex_m4.yaml, whose memories
 * the plan pass checks the network against. */
#include "compiler_internal.h"

static const char *STARTUP =
    "#include <stdint.h>\n\n"
    "extern void _start(void);         /* newlib's crt0 (rdimon.specs) */\n"
    "extern void _exit(int status);    /* semihosting exit */\n"
    "extern uint32_t __stack;          /* link.ld: the top of RAM */\n"
    "void Reset_Handler(void);\n\n"
    "void Reset_Handler(void) {\n"
    "    /* CPACR: full access to CP10 and CP11, the FPU, before any float instruction */\n"
    "    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;\n"
    "    __asm volatile(\"dsb\\n isb\");\n"
    "    _start();\n"
    "    for (;;) {\n"
    "    }\n"
    "}\n\n"
    "/* Any fault ends the run with status 99 (QEMU's exit code). */\n"
    "static void fault(void) { _exit(99); }\n\n"
    "__attribute__((section(\".vectors\"), used)) static const uintptr_t vectors[16] = {\n"
    "    (uintptr_t)&__stack, (uintptr_t)Reset_Handler, (uintptr_t)fault, (uintptr_t)fault,\n"
    "    (uintptr_t)fault,    (uintptr_t)fault,         (uintptr_t)fault, 0,\n"
    "    0,                   0,                        0,                (uintptr_t)fault,\n"
    "    (uintptr_t)fault,    0,                        (uintptr_t)fault, (uintptr_t)fault};\n";

static const char *LINK =
    "MEMORY\n{\n"
    "  FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 4M\n"
    "  RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 4M\n}\n"
    "ENTRY(Reset_Handler)\n"
    "SECTIONS\n{\n"
    "  .text : {\n"
    "    KEEP(*(.vectors))\n    *(.text*)\n    KEEP(*(.init))\n    KEEP(*(.fini))\n"
    "    *(.rodata*)\n    KEEP(*(.eh_frame*))\n  } > FLASH\n"
    "  .ARM.extab : { *(.ARM.extab* .gnu.linkonce.armextab.*) } > FLASH\n"
    "  .ARM.exidx : {\n    __exidx_start = .;\n    *(.ARM.exidx* .gnu.linkonce.armexidx.*)\n"
    "    __exidx_end = .;\n  } > FLASH\n"
    "  .preinit_array : {\n    PROVIDE_HIDDEN(__preinit_array_start = .);\n"
    "    KEEP(*(.preinit_array))\n    PROVIDE_HIDDEN(__preinit_array_end = .);\n  } > FLASH\n"
    "  .init_array : {\n    PROVIDE_HIDDEN(__init_array_start = .);\n"
    "    KEEP(*(SORT(.init_array.*)))\n    KEEP(*(.init_array))\n"
    "    PROVIDE_HIDDEN(__init_array_end = .);\n  } > FLASH\n"
    "  .fini_array : {\n    PROVIDE_HIDDEN(__fini_array_start = .);\n"
    "    KEEP(*(SORT(.fini_array.*)))\n    KEEP(*(.fini_array))\n"
    "    PROVIDE_HIDDEN(__fini_array_end = .);\n  } > FLASH\n"
    "  .data : { *(.data*) } > RAM\n"
    "  .bss : {\n    . = ALIGN(4);\n    __bss_start__ = .;\n    *(.bss*)\n    *(COMMON)\n"
    "    . = ALIGN(4);\n    __bss_end__ = .;\n  } > RAM\n"
    "  . = ALIGN(8);\n  end = .;\n  PROVIDE(__end__ = .);\n"
    "  __stack = ORIGIN(RAM) + LENGTH(RAM);\n}\n";

static const char *ICOUNT_RULE =
    "# Instructions network_run() executes per test input, counted by the QEMU\n"
    "# plugin of bench/qemu/icount.c between test_main's markers, in total and\n"
    "# per layer (a build whose layer functions are not inlined, so that each\n"
    "# has an address to count from):\n"
    "#   make icount ICOUNT=path/to/qemu_icount.so\n"
    "test_network_icount.elf: test_network.elf\n"
    "\t$(CC) $(CPU) $(CFLAGS) '-DNETWORK_LAYER_ATTR=__attribute__((noinline))' -Idnas_rt -o $@ "
    "startup.c network.c test_main.c $(RT) $(LDFLAGS)\n"
    "\n"
    "icount: test_network_icount.elf\n"
    "\t@test -n \"$(ICOUNT)\" || { echo 'usage: make icount ICOUNT=path/to/qemu_icount.so'; exit "
    "2; }\n"
    "\t$(NM) test_network_icount.elf | awk '$$3 ~ /^layer_[0-9]+_/ {print $$1, $$3}' > layers.map\n"
    "\t$(QEMU) -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \\\n"
    "\t  -semihosting-config "
    "enable=on,target=native,arg=test_network,arg=test_input.bin,arg=test_expected.bin \\\n"
    "\t  -kernel test_network_icount.elf -d plugin -D icount.log \\\n"
    "\t  -plugin \"$(ICOUNT),map=layers.map,begin=0x$$($(NM) test_network_icount.elf | awk '/ "
    "test_mark_begin$$/ {print $$1}'),end=0x$$($(NM) test_network_icount.elf | awk '/ "
    "test_mark_end$$/ {print $$1}')\"\n"
    "\t@cat icount.log\n"
    "\n";

/* SysTick around each run (test_main.c's TEST_SYSTICK) under QEMU's
 * -icount shift=0 (1 ns per instruction; mps2-an386's 25 MHz SysTick: a
 * tick is 40 instructions): a cross-check of the plugin's count without
 * the plugin. */
static const char *SYSTICK_RULE =
    "# SysTick ticks of network_run() with -icount shift=0 (a tick: 40 instructions)\n"
    "test_network_systick.elf: test_network.elf\n"
    "\t$(CC) $(CPU) $(CFLAGS) -DTEST_SYSTICK -Idnas_rt -o $@ startup.c network.c test_main.c "
    "$(RT) $(LDFLAGS)\n"
    "\n"
    "systick: test_network_systick.elf\n"
    "\t$(QEMU) -M mps2-an386 -cpu cortex-m4 -icount shift=0 -nographic -monitor none -serial "
    "none \\\n"
    "\t  -semihosting-config "
    "enable=on,target=native,arg=test_network,arg=test_input.bin,arg=test_expected.bin \\\n"
    "\t  -kernel test_network_systick.elf\n"
    "\n";

static void write_makefile(FILE *f, const deploy_ir *ir, const deploy_emit_info *info) {
    fprintf(f,
            "# Makefile of the network '%s', generated by dnas %s, backend cortex-m.\n"
            "# `make` builds test_network.elf; `make check` runs it under QEMU (mps2-an386,\n"
            "# Cortex-M4) on the test vectors; `make size` prints flash and RAM.\n"
            "CC = arm-none-eabi-gcc\nSIZE = arm-none-eabi-size\nNM = arm-none-eabi-nm\n"
            "QEMU = qemu-system-arm\n"
            "CPU = -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16\n"
            "CFLAGS = -std=c99 -Wall -Wextra -Werror -Wconversion -O3\n"
            "LDFLAGS = --specs=rdimon.specs -T link.ld\nRT =",
            ir->name, info && info->version ? info->version : "-");
    deploy_c_rt_sources(f, 1);
    fprintf(f, "\n\ntest_network.elf: startup.c network.c network.h weights.c test_main.c link.ld "
               "$(RT) dnas_rt/*.h\n"
               "\t$(CC) $(CPU) $(CFLAGS) -Idnas_rt -o $@ startup.c network.c test_main.c $(RT) "
               "$(LDFLAGS)\n\n"
               "comma := ,\n"
               "# the float samples too when dnas deploy --images wrote them\n"
               "FLOATS = $(if $(wildcard test_input_f32.bin),$(comma)arg=test_input_f32.bin)\n"
               "check: test_network.elf\n"
               "\t$(QEMU) -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \\\n"
               "\t  -semihosting-config "
               "enable=on,target=native,arg=test_network,arg=test_input.bin,arg=test_expected.bin"
               "$(FLOATS) \\\n\t  -kernel test_network.elf\n\n"
               "size: test_network.elf\n\t$(SIZE) test_network.elf\n\n");
    fputs(ICOUNT_RULE, f);
    fputs(SYSTICK_RULE, f);
    fputs("clean:\n\trm -f test_network.elf test_network_icount.elf test_network_systick.elf "
          "icount.log layers.map\n\n"
          ".PHONY: check size icount systick clean\n",
          f);
}

static dnas_status write_text(const char *dir, const char *name, const char *text,
                              const deploy_ir *ir, const deploy_emit_info *info, const char *what,
                              dnas_error *err) {
    deploy_out o;
    dnas_status st = deploy_out_open(&o, dir, name, err);
    if (st) return st;
    if (what)
        deploy_c_head(o.f, name, what, ir, info, "cortex-m");
    else
        fprintf(o.f, "/* %s: mps2-an386 memory map (generated by dnas %s, backend cortex-m) */\n",
                name, info && info->version ? info->version : "-");
    fputs(text, o.f);
    return deploy_out_close(&o, err);
}

dnas_status deploy_emit_cortex_m(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                                 dnas_error *err) {
    dnas_status st = deploy_c_sources(ir, info, "cortex-m", dir, err);
    if (!st) st = write_text(dir, "startup.c", STARTUP, ir, info, "vectors and reset", err);
    if (!st) st = write_text(dir, "link.ld", LINK, ir, info, NULL, err);
    deploy_out o;
    if (!st) st = deploy_out_open(&o, dir, "Makefile", err);
    if (st) return st;
    write_makefile(o.f, ir, info);
    return deploy_out_close(&o, err);
}
