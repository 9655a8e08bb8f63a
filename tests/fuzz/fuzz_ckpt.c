/* Fuzz target: the checkpoint readers. Input = one HDF5 checkpoint, loaded
 * into the fixed small network of ckpt_net.yaml (conv, BN, ReLU, linear:
 * weights, biases, BN state) without optimizer state, with Adam moments and
 * with SGD velocity; then with an extra named tensor (train_ckpt_load_extra)
 * and its texts read back (train_ckpt_load_texts). The seed checkpoints are
 * of this network, formats 1 and 2 (tests/fuzz/make_corpus.sh). libhdf5 is
 * not instrumented. */
#include "checkpoint.h"
#include "fuzz_util.h"

static train_net *ckpt_net(void) {
    static train_net *net;
    if (net) return net;
    dnas_error err;
    if (train_net_load(&net, DNAS_SOURCE_DIR "/tests/fuzz/ckpt_net.yaml", &err)) {
        fprintf(stderr, "fuzz_ckpt: %s\n", err.msg);
        abort();
    }
    return net;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    train_net *net = ckpt_net();
    const char *path = fuzz_write("ckpt.h5", data, size);
    static const train_optim_kind KINDS[] = {TRAIN_OPTIM_ADAM, TRAIN_OPTIM_SGD};
    for (int i = -1; i < 2; i++) {
        train_optim opt, *o = NULL;
        if (i >= 0) {
            train_optim_params p = train_optim_default_params();
            p.kind = KINDS[i];
            train_optim_init(&opt, &p, net->nparams);
            o = &opt;
        }
        train_ckpt_meta meta;
        dnas_error err;
        err.msg[0] = 0;
        dnas_status st = train_ckpt_load(path, net, o, &meta, &err);
        fuzz_check(st, &err, "train_ckpt_load");
        if (o) train_optim_free(o);
    }
    float alpha[4];
    train_ckpt_tensor extra = {"arch/alpha", alpha, 4};
    train_ckpt_meta meta;
    dnas_error err;
    err.msg[0] = 0;
    fuzz_check(train_ckpt_load_extra(path, net, NULL, &meta, &extra, 1, &err), &err, "train_ckpt_load_extra");
    char *config = NULL, *model = NULL;
    err.msg[0] = 0;
    fuzz_check(train_ckpt_load_texts(path, &config, &model, &err), &err, "train_ckpt_load_texts");
    free(config);
    free(model);
    return 0;
}
