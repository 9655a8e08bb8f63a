/* A QEMU TCG plugin counting the guest instructions executed between two
 * marker functions: every translated block that starts at `begin` switches
 * counting on, one that starts at `end` switches it off, and every block
 * executed while on adds its instruction count. With map=FILE (lines
 * "HEXADDR NAME", e.g. the layer functions from arm-none-eabi-nm), a block
 * starting at one of those addresses makes NAME the current part, and the
 * counts are also kept per part (what runs before the first is "-"). At
 * exit it prints, through qemu_plugin_outs (shown with `-d plugin`,
 * written with `-D FILE`), one line per part, then the total:
 *     icount part NAME: N
 *     icount: N instructions in K marked runs
 * N counts the begin marker's block (its few instructions) and not the end
 * marker's; the caller subtracts the markers' cost measured on an empty
 * run, or reads a loop of known length (tests/cli_icount.sh does both).
 *
 * Usage: qemu-system-arm ... -plugin icount.so,begin=0xADDR,end=0xADDR[,map=FILE]
 *        -d plugin -D icount.log
 * with the markers' addresses from `arm-none-eabi-nm` (Thumb bit 0 is
 * ignored).
 *
 * Debian's QEMU 7.2 loads plugins but ships no qemu-plugin.h, so the few
 * API functions this uses are declared here as QEMU 7.2 defines them
 * (include/qemu/qemu-plugin.h, QEMU_PLUGIN_VERSION 1). */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_PARTS 4096

static uint64_t begin_addr = UINT64_MAX, end_addr = UINT64_MAX;
static int counting;
static uint64_t count, runs;
static int nparts, part = -1; /* the current part, -1 before the first */
static uint64_t part_addr[MAX_PARTS], part_count[MAX_PARTS + 1];
static char part_name[MAX_PARTS][64];

static int read_map(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "icount: cannot open map %s\n", path);
        return -1;
    }
    char name[64];
    unsigned long long a;
    while (nparts < MAX_PARTS && fscanf(f, "%llx %63s", &a, name) == 2) {
        part_addr[nparts] = (uint64_t)a & ~(uint64_t)1;
        snprintf(part_name[nparts], sizeof part_name[nparts], "%s", name);
        nparts++;
    }
    fclose(f);
    return 0;
}

static void enter(unsigned int vcpu, void *i) {
    (void)vcpu;
    part = (int)(intptr_t)i;
}

static void on(unsigned int vcpu, void *u) {
    (void)vcpu, (void)u;
    counting = 1;
    runs++;
}

static void off(unsigned int vcpu, void *u) {
    (void)vcpu, (void)u;
    counting = 0;
}

static void add(unsigned int vcpu, void *n) {
    (void)vcpu;
    if (!counting) return;
    count += (uint64_t)(uintptr_t)n;
    part_count[part + 1] += (uint64_t)(uintptr_t)n;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    uint64_t pc = qemu_plugin_tb_vaddr(tb) & ~(uint64_t)1;
    if (pc == begin_addr)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on, QEMU_PLUGIN_CB_NO_REGS, NULL);
    if (pc == end_addr) qemu_plugin_register_vcpu_tb_exec_cb(tb, off, QEMU_PLUGIN_CB_NO_REGS, NULL);
    for (int i = 0; i < nparts; i++)
        if (pc == part_addr[i])
            qemu_plugin_register_vcpu_tb_exec_cb(tb, enter, QEMU_PLUGIN_CB_NO_REGS,
                                                 (void *)(intptr_t)i);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, add, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void *u) {
    (void)id, (void)u;
    char line[160];
    for (int i = -1; nparts && i < nparts; i++) {
        snprintf(line, sizeof line, "icount part %s: %" PRIu64 "\n", i < 0 ? "-" : part_name[i],
                 part_count[i + 1]);
        qemu_plugin_outs(line);
    }
    snprintf(line, sizeof line, "icount: %" PRIu64 " instructions in %" PRIu64 " marked runs\n",
             count, runs);
    qemu_plugin_outs(line);
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "begin=", 6))
            begin_addr = strtoull(argv[i] + 6, NULL, 0) & ~(uint64_t)1;
        else if (!strncmp(argv[i], "end=", 4))
            end_addr = strtoull(argv[i] + 4, NULL, 0) & ~(uint64_t)1;
        else if (!strncmp(argv[i], "map=", 4)) {
            if (read_map(argv[i] + 4)) return -1;
        } else {
            fprintf(stderr,
                    "icount: unknown argument '%s' (expected begin=ADDR, end=ADDR, map=FILE)\n",
                    argv[i]);
            return -1;
        }
    }
    if (begin_addr == UINT64_MAX || end_addr == UINT64_MAX) {
        fprintf(stderr, "icount: needs begin=ADDR and end=ADDR\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
