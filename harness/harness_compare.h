/* harness_compare: `lbharness compare` — the simulator against the real
 * fleet, scenario by scenario, and the algorithms' standing across
 * scenarios on both sides. */
#ifndef LB_HARNESS_COMPARE_H
#define LB_HARNESS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_run.h"
#include "harness_stats.h"
#include "reqlog.h"
#include "scenario.h"

/* Per-run figures, the seed's summary columns. */
enum lb_harness_metric {
  LB_HM_MEAN_LATENCY,
  LB_HM_STDEV_LATENCY,
  LB_HM_P50_LATENCY,
  LB_HM_P90_LATENCY,
  LB_HM_P99_LATENCY,
  LB_HM_P999_LATENCY,
  LB_HM_MEAN_UTILIZATION,
  LB_HM_STDEV_UTILIZATION,
  LB_HM_MEAN_STDEV_UTILIZATION,
  LB_HM_COUNT
};
extern const char *const lb_harness_metric_names[LB_HM_COUNT]; /* "mean_latency", ... */

enum lb_harness_phase {
  LB_HP_PICKING,
  LB_HP_SEND,
  LB_HP_QUEUE,
  LB_HP_PROCESSING,
  LB_HP_RECEIVE,
  LB_HP_COUNT
};
extern const char *const lb_harness_phase_names[LB_HP_COUNT]; /* "picking", ... */

/* One side (simulated or real) of one scenario. */
struct lb_harness_side {
  int nruns;
  double (*runs)[LB_HM_COUNT];                     /* per run */
  long *requests, *completed, *failed, *timed_out; /* per run */
  double *latency;                                 /* pooled, sorted once loaded; ticks */
  size_t nlatency, caplatency;
  double phase_sum[LB_HP_COUNT];
  long phase_n;
  bool has_distribution; /* false for a --sim-csv side */
  int *run_ids;          /* the run number of each run (seed + r); NULL: 0, 1, ... */
};
void lb_harness_side_close(struct lb_harness_side *s);
/* Adds one run from a per-request CSV (the summary, pooled latencies of
 * completed non-probes outside WARMING, phase sums). */
int lb_harness_side_add_requests(struct lb_harness_side *s, const char *csv, char *err,
                                 size_t errlen);
/* Adds the rows of a seed summary CSV (df.to_csv(), column 'algorithm')
 * whose algorithm is `algorithm`. Returns how many rows, or -errno. */
int lb_harness_side_add_summary_csv(struct lb_harness_side *s, const char *csv,
                                    const char *algorithm, char *err, size_t errlen);
void lb_harness_side_finish(struct lb_harness_side *s); /* sorts latencies */
double lb_harness_side_mean(const struct lb_harness_side *s, enum lb_harness_metric m);
double lb_harness_side_bad(const struct lb_harness_side *s, enum lb_harness_metric m);
double lb_harness_side_phase_mean(const struct lb_harness_side *s, enum lb_harness_phase p);

struct lb_harness_scenario_cmp {
  struct lb_scenario sc;
  struct lb_harness_side sim, real;
  double ks_d, ks_p; /* raw latencies; NaN without distributions */
  double ks_d_whole; /* real latencies rounded to whole ticks */
  struct lb_harness_verdict verdict;
  int invalid_runs;                      /* real runs not valid for comparison */
  bool real_from_logs;                   /* the real side came from --real-csv/--real-dir */
  char real_source[LB_HARNESS_PATH_MAX]; /* where (a folder, or the first file) */
  char invalid_reason[512], suggestion[256];
};

struct lb_harness_compare {
  struct lb_harness_opts opts;
  struct lb_harness_tolerance tol;
  char sim_csv[LB_HARNESS_PATH_MAX]; /* --sim-csv */
  const char *real_csv;              /* --real-csv F[,F...]: the real side from logs */
  const char *real_dir;              /* --real-dir DIR: the same from a folder */
  struct lb_harness_scenario_cmp *items;
  int n;
  double spearman_mean_latency; /* algorithms ranked by mean latency */
};

/* Statistics of one scenario once both sides are loaded. */
void lb_harness_compare_decide(const struct lb_harness_tolerance *tol,
                               struct lb_harness_scenario_cmp *c);
/* Runs everything; prints the tables to out. A scenario that fails (a
 * daemon crashed, a bad file) is reported on stderr and left out; the
 * others are still compared and reported, and it returns -ECHILD. */
int lb_harness_compare_main(struct lb_harness_compare *cmp, char *const *scenarios, int nscenarios,
                            FILE *out, char *err, size_t errlen);
void lb_harness_compare_close(struct lb_harness_compare *cmp);

/* The seed's quintile scores over the scenarios on one side (sim or real):
 * scores[i * 6 + k] for the 5 scored columns, then the total. */
#define LB_HARNESS_SCORED 5
extern const enum lb_harness_metric lb_harness_scored_metrics[LB_HARNESS_SCORED];
int lb_harness_compare_scores(const struct lb_harness_compare *cmp, bool real, int *scores);

/* report.html and its CSVs (harness_report.c). */
int lb_harness_report_write(const struct lb_harness_compare *cmp, const char *dir, char *err,
                            size_t errlen);

#endif
