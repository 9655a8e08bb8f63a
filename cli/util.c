/* Command-line helpers shared by the subcommands: help detection, strict
 * option values and one positional argument. Every message starts with
 * "dnas <command>:" and names the option and what was found. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "deploy.h"

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

int cli_opt_str(int argc, char **argv, int *i, const char *meta, const char **out) {
    const char *opt = argv[*i];
    if (*i + 1 >= argc) {
        fprintf(stderr, "dnas %s: %s needs a value (%s)\n", argv[0], opt, meta);
        return CLI_EXIT_USAGE;
    }
    /* "--x" is taken for a forgotten value, not as one; "-5" stays a value
     * so that a number option can say it is out of range */
    const char *v = argv[*i + 1];
    if (v[0] == '-' && v[1] == '-') {
        fprintf(stderr, "dnas %s: %s needs a value (%s), found the option '%s'\n", argv[0], opt, meta, v);
        return CLI_EXIT_USAGE;
    }
    *i += 1;
    *out = v;
    return 0;
}

int cli_opt_long(int argc, char **argv, int *i, const char *meta, long lo, long hi, long *out) {
    const char *opt = argv[*i], *s;
    int rc = cli_opt_str(argc, argv, i, meta, &s);
    if (rc) return rc;
    if (dnas_parse_long(s, lo, hi, out)) {
        fprintf(stderr, "dnas %s: %s: expected an integer in %ld..%ld, found '%s'\n", argv[0], opt, lo, hi,
                s);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_opt_double(int argc, char **argv, int *i, const char *meta, double lo, double hi, int lo_open,
                   double *out) {
    const char *opt = argv[*i], *s;
    int rc = cli_opt_str(argc, argv, i, meta, &s);
    if (rc) return rc;
    double v;
    if (dnas_parse_double(s, lo, hi, &v) || (lo_open && v == lo)) {
        fprintf(stderr, "dnas %s: %s: expected a number in %c%g, %g], found '%s'\n", argv[0], opt,
                lo_open ? '(' : '[', lo, hi, s);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

int cli_opt_path(int argc, char **argv, int *i, const char *meta, size_t max_len, const char **out) {
    const char *opt = argv[*i], *s;
    int rc = cli_opt_str(argc, argv, i, meta, &s);
    if (rc) return rc;
    size_t n = strlen(s);
    if (!n || n > max_len) {
        fprintf(stderr, "dnas %s: %s: expected a path of 1..%zu characters, found %zu: '%s'\n", argv[0], opt,
                max_len, n, s);
        return CLI_EXIT_USAGE;
    }
    *out = s;
    return 0;
}

int cli_positional(char **argv, int i, const char *name, const char **pos) {
    const char *a = argv[i];
    if (a[0] == '-') {
        fprintf(stderr, "dnas %s: unknown option '%s' ('dnas %s --help' lists the options)\n", argv[0], a,
                argv[0]);
        return CLI_EXIT_USAGE;
    }
    if (*pos) {
        fprintf(stderr, "dnas %s: extra argument '%s' (it takes one %s, and that is '%s')\n", argv[0], a,
                name, *pos);
        return CLI_EXIT_USAGE;
    }
    *pos = a;
    return 0;
}

int cli_missing(char **argv, const char *what, const char *usage) {
    const char *end = strstr(usage, "\n\n"); /* the usage lines end at the first blank line */
    int n = end ? (int)(end - usage) : (int)strlen(usage);
    fprintf(stderr, "dnas %s: missing %s\n%.*s\n('dnas %s --help' describes the options)\n", argv[0], what,
            n, usage, argv[0]);
    return CLI_EXIT_USAGE;
}

const char *cli_target_path(const char *t, char *buf, size_t len) {
    return deploy_target_path(t, buf, len);
}
