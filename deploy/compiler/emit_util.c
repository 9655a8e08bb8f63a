/* Writing generated files: open in the output directory, remember the
 * first error, report it with the path on close. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "compiler_internal.h"

dnas_status deploy_out_open(deploy_out *o, const char *dir, const char *name, dnas_error *err) {
    int n = snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof o->path)
        return dnas_fail(err, DNAS_ERR_IO, "%s/%s: path too long", dir, name);
    o->f = fopen(o->path, "w");
    if (!o->f) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot write: %s", o->path, strerror(errno));
    return DNAS_OK;
}

dnas_status deploy_out_close(deploy_out *o, dnas_error *err) {
    int bad = ferror(o->f);
    errno = 0;
    if (fclose(o->f) != 0) bad = 1;
    o->f = NULL;
    if (bad)
        return dnas_fail(err, DNAS_ERR_IO, "%s: writing failed%s%s", o->path, errno ? ": " : "",
                         errno ? strerror(errno) : "");
    return DNAS_OK;
}

dnas_status deploy_out_mkdir(const char *dir, const char *name, char *path, size_t len,
                             dnas_error *err) {
    int n = snprintf(path, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len)
        return dnas_fail(err, DNAS_ERR_IO, "%s/%s: path too long", dir, name);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return DNAS_OK;
    if (mkdir(path, 0777) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot make the directory: %s", path,
                         strerror(errno));
    return DNAS_OK;
}

void deploy_comment_text(const char *s, char *buf, size_t len) {
    size_t n = 0;
    for (; *s && n + 1 < len; s++) {
        char c = *s;
        if ((unsigned char)c < 32 || c == 127) c = ' ';
        if ((c == '/' && n > 0 && buf[n - 1] == '*') || (c == '*' && n > 0 && buf[n - 1] == '/'))
            c = '|'; /* neither ends nor opens a comment */
        buf[n++] = c;
    }
    buf[n] = 0;
}

void deploy_ident(const char *s, char *buf, size_t len) {
    size_t n = 0;
    for (; *s && n + 1 < len; s++)
        buf[n++] = isalnum((unsigned char)*s) ? *s : '_';
    buf[n] = 0;
}
