/* hwcost target loader: every bad value of a target file is an error that
 * names the file, the line, the section and key, and what was expected.
 * Most cases edit one line of a real configs/targets/<name>.yaml and check
 * that the error points at that line; the rest are small inline files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwcost.h"

static const char *src_dir(void) {
    const char *src = getenv("DNAS_SOURCE_DIR");
    return src ? src : DNAS_SOURCE_DIR;
}

/* configs/targets/<name>.yaml with the first `old` replaced by `repl`;
 * *line gets the line of `old`. */
static char *edited(const char *name, const char *old, const char *repl, int *line) {
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/targets/%s.yaml", src_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    const char *at = strstr(text, old);
    if (!at) fail_msg("%s: '%s' not found", path, old);
    *line = 1;
    for (const char *p = text; p < at; p++)
        *line += *p == '\n';
    size_t len = n - strlen(old) + strlen(repl) + 1;
    char *out = malloc(len);
    snprintf(out, len, "%.*s%s%s", (int)(at - text), text, repl, at + strlen(old));
    return out;
}

static dnas_status load_edited(hwcost_target *t, const char *name, const char *old, const char *repl,
                               int *line, dnas_error *err) {
    char *yaml = edited(name, old, repl, line), path[64];
    snprintf(path, sizeof path, "%s.yaml", name);
    dnas_status st = hwcost_target_load_string(t, yaml, path, err);
    free(yaml);
    return st;
}

/* The edit fails with "<name>.yaml:<line of the edit + dline>: " and frag. */
static void edit_fails(const char *name, const char *old, const char *repl, int dline, const char *frag,
                       int srcline) {
    hwcost_target t;
    dnas_error err;
    int line;
    if (load_edited(&t, name, old, repl, &line, &err) != DNAS_ERR_CONFIG)
        fail_msg("line %d: %s with '%s' loaded", srcline, name, repl);
    char where[128];
    snprintf(where, sizeof where, "%s.yaml:%d: ", name, line + dline);
    if (strncmp(err.msg, where, strlen(where)) || !strstr(err.msg, frag))
        fail_msg("line %d: message '%s' lacks '%s' or '%s'", srcline, err.msg, where, frag);
    assert_int_equal(t.nengines, 0); /* nothing half-read is left */
}
#define EDIT_FAILS(name, old, repl, dline, frag) edit_fails(name, old, repl, dline, frag, __LINE__)

static void fails(dnas_status want, const char *yaml, const char *frag, int srcline) {
    hwcost_target t;
    dnas_error err;
    dnas_status got = hwcost_target_load_string(&t, yaml, "bad.yaml", &err);
    if (got != want) fail_msg("line %d: status %d, expected %d (%s)", srcline, got, want, got ? err.msg : "");
    if (!strstr(err.msg, frag)) fail_msg("line %d: message '%s' lacks '%s'", srcline, err.msg, frag);
}
#define FAILS(yaml, frag) fails(DNAS_ERR_CONFIG, yaml, frag, __LINE__)

#define HEAD "name: x\nclock_hz: 1e8\nsource: x\n"
#define MEM "memory:\n  - {name: M, bytes: 1000, holds: [network_weights], source: x}\n"
#define ENGINE                                                                                               \
    "engines:\n  - {name: e, latency_model: mac_table, ops: [conv], weight_bits: [8], act_bits: [8], "       \
    "power_w: 0.01, macs_per_cycle: [[8, 8, 2]], source: x}\n"

static void test_new_target(void **state) {
    (void)state;
    hwcost_target t;
    dnas_error err;
    /* a new target is one YAML file; its path is kept whole for messages */
    char path[1500];
    memset(path, 'p', sizeof path - 6);
    strcpy(path + sizeof path - 6, ".yaml");
    assert_int_equal(hwcost_target_load_string(&t, HEAD MEM ENGINE, path, &err), DNAS_OK);
    assert_string_equal(t.path, path);
    hwcost_layer l = hwcost_layer_default();
    l.cin = l.cout = 64, l.oh = 5, l.ow = 25;
    hwcost_grad g;
    assert_int_equal(hwcost_latency_cycles(&t, 0, &l, &g, &err), DNAS_OK);
    assert_true(fabs(g.value - 256000) < 1e-6);
}

