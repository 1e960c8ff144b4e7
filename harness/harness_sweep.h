/* harness_sweep: `lbharness sweep` — one scenario at a range of loads
 * (target_utilization: multiples of the fleet's capacity), each load with
 * each picker, N lbsim runs and, with --real, N real runs on the same
 * seeds; DIR/sweep.csv (one row per load x picker x side x run, the seed's
 * summary columns after load,picker,side) and DIR/report.html (latency
 * and errors against load, the ranking of the pickers at each load on both
 * sides with its Spearman rho). */
#ifndef LB_HARNESS_SWEEP_H
#define LB_HARNESS_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_run.h"

#define LB_SWEEP_MAX_PICKERS 16
#define LB_SWEEP_MAX_LOADS 101

/* The figures kept per run. */
enum lb_sweep_metric {
  LB_SW_MEAN,
  LB_SW_P50,
  LB_SW_P99,
  LB_SW_P999,
  LB_SW_ERRORS, /* (failed + timed out) / requests */
  LB_SW_COUNT
};

/* The runs of one load x picker x side. */
struct lb_sweep_cell {
  int n;
  double v[64][LB_SW_COUNT];
  int invalid; /* real runs the harness found not valid for comparison */
};

struct lb_sweep {
  struct lb_harness_opts opts;
  char scenario[LB_HARNESS_PATH_MAX];
  char name[128]; /* the scenario's */
  const char *pickers[LB_SWEEP_MAX_PICKERS];
  int npickers;
  double loads[LB_SWEEP_MAX_LOADS];
  int nloads;
  int runs;
  bool real;
  int jobs; /* lbsim --jobs */
  /* cells[(load * npickers + picker) * 2 + side], side 0 sim, 1 real */
  struct lb_sweep_cell *cells;
};

/* FROM:TO:STEP (inclusive) into s->loads; err names the field. */
int lb_sweep_parse_loads(struct lb_sweep *s, const char *text, char *err, size_t errlen);
/* `lbharness sweep ...` (argv[0] = "sweep"): parses, runs, writes. Returns
 * the process's exit status. */
int lb_harness_sweep_main(int argc, char **argv);
/* Runs every cell and writes OUT/sweep.csv and OUT/report.html. */
int lb_sweep_run(struct lb_sweep *s, char *err, size_t errlen);
void lb_sweep_close(struct lb_sweep *s);
/* The pickers ranked at one load on one side by mean p99 (rank[i]: the
 * rank of picker i, 1 = best; ties share the average) and Spearman's rho
 * of the two sides' mean p99s (NaN without both). */
double lb_sweep_spearman(const struct lb_sweep *s, int load);
/* report.html (harness_sweep_report.c). */
int lb_sweep_report_write(const struct lb_sweep *s, const char *path, char *err, size_t errlen);
double lb_sweep_cell_mean(const struct lb_sweep_cell *c, enum lb_sweep_metric m);

#endif
