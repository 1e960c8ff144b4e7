#include "harness_side.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>

#include "harness_stats.h"
#include "number.h"
#include "summary.h"


const char *const lb_harness_metric_names[LB_HM_COUNT] = {
    "mean_latency",     "stdev_latency",     "p50.0_latency",
    "p90.0_latency",    "p99.0_latency",     "p99.9_latency",
    "mean_utilization", "stdev_utilization", "mean_stdev_utilization"};

const char *const lb_harness_phase_names[LB_HP_COUNT] = {"picking", "send", "server_queue",
                                                         "processing", "receive"};

void lb_harness_side_close(struct lb_harness_side *s) {
  free(s->runs);
  free(s->requests);
  free(s->completed);
  free(s->failed);
  free(s->timed_out);
  free(s->latency);
  free(s->run_ids);
  free(s->phase_runs);
  free(s->health);
  memset(s, 0, sizeof(*s));
}

/* Room for one more run; its figures start NaN, its fleet valid. */
static int side_grow(struct lb_harness_side *s) {
  size_t n = (size_t)s->nruns + 1;
  void *a = realloc(s->runs, n * sizeof(*s->runs));
  if (!a)
    return -ENOMEM;
  s->runs = a;
  if (!(a = realloc(s->phase_runs, n * sizeof(*s->phase_runs))))
    return -ENOMEM;
  s->phase_runs = a;
  if (!(a = realloc(s->health, n * sizeof(*s->health))))
    return -ENOMEM;
  s->health = a;
  long **counts[] = {&s->requests, &s->completed, &s->failed, &s->timed_out};
  for (int k = 0; k < 4; k++) {
    long *c = realloc(*counts[k], n * sizeof(long));
    if (!c)
      return -ENOMEM;
    *counts[k] = c;
    c[n - 1] = 0;
  }
  for (int m = 0; m < LB_HM_COUNT; m++)
    s->runs[n - 1][m] = NAN;
  for (int p = 0; p < LB_HP_COUNT; p++)
    s->phase_runs[n - 1][p] = NAN;
  memset(&s->health[n - 1], 0, sizeof(s->health[0]));
  s->health[n - 1].valid = true;
  s->health[n - 1].late_ms = -1;
  s->nruns++;
  return 0;
}

double lb_harness_seed_picking(double picking) {
  return picking > 0 ? floor(picking) + 1 : 1;
}

static int push_latency(struct lb_harness_side *s, double v) {
  if (s->nlatency == s->caplatency) {
    size_t cap = s->caplatency ? 2 * s->caplatency : 4096;
    double *p = realloc(s->latency, cap * sizeof(*p));
    if (!p)
      return -ENOMEM;
    s->latency = p;
    s->caplatency = cap;
  }
  s->latency[s->nlatency++] = v;
  return 0;
}

