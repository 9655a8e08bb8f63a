/* Loading a YAML document safely: the checks done on the bytes and the
 * events before libyaml builds a document, and on the document after.
 *
 * 1. The file must be a regular file (a directory is named as such) of at
 *    most DNAS_YAML_MAX_BYTES; it is read whole.
 * 2. The bytes must be UTF-8: the first bad byte is reported with its line
 *    and column (libyaml would report the whole input as line 1).
 * 3. One pass over libyaml's events bounds the nesting depth and the number
 *    of documents, so a deeply nested file fails in microseconds instead of
 *    taking minutes inside the document loader.
 * 4. The document is loaded; every mapping is checked for a key given
 *    twice (libyaml keeps both and lookups would silently take the first).
 *    Nodes are visited once each from the document's node array, so
 *    aliases cannot make the walk exponential. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

dnas_status dnas_read_file(const char *path, size_t max_bytes, char **out, size_t *len, dnas_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return dnas_fail(err, DNAS_ERR_IO, "%s: is a directory, expected a file", path);
    }
    size_t cap = 4096, n = 0;
    char *buf = dnas_xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max_bytes + 1) break;
            cap *= 2;
            buf = dnas_xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0) break;
        n += r;
        if (n > max_bytes) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return dnas_fail(err, DNAS_ERR_IO, "%s: read error", path);
    }
    if (n > max_bytes) {
        free(buf);
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: larger than %zu bytes, the most this file may hold", path,
                         max_bytes);
    }
    buf[n] = 0;
    if (len) *len = n;
    *out = buf;
    return DNAS_OK;
}

/* Byte offset of the first invalid UTF-8 sequence, or -1. */
static long utf8_bad_offset(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000;
        } else {
            return (long)i;
        }
        unsigned cp = c & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return (long)i;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return (long)i;
        i += k + 1;
    }
    return -1;
}

static dnas_status check_bytes(const char *text, size_t n, const char *path, dnas_error *err) {
    long bad = utf8_bad_offset((const unsigned char *)text, n);
    if (bad < 0) {
        if (strlen(text) != n) {
            long at = (long)strlen(text);
            int line = 1;
            for (long i = 0; i < at; i++) line += text[i] == '\n';
            return dnas_fail(err, DNAS_ERR_FORMAT, "%s:%d: NUL byte: expected YAML text", path, line);
        }
        return DNAS_OK;
    }
    int line = 1, col = 1;
    for (long i = 0; i < bad; i++) {
        if (text[i] == '\n')
            line++, col = 1;
        else
            col++;
    }
    return dnas_fail(err, DNAS_ERR_FORMAT, "%s:%d:%d: byte 0x%02x is not UTF-8: expected UTF-8 text", path,
                     line, col, (unsigned char)text[bad]);
}

static dnas_status syntax_error(const yaml_parser_t *p, const char *path, dnas_error *err) {
    return dnas_fail(err, DNAS_ERR_CONFIG, "%s:%lu:%lu: YAML syntax error: %s%s%s", path,
                     (unsigned long)p->problem_mark.line + 1, (unsigned long)p->problem_mark.column + 1,
                     p->problem ? p->problem : "unknown", p->context ? " " : "", p->context ? p->context : "");
}

/* Step 3: depth and document count from the event stream. */
static dnas_status scan_events(const char *text, size_t n, const char *path, dnas_error *err) {
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    dnas_status st = DNAS_OK;
    int depth = 0, docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            st = syntax_error(&p, path, err);
            break;
        }
        yaml_event_type_t t = ev.type;
        unsigned long line = (unsigned long)ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) break;
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            st = dnas_fail(err, DNAS_ERR_CONFIG, "%s:%lu: a second YAML document: expected one", path, line);
            break;
        }
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > DNAS_YAML_MAX_DEPTH) {
                st = dnas_fail(err, DNAS_ERR_CONFIG, "%s:%lu: nested deeper than %d levels", path, line,
                               DNAS_YAML_MAX_DEPTH);
                break;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
    }
    yaml_parser_delete(&p);
    return st;
}

