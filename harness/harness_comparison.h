/* harness_comparison: what a comparison found, whoever filled it (compare,
 * sweeps): per scenario both sides, KS and the verdict; across scenarios
 * the seed's quintile scores and the rank correlation; and the text
 * tables compare prints. report.html is drawn from the same structs
 * (harness_report.h). */
#ifndef LB_HARNESS_COMPARISON_H
#define LB_HARNESS_COMPARISON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_opts.h"
#include "harness_side.h"
#include "harness_stats.h"
#include "harness_verdict.h"
#include "scenario.h"

struct lb_harness_scenario_cmp {
  struct lb_scenario sc;
  struct lb_harness_side sim, real;
  double ks_d, ks_p;                     /* raw latencies; NaN without distributions */
  double ks_d_whole;                     /* real latencies rounded to whole ticks */
  struct lb_harness_verdict verdict;     /* harness_verdict.h */
  int invalid_runs;                      /* real runs not valid for comparison */
  bool real_from_logs;                   /* the real side came from --real-csv/--real-dir */
  char real_source[LB_HARNESS_PATH_MAX]; /* where (a folder, or the first file) */
};

struct lb_harness_compare {
  struct lb_harness_opts opts;
  struct lb_harness_tolerance tol;
  char sim_csv[LB_HARNESS_PATH_MAX]; /* --sim-csv */
  const char *real_csv;              /* --real-csv F[,F...]: the real side from logs */
  const char *real_dir;              /* --real-dir DIR: the same from a folder */
  bool seed_picking; /* --seed-picking: real picking counted as the seed counts it */
  struct lb_harness_scenario_cmp *items;
  int n;
  double spearman_mean_latency; /* algorithms ranked by mean latency */
};

/* Statistics of one scenario once both sides are loaded: KS, and the
 * verdict on the valid real runs, paired with the simulated runs of the
 * same run number (Welch's interval when the simulated side is a
 * --sim-csv). */
void lb_harness_compare_decide(const struct lb_harness_tolerance *tol,
                               struct lb_harness_scenario_cmp *c);

/* The seed's quintile scores over the scenarios on one side (sim or real):
 * scores[i * 6 + k] for the 5 scored columns, then the total. */
#define LB_HARNESS_SCORED 5
extern const enum lb_harness_metric lb_harness_scored_metrics[LB_HARNESS_SCORED];
int lb_harness_compare_scores(const struct lb_harness_compare *cmp, bool real, int *scores);
/* How the real side's latencies were counted when not as measured (the
 * --seed-picking sentence), or "". */
const char *lb_harness_compare_accounting(const struct lb_harness_compare *cmp);
/* The text tables of one scenario (what compare prints after each), the
 * scores across scenarios, and the verdict table at the end. */
void lb_harness_compare_print_scenario(FILE *out, const struct lb_harness_compare *cmp,
                                       const struct lb_harness_scenario_cmp *c);
void lb_harness_compare_print_summary(FILE *out, const struct lb_harness_compare *cmp);
/* Spearman's rho of the scenarios' mean latencies, simulated vs real, over
 * the scenarios with a valid real run (decided: verdict.valid_runs); NaN
 * with fewer than 2 of them. */
double lb_harness_compare_rank_correlation(const struct lb_harness_compare *cmp);

#endif