int lb_harness_side_add_requests(struct lb_harness_side *s, const char *csv, char *err,
                                 size_t errlen) {
  struct lb_reqlog_reader *r = NULL;
  struct lb_summary_acc *acc = NULL;
  struct lb_request_record rec;
  struct lb_summary sum;
  double phase_sum[LB_HP_COUNT] = {0};
  long phase_n = 0;
  int rc;
  if ((rc = lb_summary_acc_new(&acc)) < 0)
    return rc;
  if ((rc = lb_reqlog_reader_open(csv, &r, err, errlen)) < 0)
    goto done;
  s->has_distribution = true;
  while ((rc = lb_reqlog_reader_next(r, &rec, err, errlen)) == 1) {
    if (s->seed_picking && !rec.is_probe && rec.outcome == LB_OUTCOME_COMPLETED) {
      /* The real send delay runs from the start of the tick picked in, so
       * the part of that tick the pick took is counted in send by the seed. */
      double seed = lb_harness_seed_picking(rec.picking_ticks);
      double part = rec.picking_ticks > 0 ? rec.picking_ticks - floor(rec.picking_ticks) : 0;
      rec.total_ticks += seed - rec.picking_ticks + part;
      rec.send_ticks += part;
      rec.picking_ticks = seed;
    }
    if ((rc = lb_summary_acc_add(acc, &rec)) < 0)
      goto done;
    if (rec.is_probe || rec.outcome != LB_OUTCOME_COMPLETED || rec.stage == LB_STAGE_WARMING)
      continue;
    if ((rc = push_latency(s, rec.total_ticks)) < 0)
      goto done;
    const double phases[LB_HP_COUNT] = {rec.picking_ticks, rec.send_ticks, rec.server_queue_ticks,
                                        rec.processing_ticks, rec.receive_ticks};
    for (int p = 0; p < LB_HP_COUNT; p++)
      phase_sum[p] += phases[p];
    phase_n++;
  }
  if (rc < 0)
    goto done;
  if ((rc = lb_summary_compute(acc, &sum)) < 0)
    goto done;
  if ((rc = side_grow(s)) < 0)
    goto done;
  double *v = s->runs[s->nruns - 1];
  v[LB_HM_MEAN_LATENCY] = sum.mean_latency;
  v[LB_HM_STDEV_LATENCY] = sum.stdev_latency;
  v[LB_HM_P50_LATENCY] = sum.latency_q[0];
  v[LB_HM_P90_LATENCY] = sum.latency_q[1];
  v[LB_HM_P99_LATENCY] = sum.latency_q[2];
  v[LB_HM_P999_LATENCY] = sum.latency_q[3];
  v[LB_HM_MEAN_UTILIZATION] = sum.mean_utilization;
  v[LB_HM_STDEV_UTILIZATION] = sum.stdev_utilization;
  v[LB_HM_MEAN_STDEV_UTILIZATION] = sum.mean_stdev_utilization;
  s->requests[s->nruns - 1] = sum.requests;
  s->completed[s->nruns - 1] = sum.completed;
  s->failed[s->nruns - 1] = sum.failed;
  s->timed_out[s->nruns - 1] = sum.timed_out;
  for (int p = 0; p < LB_HP_COUNT; p++) {
    s->phase_sum[p] += phase_sum[p];
    s->phase_runs[s->nruns - 1][p] = phase_n ? phase_sum[p] / (double)phase_n : NAN;
  }
  s->phase_n += phase_n;
  rc = 0;
done:
  lb_reqlog_reader_close(r);
  lb_summary_acc_free(acc);
  return rc;
}

int lb_harness_side_add_summary_csv(struct lb_harness_side *s, const char *csv,
                                    const char *algorithm, char *err, size_t errlen) {
  struct lb_summary_reader *r = NULL;
  int rc = lb_summary_reader_open(csv, &r, err, errlen);
  if (rc == -ENODATA) {
    snprintf(err, errlen, "%s:1: expected a header line with 'algorithm', got an empty file", csv);
    return -EINVAL;
  }
  if (rc < 0) {
    snprintf(err, errlen, "--sim-csv %s: %s", csv, strerror(-rc));
    return rc;
  }
  int col[LB_HM_COUNT], rows = 0;
  int alg = lb_summary_reader_column(r, "algorithm");
  for (int m = 0; m < LB_HM_COUNT; m++)
    col[m] = lb_summary_reader_column(r, lb_harness_metric_names[m]);
  if (alg < 0 || col[LB_HM_MEAN_LATENCY] < 0) {
    snprintf(err, errlen,
             "%s:1: expected the seed's summary header (algorithm, mean_latency, "
             "...), got no '%s' column",
             csv, alg < 0 ? "algorithm" : "mean_latency");
    lb_summary_reader_close(r);
    return -EINVAL;
  }
  while ((rc = lb_summary_reader_next(r, err, errlen)) == 1) {
    const char *name = lb_summary_reader_cell(r, alg);
    if (name == NULL || strcmp(name, algorithm) != 0)
      continue;
    if ((rc = side_grow(s)) < 0)
      break;
    for (int m = 0; m < LB_HM_COUNT; m++) {
      const char *cell = lb_summary_reader_cell(r, col[m]);
      if (cell && cell[0]) {
        char *end = NULL;
        double v = strtod(cell, &end);
        if (end != cell)
          s->runs[s->nruns - 1][m] = v;
      }
    }
    rows++;
  }
  lb_summary_reader_close(r);
  return rc < 0 ? rc : rows;
}

