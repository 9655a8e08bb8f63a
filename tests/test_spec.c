/* Model specs: the YAML reader (what it keeps, with lines; what it refuses),
 * specs made in C, and the writer (written then read back gives the same
 * spec, whatever characters the names hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"

static train_spec *load_ok(const char *yaml) {
    train_spec *s;
    dnas_error err;
    if (train_spec_load_string(&s, yaml, "s.yaml", &err)) fail_msg("unexpected error: %s", err.msg);
    return s;
}

static void load_fails(const char *yaml, const char *want) {
    train_spec *s;
    dnas_error err;
    assert_int_equal(train_spec_load_string(&s, yaml, "bad.yaml", &err), DNAS_ERR_CONFIG);
    assert_null(s);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
}

static int str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static int value_eq(const train_spec_value *a, const train_spec_value *b) {
    if (a->kind != b->kind || a->nitems != b->nitems || !str_eq(a->text, b->text)) return 0;
    for (int i = 0; i < a->nitems; i++)
        if (!value_eq(&a->items[i], &b->items[i])) return 0;
    return 1;
}

/* Same spec, lines aside. */
static void assert_spec_eq(const train_spec *a, const train_spec *b) {
    assert_true(str_eq(a->name, b->name));
    assert_true(str_eq(a->description, b->description));
    assert_true(a->c == b->c && a->h == b->h && a->w == b->w);
    assert_int_equal(a->nlayers, b->nlayers);
    for (int i = 0; i < a->nlayers; i++) {
        const train_spec_layer *x = a->layers[i], *y = b->layers[i];
        assert_string_equal(x->name, y->name);
        assert_true(str_eq(x->op, y->op));
        assert_int_equal(x->ninputs, y->ninputs);
        for (int k = 0; k < x->ninputs; k++) assert_string_equal(x->inputs[k], y->inputs[k]);
        assert_int_equal(x->nattrs, y->nattrs);
        for (int k = 0; k < x->nattrs; k++) {
            assert_string_equal(x->attrs[k].key, y->attrs[k].key);
            assert_true(value_eq(&x->attrs[k].value, &y->attrs[k].value));
        }
    }
}

static train_spec *round_trip(const train_spec *s) {
    char *text = train_spec_to_yaml(s);
    train_spec *back = load_ok(text);
    free(text);
    return back;
}

/* What the reader keeps: names, ops, inputs, attributes as text with the
 * line of each key and value, lists and (kind only) mappings. */
static void test_reader_keeps_everything(void **state) {
    (void)state;
    train_spec *s = load_ok("name: tiny\n"
                            "description: a test\n"
                            "input: [3, 8, 9]\n"
                            "layers:\n"
                            "  - {name: c, op: conv2d, out: 4, kernel: [3, 1], padding: same}\n"
                            "  - name: r\n"
                            "    op: relu6\n"
                            "    input: c\n"
                            "  - {name: s, op: add, inputs: [r, c], odd: {a: 1}, eps: 1e-3}\n"
                            "  - {name: n}\n");
    assert_string_equal(s->name, "tiny");
    assert_string_equal(s->description, "a test");
    assert_true(s->c == 3 && s->h == 8 && s->w == 9);
    assert_int_equal(s->input_line, 3);
    assert_int_equal(s->nlayers, 4);
    const train_spec_layer *c = s->layers[0];
    assert_string_equal(c->op, "conv2d");
    assert_int_equal(c->ninputs, 0);
    assert_int_equal(c->line, 5);
    assert_int_equal(c->nattrs, 3);
    assert_string_equal(c->attrs[0].key, "out");
    assert_string_equal(train_spec_get(c, "out")->text, "4");
    const train_spec_value *k = train_spec_get(c, "kernel");
    assert_int_equal(k->kind, TRAIN_SPEC_LIST);
    assert_int_equal(k->nitems, 2);
    assert_string_equal(k->items[1].text, "1");
    assert_string_equal(train_spec_get(c, "padding")->text, "same");
    const train_spec_layer *r = s->layers[1];
    assert_int_equal(r->line, 6);
    assert_int_equal(r->op_line, 7);
    assert_int_equal(r->ninputs, 1);
    assert_string_equal(r->inputs[0], "c");
    assert_int_equal(r->input_lines[0], 8);
    const train_spec_layer *a = s->layers[2];
    assert_int_equal(a->ninputs, 2);
    assert_string_equal(a->inputs[1], "c");
    assert_int_equal(train_spec_get(a, "odd")->kind, TRAIN_SPEC_MAP);
    assert_string_equal(train_spec_get(a, "eps")->text, "1e-3");
    assert_int_equal(train_spec_get(a, "eps")->line, 9);
    assert_null(s->layers[3]->op);
    assert_null(train_spec_get(a, "out"));
    assert_int_equal(train_spec_find(s, "s"), 2);
    assert_int_equal(train_spec_find(s, "zz"), -1);
    train_spec_free(s);
}

