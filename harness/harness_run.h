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
/* mkdir -p */
int lb_harness_mkdirs(const char *path);

/* Runs run `run` of sc in run_dir (created): servers, clients, collection.
 * On any failure or stop signal the whole fleet is killed and reaped before
 * it returns a negative errno with err filled. */
int lb_harness_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                       const char *run_dir, struct lb_harness_run_result *res, char *err,
                       size_t errlen);

/* The short table of `lbharness run`. */
void lb_harness_print_runs(FILE *f, const struct lb_scenario *sc,
                           const struct lb_harness_run_result *res, int n);

#endif
