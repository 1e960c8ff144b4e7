/* harness_run: one real run of a scenario on a fleet of lbserver and
 * lbclient processes, and everything around it — finding the binaries,
 * progress, collecting the clients' logs into one per-request CSV, the
 * seed's summary row, fleet health. */
#ifndef LB_HARNESS_RUN_H
#define LB_HARNESS_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_health.h"
#include "scenario.h"
#include "summary.h"

#define LB_HARNESS_PATH_MAX 1024

struct lb_harness_opts {
  char bin_dir[LB_HARNESS_PATH_MAX]; /* --bin-dir; "" = next to lbharness */
  char out_dir[LB_HARNESS_PATH_MAX]; /* --out; default "out" */
  int runs;                          /* --runs; 0 = the scenario's runs */
  int client_procs;                  /* --client-procs; 0 = min(clients, 4) */
  bool netns;                        /* --hosts netns */
  bool progress;                     /* progress lines on stderr */
  double start_delay_s;              /* common start this far in the future */
  char *const *sets;                 /* --set FIELD=VALUE, applied in order */
  int nsets;
  bool fallback_inproc; /* --fallback-inproc: delay: netem without netem runs inproc */
  const char *fleet;    /* --fleet FILE (absolute): run r on fleet r mod F, both sides */
  bool netem_missing;   /* set by lb_harness_delay_check: this kernel has no netem */
  /* --hosts containers (harness_containers.h): engine and image are set by
   * lb_containers_prepare unless given (--engine, --image, --base). */
  bool containers;
  char engine[16];
  char image[256];
  char base_image[256];
};
void lb_harness_opts_defaults(struct lb_harness_opts *o);

struct lb_harness_run_result {
  int run;
  unsigned long long seed;
  char dir[LB_HARNESS_PATH_MAX];
  char requests_csv[LB_HARNESS_PATH_MAX];
  struct lb_summary summary;
  struct lb_harness_health_input health_in;
  struct lb_harness_health health;
};

/* Path of lbsim, lbserver or lbclient: --bin-dir (D/NAME, then the build
 * tree's D/sim/lbsim...), $LB_BINARY_DIR's build tree, then the folder of
 * /proc/self/exe and its siblings (../sim/lbsim, ../lbserver/lbserver). */
int lb_harness_find_binary(const char *bin_dir, const char *name, char *out, size_t len, char *err,
                           size_t errlen);
/* Defaults, the file, --runs (runs > 0) and, for compare, data_frequency=1
 * (every request logged on both sides), then lb_scenario_finish, and checks
 * the picker expression parses. */
int lb_harness_scenario_load(const char *path, int runs, bool every_request, struct lb_scenario *sc,
                             char *err, size_t errlen);
/* The same with the command line's options: --runs (o->runs > 0), every
 * --set in order, and delay: netem turned into inproc once
 * lb_harness_delay_check found no netem and --fallback-inproc was given. */
int lb_harness_scenario_load_opts(const char *path, const struct lb_harness_opts *o,
                                  bool every_request, struct lb_scenario *sc, char *err,
                                  size_t errlen);
/* What delay: netem needs, checked before anything starts: --hosts netns
 * (else -EINVAL, "PATH: field 'delay': ..."), and a kernel with netem
 * (lb_netem_probe, asked once per process; else -ENOTSUP with the probe's
 * one line). With --fallback-inproc a missing netem is not an error: warn
 * gets one line, o->netem_missing is set and sc runs with delay: inproc.
 * 0 (and warn "") for any other delay. */
int lb_harness_delay_check(struct lb_harness_opts *o, struct lb_scenario *sc, char *warn,
                           size_t warnlen, char *err, size_t errlen);
/* mkdir -p */
int lb_harness_mkdirs(const char *path);

/* Runs run `run` of sc in run_dir (created): servers, clients, collection.
 * On any failure or stop signal the whole fleet is killed and reaped before
 * it returns a negative errno with err filled. */
int lb_harness_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                       const char *run_dir, struct lb_harness_run_result *res, char *err,
                       size_t errlen);

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
void lb_harness_assess(const struct lb_scenario *sc, int nclients, int nservers, double wall_s,
                       double fleet_cpu_s, struct lb_harness_run_result *res);

/* The last lines of a daemon's log, for error messages ("" when none). */
void lb_harness_log_tail(const char *path, char *buf, size_t len);

/* The short table of `lbharness run`. */
void lb_harness_print_runs(FILE *f, const struct lb_scenario *sc,
                           const struct lb_harness_run_result *res, int n);

#endif
