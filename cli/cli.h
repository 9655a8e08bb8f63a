/* Subcommands of the dnas binary: each takes argc/argv starting at its own
 * name and returns the process exit code (CLI_EXIT_*). */
#ifndef DNAS_CLI_H
#define DNAS_CLI_H

#include <stdio.h>

/* Exit codes of every subcommand. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,  /* a file, the output or the run failed: the message says why */
    CLI_EXIT_USAGE = 2, /* bad command line: unknown option, bad or missing value */
    CLI_EXIT_NAN = 3,   /* train, search: the loss became NaN or infinite */
};
/* The --help paragraph on exit codes shared by every subcommand; train
 * adds its code 3. */
#define CLI_HELP_EXIT                                                          \
    "exit codes: 0 ok, 1 failure (a file that cannot be read or written or is\n" \
    "malformed, a failed run; the message names the file and the reason),\n"    \
    "2 usage error (unknown option, missing or out-of-range value)"

/* A numeric macro as a string, for --help texts: "1.." CLI_STR(MAX). */
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
} cli_command;

int cli_train(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_cost(int argc, char **argv);
int cli_quantize(int argc, char **argv);
int cli_search(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_deploy(int argc, char **argv);

/* 1 when argv[1..] asks for help. */
int cli_wants_help(int argc, char **argv);

/* Option parsing. argv[0] is the subcommand's name and argv[*i] the option
 * being read; each helper advances *i past the value it consumes. On a bad
 * command line they print "dnas <command>: ..." to stderr and return
 * CLI_EXIT_USAGE; on success they return 0.
 *
 * cli_opt_str: the option's value, which must exist and not be another
 * option ("--epochs --quiet"): "dnas train: --epochs needs a value (N)".
 * meta names the value in that message. */
int cli_opt_str(int argc, char **argv, int *i, const char *meta, const char **out);
/* An integer value in lo..hi, the whole string parsed, range-checked before
 * any narrowing: "dnas train: --epochs: expected an integer in 1..100000,
 * found '1x'". */
int cli_opt_long(int argc, char **argv, int *i, const char *meta, long lo, long hi, long *out);
/* A finite number in lo..hi (lo itself excluded when lo_open), the whole
 * string parsed: "dnas quantize: --percentile: expected a number in
 * (0, 100], found 'x'". */
int cli_opt_double(int argc, char **argv, int *i, const char *meta, double lo, double hi, int lo_open,
                   double *out);
/* A path value of at most max_len characters (the size of the buffer it
 * goes to, minus one): a longer one is an error saying so, not truncated. */
int cli_opt_path(int argc, char **argv, int *i, const char *meta, size_t max_len, const char **out);
/* argv[i], which is not a known option: an unknown option (it starts with
 * '-') or the command's one positional argument `name`, stored in *pos; a
 * second positional is an error naming both. */
int cli_positional(char **argv, int i, const char *name, const char **pos);
/* Target file from a name or a path: a path (a '/' in it, or '.yaml') as it
 * is; a name as configs/targets/NAME.yaml in the first of ., $DNAS_SOURCE_DIR
 * and the tree dnas was built from that has it. buf holds a found name's
 * path; NULL when no directory has it. */
const char *cli_target_path(const char *t, char *buf, size_t len);
/* "dnas <command>: missing <what>" with the usage line and a pointer to
 * --help; returns CLI_EXIT_USAGE. */
int cli_missing(char **argv, const char *what, const char *usage);

#endif
