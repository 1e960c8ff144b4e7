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
#include "harness_verdict.h"
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

/* A real run's fleet: could it keep the model's schedule (harness_health). */
struct lb_harness_run_health {
  bool known;     /* the run's fleet figures are known (a real run) */
  bool valid;     /* valid for comparison; true on the simulated side */
  double late_ms; /* the fleet's worst p99 timer lateness; < 0 unknown */
  double cores;   /* CPU the fleet used, in cores */
  char reason[512], suggestion[256];
};

/* One side (simulated or real) of one scenario. */
struct lb_harness_side {
  int nruns;
  double (*runs)[LB_HM_COUNT];                     /* per run */
  long *requests, *completed, *failed, *timed_out; /* per run */
  double *latency;                                 /* pooled, sorted once loaded; ticks */
  size_t nlatency, caplatency;
  double phase_sum[LB_HP_COUNT]; /* pooled over every run */
  long phase_n;
  double (*phase_runs)[LB_HP_COUNT];    /* per run, mean ticks; NaN unknown */
  struct lb_harness_run_health *health; /* per run; valid unless set */
  bool has_distribution;                /* false for a --sim-csv side */
  int *run_ids;                         /* the run number of each run (seed + r); NULL: 0, 1, ... */
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
/* Run r's figure f of the verdict (a metric or a phase mean); NaN unknown. */
double lb_harness_side_figure(const struct lb_harness_side *s, int r, enum lb_harness_figure f);
/* Run r's fleet health from a real run's result. */
void lb_harness_side_set_health(struct lb_harness_side *s, int r,
                                const struct lb_harness_run_result *res);
/* The run number of run index r (run_ids, or r). */
int lb_harness_side_run_id(const struct lb_harness_side *s, int r);

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
/* Makes dir ready for one report: created when missing; an empty folder is
 * taken as it is (so is one that holds only the marker: a compare that
 * compared nothing). A folder that is not empty is refused (-EEXIST: one
 * report per folder) unless force, and with force only when an earlier
 * compare made it (its marker file or report.html): then its contents
 * are removed. Leaves a marker file (.lbharness-compare) in it. */
int lb_harness_compare_prepare_out(const char *dir, bool force, char *err, size_t errlen);
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
