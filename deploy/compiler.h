/* The deploy compiler: an integer network (qnet.h) as a graph of ops over
 * tensors (the IR), target-independent passes that run from a table, the
 * arena planner, and code generators (backends) from a table. docs/deploy.md,
 * "The compiler", describes the whole with an example.
 *
 *   deploy_qnet --deploy_ir_build--> IR --fuse--> --engines--> --layout-->
 *   --plan--> IR with engines, layouts and arena offsets --backend--> files
 *
 * The IR refers to the qnet it was built from (attributes, weights, bias,
 * multipliers): the qnet must outlive it and not change. Steps are
 * schedule positions: op k runs at step k, in the qnet's order. */
#ifndef DNAS_DEPLOY_COMPILER_H
#define DNAS_DEPLOY_COMPILER_H

#include <stdio.h>

#include "hwcost.h"
#include "qnet.h"

/* ---- IR --------------------------------------------------------------------- */

typedef enum {
    DEPLOY_LAYOUT_NONE = 0, /* not decided yet (before the layout pass) */
    DEPLOY_LAYOUT_HWC,      /* [H][W][C] bytes, one value per byte, channel fastest */
} deploy_layout;

/* The activation fused into an op's requantization (the fuse pass). */
typedef enum {
    DEPLOY_ACT_NONE = 0, /* the clamp is the output type's range only */
    DEPLOY_ACT_RELU,     /* clamp lo = 0: ReLU (ReLU6 too, hi below the type's max) */
} deploy_act;

typedef struct {
    char name[DEPLOY_QNET_NAME_LEN]; /* the float layer whose output it holds */
    int32_t h, w, c;
    int is_signed, bits; /* int8 / uint8 values of `bits` bits */
    float scale;         /* real = scale·q */
    deploy_layout layout;
    size_t bytes;    /* storage (layout pass) */
    int producer;    /* op index, -1 for the network input */
    int first, last; /* live from step first to step last (plan pass) */
    long offset;     /* byte offset in the arena (plan pass), -1 before */
} deploy_ir_tensor;

/* How an op runs through a small tiled memory (L1; the tile pass). Output
 * tiles of th rows, tw columns and tc channels (the last along each axis
 * may be smaller); a conv tile reads the input window its rows and columns
 * need (the halo) and, for groups > 1, its groups' input channels. */
typedef struct {
    int tiled;                  /* 1: the op runs in tiles through the memory below */
    int32_t th, tw, tc;         /* output tile rows, columns, channels */
    int nh, nw, nc;             /* tiles along each axis (n = nh·nw·nc) */
    size_t in_bytes, out_bytes; /* one input / output tile buffer (largest tile) */
    size_t w_bytes;             /* one weight tile buffer: weights, bias, multipliers */
    int in_double, out_double, w_double; /* 1: two buffers of that kind (double buffering) */
    size_t l1_bytes;            /* the op's working set in the memory (all buffers, aligned) */
    uint64_t dma_bytes;         /* bytes moved between the memory and L2/L3 per inference */
    double tile_cycles;         /* the cost model summed over the tiles (0: no estimate) */
} deploy_tile;

typedef struct {
    deploy_qop_kind kind;
    int depthwise;         /* conv with groups = Cin = Cout */
    const deploy_qop *q;   /* the qnet op: attributes and constant arrays */
    int qindex;            /* its index in the qnet */
    int in[2], out;        /* IR tensors; in[1] = -1 but for ADD */
    deploy_act act;        /* fuse pass */
    int engine;            /* index into deploy_ir.engines, -1 before the engines pass */
    double cycles;         /* the cost model's latency on its engine (engines pass; 0: no
                              target description or no estimate) */
    dnas_rt_packing wpack; /* weight storage (layout pass) */
    size_t wbytes;         /* bytes of weights + bias + multipliers (layout pass) */
    /* split pass: the output channels this op computes, ascending indices
     * into the out tensor's C and the qnet op's per-channel arrays (points
     * into deploy_ir.chan), nchannels of them; NULL: every channel */
    const int32_t *channels;
    int32_t nchannels;
    deploy_tile tile;      /* tile pass */
} deploy_ir_op;

#define DEPLOY_IR_MAX_ENGINES (HWCOST_MAX_ENGINES + 1)

typedef struct {
    char name[DEPLOY_QNET_NAME_LEN];
    const deploy_qnet *q;
    int ntensors, nops;
    deploy_ir_tensor *tensors;
    deploy_ir_op *ops; /* schedule order */
    int input, output; /* tensor indices */
    int nengines;      /* engines pass: names of the engines ops run on */
    char engines[DEPLOY_IR_MAX_ENGINES][HWCOST_NAME_LEN];
    size_t arena;        /* plan pass: bytes of the arena */
    size_t arena_bound;  /* plan pass: most bytes live at any step */
    size_t weight_bytes; /* layout pass: Σ op wbytes */
    size_t scratch;      /* plan pass: the kernels' scratch bytes (outside the arena, in the
                            activations' memory; deploy_compile_params.scratch_bytes) */
    char last_pass[32];  /* the last pass run ("build" right after deploy_ir_build) */
    int32_t *chan;       /* split pass: the ops' channel lists (owned) */
    size_t l1_size;      /* tile pass: bytes of the tiled memory (0: none), */
    size_t l1_bytes;     /* the most any tiled op uses there, */
    uint64_t dma_bytes;  /* bytes DMA moves per inference, */
    uint64_t dma_bound;  /* and its lower bound: each tiled op's input values it reads,
                            output and constants moved once */
} deploy_ir;

