/* The exported architecture as a compound table, one row per layer (the
 * input excluded), beside the seed's geometry (the seed layer of the same
 * name: an export may drop layers, e.g. SuperNet's unchosen branches):
 * what a user loads with pandas.DataFrame(f["runs/0/arch"][()]). Also the
 * method's discrete choices (SuperNet's blocks). */
#include <string.h>

#include "dnas_h5.h"
#include "store_internal.h"

typedef struct {
    char name[TRAIN_NAME_LEN];
    char op[16];
    char input[TRAIN_NAME_LEN]; /* first input ("input": the network's) */
    int32_t cin, cout;          /* a linear's cin counts features */
    int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, groups, pad_l, pad_r;
    int32_t cin_seed, cout_seed, kernel_w_seed, dilation_w_seed;
    int32_t out_h, out_w;
    int32_t wbits, abits; /* conv / linear: largest channel weight precision (0 float); pact: its bits */
    float wbits_mean;     /* conv / linear: mean channel weight precision (0 float) */
    int64_t params, macs; /* weights + biases + BN γ, β; MACs as dnas summary counts them */
} arch_row;

static hid_t row_type(hid_t *name_t, hid_t *op_t) {
    *name_t = H5Tcopy(H5T_C_S1);
    H5Tset_size(*name_t, TRAIN_NAME_LEN);
    *op_t = H5Tcopy(H5T_C_S1);
    H5Tset_size(*op_t, 16);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(arch_row));
    H5Tinsert(t, "name", HOFFSET(arch_row, name), *name_t);
    H5Tinsert(t, "op", HOFFSET(arch_row, op), *op_t);
    H5Tinsert(t, "input", HOFFSET(arch_row, input), *name_t);
#define I32(f) H5Tinsert(t, #f, HOFFSET(arch_row, f), H5T_NATIVE_INT32)
    I32(cin), I32(cout), I32(kernel_h), I32(kernel_w), I32(stride_h), I32(stride_w), I32(dilation_h);
    I32(dilation_w), I32(groups), I32(pad_l), I32(pad_r), I32(cin_seed), I32(cout_seed);
    I32(kernel_w_seed), I32(dilation_w_seed), I32(out_h), I32(out_w), I32(wbits), I32(abits);
#undef I32
    H5Tinsert(t, "wbits_mean", HOFFSET(arch_row, wbits_mean), H5T_NATIVE_FLOAT);
    H5Tinsert(t, "params", HOFFSET(arch_row, params), H5T_NATIVE_INT64);
    H5Tinsert(t, "macs", HOFFSET(arch_row, macs), H5T_NATIVE_INT64);
    return t;
}

static int32_t cin_of(const train_net *n, const train_layer *L) {
    if (!L->ninputs) return 0;
    const train_layer *I = &n->layers[L->inputs[0]];
    return L->op == TRAIN_OP_LINEAR ? I->c * I->h * I->w : I->c;
}

int search_store_arch_table(hid_t run, const search_result *res) {
    const train_net *e = res->exported, *s = res->seed;
    DNAS_ASSERT(e && s);
    int n = e->nlayers - 1;
    arch_row *rows = dnas_xcalloc((size_t)n + 1, sizeof *rows);
    for (int i = 1; i < e->nlayers; i++) {
        const train_layer *L = &e->layers[i];
        int si = train_net_find(s, L->name);
        DNAS_ASSERT(si > 0); /* exports keep the names of the layers they keep */
        const train_layer *S = &s->layers[si];
        arch_row *r = &rows[i - 1];
        snprintf(r->name, sizeof r->name, "%s", L->name);
        snprintf(r->op, sizeof r->op, "%s", train_layer_op_name(L));
        snprintf(r->input, sizeof r->input, "%s", L->ninputs ? e->layers[L->inputs[0]].name : "");
        if (L->ninputs && L->inputs[0] == 0) snprintf(r->input, sizeof r->input, "input");
        r->cin = cin_of(e, L), r->cout = L->c;
        r->cin_seed = cin_of(s, S), r->cout_seed = S->c;
        r->kernel_h = L->kh, r->kernel_w = L->kw, r->stride_h = L->sh, r->stride_w = L->sw;
        r->dilation_h = L->dh, r->dilation_w = L->dw, r->groups = L->groups;
        r->pad_l = L->pl, r->pad_r = L->pr;
        r->kernel_w_seed = S->kw, r->dilation_w_seed = S->dw;
        r->out_h = L->h, r->out_w = L->w;
        if ((L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR) && L->wbits) {
            double sum = 0;
            for (int c = 0; c < L->c; c++) {
                int b = train_layer_wbits(L, c);
                sum += b;
                r->wbits = b > r->wbits ? b : r->wbits;
            }
            r->wbits_mean = (float)(sum / L->c);
        }
        if (L->op == TRAIN_OP_PACT && L->prec.nprec == 1) r->abits = L->prec.bits[0];
        train_counts c = train_net_layer_counts(e, i);
        r->params = c.weights + c.biases + c.bn;
        r->macs = c.macs;
    }
    hid_t nt, ot, t = row_type(&nt, &ot);
    int ok = dnas_h5_write_table(run, "arch", t, rows, (size_t)n);
    H5Tclose(t);
    H5Tclose(nt);
    H5Tclose(ot);
    free(rows);
    return ok;
}

typedef struct {
    char name[TRAIN_NAME_LEN];
    int32_t index;
    char choice[TRAIN_NAME_LEN];
} choice_row;

int search_store_choices(hid_t loc, const search_result *res) {
    choice_row *rows = dnas_xcalloc((size_t)res->nchoices + 1, sizeof *rows);
    for (int k = 0; k < res->nchoices; k++) {
        snprintf(rows[k].name, sizeof rows[k].name, "%s", res->choices[k].name);
        rows[k].index = res->choices[k].index;
        snprintf(rows[k].choice, sizeof rows[k].choice, "%s", res->choices[k].choice);
    }
    hid_t nt = H5Tcopy(H5T_C_S1);
    H5Tset_size(nt, TRAIN_NAME_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(choice_row));
    H5Tinsert(t, "name", HOFFSET(choice_row, name), nt);
    H5Tinsert(t, "index", HOFFSET(choice_row, index), H5T_NATIVE_INT32);
    H5Tinsert(t, "choice", HOFFSET(choice_row, choice), nt);
    int ok = dnas_h5_write_table(loc, "choices", t, rows, (size_t)res->nchoices);
    H5Tclose(t);
    H5Tclose(nt);
    free(rows);
    return ok;
}
