/* Private to the sweep (search/sweep/): collectives, the campaign folder,
 * the job counter and the progress journal. */
#ifndef DNAS_SEARCH_SWEEP_INTERNAL_H
#define DNAS_SEARCH_SWEEP_INTERNAL_H

#include "sweep.h"

/* ---- collectives (sweep_mpi.c) ---- */
int search_sweep_local_ranks(void); /* ranks on this node */
void search_sweep_barrier(void);
void search_sweep_bcast_ints(int *v, int n, int root);
void search_sweep_bcast_doubles(double *v, int n, int root);
int search_sweep_sum(int v);
/* Ends the whole job (every rank) with exit code `code`. */
void search_sweep_abort(int code) __attribute__((noreturn));
/* Every rank's status -> the first failing rank's, on every rank; that rank
 * keeps its message, the others' is emptied. */
dnas_status search_sweep_agree(dnas_status st, dnas_error *err);

/* ---- the campaign folder (sweep_folder.c) ---- */
/* <out>/<rel> into buf (TRAIN_PATH_LEN + 64). */
void search_sweep_path(const search_sweep_config *sc, const char *rel, char *buf, size_t len);
/* Rank 0: creates the folder (or, with resume, checks it is this
 * campaign's), removes half-written files, writes the config texts and the
 * job counter; done[j] = 1 for each job with a run file. *start_time gets
 * the campaign's first start (kept across resumes). */
dnas_status search_sweep_folder_prepare(const search_sweep_config *sc, int resume, unsigned char *done,
                                        double *start_time, dnas_error *err);
/* The next index of the shared job counter (a file in the folder, under
 * flock): every call on every rank gets a different one, from 0 up. */
dnas_status search_sweep_claim(const search_sweep_config *sc, int *next, dnas_error *err);

/* ---- the progress journal and rank 0's progress thread (sweep_progress.c) ---- */
/* One line appended to logs/events.log: "<time> <rank> <event> <id> [<status>]", the
 * events start|done <run id> (done with its status) and warmup|warmed <seed>
 * (sweep_stop.c adds stop <run id or -> signal<N>). */
void search_sweep_event(const search_sweep_config *sc, int rank, const char *what, const char *id,
                        const char *status);
/* Rank 0, before a resumed job: one line per run the journal saw start and
 * not finish (done[j] 0), naming the run and the rank it ran on. */
void search_sweep_interrupted(const search_sweep_config *sc, const unsigned char *done, FILE *out);
typedef struct search_sweep_progress search_sweep_progress;
/* Rank 0: a thread that prints runs done/total, each rank's run, the best
 * front point and an ETA, from the journal and the run files. */
search_sweep_progress *search_sweep_progress_start(const search_sweep_config *sc, FILE *out, int total,
                                                   int done_before, int ranks);
void search_sweep_progress_stop(search_sweep_progress *p);

/* ---- naming what a stopped job ran (sweep_stop.c) ---- */
/* Every rank, once the campaign folder is ready: SIGTERM and SIGINT (a
 * rank that died, scancel, a time limit) append a stop line to the
 * journal, and the lowest surviving rank prints which ranks ended and
 * what they ran (from the journal past journal_offset, this job's part),
 * before the signal ends the process. */
void search_sweep_stop_arm(const search_sweep_config *sc, long journal_offset);
/* The job this rank runs now (-1: none), for its stop line. */
void search_sweep_stop_running(int index);
void search_sweep_stop_disarm(void);

/* The run file of a job (runs/<id>.h5): the run group plus the campaign's
 * attributes (constraint_set, campaign), to .tmp and renamed. */
dnas_status search_sweep_write_run(const search_sweep_config *sc, const search_sweep_job *job,
                                   const search_config *cfg, const search_result *res, int rank,
                                   dnas_error *err);

/* ---- the deploy stage (sweep_deploy_config.c) ---- */
/* The `deploy:` mapping n into sc->deploy (after the fronts and the search
 * settings are read); errors name the line. */
dnas_status search_sweep_deploy_parse(search_sweep_config *sc, dnas_yaml *y, yaml_node_t *n, dnas_error *err);

#endif
