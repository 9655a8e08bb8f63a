/* /runs/<id>/channel_engines: each output channel's engine and weight
 * precision in the exported network, one compound row per channel of every
 * layer that records them (an ODiMO export; model keys `engines` and
 * `wbits`), in layer then channel order:
 *   pandas.DataFrame(f["runs/0/channel_engines"][()])  */
#include <string.h>

#include "dnas_h5.h"
#include "store_internal.h"

typedef struct {
    char layer[TRAIN_NAME_LEN];
    int32_t channel;
    char engine[TRAIN_ENGINE_NAME_LEN];
    int32_t wbits; /* 0: float weights (or a zero channel) */
} engine_row;

int search_store_channel_engines(hid_t run, const search_result *res) {
    const train_net *e = res->exported;
    size_t n = 0;
    for (int i = 1; i < e->nlayers; i++)
        if (e->layers[i].engine_of) n += (size_t)e->layers[i].c;
    if (!n) return 1;
    engine_row *rows = dnas_xcalloc(n, sizeof *rows), *r = rows;
    for (int i = 1; i < e->nlayers; i++) {
        const train_layer *L = &e->layers[i];
        for (int c = 0; L->engine_of && c < L->c; c++, r++) {
            snprintf(r->layer, sizeof r->layer, "%s", L->name);
            r->channel = c;
            snprintf(r->engine, sizeof r->engine, "%s", L->engine_names[L->engine_of[c]]);
            r->wbits = train_layer_wbits(L, c);
        }
    }
    hid_t nt = H5Tcopy(H5T_C_S1), et = H5Tcopy(H5T_C_S1);
    H5Tset_size(nt, TRAIN_NAME_LEN);
    H5Tset_size(et, TRAIN_ENGINE_NAME_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(engine_row));
    H5Tinsert(t, "layer", HOFFSET(engine_row, layer), nt);
    H5Tinsert(t, "channel", HOFFSET(engine_row, channel), H5T_NATIVE_INT32);
    H5Tinsert(t, "engine", HOFFSET(engine_row, engine), et);
    H5Tinsert(t, "wbits", HOFFSET(engine_row, wbits), H5T_NATIVE_INT32);
    int ok = dnas_h5_write_table(run, "channel_engines", t, rows, n);
    H5Tclose(t);
    H5Tclose(nt);
    H5Tclose(et);
    free(rows);
    return ok;
}