/* Every constant is finite and in its range (docs/hwcost.md, "Ranges"). */
static void test_ranges(void **state) {
    (void)state;
    EDIT_FAILS("cortex_m4", "clock_hz: 80.0e6", "clock_hz: inf", 0,
               "target: clock_hz: expected a finite number, found 'inf'");
    EDIT_FAILS("cortex_m4", "clock_hz: 80.0e6", "clock_hz: 1e-300", 0,
               "target: clock_hz: 1e-300 is out of range: expected 1 <= x <= 1e+12");
    EDIT_FAILS("cortex_m4", "clock_hz: 80.0e6", "clock_hz: 0", 0,
               "target: clock_hz: 0 is out of range: expected 1 <= x <= 1e+12");
    EDIT_FAILS("diana", "bytes: 512000", "bytes: nan", 0,
               "memory 'L2': bytes: expected an integer in 1..1099511627776, found 'nan'");
    EDIT_FAILS("diana", "bytes: 512000", "bytes: 0", 0,
               "memory 'L2': bytes: 0 is out of range: expected 1..");
    EDIT_FAILS("diana", "bytes: 512000", "bytes: 2000000000000", 0, "bytes: 2000000000000 is out of range");
    EDIT_FAILS("diana", "granularity: {cout: 16, ox: 16}", "granularity: {cout: 0, ox: 16}", 0,
               "engine 'digital': granularity: cout: 0 is out of range: expected 1..65536");
    EDIT_FAILS("ne16", "ox: 3", "ox: 2.5", 0,
               "engine 'ne16': granularity: ox: expected an integer in 1..65536, found '2.5'");
    EDIT_FAILS("diana", "power_w: 0.02496", "power_w: -0.02", 0,
               "engine 'digital': power_w: -0.02 is out of range: expected 0 <= x <= 1000");
    EDIT_FAILS("gap8", "peak_macs_per_cycle: 32", "peak_macs_per_cycle: -32", 0,
               "engine 'cluster': peak_macs_per_cycle: -32 is out of range: expected 1e-06 <= x <= 1e+06");
    EDIT_FAILS("cortex_m4", "weight_bits: [2, 4, 8]", "weight_bits: [2, 4, 64]", 0,
               "engine 'cpu': weight_bits: 64 is out of range: expected 1..32");
    EDIT_FAILS("cortex_m4", "act_bits: [8]", "act_bits: [.inf]", 0,
               "engine 'cpu': act_bits: expected an integer in 1..32, found '.inf'");
    EDIT_FAILS("mpic", "[8, 8, 2.1]", "[8, 8, 0]", 0,
               "engine 'core': macs_per_cycle: MAC/cycle: 0 is out of range: expected 1e-06 <= x <= 1e+06");
    EDIT_FAILS("mpic", "[8, 8, 2.1]", "[8, 8, 1e-300]", 0, "MAC/cycle: 1e-300 is out of range");
    EDIT_FAILS("mpic", "[8, 2, 2.5]", "[8, 0, 2.5]", 0,
               "engine 'core': macs_per_cycle: w_bits: 0 is out of range: expected 1..32");
    EDIT_FAILS("diana", "power_w: 0.04239", "power_w: -1", 0,
               "parallel: power_w: -1 is out of range: expected 0 <= x <= 1000");
    EDIT_FAILS("diana", "smooth_max_tau_cycles: 1.0", "smooth_max_tau_cycles: 0", 0,
               "parallel: smooth_max_tau_cycles: 0 is out of range: expected 0.001 <= x <= 1e+12");
    /* latency-model constants, each in its model's range: no endless
     * loop (max_unroll), no division by zero (cols, io, efficiency) */
    EDIT_FAILS("diana", "max_unroll: 8", "max_unroll: inf", 0,
               "engine 'analog': params: max_unroll: expected an integer in 1..1024, found 'inf'");
    EDIT_FAILS("diana", "max_unroll: 8", "max_unroll: 4096", 0,
               "engine 'analog': params: max_unroll: 4096 is out of range: expected 1..1024");
    EDIT_FAILS("diana", "cols: 512,", "cols: 0,", 0, "engine 'analog': params: cols: 0 is out of range");
    EDIT_FAILS("diana", "cin_block: 128,", "cin_block: 12.5,", 0,
               "params: cin_block: expected an integer in 1..1048576, found '12.5'");
    EDIT_FAILS("diana", "step_cycles: 18.2", "step_cycles: 0", 0,
               "engine 'analog': params: step_cycles: 0 is out of range: expected 0 < x <= 1e+06");
    EDIT_FAILS("diana", "io_bytes_per_cycle: 8}", "io_bytes_per_cycle: 0}", 0,
               "engine 'digital': params: io_bytes_per_cycle: 0 is out of range");
    EDIT_FAILS("cortex_m4", "depthwise_efficiency: 0.5}", "depthwise_efficiency: 0}", 0,
               "engine 'cpu': params: depthwise_efficiency: 0 is out of range: expected 1e-06 <= x <= 1");
    EDIT_FAILS("cortex_m4", "out_cycles: 10", "out_cycles: nan", 0,
               "engine 'cpu': params: out_cycles: expected a finite number, found 'nan'");
}

