/* harness_reallogs: the real side of `lbharness compare` from per-request
 * logs collected elsewhere (containers, Kubernetes, an earlier
 * `lbharness run`), instead of a fleet started here.
 *
 * --real-csv F0,F1,...: file k is run k (the reqlog format; one file per
 * run, the client processes' logs concatenated).
 * --real-dir DIR: a folder holding, for run R, one of
 *   run-R/requests.csv        (`lbharness run`'s OUT/<scenario>/real)
 *   requests-R.csv
 *   runR-client-J.csv, ...    (compose and Kubernetes logs as collected:
 *                              every client process J of run R together)
 * The daemons' .stats files found beside them (run-R/client-*.stats and
 * server-*.stats; runR-client-J.stats, runR-server-I.stats; F.stats for
 * F.csv) give the fleet-health figures where present. */
#ifndef LB_HARNESS_REALLOGS_H
#define LB_HARNESS_REALLOGS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness_collect.h"
#include "harness_opts.h"
#include "scenario.h"

struct lb_harness_real_run {
  int run;
  char **csvs; /* the run's per-request CSVs, in client-process order */
  size_t ncsvs;
  char **client_stats; /* .stats files that exist */
  size_t nclient_stats;
  char **server_stats;
  size_t nserver_stats;
  bool stats_whole_run; /* client_stats are every client process of the run */
  int layout;           /* internal: 1 + the layout it was found in */
};

struct lb_harness_real_logs {
  struct lb_harness_real_run *runs; /* by run number, ascending */
  size_t n;
  char where[LB_HARNESS_PATH_MAX]; /* the folder, or the first file */
};

/* From --real-csv's comma-separated list. -EINVAL (empty entry) or -ENOENT
 * (a file that does not exist), err naming it. */
int lb_harness_real_logs_from_list(const char *list, struct lb_harness_real_logs *out, char *err,
                                   size_t errlen);
/* From one folder (the layouts above). Returns the number of runs found
 * (0: none), or a negative errno (unreadable folder, a run found in two
 * layouts) with err filled. */
int lb_harness_real_logs_scan(const char *dir, struct lb_harness_real_logs *out, char *err,
                              size_t errlen);
/* --real-dir for a scenario: DIR/<name>/real, DIR/<name>, then (when
 * any_dir) DIR itself; the first with runs. -ENOENT with err saying where
 * it looked when none has any. */
int lb_harness_real_logs_from_dir(const char *dir, const char *name, bool any_dir,
                                  struct lb_harness_real_logs *out, char *err, size_t errlen);
void lb_harness_real_logs_free(struct lb_harness_real_logs *l);

/* Run r of the logs as a real run: merged into run_dir/requests.csv,
 * run_dir/summary.csv, and the health of what the logs and stats show
 * (accounting, timeouts, lateness where .stats exist; no CPU figure);
 * expected_timed_out timeouts the model predicts for this run do not count
 * against it, as in a live run (lb_harness_opts.expected_timed_out). */
int lb_harness_real_logs_load_run(const struct lb_scenario *sc, const struct lb_harness_real_run *r,
                                  const char *run_dir, long expected_timed_out,
                                  struct lb_harness_run_result *res, char *err, size_t errlen);

#endif
