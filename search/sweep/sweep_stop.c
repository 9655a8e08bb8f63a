/* Naming what a stopped job was running. When a rank dies (SIGKILL, the
 * OOM killer, a lost node), mpirun or srun ends the job by sending SIGTERM
 * to the other ranks (SIGKILL about a second later with Open MPI); scancel
 * and a time limit send SIGTERM to every rank. Each rank's handler then:
 *   1. appends "<time> <rank> stop <what> <signal>" to the journal
 *      (logs/events.log), <what> its run id or "-";
 *   2. waits STOP_WAIT_NS for the other survivors' stop lines;
 *   3. reads this job's part of the journal (from the offset it had when
 *      the job started): a rank with no stop line is one that ended
 *      before the signal, and its last "start" (or "warmup") without
 *      "done" ("warmed") is what it was running;
 *   4. the lowest rank with a stop line (rank 0 unless rank 0 died) prints
 *      one message naming the ranks that ended and their runs (or, when
 *      none did, the runs in progress), then the signal ends the process
 *      as it would have.
 * Only async-signal-safe calls (open, read, write, lseek, close,
 * clock_gettime, nanosleep) run in the handler; its buffers are allocated
 * when the watch starts. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sweep_internal.h"

#define STOP_WAIT_NS 300000000L
#define WHAT_LEN 48

static struct {
    int armed, rank, ranks;
    long offset; /* the journal's size when this job started */
    char path[TRAIN_PATH_LEN + 64];
    char (*what)[WHAT_LEN]; /* per rank: what it runs ("" nothing) */
    unsigned char *stopped; /* per rank: wrote a stop line */
    char name[64];
    struct sigaction old_term, old_int;
} S;
static volatile sig_atomic_t current = -1; /* this rank's run, -1 none */

/* ---- async-signal-safe text ---- */
typedef struct {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *s) {
    while (*s && t->n + 1 < t->cap) t->p[t->n++] = *s++;
    t->p[t->n] = 0;
}

static void put_long(text *t, long v) {
    char b[24];
    int i = sizeof b - 1;
    int neg = v < 0;
    unsigned long u = neg ? (unsigned long)(-(v + 1)) + 1 : (unsigned long)v;
    b[i] = 0;
    do b[--i] = (char)('0' + u % 10), u /= 10;
    while (u && i > 1);
    if (neg) b[--i] = '-';
    put(t, b + i);
}

static long parse_long(const char **s, int *ok) {
    while (**s == ' ') (*s)++;
    long v = 0;
    int any = 0;
    while (**s >= '0' && **s <= '9') v = v * 10 + (**s - '0'), (*s)++, any = 1;
    *ok = any;
    return v;
}

/* The next space-separated word of *s into w (len bytes). */
static void word(const char **s, char *w, size_t len) {
    while (**s == ' ') (*s)++;
    size_t n = 0;
    while (**s && **s != ' ' && **s != '\n') {
        if (n + 1 < len) w[n++] = **s;
        (*s)++;
    }
    w[n] = 0;
}

/* One journal line: "<time> <rank> <event> <id> [<status>]". */
static void journal_line(const char *line) {
    const char *s = line;
    int ok;
    char t[32], ev[16], id[SEARCH_SWEEP_ID_LEN];
    word(&s, t, sizeof t);
    long r = parse_long(&s, &ok);
    if (!ok || r < 0 || r >= S.ranks) return;
    word(&s, ev, sizeof ev);
    word(&s, id, sizeof id);
    text w = {S.what[r], 0, WHAT_LEN};
    if (!strcmp(ev, "start")) {
        put(&w, "run "), put(&w, id);
    } else if (!strcmp(ev, "warmup")) {
        char *k = strstr(id, "_s"); /* <seed>_s<k>: several search settings */
        if (k) *k = 0;
        put(&w, "the warmup of seed "), put(&w, id);
        if (k) put(&w, ", search "), put(&w, k + 2);
    } else if (!strcmp(ev, "done") || !strcmp(ev, "warmed")) {
        S.what[r][0] = 0;
    } else if (!strcmp(ev, "stop")) {
        S.stopped[r] = 1;
    }
}

static void read_journal(void) {
    for (int r = 0; r < S.ranks; r++) S.what[r][0] = 0, S.stopped[r] = 0;
    int fd = open(S.path, O_RDONLY);
    if (fd < 0) return;
    if (lseek(fd, S.offset, SEEK_SET) < 0) {
        close(fd);
        return;
    }
    static char buf[8192], line[256];
    size_t ln = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                line[ln] = 0;
                journal_line(line);
                ln = 0;
            } else if (ln + 1 < sizeof line)
                line[ln++] = buf[i];
        }
    close(fd);
}