/* A list where a list is expected, one value where one value is. */
static void test_kinds(void **state) {
    (void)state;
    EDIT_FAILS("gap8", "holds: [network_weights]", "holds: network_weights", 0,
               "memory 'L3': holds: expected a list of 1..4 items, found a single value");
    EDIT_FAILS("gap8", "holds: [network_weights]", "holds: {network_weights: 1}", 0,
               "memory 'L3': holds: expected a list of 1..4 items, found a mapping");
    EDIT_FAILS("diana", "connects: [L2]", "connects: L2", 0,
               "memory 'L1_act': connects: expected a list of 0..8 items, found a single value");
    EDIT_FAILS("gap8", "ops: [conv, depthwise, linear]", "ops: conv", 0,
               "engine 'cluster': ops: expected a list of 1..5 items, found a single value");
    EDIT_FAILS("gap8", "weight_bits: [8]", "weight_bits: 8", 0,
               "engine 'cluster': weight_bits: expected a list of 1..8 items, found a single value");
    EDIT_FAILS("diana", "engines: [digital, analog]", "engines: digital", 0,
               "parallel: engines: expected a list of 2..4 items, found a single value");
    EDIT_FAILS("gap8", "clock_hz: 175.0e6", "clock_hz: [175.0e6]", 0,
               "target: clock_hz: expected a single value, found a list");
    EDIT_FAILS("gap8", "name: L3", "name: [L3]", 0,
               "memory level: name: expected a single value, found a list");
    EDIT_FAILS("diana", "engine: digital", "engine: [digital]", 0,
               "memory 'L1_wdig': engine: expected a single value, found a list");
    EDIT_FAILS("gap8", "power_w: 0.07", "power_w: {w: 0.07}", 0,
               "engine 'cluster': power_w: expected a single value, found a mapping");
    EDIT_FAILS("diana", "params: {io_bytes_per_cycle: 8}", "params: [8]", 0,
               "engine 'digital': params: expected a mapping of key: value, found a list");
    EDIT_FAILS("gap8", "granularity: {cout: 4}", "granularity: [4]", 0,
               "engine 'cluster': granularity: expected a mapping of key: value, found a list");
    EDIT_FAILS("mpic", "macs_per_cycle: [[8, 2, 2.5]", "macs_per_cycle: [8, [8, 2, 2.5]", 0,
               "engine 'core': macs_per_cycle: row [a_bits, w_bits, MAC/cycle]: expected a list of 3 items, "
               "found a single value");
    FAILS(HEAD "memory: {name: M}\n" ENGINE,
          "bad.yaml:4: memory: expected a list of 1..8 items, found a mapping");
    FAILS(HEAD MEM "engines: cpu\n",
          "bad.yaml:6: engines: expected a list of 1..4 items, found a single value");
    FAILS("- name\n- x\n", "bad.yaml:1: target: expected a mapping of key: value, found a list");
    FAILS(HEAD "memory:\n  - M\n" ENGINE, "bad.yaml:5: memory level: expected a mapping of key: value");
}

/* One boolean rule (dnas_yaml_bool): yes/no, on/off, true/false. */
static void test_booleans(void **state) {
    (void)state;
    hwcost_target t;
    dnas_error err;
    int line;
    assert_int_equal(load_edited(&t, "diana", "grouped: false", "grouped: no", &line, &err), DNAS_OK);
    assert_int_equal(t.engines[hwcost_target_engine(&t, "analog")].grouped, 0);
    assert_int_equal(load_edited(&t, "diana", "grouped: true", "grouped: off", &line, &err), DNAS_OK);
    assert_int_equal(t.engines[hwcost_target_engine(&t, "digital")].grouped, 0);
    assert_int_equal(load_edited(&t, "gap8", "tiled: true", "tiled: yes", &line, &err), DNAS_OK);
    assert_int_equal(t.mem[hwcost_target_memory(&t, "L1")].tiled, 1);
    assert_int_equal(load_edited(&t, "gap8", "tiled: true", "tiled: False", &line, &err), DNAS_OK);
    assert_int_equal(t.mem[hwcost_target_memory(&t, "L1")].tiled, 0);
    EDIT_FAILS("diana", "grouped: true", "grouped: maybe", 0,
               "engine 'digital': grouped: expected true or false, found 'maybe'");
    EDIT_FAILS("gap8", "tiled: true", "tiled: 1", 0, "memory 'L1': tiled: expected true or false, found '1'");
}

