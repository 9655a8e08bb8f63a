/* What the compiler's files share beyond compiler.h: the op attribute text
 * (dump and generated comments) and writing generated files. */
#ifndef DNAS_DEPLOY_COMPILER_INTERNAL_H
#define DNAS_DEPLOY_COMPILER_INTERNAL_H

#include "compiler.h"

/* The op's attributes as one line of text ("3x3 stride 1x1 ..."). */
void deploy_ir_op_attrs(const deploy_ir_op *o, char *buf, size_t len);

/* A generated file being written: dir/name. Writes go to f; the first
 * failure is remembered and reported by deploy_out_close. */
typedef struct {
    FILE *f;
    char path[4200];
} deploy_out;

dnas_status deploy_out_open(deploy_out *o, const char *dir, const char *name, dnas_error *err);
/* Closes o->f: DNAS_ERR_IO naming the path when any write or the close failed. */
dnas_status deploy_out_close(deploy_out *o, dnas_error *err);
/* dir/name as a directory (made when missing). */
dnas_status deploy_out_mkdir(const char *dir, const char *name, char *path, size_t len,
                             dnas_error *err);
/* s with every "*" "/" pair and control character made harmless for a C
 * block comment, into buf. */
void deploy_comment_text(const char *s, char *buf, size_t len);
/* s as a C identifier part: [A-Za-z0-9_] kept, anything else '_', at most
 * len - 1 characters. */
void deploy_ident(const char *s, char *buf, size_t len);

/* ---- the C sources every C-based backend writes (backend_c.c) ---- */

/* The comment a generated file opens with: file, what it holds, the
 * network, dnas version, backend, command line, source and run id. */
void deploy_c_head(FILE *f, const char *file, const char *what, const deploy_ir *ir,
                   const deploy_emit_info *info, const char *backend);
/* network.h, network.c, weights.c, test_main.c and dnas_rt/ into dir. */
dnas_status deploy_c_sources(const deploy_ir *ir, const deploy_emit_info *info, const char *backend,
                             const char *dir, dnas_error *err);
/* The static scratch buffer of the Cortex-M kernels (dnas_cm.h) in bytes:
 * the most one conv / linear of ir needs, rounded up to words, plus a word. */
size_t deploy_cm_scratch_bytes(const deploy_ir *ir);
/* " dnas_rt/a.c dnas_rt/b.c ...": the runtime's C files, for a Makefile. */
void deploy_c_rt_sources(FILE *f, int cm);

#endif