/* The IR of a checked qnet (deploy_qnet_check first; DNAS_ERR_FORMAT
 * naming `where` otherwise): one tensor per qnet tensor, one op per qnet
 * op, nothing decided. */
dnas_status deploy_ir_build(deploy_ir *ir, const deploy_qnet *q, const char *where,
                            dnas_error *err);
void deploy_ir_free(deploy_ir *ir);
/* Removes tensors that no op reads or writes (but the input and output)
 * and renumbers the rest; passes that drop ops call it. */
void deploy_ir_compact(deploy_ir *ir);
/* The IR as text: a header line, one line per tensor (shape, type,
 * layout, bytes, lifetime, offset), one per op (inputs -> output, the
 * attributes, fused activation, engine), and the arena line once planned. */
void deploy_ir_dump(const deploy_ir *ir, FILE *f);
/* Multiply-accumulates of one inference: conv Hout·Wout·Cout·kh·kw·Cin/groups,
 * linear Cin·Cout (no bias adds). */
uint64_t deploy_ir_macs(const deploy_ir *ir);
/* The same for op k alone (0 for ops without weights). */
uint64_t deploy_ir_op_macs(const deploy_ir *ir, int k);
/* Output channels op k computes: its nchannels after a split, else the
 * out tensor's C. */
int32_t deploy_ir_op_cout(const deploy_ir *ir, int k);
/* The first op of op k's layer: the ops a split made of one qnet layer
 * follow each other and share its constants, which the backends write
 * once, named after that first op. */
int deploy_ir_layer_first(const deploy_ir *ir, int k);

/* ---- passes ------------------------------------------------------------------ */

/* What the passes read beyond the IR. */
typedef struct {
    const hwcost_target *target; /* the target description, or NULL: one engine */
    const char *host_engine;     /* the engine that runs what no engine lists
                                    (adds, pools), and everything when target is
                                    NULL; "cpu" by default */
    dnas_rt_packing wpack;       /* the narrowest weight packing the backend reads (INT8,
                                    INT4 or INT2; the layout pass packs each op as
                                    narrow as its bits allow, down to it) */
    size_t align;                /* arena offsets are multiples of it (>= 1) */
    const char *dump_after;      /* a pass name ("build" for the IR as built), or NULL */
    int split;                   /* 1: the backend runs ops on channel subsets, so the
                                    split pass splits a layer whose channels the qnet
                                    records on several engines (ODiMO); 2: it runs them
                                    on channel subsets of one engine, each on its input
                                    clamped or not, so the split pass splits a layer by
                                    its channels' input clamp (gap8); 0: it does not */
    int tile;                    /* 1: the backend runs ops in tiles through the tiled
                                    memory, so the tile pass cuts them (gap8, diana); 0: whole
                                    layers, the tile pass leaves every op untiled */
    FILE *dump;                  /* where the dump goes (stdout when NULL) */
    size_t l1_bytes;             /* the tiled memory's size instead of the target's (0: the
                                    target's; `dnas deploy --l1`) */
    /* the backend's kernel scratch for a planned IR (bytes), or NULL: none */
    size_t (*scratch_bytes)(const deploy_ir *ir);
} deploy_compile_params;

deploy_compile_params deploy_compile_default_params(void);

typedef struct {
    const char *name;
    const char *help;
    dnas_status (*run)(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);
} deploy_pass;

/* The passes in the order deploy_compile runs them; NULL name ends it. */
extern const deploy_pass deploy_passes[];

dnas_status deploy_pass_fuse(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);
dnas_status deploy_pass_engines(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);
dnas_status deploy_pass_split(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);
dnas_status deploy_pass_layout(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);
dnas_status deploy_pass_plan(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);
dnas_status deploy_pass_tile(deploy_ir *ir, const deploy_compile_params *p, dnas_error *err);

/* 1 when name is "build" or a pass of the table. */
int deploy_pass_known(const char *name);

/* deploy_ir_build, then every pass of the table, dumping after the one
 * p->dump_after names (DNAS_ERR_INVALID listing the names when it names
 * none). ir is freed again on an error. */
dnas_status deploy_compile(deploy_ir *ir, const deploy_qnet *q, const char *where,
                           const deploy_compile_params *p, dnas_error *err);

/* ---- memory planner (compiler/planner.c) -------------------------------------- */