/* Names: non-empty, short, identifier characters, unique; lists of names
 * without repeats. */
static void test_names(void **state) {
    (void)state;
    EDIT_FAILS("cortex_m4", "name: sram", "name: flash", 0,
               "memory level name 'flash' given twice (first at line ");
    EDIT_FAILS("diana", "name: analog\n", "name: digital\n", 0,
               "engine name 'digital' given twice (first at line ");
    EDIT_FAILS("gap8", "name: gap8", "name: \"\"", 0,
               "target: name: expected 1..31 letters, digits or '_' starting with a letter, found ''");
    EDIT_FAILS("gap8", "name: cluster", "name: a_name_of_thirty_two_characters2", 0,
               "engine: name: expected 1..31 letters, digits or '_' starting with a letter");
    EDIT_FAILS("gap8", "name: cluster", "name: \"clu,ster\"", 0, "found 'clu,ster'");
    EDIT_FAILS("gap8", "granularity: {cout: 4}", "granularity: {\"c out\": 4}", 0,
               "engine 'cluster': granularity: expected 1..31 letters");
    EDIT_FAILS("diana", "connects: [L2]", "connects: [L2, L2]", 0,
               "memory 'L1_act': connects: 'L2' listed twice");
    EDIT_FAILS("diana", "connects: [L2]", "connects: [L1_act]", 0,
               "memory 'L1_act': connects: a level cannot connect to itself");
    EDIT_FAILS("diana", "connects: [L2]", "connects: [L9]", 0,
               "memory 'L1_act': connects: memory level 'L9' not defined in this file");
    EDIT_FAILS("diana", "engine: digital", "engine: tpu", 0,
               "memory 'L1_wdig': engine: engine 'tpu' not defined in this file");
    EDIT_FAILS("diana", "engines: [digital, analog]", "engines: [digital, digital]", 0,
               "parallel: engines: 'digital' listed twice");
    EDIT_FAILS("gap8", "holds: [network_weights]", "holds: [network_weights, network_weights]", 0,
               "memory 'L3': holds: 'network_weights' listed twice");
    EDIT_FAILS("gap8", "holds: [network_weights]", "holds: [weights]", 0,
               "memory 'L3': holds: expected one of network_weights, network_activations, layer_weights, "
               "layer_activations, found 'weights'");
    EDIT_FAILS("gap8", "ops: [conv, depthwise, linear]", "ops: [conv, conv]", 0,
               "engine 'cluster': ops: 'conv' listed twice");
    EDIT_FAILS("gap8", "ops: [conv, depthwise, linear]", "ops: [conv, matmul]", 0,
               "engine 'cluster': ops: expected one of conv, depthwise, linear, add, pool, found 'matmul'");
    EDIT_FAILS("cortex_m4", "weight_bits: [2, 4, 8]", "weight_bits: [2, 2, 8]", 0,
               "engine 'cpu': weight_bits: 2 listed twice");
    EDIT_FAILS("diana", "latency_model: diana_digital", "latency_model: tpu", 0,
               "engine 'digital': latency_model: expected one of diana_digital, diana_analog, gap8_cluster, "
               "mac_table, ne16, cortex_m, found 'tpu'");
}

/* params are exactly the model's constants; a MAC/cycle table only for
 * models that read one, with a row for every precision pair the engine
 * claims. */
