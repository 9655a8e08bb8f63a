/* CSV reader: numbers separated by commas, one sample a line, a header
 * line only when the caller says so (header: true in the config; without
 * it a non-numeric first line is an error naming line and column, with a
 * hint), blank lines ignored, '\r\n' accepted. No quoting: a quoted field
 * is not a number. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

typedef struct {
    const char *path;
    int line;  /* 1-based line number of the row being parsed */
} csv_pos;

static size_t csv_count_fields(const char *p, const char *end) {
    size_t n = 1;
    for (; p < end; p++) n += *p == ',';
    return n;
}

static int csv_blank(const char *p, const char *end) {
    for (; p < end; p++) {
        if (*p != ' ' && *p != '\t') return 0;
    }
    return 1;
}

/* Parses the fields of [p, end) into vals[0..n). Returns -1 on success or
 * the 0-based index of the first field that is not a finite number. The
 * byte at end must not be a digit (it is '\n', '\r' or the final '\0'). */
static int csv_parse_row(const char *p, const char *end, double *vals, int n) {
    for (int i = 0; i < n; i++) {
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        char *e;
        double v = strtod(p, &e);
        if (e == p || e > end || !isfinite(v)) return i;
        p = e;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (p < end && *p != ',') return i;
        vals[i] = v;
        p++;
    }
    return -1;
}

static dnas_status csv_parse(train_dataset *ds, const char *buf, size_t len, const char *path,
                             int label_col, int header, dnas_error *err) {
    const char *end = buf + len;
    size_t lines = 1;
    for (const char *q = buf; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) lines++;
    if (lines > INT_MAX)
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "%s: %zu lines: at most %d supported", path, lines,
                         INT_MAX);
    int max_rows = (int)lines;

    int ncols = 0, lc = -1, nfeat = 0, rows = 0, line = 0, header_line = 0;
    double *vals = NULL;
    char where[1100];
    dnas_status st = DNAS_OK;
    for (const char *p = buf; p < end && st == DNAS_OK;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        line++;
        if (le > p && le[-1] == '\r') le--;
        if (csv_blank(p, le)) {
            p = next;
            continue;
        }
        if (header && !header_line) { /* the first non-blank line, whatever it holds */
            header_line = line;
            p = next;
            continue;
        }
        size_t nfs = csv_count_fields(p, le);
        if (nfs > INT_MAX / 2) {
            st = dnas_fail(err, DNAS_ERR_UNSUPPORTED, "%s:%d: %zu columns: at most %d supported", path, line,
                           nfs, INT_MAX / 2);
            break;
        }
        int nf = (int)nfs;
        if (ncols == 0) {
            /* First data row: fixes the column count and the label column. */
            ncols = nf;
            if (label_col != TRAIN_DATA_NO_LABEL) {
                lc = label_col < 0 ? ncols + label_col : label_col;
                if (lc < 0 || lc >= ncols) {
                    st = dnas_fail(err, DNAS_ERR_CONFIG,
                                   "%s:%d: label column %d out of range for %d columns", path,
                                   line, label_col, ncols);
                    break;
                }
            }
            nfeat = ncols - (lc >= 0);
            if (nfeat < 1) {
                st = dnas_fail(err, DNAS_ERR_FORMAT,
                               "%s:%d: no feature columns besides the label", path, line);
                break;
            }
            vals = dnas_xmalloc((size_t)ncols * sizeof *vals);
            if ((st = train_data_alloc(ds, max_rows, 1, 1, nfeat, lc >= 0, path, err))) break;
        }
        if (nf != ncols) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s:%d: expected %d columns, found %d", path,
                            line, ncols, nf);
            break;
        }
        int bad = csv_parse_row(p, le, vals, ncols);
        if (bad >= 0) {
            const char *f = p;
            for (int i = 0; i < bad; i++) f = (const char *)memchr(f, ',', (size_t)(le - f)) + 1;
            size_t fl = strcspn(f, ",\r\n");
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s:%d: column %d: '%.*s' is not a number%s",
                           path, line, bad + 1, (int)(fl < 40 ? fl : 40), f,
                           rows == 0 && !header ? " (a header line? set header: true in the data section)"
                                                : "");
            break;
        }
        float *x = ds->x + (size_t)rows * nfeat;
        for (int i = 0, k = 0; i < ncols; i++) {
            if (i != lc) x[k++] = (float)vals[i];
        }
        if (lc >= 0) {
            snprintf(where, sizeof where, "%s:%d", path, line);
            st = train_data_label_f64(ds, rows, vals[lc], where, err);
        }
        rows++;
        p = next;
    }
    free(vals);
    if (st == DNAS_OK && rows == 0) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: no data rows", path);
    }
    if (st != DNAS_OK) {
        train_dataset_free(ds);
        return st;
    }
    ds->count = rows;
    float *x = realloc(ds->x, (size_t)rows * nfeat * sizeof *x);
    if (x) ds->x = x;
    train_data_finish_labels(ds);
    return DNAS_OK;
}

dnas_status train_data_load_csv(train_dataset *ds, const char *path, int label_col, int header,
                                dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    unsigned char *buf;
    size_t len;
    dnas_status st = train_data_read_file(path, "CSV rows of numbers", &buf, &len, err);
    if (st != DNAS_OK) return st;
    /* NUL-terminate so strtod cannot run past the last field. */
    unsigned char *b = realloc(buf, len + 1);
    if (!b) {
        free(buf);
        return dnas_fail(err, DNAS_ERR_NOMEM, "%s: out of memory", path);
    }
    b[len] = '\0';
    st = csv_parse(ds, (const char *)b, len, path, label_col, header, err);
    free(b);
    return st;
}