static void test_reader_refuses(void **state) {
    (void)state;
    load_fails("layers: [{name: a, op: relu}]\n", "bad.yaml:1: missing 'input' (the sample shape [C, H, W])");
    load_fails("input: [1, 2, 0]\nlayers: [{name: a, op: relu}]\n", "bad.yaml:1: input: 0 is out of range");
    load_fails("input: [1, 2, 2]\n", "missing 'layers'");
    load_fails("input: [1, 2, 2]\nlayers:\n  - {op: relu}\n", "bad.yaml:3: layer 1: missing 'name'");
    load_fails("input: [1, 2, 2]\nlayers:\n  - [a]\n", "bad.yaml:3: layer: expected a mapping");
    load_fails("input: [1, 2, 2]\nlayers:\n  - {name: a, op: [relu]}\n",
               "bad.yaml:3: op: expected a single value, found a list");
    load_fails("input: [1, 2, 2]\nlayers:\n  - {name: a, op: add, input: x, inputs: [y]}\n",
               "layer 'a': give either input or inputs, not both");
    load_fails("input: [1, 2, 2]\nlayers:\n  - {name: a, op: add, inputs: []}\n",
               "inputs: expected a list of layer names");
    load_fails("input: [1, 2, 2]\nlayers:\n  - {name: a, op: add, inputs: [[x]]}\n",
               "input: expected a single value, found a list");
    load_fails("input: [1, 2, 2]\nlayers:\n  - {name: '', op: relu}\n", "name '': expected 1..63 characters");
    load_fails("name: 0123456789012345678901234567890123456789012345678901234567890123\n"
               "input: [1, 2, 2]\nlayers:\n  - {name: a, op: relu}\n",
               "bad.yaml:1: name: expected at most 63 characters");
    load_fails("input: [1, 2, 2]\nlayer: []\n", "model: unknown key 'layer'");
}

/* An alias inside its own anchor's list is a cycle; a few aliases repeating
 * a long list expand past the budget. Both fail quickly with a message. */
static void test_reader_bounds_aliases(void **state) {
    (void)state;
    load_fails("input: [1, 2, 2]\nlayers:\n  - {name: a, op: relu, kernel: &k [1, *k]}\n",
               "nested deeper than 64 levels");
    /* 40,000 items repeated by 4 layers; the file has ~40,000 nodes, so the
     * budget (nodes + 65,536) runs out in the third layer, line 5 */
    size_t n = 40000, cap = n * 3 + 512;
    char *yaml = malloc(cap), *p = yaml;
    p += sprintf(p, "input: [1, 2, 2]\nlayers:\n  - {name: a, op: relu, big: &b [");
    for (size_t i = 0; i < n; i++) p += sprintf(p, "%s1", i ? "," : "");
    sprintf(p, "]}\n  - {name: b, op: relu, big: *b}\n  - {name: c, op: relu, big: *b}\n"
               "  - {name: d, op: relu, big: *b}\n");
    load_fails(yaml, "bad.yaml:5: the aliases in this file repeat more values than it holds");
    /* a moderate use of aliases is fine */
    train_spec *s = load_ok("input: [1, 2, 2]\nlayers:\n  - {name: a, op: relu, kernel: &k [3, 3]}\n"
                            "  - {name: b, op: relu, kernel: *k}\n");
    assert_string_equal(train_spec_get(s->layers[1], "kernel")->items[0].text, "3");
    train_spec_free(s);
    free(yaml);
}

/* A spec made in C: setters store text (floats as the shortest text that
 * reads back as the same float), a key set twice keeps the last value. */
static void test_spec_in_c(void **state) {
    (void)state;
    train_spec *s = train_spec_new("mine", 1, 4, 4);
    train_spec_layer *c = train_spec_add(s, "c", "conv2d");
    train_spec_set_int(c, "out", 8);
    train_spec_set_pair(c, "kernel", 3, 1);
    train_spec_set_int(c, "out", 16);
    train_spec_set_bool(c, "bias", 0);
    train_spec_layer *b = train_spec_add(s, "bn", "batchnorm");
    train_spec_set_float(b, "eps", 1e-5);
    train_spec_set_float(b, "momentum", 0.1);
    long bits[3] = {2, 4, 8};
    train_spec_layer *q = train_spec_add(s, "q", "pact");
    train_spec_set_ints(q, "bits", bits, 3);
    train_spec_add_input(q, "c");
    for (int i = 0; i < 20; i++) train_spec_add(s, "x", "relu"); /* layer pointers stay valid */
    assert_int_equal(c->nattrs, 3);
    assert_string_equal(train_spec_get(c, "out")->text, "16");
    assert_string_equal(train_spec_get(c, "bias")->text, "false");
    assert_string_equal(train_spec_get(b, "eps")->text, "1e-05");
    assert_string_equal(train_spec_get(b, "momentum")->text, "0.1");
    assert_string_equal(train_spec_get(q, "bits")->items[2].text, "8");
    assert_string_equal(q->inputs[0], "c");
    train_spec *back = round_trip(s);
    assert_spec_eq(s, back);
    train_spec_free(back);
    train_spec_free(s);
}