void lb_harness_side_counts_from_summary(struct lb_harness_side *s, const char *csv, int first) {
  struct lb_summary_reader *r = NULL;
  if (lb_summary_reader_open(csv, &r, NULL, 0) < 0)
    return;
  const char *const keys[] = {"requests", "completed", "failed", "timed_out"};
  long *dst[] = {s->requests, s->completed, s->failed, s->timed_out};
  int col[4];
  for (int k = 0; k < 4; k++)
    col[k] = lb_summary_reader_column(r, keys[k]);
  for (int run = first; run < s->nruns && lb_summary_reader_next(r, NULL, 0) == 1; run++)
    for (int k = 0; k < 4; k++) {
      const char *cell = lb_summary_reader_cell(r, col[k]);
      int64_t v;
      /* a count lbsim wrote: a whole number >= 0, else left unknown */
      if (cell && lb_number_int64(cell, 0, LONG_MAX, &v) == 0)
        dst[k][run] = (long)v;
    }
  lb_summary_reader_close(r);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

void lb_harness_side_finish(struct lb_harness_side *s) {
  if (s->nlatency)
    qsort(s->latency, s->nlatency, sizeof(double), cmp_double);
}

/* The metric's per-run values without NaN, into buf; returns the count. */
static size_t metric_values(const struct lb_harness_side *s, enum lb_harness_metric m,
                            double *buf) {
  size_t n = 0;
  for (int r = 0; r < s->nruns; r++)
    if (!isnan(s->runs[r][m]))
      buf[n++] = s->runs[r][m];
  return n;
}

/* An aggregate across runs of one metric, NaN runs left out. */
static double across_runs(const struct lb_harness_side *s, enum lb_harness_metric m,
                          double (*aggregate)(const double *, size_t)) {
  double *buf = malloc(((size_t)s->nruns + 1) * sizeof(double));
  if (!buf)
    return NAN;
  double v = aggregate(buf, metric_values(s, m, buf));
  free(buf);
  return v;
}

double lb_harness_side_mean(const struct lb_harness_side *s, enum lb_harness_metric m) {
  return across_runs(s, m, lb_harness_mean);
}

double lb_harness_side_bad(const struct lb_harness_side *s, enum lb_harness_metric m) {
  return across_runs(s, m, lb_harness_reasonably_bad);
}

double lb_harness_side_phase_mean(const struct lb_harness_side *s, enum lb_harness_phase p) {
  return s->phase_n ? s->phase_sum[p] / (double)s->phase_n : NAN;
}

double lb_harness_side_figure(const struct lb_harness_side *s, int r, enum lb_harness_figure f) {
  static const enum lb_harness_metric metric[LB_HF_FIRST_PHASE] = {
      LB_HM_MEAN_LATENCY, LB_HM_P50_LATENCY, LB_HM_P90_LATENCY, LB_HM_P99_LATENCY,
      LB_HM_MEAN_UTILIZATION};
  if (r < 0 || r >= s->nruns || f < 0 || f >= LB_HF_COUNT)
    return NAN;
  if (f < LB_HF_FIRST_PHASE)
    return s->runs[r][metric[f]];
  return s->phase_runs ? s->phase_runs[r][f - LB_HF_FIRST_PHASE] : NAN;
}

int lb_harness_side_run_id(const struct lb_harness_side *s, int r) {
  return s->run_ids ? s->run_ids[r] : r;
}

void lb_harness_side_set_health(struct lb_harness_side *s, int r,
                                const struct lb_harness_run_result *res) {
  if (r < 0 || r >= s->nruns || !s->health)
    return;
  struct lb_harness_run_health *h = &s->health[r];
  h->known = true;
  h->valid = res->health.valid;
  double late = lb_harness_health_worst_late_us(&res->health_in);
  h->late_ms = late < 0 ? -1 : late / 1000.0;
  h->cores = res->health.cpu_cores_used;
  snprintf(h->reason, sizeof(h->reason), "%s", res->health.reason);
  snprintf(h->suggestion, sizeof(h->suggestion), "%s", res->health.suggestion);
}