/* A buffer to place: size bytes, live from step first to step last
 * (inclusive, first <= last); offset is the planner's answer. */
typedef struct {
    size_t size;
    int first, last;
    size_t offset;
} deploy_plan_buf;

/* Greedy placement, largest first (the algorithm and its tie rule are in
 * planner.c's header): fills every offset (multiples of align) so that no
 * two buffers live at a common step overlap; returns the arena size. */
size_t deploy_plan_arena(deploy_plan_buf *b, int n, size_t align);
/* The most bytes live at any one step: no placement needs less. */
size_t deploy_plan_lower_bound(const deploy_plan_buf *b, int n);
/* 1 when two buffers live at a common step share a byte (*i, *j get the
 * first such pair; either may be NULL), else 0. */
int deploy_plan_overlap(const deploy_plan_buf *b, int n, int *i, int *j);

/* ---- backends ------------------------------------------------------------------ */

/* What generated files say about where they come from. */
typedef struct {
    const char *command; /* the command line */
    const char *source;  /* file:group of the qnet */
    const char *run_id;  /* the run's id, or NULL */
    const char *version; /* tool version and commit */
} deploy_emit_info;

typedef struct {
    const char *name;
    const char *help;
    const char *target; /* the target description it deploys to (configs/targets/NAME.yaml),
                           or NULL: a generic host, one engine */
    const char *host_engine;
    dnas_rt_packing wpack;
    size_t align;
    /* Writes the generated sources into dir (which exists). */
    dnas_status (*emit)(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                        dnas_error *err);
} deploy_backend;

/* The backends; NULL name ends the table. */
extern const deploy_backend deploy_backends[];
/* The backend called name, or NULL. */
const deploy_backend *deploy_backend_find(const char *name);
/* deploy_compile_default_params with what the backend needs from the
 * passes (host engine, weight packing, alignment, the kernels' scratch:
 * cortex-m's); the target description is the caller's to load and set. */
deploy_compile_params deploy_backend_params(const deploy_backend *be);

/* The `c` backend: network.h, network.c, weights.c, test_main.c, Makefile
 * and the dnas_rt sources in dnas_rt/ (docs/deploy.md, "Generated code"). */
dnas_status deploy_emit_c(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                          dnas_error *err);

/* The `cortex-m` backend: the c sources plus startup.c, link.ld and a
 * Makefile for arm-none-eabi-gcc and QEMU mps2-an386 (docs/deploy.md). */
dnas_status deploy_emit_cortex_m(const deploy_ir *ir, const deploy_emit_info *info,
                                 const char *dir, dnas_error *err);

/* The `diana` backend: the layers as jobs of DIANA's digital and analog
 * engines (weights in their layouts) and dnas_rt calls on the host core,
 * against the host model deploy/runtime/diana/ (docs/deploy.md, "DIANA"). */
dnas_status deploy_emit_diana(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                              dnas_error *err);
/* The `gap8` backend: the c sources with a network.c that runs conv and
 * linear layers on the 8-core cluster through L1 tiles and DMA, written
 * against the PULP-style API of deploy/runtime/pulp/dnas_pulp.h, plus that
 * API's host model to run it here (docs/deploy.md, "GAP8"). */
dnas_status deploy_emit_gap8(const deploy_ir *ir, const deploy_emit_info *info, const char *dir,
                             dnas_error *err);

/* Test vectors for the generated test program: n samples of the input
 * tensor's bytes in (HWC, n·input size), written to dir/test_input.bin,
 * and the evaluator's outputs as bytes to dir/test_expected.bin. */
dnas_status deploy_emit_vectors(const deploy_qnet *q, const uint8_t *in, int n, const char *dir,
                                dnas_error *err);
/* The same samples as floats (n, C, H, W), the data loader's values before
 * the normalization (float32, the machine's byte order): dir/test_input_f32.bin,
 * which test_main checks network_quantize_input() against. */
dnas_status deploy_emit_float_vectors(const deploy_qnet *q, const float *x, int n,
                                      const char *dir, dnas_error *err);
/* n random samples over the input tensor's range (a seeded generator). */
void deploy_random_inputs(const deploy_qnet *q, uint8_t *in, int n, uint64_t seed);

/* The dnas_rt sources embedded at build time (generated rt_sources.c). */
typedef struct {
    const char *name;
    const unsigned char *data;
    size_t len;
} deploy_rt_file;
extern const deploy_rt_file deploy_rt_files[];
extern const int deploy_rt_nfiles;
/* The DIANA host model's sources (deploy/runtime/diana/), the same way. */
extern const deploy_rt_file deploy_rt_diana_files[];
extern const int deploy_rt_diana_nfiles;
/* The PULP-style API, its host model and the GAP8 tile executor
 * (deploy/runtime/pulp/), embedded the same way (generated pulp_sources.c). */
extern const deploy_rt_file deploy_pulp_files[];
extern const int deploy_pulp_nfiles;

#endif