static void test_params_and_table(void **state) {
    (void)state;
    EDIT_FAILS(
        "diana", "io_bytes_per_cycle: 8}", "io_bytes_per_cycl: 8}", 0,
        "engine 'digital': params: 'io_bytes_per_cycl' is not a constant of latency_model diana_digital "
        "(expected: io_bytes_per_cycle)");
    EDIT_FAILS("diana", "min_rows: 64, ", "", 0, "engine 'analog': params: missing 'min_rows'");
    EDIT_FAILS("gap8", "granularity: {cout: 4}", "granularity: {cout: 4}\n    params: {x: 1}", 1,
               "engine 'cluster': params: latency_model gap8_cluster takes no params");
    EDIT_FAILS(
        "diana", "granularity: {cout: 16, ox: 16}",
        "granularity: {cout: 16, ox: 16}\n    macs_per_cycle: [[8, 8, 2]]", 1,
        "engine 'digital': macs_per_cycle: latency_model diana_digital does not read a MAC/cycle table");
    EDIT_FAILS("cortex_m4", ", [8, 2, 0.8]]", "]", 0,
               "engine 'cpu': macs_per_cycle: no row for 8-bit activations x 2-bit weights");
    EDIT_FAILS("mpic", "[8, 2, 2.5]", "[8, 8, 2.5]", 0,
               "engine 'core': macs_per_cycle: a second row for a8 w8 (first at line ");
    FAILS(
        HEAD MEM
        "engines:\n  - {name: e, latency_model: diana_analog, ops: [conv], weight_bits: [2], act_bits: [8], "
        "power_w: 1, source: x}\n",
        "bad.yaml:7: engine 'e': missing 'params' (latency_model diana_analog needs rows, cols, cin_block, "
        "min_rows, max_unroll, load_cycles, step_cycles)");
    FAILS(HEAD MEM
          "engines:\n  - {name: e, latency_model: ne16, ops: [conv], weight_bits: [8], act_bits: [8], "
          "power_w: 1, source: x}\n",
          "bad.yaml:7: engine 'e': latency_model ne16 needs a macs_per_cycle table");
}

/* Sections: known keys, required keys (at the section's line), a source. */
static void test_sections(void **state) {
    (void)state;
    FAILS(HEAD "memory:\n  - {name: M, bytes: 1000, holds: [layer_weights], source: x, color: red}\n" ENGINE,
          "bad.yaml:5: memory 'M': unknown key 'color' (expected one of: name, bytes, connects");
    FAILS("name: x\nclock_hz: fast\nsource: x\n", "bad.yaml:2: target: clock_hz: expected a finite number, "
                                                  "found 'fast'");
    FAILS("name: x\nsource: x\n" MEM ENGINE, "bad.yaml:1: target: missing 'clock_hz'");
    FAILS(HEAD "memory:\n  - {name: M, bytes: 1000, source: x}\n" ENGINE,
          "bad.yaml:5: memory 'M': missing 'holds'");
    FAILS(HEAD MEM "engines:\n  - {name: e, latency_model: gap8_cluster, ops: [conv], weight_bits: [8], "
                   "act_bits: [8], source: x}\n",
          "bad.yaml:7: engine 'e': missing 'power_w'");
    FAILS("name: x\nclock_hz: 1e8\nmemory: []\n", "bad.yaml:1: target: missing 'source'");
    EDIT_FAILS("cortex_m4", "source: {bytes: \"STM32L476RG: 1 MB flash\"}", "source: \"\"", 0,
               "memory 'flash': source: expected a non-empty string or a mapping of constant");
    EDIT_FAILS("cortex_m4", "source: {bytes: \"STM32L476RG: 1 MB flash\"}", "source: {}", 0,
               "memory 'flash': source: expected a non-empty string or a mapping of constant");
    EDIT_FAILS("cortex_m4", "source: {bytes: \"STM32L476RG: 1 MB flash\"}", "source: {bytes: [a]}", 0,
               "memory 'flash': source: bytes: expected a single value, found a list");
    EDIT_FAILS("gap8", "description: GAP8 8-core cluster (PULP-NN int8 kernels)", "description: [GAP8]", 0,
               "target: description: expected a single value, found a list");
}

/* What the common loader checks reaches target files too. */
static void test_common_loader(void **state) {
    (void)state;
    hwcost_target t;
    dnas_error err;
    FAILS("name: x\nname: y\n", "bad.yaml:2: key 'name' given twice (first at line 1)");
    EDIT_FAILS("diana", "power_w: 0.02496", "power_w: 0.02496\n    power_w: 0.03", 1,
               "key 'power_w' given twice (first at line ");
    FAILS("name: x\n---\nname: y\n", "a second YAML document: expected one");
    FAILS("name: x\n  clock_hz: [1\n", "bad.yaml:2");
    char deep[300] = "name: ";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    FAILS(deep, "nested deeper than 64 levels");
    fails(DNAS_ERR_FORMAT, "name: caf\xe9\n", "bad.yaml:1:10: byte 0xe9 is not UTF-8", __LINE__);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/configs/targets", src_dir());
    assert_int_equal(hwcost_target_load(&t, dir, &err), DNAS_ERR_IO);
    assert_non_null(strstr(err.msg, "is a directory, expected a file"));
    assert_int_equal(hwcost_target_load(&t, "/nonexistent/t.yaml", &err), DNAS_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/t.yaml: cannot open"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_target), cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_kinds),      cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_names),      cmocka_unit_test(test_params_and_table),
        cmocka_unit_test(test_sections),   cmocka_unit_test(test_common_loader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