/* Editing: implicit inputs named, an input renamed, a layer removed; the
 * edited spec builds into the network it says. */
static void test_spec_edit(void **state) {
    (void)state;
    train_spec *s = load_ok("input: [2, 1, 8]\n"
                            "layers:\n"
                            "  - {name: a, op: conv1d, out: 3, kernel: 3, padding: same}\n"
                            "  - {name: b, op: conv1d, out: 3, kernel: 5, padding: same, input: input}\n"
                            "  - {name: m, op: mix, inputs: [a, b]}\n"
                            "  - {name: r, op: relu}\n"
                            "  - {name: fc, op: linear, out: 2}\n");
    train_spec_name_inputs(s);
    assert_string_equal(s->layers[0]->inputs[0], "input");
    assert_string_equal(s->layers[3]->inputs[0], "m");
    assert_string_equal(s->layers[4]->inputs[0], "r");
    assert_int_equal(s->layers[2]->ninputs, 2);
    train_spec_rename_input(s, "m", "b");
    assert_string_equal(s->layers[3]->inputs[0], "b");
    train_spec_remove(s, 2); /* m */
    train_spec_remove(s, 0); /* a */
    assert_int_equal(s->nlayers, 3);
    assert_string_equal(s->layers[0]->name, "b");
    assert_int_equal(train_spec_find(s, "m"), -1);
    train_net *net;
    dnas_error err;
    if (train_net_build(&net, s, "edit", &err)) fail_msg("%s", err.msg);
    assert_int_equal(net->nlayers, 4);
    assert_int_equal(net->layers[2].inputs[0], 1); /* r reads b */
    assert_int_equal(net->layers[1].kw, 5);
    train_net_free(net);
    train_spec_free(s);
}

/* Names and values YAML would misread unquoted are written quoted; every
 * one reads back as the same text. */
static void test_writer_quotes(void **state) {
    (void)state;
    static const char *const NAMES[] = {"a: b", "#x", "-", "-1", "--x", "x-1", "\"q\"", "back\\slash",
                                        "tab\there", "[l]", "{m}", "ünï", "- y", ".5", "...", "null",
                                        "&a", "*a", "'", "a,b", "? k", "%p", "@x", "`x", "|", ">", "!t",
                                        "line\nbreak", " lead"};
    int n = (int)(sizeof NAMES / sizeof NAMES[0]);
    train_spec *s = train_spec_new("q: \"x\"", 1, 1, 1);
    s->description = strdup("say: \"hi\" # not a comment");
    for (int i = 0; i < n; i++) {
        train_spec_layer *l = train_spec_add(s, NAMES[i], "relu");
        if (i) train_spec_add_input(l, NAMES[i - 1]);
        train_spec_set(l, NAMES[i], NAMES[(i + 1) % n]);
    }
    train_spec_layer *l = train_spec_add(s, "nested", "add");
    train_spec_add_input(l, NAMES[0]);
    train_spec_add_input(l, NAMES[1]);
    train_spec_set_ints(l, "k", (long[]){1, -2}, 2);
    train_spec_set_ints(l, "none", NULL, 0);
    train_spec *back = round_trip(s);
    assert_spec_eq(s, back);
    train_spec_free(back);
    train_spec_free(s);
}

/* Read, write, read: the same spec for every zoo model. */
static void test_zoo_round_trip(void **state) {
    (void)state;
    static const char *const ZOO[] = {"dscnn",          "resnet8",    "mobilenetv1_025",
                                      "fc_autoencoder", "tcn",        "resnet8_fmnist",
                                      "tcn_fmnist",     "dscnn_fmnist", "mobilenetv1_025_fmnist"};
    const char *src = getenv("DNAS_SOURCE_DIR");
    for (size_t i = 0; i < sizeof ZOO / sizeof ZOO[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/configs/models/%s.yaml", src ? src : DNAS_SOURCE_DIR, ZOO[i]);
        train_spec *s;
        dnas_error err;
        if (train_spec_load(&s, path, &err)) fail_msg("%s", err.msg);
        train_spec *back = round_trip(s);
        assert_spec_eq(s, back);
        train_spec_free(back);
        train_spec_free(s);
    }
}

static void test_writer_reports_write_errors(void **state) {
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f) skip();
    setvbuf(f, NULL, _IONBF, 0);
    train_spec *s = train_spec_new(NULL, 1, 1, 1);
    train_spec_add(s, "r", "relu");
    assert_int_equal(train_spec_write_yaml(f, s), -1);
    fclose(f);
    train_spec_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_keeps_everything),
        cmocka_unit_test(test_reader_refuses),
        cmocka_unit_test(test_reader_bounds_aliases),
        cmocka_unit_test(test_spec_in_c),
        cmocka_unit_test(test_spec_edit),
        cmocka_unit_test(test_writer_quotes),
        cmocka_unit_test(test_zoo_round_trip),
        cmocka_unit_test(test_writer_reports_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