static void on_signal(int sig) {
    static volatile sig_atomic_t busy;
    if (busy) return;
    busy = 1;
    static char lb[128], mb[4096];
    /* 1. this rank's stop line */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    text l = {lb, 0, sizeof lb};
    char hundredths[4] = {'.', (char)('0' + ts.tv_nsec / 100000000), (char)('0' + ts.tv_nsec / 10000000 % 10), 0};
    put_long(&l, (long)ts.tv_sec), put(&l, hundredths);
    put(&l, " "), put_long(&l, S.rank), put(&l, " stop ");
    long cur = current;
    if (cur >= 0)
        put_long(&l, cur);
    else
        put(&l, "-");
    put(&l, " signal"), put_long(&l, sig), put(&l, "\n");
    int fd = open(S.path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd >= 0) {
        if (write(fd, lb, l.n) < 0) { /* the message below still goes out */ }
        close(fd);
    }
    /* 2. the other survivors' stop lines; 3. what the journal says */
    struct timespec wait = {0, STOP_WAIT_NS};
    if (S.ranks > 1) nanosleep(&wait, NULL);
    read_journal();
    S.stopped[S.rank] = 1;
    int lowest = 0;
    while (lowest < S.ranks && !S.stopped[lowest]) lowest++;
    /* 4. one message, by the lowest survivor */
    if (lowest == S.rank) {
        text m = {mb, 0, sizeof mb};
        int ended = 0, busy_runs = 0;
        for (int r = 0; r < S.ranks; r++) ended += !S.stopped[r];
        put(&m, "dnas sweep: campaign "), put(&m, S.name), put(&m, ": ");
        int shown = 0;
        for (int r = 0; r < S.ranks && shown < 16; r++) {
            if (S.stopped[r]) continue;
            put(&m, shown++ ? "; rank " : "rank "), put_long(&m, r);
            put(&m, S.what[r][0] ? " ended while running " : " ended between runs"), put(&m, S.what[r]);
            put(&m, " (log: logs/rank"), put_long(&m, r), put(&m, ".log)");
        }
        if (ended > shown) put(&m, "; and "), put_long(&m, ended - shown), put(&m, " more ranks ended");
        put(&m, ended ? "; the job is stopped (signal " : "stopped by signal "), put_long(&m, sig);
        if (ended) put(&m, ")");
        else if (sig == SIGTERM) put(&m, " (scancel, a time limit, or mpirun ending the job)");
        for (int r = 0; r < S.ranks; r++) {
            if (!S.stopped[r] || !S.what[r][0]) continue;
            if (busy_runs++ < 16)
                put(&m, busy_runs > 1 ? ", rank " : " while rank "), put_long(&m, r), put(&m, " ran "),
                    put(&m, S.what[r]);
        }
        if (busy_runs > 16) put(&m, " and "), put_long(&m, busy_runs - 16), put(&m, " more ranks ran runs");
        if (ended || busy_runs) put(&m, "; --resume redoes the interrupted runs");
        put(&m, "\n");
        if (write(2, mb, m.n) < 0) { /* nothing else to say it with */ }
    }
    raise(sig); /* SA_RESETHAND: the default action once this returns */
}

void search_sweep_stop_arm(const search_sweep_config *sc, long journal_offset) {
    S.rank = search_sweep_rank();
    S.ranks = search_sweep_ranks();
    S.offset = journal_offset;
    search_sweep_path(sc, "logs/events.log", S.path, sizeof S.path);
    snprintf(S.name, sizeof S.name, "%s", sc->name);
    S.what = dnas_xcalloc((size_t)S.ranks, sizeof *S.what);
    S.stopped = dnas_xcalloc((size_t)S.ranks, 1);
    current = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGTERM, &sa, &S.old_term);
    sigaction(SIGINT, &sa, &S.old_int);
    S.armed = 1;
}

void search_sweep_stop_running(int index) { current = index; }

void search_sweep_stop_disarm(void) {
    if (!S.armed) return;
    sigaction(SIGTERM, &S.old_term, NULL);
    sigaction(SIGINT, &S.old_int, NULL);
    S.armed = 0;
    free(S.what), S.what = NULL;
    free(S.stopped), S.stopped = NULL;
}
