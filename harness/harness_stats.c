#include "harness_stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

double lb_harness_mean(const double *x, size_t n) {
  if (n == 0)
    return NAN;
  return gsl_stats_mean(x, 1, n);
}

double lb_harness_stdev(const double *x, size_t n) {
  if (n < 2)
    return NAN;
  return gsl_stats_sd(x, 1, n);
}

double lb_harness_reasonably_bad(const double *x, size_t n) {
  double m = lb_harness_mean(x, n);
  double s = lb_harness_stdev(x, n);
  return n == 1 ? m : m + s;
}

double lb_harness_kolmogorov_q(double lambda) {
  if (!(lambda > 0))
    return 1.0;
  if (lambda < 0.2)
    return 1.0; /* the series converges slowly; Q is 1 to 1e-8 */
  double sum = 0, sign = 1;
  for (int k = 1; k <= 200; k++) {
    double term = sign * exp(-2.0 * k * k * lambda * lambda);
    sum += term;
    if (fabs(term) < 1e-12 * fabs(sum) || fabs(term) < 1e-300)
      break;
    sign = -sign;
  }
  double q = 2.0 * sum;
  return q < 0 ? 0 : q > 1 ? 1 : q;
}

int lb_harness_ks_sorted(const double *a, size_t na, const double *b, size_t nb, double *d,
                         double *p) {
  if (na == 0 || nb == 0)
    return -EINVAL;
  size_t i = 0, j = 0;
  double dmax = 0;
  while (i < na && j < nb) {
    double x = a[i] < b[j] ? a[i] : b[j];
    while (i < na && a[i] <= x)
      i++;
    while (j < nb && b[j] <= x)
      j++;
    double diff = fabs((double)i / (double)na - (double)j / (double)nb);
    if (diff > dmax)
      dmax = diff;
  }
  double ne = (double)na * (double)nb / ((double)na + (double)nb);
  double sq = sqrt(ne);
  *d = dmax;
  if (p)
    *p = lb_harness_kolmogorov_q((sq + 0.12 + 0.11 / sq) * dmax);
  return 0;
}

double lb_harness_spearman(const double *x, const double *y, size_t n) {
  if (n < 2)
    return NAN;
  double *work = malloc(2 * n * sizeof(*work));
  if (!work)
    return NAN;
  double r = gsl_stats_spearman(x, 1, y, 1, n, work);
  free(work);
  return r;
}

/* Average 1-based rank of values[k] among the n values (NaN excluded). */
static double average_rank(const double *values, size_t n, size_t k) {
  size_t below = 0, equal = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(values[i]))
      continue;
    if (values[i] < values[k])
      below++;
    else if (values[i] == values[k])
      equal++;
  }
  return (double)below + ((double)equal + 1.0) / 2.0;
}

int lb_harness_quintile_scores(const double *values, size_t n, int *scores) {
  enum { BINS = 5 };
  double *sorted = malloc((n ? n : 1) * sizeof(*sorted));
  if (!sorted)
    return -ENOMEM;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(values[i]))
      sorted[m++] = values[i];
  gsl_sort(sorted, 1, m);
  double edges[BINS + 1];
  bool unique = m > 0;
  for (int b = 0; b <= BINS && m > 0; b++) {
    edges[b] = gsl_stats_quantile_from_sorted_data(sorted, 1, m, (double)b / BINS);
    if (b > 0 && !(edges[b] > edges[b - 1]))
      unique = false;
  }
  for (size_t i = 0; i < n; i++) {
    if (isnan(values[i])) {
      scores[i] = 0;
    } else if (unique) {
      int b = 0;
      while (b < BINS - 1 && values[i] > edges[b + 1])
        b++;
      scores[i] = BINS - b;
    } else {
      double r = average_rank(values, n, i);
      int b = (int)floor(BINS * (r - 1.0) / (double)m);
      if (b > BINS - 1)
        b = BINS - 1;
      scores[i] = BINS - b;
    }
  }
  free(sorted);
  return 0;
}

const char *lb_harness_score_name(int score) {
  static const char *const names[] = {"very bad", "bad", "ok", "good", "very good"};
  return score >= 1 && score <= 5 ? names[score - 1] : "-";
}
