/* IDX reader (MNIST / Fashion-MNIST). Layout: 2 zero bytes, a type byte
 * (0x08 = unsigned byte, the only one used by these data sets), a dims byte,
 * dims × uint32 big-endian sizes, then the data in C order. The files are
 * usually gzipped; train_data_read_file inflates them. */
#include <string.h>

#include "data_internal.h"

typedef struct {
    int ndim;
    uint64_t dims[4];
    size_t header; /* bytes before the data */
} idx_header;

static uint32_t idx_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Parses and checks the header: ubyte type, `ndim` dims, and a data size
 * that matches the file exactly. `what_name` names the content in messages. */
static dnas_status idx_parse(idx_header *hd, const unsigned char *buf, size_t len, int ndim,
                              const char *path, const char *what_name, dnas_error *err) {
    if (len < 4 || buf[0] != 0 || buf[1] != 0) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: not an IDX file (expected magic 00 00 08 %02x)", path, ndim);
    }
    if (buf[2] != 0x08) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: IDX type 0x%02x unsupported (expected 0x08, unsigned byte)", path,
                          buf[2]);
    }
    if (buf[3] != ndim) {
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: IDX %s file has %d dims, expected %d",
                          path, what_name, buf[3], ndim);
    }
    hd->ndim = ndim;
    hd->header = 4 + 4 * (size_t)ndim;
    if (len < hd->header) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: truncated: expected a %zu-byte IDX header, got %zu bytes", path,
                          hd->header, len);
    }
    for (int i = 0; i < ndim; i++) hd->dims[i] = idx_be32(buf + 4 + 4 * i);
    /* the file stays in memory while its floats are filled in */
    char what[1200];
    snprintf(what, sizeof what, "%s: IDX %s data", path, what_name);
    uint64_t per;
    dnas_status st = train_data_check_shape(hd->dims, ndim, 0, len, what, &per, err);
    if (st) return st;
    uint64_t expect = hd->header + hd->dims[0] * per; /* bytes, below the memory checked above */
    if (len < expect) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: truncated: expected %llu bytes (%zu header + %llu of %s data), "
                          "got %zu",
                          path, (unsigned long long)expect, hd->header,
                          (unsigned long long)(expect - hd->header), what_name, len);
    }
    if (len > expect) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: expected %llu bytes from the IDX dims, got %zu (extra data)", path,
                          (unsigned long long)expect, len);
    }
    return DNAS_OK;
}

dnas_status train_data_load_idx(train_dataset *ds, const char *images_path,
                                 const char *labels_path, dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    unsigned char *img = NULL, *lab = NULL;
    size_t img_len = 0, lab_len = 0;
    idx_header ih, lh;
    dnas_status st = train_data_read_file(images_path, "an IDX image file", &img, &img_len, err);
    if (st == DNAS_OK) st = idx_parse(&ih, img, img_len, 3, images_path, "image", err);
    if (st == DNAS_OK && labels_path) {
        st = train_data_read_file(labels_path, "an IDX label file", &lab, &lab_len, err);
        if (st == DNAS_OK) st = idx_parse(&lh, lab, lab_len, 1, labels_path, "label", err);
        if (st == DNAS_OK && lh.dims[0] != ih.dims[0]) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: %llu labels for %llu images in %s",
                            labels_path, (unsigned long long)lh.dims[0],
                            (unsigned long long)ih.dims[0], images_path);
        }
    }
    if (st == DNAS_OK) {
        int count = (int)ih.dims[0], h = (int)ih.dims[1], w = (int)ih.dims[2];
        st = train_data_alloc(ds, count, 1, h, w, labels_path != NULL, images_path, err);
    }
    if (st == DNAS_OK) {
        const unsigned char *px = img + ih.header;
        size_t n = (size_t)ds->count * ds->h * ds->w;
        for (size_t i = 0; i < n; i++) ds->x[i] = px[i] / 255.0f;
        for (int i = 0; ds->y && i < ds->count; i++) ds->y[i] = lab[lh.header + i];
        train_data_finish_labels(ds);
    }
    free(img);
    free(lab);
    return st;
}
