/* sim_score: the seed's quintile table (its cells 215-216). */
#include "sim_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const sim_score_columns[SIM_SCORE_COLUMNS] = {
    "mean_latency", "stdev_latency", "p99.0_latency", "mean_stdev_utilization",
    "stdev_utilization"};

static double column(const struct lb_summary *s, int c) {
  switch (c) {
  case 0:
    return s->mean_latency;
  case 1:
    return s->stdev_latency;
  case 2:
    return s->latency_q[2]; /* lb_summary_quantiles: 0.5, 0.9, 0.99, 0.999 */
  case 3:
    return s->mean_stdev_utilization;
  default:
    return s->stdev_utilization;
  }
}

/* pandas mean() + std() (ddof=1), both skipping NaN; std of one value is
 * NaN in pandas: the seed needs several runs, we take it as 0. */
static double mean_plus_std(const struct lb_summary *runs, int n, int c) {
  double sum = 0;
  int k = 0;
  for (int i = 0; i < n; i++) {
    double v = column(&runs[i], c);
    if (!isnan(v)) {
      sum += v;
      k++;
    }
  }
  if (k == 0)
    return NAN;
  double mean = sum / k;
  if (k == 1)
    return mean;
  double ss = 0;
  for (int i = 0; i < n; i++) {
    double v = column(&runs[i], c);
    if (!isnan(v))
      ss += (v - mean) * (v - mean);
  }
  return mean + sqrt(ss / (k - 1));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void sim_score_qcut(const double *values, int n, int *labels) {
  double *sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof(*sorted));
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(values[i]) && sorted != NULL)
      sorted[m++] = values[i];
  if (sorted == NULL || m == 0) {
    for (int i = 0; i < n; i++)
      labels[i] = 0;
    free(sorted);
    return;
  }
  qsort(sorted, (size_t)m, sizeof(*sorted), cmp_double);
  double edges[6];
  for (int e = 0; e <= 5; e++)
    edges[e] = lb_quantile_sorted(sorted, (size_t)m, e / 5.0);
  free(sorted);
  for (int i = 0; i < n; i++) {
    if (isnan(values[i])) {
      labels[i] = 0;
      continue;
    }
    /* Bins (e0, e1], (e1, e2], ... with the lowest value in the first. */
    int bin = 4;
    for (int b = 0; b < 5; b++) {
      if (values[i] <= edges[b + 1]) {
        bin = b;
        break;
      }
    }
    labels[i] = 5 - bin;
  }
}

void sim_score_compute(struct sim_score_row *rows, const struct lb_summary *const *runs,
                       const int *nruns, int n) {
  double *values = malloc((size_t)(n > 0 ? n : 1) * sizeof(*values));
  int *labels = malloc((size_t)(n > 0 ? n : 1) * sizeof(*labels));
  for (int i = 0; i < n; i++)
    rows[i].total = 0;
  for (int c = 0; c < SIM_SCORE_COLUMNS; c++) {
    for (int i = 0; i < n; i++) {
      rows[i].bad_run[c] = mean_plus_std(runs[i], nruns[i], c);
      if (values != NULL)
        values[i] = rows[i].bad_run[c];
    }
    if (values == NULL || labels == NULL)
      break;
    sim_score_qcut(values, n, labels);
    for (int i = 0; i < n; i++) {
      rows[i].score[c] = labels[i];
      rows[i].total += labels[i];
    }
  }
  free(values);
  free(labels);
}

const char *sim_score_word(int score) {
  static const char *const words[] = {"n/a", "very bad", "bad", "ok", "good", "very good"};
  return score >= 0 && score <= 5 ? words[score] : "?";
}

void sim_score_print(FILE *f, const struct sim_score_row *rows, int n) {
  int *order = malloc((size_t)(n > 0 ? n : 1) * sizeof(*order));
  if (order == NULL)
    return;
  for (int i = 0; i < n; i++)
    order[i] = i;
  /* Stable insertion sort by total, descending. */
  for (int i = 1; i < n; i++) {
    int v = order[i], j = i;
    while (j > 0 && rows[order[j - 1]].total < rows[v].total) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = v;
  }
  size_t w = strlen("algorithm");
  for (int i = 0; i < n; i++)
    if (strlen(rows[i].algorithm) > w)
      w = strlen(rows[i].algorithm);
  fprintf(f, "%-*s", (int)w, "algorithm");
  for (int c = 0; c < SIM_SCORE_COLUMNS; c++)
    fprintf(f, "  %-22s", sim_score_columns[c]);
  fprintf(f, "  total_score\n");
  for (int k = 0; k < n; k++) {
    const struct sim_score_row *r = &rows[order[k]];
    fprintf(f, "%-*s", (int)w, r->algorithm);
    for (int c = 0; c < SIM_SCORE_COLUMNS; c++) {
      char cell[64];
      snprintf(cell, sizeof(cell), "%s (%.2f)", sim_score_word(r->score[c]), r->bad_run[c]);
      fprintf(f, "  %-22s", cell);
    }
    fprintf(f, "  %d\n", r->total);
  }
  free(order);
}
