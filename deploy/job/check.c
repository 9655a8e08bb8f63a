/* The generated `make check` of a deployment folder, run as a child
 * process (job.h): make's output goes to DIR/check.log, and the test
 * program's summary line there ("N samples: equal (0 values differ)" or
 * "N samples: DIFFERENT (K values differ)") says what it found. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"

const char *deploy_check_name(deploy_check_status s) {
    switch (s) {
    case DEPLOY_CHECK_EQUAL: return "equal";
    case DEPLOY_CHECK_DIFFER: return "differ";
    default: return "failed";
    }
}

int deploy_on_path(const char *prog) {
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        struct stat sb;
        if (n && n + strlen(prog) + 2 <= sizeof buf) {
            memcpy(buf, path, n);
            buf[n] = '/';
            strcpy(buf + n + 1, prog);
            if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0) return 1;
        }
        path = colon ? colon + 1 : NULL;
    }
    return 0;
}

/* make -s -C dir check > log 2>&1; its exit status, or -1 when it could not
 * start (why in reason). */
static int run_make(const char *dir, const char *log, char *reason, size_t len) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(reason, len, "cannot start make: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, 0), close(null);
        execlp("make", "make", "-s", "-C", dir, "check", (char *)NULL);
        fprintf(stderr, "cannot run make: %s\n", strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(reason, len, "waiting for make: %s", strerror(errno));
            return -1;
        }
    if (WIFSIGNALED(status)) {
        snprintf(reason, len, "make ended by signal %d", WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

void deploy_check_run(const char *dir, deploy_check_result *r) {
    memset(r, 0, sizeof *r);
    r->status = DEPLOY_CHECK_FAILED;
    char log[4200];
    snprintf(log, sizeof log, "%s/check.log", dir);
    if (!deploy_on_path("make")) {
        snprintf(r->reason, sizeof r->reason, "make is not on PATH");
        return;
    }
    int rc = run_make(dir, log, r->reason, sizeof r->reason);
    if (rc < 0) return;
    FILE *f = fopen(log, "r");
    char line[512];
    int seen = 0;
    while (f && fgets(line, sizeof line, f)) {
        long n, k;
        char word[16];
        if (sscanf(line, "%ld samples: %15s (%ld values differ)", &n, word, &k) == 3) {
            seen = 1;
            r->samples = n, r->differ = k;
            r->status = !strcmp(word, "equal") && k == 0 ? DEPLOY_CHECK_EQUAL : DEPLOY_CHECK_DIFFER;
        }
    }
    if (f) fclose(f);
    if (!seen)
        snprintf(r->reason, sizeof r->reason,
                 "make check exited %d without comparing the samples (its output: check.log)", rc);
    else if (rc != 0 && r->status == DEPLOY_CHECK_EQUAL) {
        r->status = DEPLOY_CHECK_FAILED; /* e.g. the float-input check after the outputs */
        snprintf(r->reason, sizeof r->reason, "make check exited %d (its output: check.log)", rc);
    } else if (r->status == DEPLOY_CHECK_DIFFER)
        snprintf(r->reason, sizeof r->reason, "%ld values of %ld samples differ (see check.log)",
                 r->differ, r->samples);
}
