/* harness_opts: what lbharness run, compare and sweep were asked to do
 * (struct lb_harness_opts), and a scenario as those options change it:
 * --runs, --set FIELD=VALUE, every request logged for compare, delay:
 * netem checked (and turned into inproc with --fallback-inproc). */
#ifndef LB_HARNESS_OPTS_H
#define LB_HARNESS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

#define LB_HARNESS_PATH_MAX 1024

struct lb_harness_opts {
  char bin_dir[LB_HARNESS_PATH_MAX]; /* --bin-dir; "" = next to lbharness */
  char out_dir[LB_HARNESS_PATH_MAX]; /* --out; default "out" */
  int runs;                          /* --runs; 0 = the scenario's runs */
  int client_procs;                  /* --client-procs; 0 = min(clients, 4) */
  bool netns;                        /* --hosts netns */
  bool progress;                     /* progress lines (on log) */
  FILE *log; /* progress lines and warnings during a run; NULL: none (lbharness: stderr) */
  double start_delay_s;              /* common start this far in the future */
  char *const *sets;                 /* --set FIELD=VALUE, applied in order */
  int nsets;
  bool fallback_inproc; /* --fallback-inproc: delay: netem without netem runs inproc */
  const char *fleet;    /* --fleet FILE (absolute): run r on fleet r mod F, both sides */
  bool netem_missing;   /* set by lb_harness_delay_check: this kernel has no netem */
  /* Timeouts the model predicts for the next run (compare sets it from
   * lbsim's run with the same seed; 0: none): only those beyond count
   * against the run's validity. */
  long expected_timed_out;
  /* --hosts containers (harness_containers.h): engine and image are set by
   * lb_containers_prepare unless given (--engine, --image, --base). */
  bool containers;
  char engine[16];
  char image[256];
  char base_image[256];
};
void lb_harness_opts_defaults(struct lb_harness_opts *o);

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

#endif
