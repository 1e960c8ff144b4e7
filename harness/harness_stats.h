/* harness_stats: the comparison statistics of lbharness — across-run
 * aggregates as the seed's notebook computes them (mean, sample stdev,
 * "reasonably bad run" = mean + stdev), the two-sample Kolmogorov-Smirnov
 * test, Spearman rank correlation, the seed's quintile scores (pd.qcut),
 * and the verdict rule of `lbharness compare`. No I/O. */
#ifndef LB_HARNESS_STATS_H
#define LB_HARNESS_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* NaN for n == 0. */
double lb_harness_mean(const double *x, size_t n);
/* Sample standard deviation (ddof=1, as pandas); NaN for n < 2. */
double lb_harness_stdev(const double *x, size_t n);
/* The seed's "reasonably bad run": mean + stdev across runs. With a single
 * run (stdev undefined) this is the run itself, not NaN as in pandas. */
double lb_harness_reasonably_bad(const double *x, size_t n);

/* Two-sample Kolmogorov-Smirnov on sorted samples: D = sup |F_a - F_b|,
 * ties handled by stepping over equal values on both sides at once. The
 * p-value is the asymptotic Kolmogorov distribution at
 * lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D, ne = na*nb/(na+nb)
 * (Stephens' correction, as Numerical Recipes' kstwo). Returns -EINVAL when
 * a sample is empty. */
int lb_harness_ks_sorted(const double *a, size_t na, const double *b, size_t nb, double *d,
                         double *p);
/* Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2), in [0, 1]. */
double lb_harness_kolmogorov_q(double lambda);

/* Spearman's rank correlation (average ranks for ties; GSL). NaN when n < 2
 * or a side is constant. */
double lb_harness_spearman(const double *x, const double *y, size_t n);

/* The seed's scoring: pd.qcut(values, 5, labels=[5,4,3,2,1]) — the lowest
 * fifth scores 5 ("very good"), the highest 1 ("very bad"). Bin edges are
 * pandas' linear quantiles at 0, .2, ..., 1; a value x lands in the first
 * bin whose upper edge is >= x. Where the edges are not unique (pandas
 * raises) the scores fall back to the value's average rank: score =
 * 5 - floor(5 * (rank - 1) / n). NaN values score 0. */
int lb_harness_quintile_scores(const double *values, size_t n, int *scores);
/* "very good", "good", "ok", "bad", "very bad" for 5..1, else "-". */
const char *lb_harness_score_name(int score);

/* The verdict of one scenario: the simulator's prediction holds when
 *   |real/sim - 1| <= mean_tol  for the across-run mean of mean_latency,
 *   |real/sim - 1| <= p99_tol   for the across-run mean of p99.0_latency,
 *   D <= ks_tol                 for the pooled latency distributions
 * (D is skipped when NaN: a --sim-csv side has no distribution). */
struct lb_harness_tolerance {
  double mean_tol; /* 0.25 */
  double p99_tol;  /* 0.25 */
  double ks_tol;   /* 0.2 */
};
void lb_harness_tolerance_defaults(struct lb_harness_tolerance *t);
struct lb_harness_verdict {
  bool holds;
  char reason[256]; /* every failed check, or the checks that passed */
};
void lb_harness_verdict_decide(const struct lb_harness_tolerance *t, double sim_mean,
                               double real_mean, double sim_p99, double real_p99, double ks_d,
                               struct lb_harness_verdict *out);
/* "|real/sim - 1| <= 25% for mean and p99 latency, KS D <= 0.20" */
void lb_harness_tolerance_describe(const struct lb_harness_tolerance *t, char *buf, size_t len);

#endif