static int cmp_key(const void *a, const void *b) {
    const yaml_node_t *x = *(const yaml_node_t *const *)a, *y = *(const yaml_node_t *const *)b;
    int c = strcmp((const char *)x->data.scalar.value, (const char *)y->data.scalar.value);
    if (c) return c;
    return x->start_mark.index < y->start_mark.index ? -1 : x->start_mark.index > y->start_mark.index;
}

/* Step 4: a key given twice in one mapping. Keys that are not scalars are
 * not compared. Small mappings pairwise, large ones sorted. */
static dnas_status check_duplicates(dnas_yaml *y, dnas_error *err) {
    yaml_node_t **keys = NULL;
    size_t cap = 0;
    dnas_status st = DNAS_OK;
    for (yaml_node_t *m = y->doc.nodes.start; m < y->doc.nodes.top && !st; m++) {
        if (m->type != YAML_MAPPING_NODE) continue;
        size_t n = 0, npairs = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
        if (npairs > cap) {
            cap = npairs;
            keys = dnas_xrealloc(keys, cap * sizeof *keys);
        }
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
            if (k && k->type == YAML_SCALAR_NODE) keys[n++] = k;
        }
        const yaml_node_t *first = NULL, *again = NULL;
        if (n <= 16) {
            for (size_t i = 0; i < n && !again; i++)
                for (size_t j = i + 1; j < n && !again; j++)
                    if (!strcmp((const char *)keys[i]->data.scalar.value, (const char *)keys[j]->data.scalar.value))
                        first = keys[i], again = keys[j];
        } else {
            qsort(keys, n, sizeof *keys, cmp_key);
            for (size_t i = 1; i < n; i++)
                if (!strcmp((const char *)keys[i - 1]->data.scalar.value, (const char *)keys[i]->data.scalar.value) &&
                    (!again || keys[i]->start_mark.index < again->start_mark.index))
                    first = keys[i - 1], again = keys[i];
        }
        if (again)
            st = dnas_yaml_fail(y, again, err, "key '%s' given twice (first at line %d)",
                                (const char *)again->data.scalar.value, dnas_yaml_line(first));
    }
    free(keys);
    return st;
}

dnas_status dnas_yaml_load_string(dnas_yaml *y, const char *text, const char *path, dnas_error *err) {
    memset(y, 0, sizeof *y);
    snprintf(y->path, sizeof y->path, "%s", path);
    size_t n = strlen(text);
    if (n > DNAS_YAML_MAX_BYTES)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: larger than %u bytes, the most a YAML file may hold", path,
                         DNAS_YAML_MAX_BYTES);
    dnas_status st = check_bytes(text, n, path, err);
    if (st) return st;
    if ((st = scan_events(text, n, path, err))) return st;
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    if (!yaml_parser_load(&p, &y->doc)) {
        st = syntax_error(&p, path, err);
        yaml_parser_delete(&p);
        return st;
    }
    yaml_parser_delete(&p);
    y->loaded = 1;
    if (!yaml_document_get_root_node(&y->doc)) {
        dnas_yaml_free(y);
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s: empty YAML document", path);
    }
    if ((st = check_duplicates(y, err))) dnas_yaml_free(y);
    return st;
}

dnas_status dnas_read_text(const char *path, size_t max_bytes, char **out, dnas_error *err) {
    size_t n = 0;
    dnas_status st = dnas_read_file(path, max_bytes, out, &n, err);
    if (st || strlen(*out) == n) return st;
    st = check_bytes(*out, n, path, err);
    free(*out);
    *out = NULL;
    return st;
}

dnas_status dnas_yaml_load_file(dnas_yaml *y, const char *path, dnas_error *err) {
    memset(y, 0, sizeof *y);
    char *text;
    dnas_status st = dnas_read_text(path, DNAS_YAML_MAX_BYTES, &text, err);
    if (st) return st;
    st = dnas_yaml_load_string(y, text, path, err);
    free(text);
    return st;
}

void dnas_yaml_free(dnas_yaml *y) {
    if (y->loaded) yaml_document_delete(&y->doc);
    y->loaded = 0;
}
