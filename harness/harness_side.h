/* harness_side: one side (simulated or real) of one scenario: each run's
 * figures in the seed's summary columns, the pooled latencies and phase
 * means, each real run's fleet health; loaded from per-request CSVs or
 * from a seed summary CSV. */
#ifndef LB_HARNESS_SIDE_H
#define LB_HARNESS_SIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "harness_collect.h"
#include "harness_verdict.h"

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
  /* Count each request's picking as the seed's Request.tick does (set
   * before loading a real side): one tick for the tick it arrived in plus
   * every whole tick it waited to be picked, instead of the time it took;
   * the part of its last tick the pick took goes to send, whose real delay
   * runs from that tick's start (so a request's latency gains 1 tick). */
  bool seed_picking;
};
void lb_harness_side_close(struct lb_harness_side *s);
/* The picking ticks the seed would have counted for a request picked
 * `picking` ticks after the boundary it arrived on: the seed's Client.tick
 * ticks a request once per tick before asking its picker, so a pick in the
 * tick it arrived in counts 1, one that waited k whole ticks k + 1. */
double lb_harness_seed_picking(double picking);
/* Adds one run from a per-request CSV (the summary, pooled latencies of
 * completed non-probes outside WARMING, phase sums); with seed_picking,
 * each request's picking and total as lb_harness_seed_picking says. */
int lb_harness_side_add_requests(struct lb_harness_side *s, const char *csv, char *err,
                                 size_t errlen);
/* Adds the rows of a seed summary CSV (df.to_csv(), column 'algorithm')
 * whose algorithm is `algorithm`. Returns how many rows, or -errno. */
int lb_harness_side_add_summary_csv(struct lb_harness_side *s, const char *csv,
                                    const char *algorithm, char *err, size_t errlen);
/* lbsim's own counts (requests, completed, failed, timed_out) of runs
 * first.. from its summary CSV, a row per run in order (its per-request
 * log holds only the requests that completed). Best effort. */
void lb_harness_side_counts_from_summary(struct lb_harness_side *s, const char *csv, int first);
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

#endif
