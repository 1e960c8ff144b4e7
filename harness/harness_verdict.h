/* harness_verdict: the verdict of `lbharness compare` — whether the
 * simulator's prediction holds on the real fleet, figure by figure, with
 * the run-to-run spread taken into account. No I/O.
 *
 * The rule. Runs are paired by seed: run r of the simulator and run r of
 * the real fleet have the same fleet draws and the same arrivals. For each
 * figure (mean, p50, p90, p99 latency, mean utilization, each phase's mean)
 * and each valid real run r with its simulated twin:
 *
 *   d_r = real_r - sim_r                     (ticks, or % for utilization)
 *   interval = mean(d) +- t(1 - a/2, n - 1) * stdev(d) / sqrt(n)
 *              (Student's t, gsl_cdf_tdist_Pinv; 95 %: a = 0.05)
 *   relative interval = interval / mean(sim_r)  (the same runs)
 *
 * The tolerance is relative to the simulated figure (the prediction) and
 * the interval is read on that scale: a figure holds when the whole
 * relative interval lies within [-tol, +tol]. It differs when the whole
 * interval lies outside, and is undecided when the interval straddles a
 * bound (more runs narrow it). Where the two sides are not paired (a
 * --sim-csv side from the seed's own runs), the interval is Welch's for
 * the difference of the two means.
 *
 * A scenario holds when every judged figure holds; does not hold when one
 * differs; is undecided otherwise. It is "not judged" when none of its real
 * runs is valid (a verdict on a fleet that could not keep the schedule
 * says nothing about the model), and "too few runs" when fewer than two
 * valid pairs leave no interval. Partly valid runs are judged on the valid
 * ones, and the verdict says how many. */
#ifndef LB_HARNESS_VERDICT_H
#define LB_HARNESS_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

enum lb_harness_figure {
  LB_HF_MEAN,
  LB_HF_P50,
  LB_HF_P90,
  LB_HF_P99,
  LB_HF_UTILIZATION,
  LB_HF_PICKING, /* the phases, in harness_compare's order */
  LB_HF_SEND,
  LB_HF_QUEUE,
  LB_HF_PROCESSING,
  LB_HF_RECEIVE,
  LB_HF_COUNT
};
#define LB_HF_FIRST_PHASE LB_HF_PICKING
/* "mean", "p50", "p90", "p99", "utilization", "picking", "send",
 * "server_queue", "processing", "receive" */
extern const char *const lb_harness_figure_names[LB_HF_COUNT];

struct lb_harness_tolerance {
  double tol[LB_HF_COUNT]; /* relative to the simulated figure; < 0: not judged */
  double confidence;       /* of the interval, 0.95 */
};
/* 5 % mean, p50 and utilization, 10 % p90 and p99, 5 % each phase. */
void lb_harness_tolerance_defaults(struct lb_harness_tolerance *t);
/* One "FIGURE=VALUE" (FIGURE a figure name, "phases" for every phase or
 * "all"; VALUE a fraction "0.05", a percentage "5%", or "off"). -EINVAL
 * with err filled on anything else. */
int lb_harness_tolerance_set(struct lb_harness_tolerance *t, const char *spec, char *err,
                             size_t errlen);
/* The tolerances: "mean ±5 %, ..., receive ±5 %; not judged: picking". */
void lb_harness_tolerance_list(const struct lb_harness_tolerance *t, char *buf, size_t len);
/* The rule in one line, with the tolerances: "95 % CI of the paired
 * difference real - sim, relative to sim, within: mean 5 %, ...". */
void lb_harness_tolerance_describe(const struct lb_harness_tolerance *t, char *buf, size_t len);

enum lb_harness_outcome {
  LB_HO_HOLDS,
  LB_HO_UNDECIDED,  /* the interval straddles a bound of the tolerance */
  LB_HO_DIFFERS,    /* the interval lies outside the tolerance */
  LB_HO_TOO_FEW,    /* fewer than 2 runs to judge: no interval */
  LB_HO_NOT_JUDGED, /* no valid real run, or nothing to judge */
  LB_HO_COUNT
};
/* "holds", "undecided", "does not hold", "too few runs", "not judged" */
const char *lb_harness_outcome_name(enum lb_harness_outcome o);

struct lb_harness_interval {
  enum lb_harness_outcome outcome;
  bool judged;         /* a tolerance applies (else outcome NOT_JUDGED, figures still filled) */
  bool paired;         /* paired by run; else Welch */
  int n;               /* pairs (paired), or real runs (Welch) */
  double sim, real;    /* the means over the runs used */
  double diff, lo, hi; /* real - sim and its interval (NaN below 2 runs) */
  double rel, rel_lo, rel_hi; /* the same divided by sim */
  double tol;
};

/* The paired interval over the runs r < n with use[r] (NULL: all) and
 * neither value NaN. */
void lb_harness_interval_paired(const double *sim, const double *real, const bool *use, size_t n,
                                double confidence, double tol, struct lb_harness_interval *out);
/* Welch's interval for mean(real) - mean(sim), for sides not paired. */
void lb_harness_interval_welch(const double *sim, size_t nsim, const double *real, size_t nreal,
                               double confidence, double tol, struct lb_harness_interval *out);

struct lb_harness_verdict {
  enum lb_harness_outcome outcome;
  int real_runs, valid_runs; /* the real side's runs, and those judged */
  bool every_run;            /* no valid run: fig[] is over every run, shown, not judged */
  struct lb_harness_interval fig[LB_HF_COUNT];
  char reason[512]; /* the figures that did not hold, or "every judged figure within" */
};
/* The scenario's outcome from its figures (fig[] filled) and the counts. */
void lb_harness_verdict_combine(struct lb_harness_verdict *v);
/* "-4.0 % [-8.8, +0.8]" for a figure (or "-" / "n = 1: -4.0 %"). */
void lb_harness_interval_format(const struct lb_harness_interval *iv, char *buf, size_t len);

#endif
