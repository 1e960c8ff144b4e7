/* harness_collect: a finished run read back from its folder: the client
 * processes' per-request logs merged into one CSV with the seed's summary
 * row, fleet health from the daemons' --stats files, the last lines of a
 * daemon's log, and the short table of `lbharness run`. */
#ifndef LB_HARNESS_COLLECT_H
#define LB_HARNESS_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_health.h"
#include "harness_opts.h"
#include "scenario.h"
#include "summary.h"

struct lb_harness_run_result {
  int run;
  unsigned long long seed;
  char dir[LB_HARNESS_PATH_MAX];
  char requests_csv[LB_HARNESS_PATH_MAX];
  struct lb_summary summary;
  struct lb_harness_health_input health_in;
  struct lb_harness_health health;
};

/* Merges per-request CSVs (a run's client processes) into
 * res->requests_csv (written aside, then renamed: a source may be the
 * destination) and writes res->dir/summary.csv; fills res->summary.
 * res->dir, res->requests_csv and res->seed must be set. */
int lb_harness_collect_logs(const struct lb_scenario *sc, int run, char *const *csvs, size_t n,
                            struct lb_harness_run_result *res, char *err, size_t errlen);
/* Health inputs from the daemons' --stats files: the clients' lateness and
 * counts, the servers' lateness (files that do not exist are skipped; the
 * counts come from summary unless every client file has them). CPU, wall
 * time, cores and load are left 0 / unknown for the caller. */
void lb_harness_health_from_stats(double tick_ms, char *const *client_stats, size_t nclient,
                                  char *const *server_stats, size_t nserver,
                                  const struct lb_summary *summary,
                                  struct lb_harness_health_input *in);

/* res->health_in and res->health of a run whose logs are collected: the
 * daemons' stats files in res->dir (client-K.stats, server-I.stats), the
 * run's wall time, the fleet's CPU seconds (< 0: the cpu_seconds of those
 * stats files, for daemons the harness cannot wait4), cores and load. */
/* expected_timed_out: the model's timeouts for this run (lb_harness_health_input). */
void lb_harness_assess(const struct lb_scenario *sc, int nclients, int nservers, double wall_s,
                       double fleet_cpu_s, long expected_timed_out,
                       struct lb_harness_run_result *res);

/* The last lines of a daemon's log, for error messages ("" when none). */
void lb_harness_log_tail(const char *path, char *buf, size_t len);

/* The short table of `lbharness run`. */
void lb_harness_print_runs(FILE *f, const struct lb_scenario *sc,
                           const struct lb_harness_run_result *res, int n);

#endif
