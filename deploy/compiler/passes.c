/* The pass table and the compiler driver: build the IR from the qnet, run
 * every pass in table order, dump the IR after the one --dump-after names.
 * A pass reads and changes the IR only through its arguments; none names a
 * target (targets are data: deploy_compile_params.target). */
#include <string.h>

#include "compiler.h"

const deploy_pass deploy_passes[] = {
    {"fuse", "activations fused into the requantization; flattens become views", deploy_pass_fuse},
    {"engines", "each op on an engine of the target description", deploy_pass_engines},
    {"split", "a layer with channels on several engines: one op per engine", deploy_pass_split},
    {"layout", "tensor and weight storage (HWC bytes, int8 weights)", deploy_pass_layout},
    {"tile", "output tiles of each op that runs through a tiled memory (L1)", deploy_pass_tile},
    {"plan", "tensor lifetimes and arena offsets", deploy_pass_plan},
    {NULL, NULL, NULL},
};

deploy_compile_params deploy_compile_default_params(void) {
    deploy_compile_params p = {0};
    p.host_engine = "cpu";
    p.wpack = DNAS_RT_PACK_INT8;
    p.align = 1;
    return p;
}

int deploy_pass_known(const char *name) {
    if (!strcmp(name, "build")) return 1;
    for (int i = 0; deploy_passes[i].name; i++)
        if (!strcmp(name, deploy_passes[i].name)) return 1;
    return 0;
}

dnas_status deploy_compile(deploy_ir *ir, const deploy_qnet *q, const char *where,
                           const deploy_compile_params *p, dnas_error *err) {
    if (p->dump_after && !deploy_pass_known(p->dump_after)) {
        char names[256] = "build";
        for (int i = 0; deploy_passes[i].name; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), ", %s",
                     deploy_passes[i].name);
        memset(ir, 0, sizeof *ir);
        return dnas_fail(err, DNAS_ERR_INVALID, "no pass called '%s' (the passes: %s)",
                         p->dump_after, names);
    }
    FILE *dump = p->dump ? p->dump : stdout;
    dnas_status st = deploy_ir_build(ir, q, where, err);
    if (st) return st;
    if (p->dump_after && !strcmp(p->dump_after, "build")) deploy_ir_dump(ir, dump);
    for (int i = 0; deploy_passes[i].name; i++) {
        st = deploy_passes[i].run(ir, p, err);
        if (st) {
            deploy_ir_free(ir);
            return st;
        }
        snprintf(ir->last_pass, sizeof ir->last_pass, "%s", deploy_passes[i].name);
        if (p->dump_after && !strcmp(p->dump_after, deploy_passes[i].name))
            deploy_ir_dump(ir, dump);
    }
    return DNAS_OK;
}
