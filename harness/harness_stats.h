/* harness_stats: the comparison statistics of lbharness — across-run
 * aggregates as the seed's notebook computes them (mean, sample stdev,
 * "reasonably bad run" = mean + stdev), the two-sample Kolmogorov-Smirnov
 * test, Spearman rank correlation and the seed's quintile scores (pd.qcut)
 * (the verdict's rule is harness_verdict.h). No I/O. */
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

#endif
