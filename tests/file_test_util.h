/* Writing a small text file into a test's temporary folder (cmocka tests). */
#ifndef DNAS_FILE_TEST_UTIL_H
#define DNAS_FILE_TEST_UTIL_H

#include <stdio.h>

/* Writes text to FOLDER/name and returns the path (a static buffer, valid
 * until the next call). */
static inline const char *ftu_write(const char *folder, const char *name, const char *text) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

#endif
