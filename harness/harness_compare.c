#define _XOPEN_SOURCE 700 /* nftw */
#include "harness_compare.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_sort.h>

#include "harness_proc.h"
#include "harness_reallogs.h"
#include "harness_report.h"
#include "summary.h"

#define SIM_TIME_LIMIT_MS (600 * 1000)

const char *const lb_harness_metric_names[LB_HM_COUNT] = {
    "mean_latency",     "stdev_latency",     "p50.0_latency",
    "p90.0_latency",    "p99.0_latency",     "p99.9_latency",
    "mean_utilization", "stdev_utilization", "mean_stdev_utilization"};

const char *const lb_harness_phase_names[LB_HP_COUNT] = {"picking", "send", "server_queue",
                                                         "processing", "receive"};

const enum lb_harness_metric lb_harness_scored_metrics[LB_HARNESS_SCORED] = {
    LB_HM_MEAN_LATENCY, LB_HM_STDEV_LATENCY, LB_HM_P99_LATENCY, LB_HM_MEAN_STDEV_UTILIZATION,
    LB_HM_STDEV_UTILIZATION};

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

/* Splits a CSV line in place (double quotes honoured); returns the count. */
static int split_csv(char *line, char **cells, int max) {
  int n = 0;
  char *p = line;
  while (n < max) {
    char *start = p, *w = p;
    bool quoted = *p == '"';
    if (quoted)
      p++;
    while (*p && (quoted || (*p != ',' && *p != '\n' && *p != '\r'))) {
      if (quoted && *p == '"') {
        if (p[1] == '"') {
          *w++ = '"';
          p += 2;
          continue;
        }
        quoted = false;
        p++;
        continue;
      }
      *w++ = *p++;
    }
    char end = *p;
    *w = '\0';
    cells[n++] = start;
    if (end != ',')
      break;
    p++;
  }
  return n;
}

int lb_harness_side_add_summary_csv(struct lb_harness_side *s, const char *csv,
                                    const char *algorithm, char *err, size_t errlen) {
  enum { MAXCOLS = 128 };
  FILE *f = fopen(csv, "r");
  if (!f) {
    snprintf(err, errlen, "--sim-csv %s: %s", csv, strerror(errno));
    return -errno;
  }
  char line[16384];
  char *cells[MAXCOLS];
  int col[LB_HM_COUNT], alg = -1, rows = 0, rc = 0;
  if (!fgets(line, sizeof(line), f)) {
    snprintf(err, errlen, "%s:1: expected a header line with 'algorithm', got an empty file", csv);
    fclose(f);
    return -EINVAL;
  }
  int ncols = split_csv(line, cells, MAXCOLS);
  for (int m = 0; m < LB_HM_COUNT; m++)
    col[m] = -1;
  for (int c = 0; c < ncols; c++) {
    if (strcmp(cells[c], "algorithm") == 0)
      alg = c;
    for (int m = 0; m < LB_HM_COUNT; m++)
      if (strcmp(cells[c], lb_harness_metric_names[m]) == 0)
        col[m] = c;
  }
  if (alg < 0 || col[LB_HM_MEAN_LATENCY] < 0) {
    snprintf(err, errlen,
             "%s:1: expected the seed's summary header (algorithm, mean_latency, "
             "...), got no '%s' column",
             csv, alg < 0 ? "algorithm" : "mean_latency");
    fclose(f);
    return -EINVAL;
  }
  while (fgets(line, sizeof(line), f)) {
    int n = split_csv(line, cells, MAXCOLS);
    if (n <= alg || strcmp(cells[alg], algorithm) != 0)
      continue;
    if ((rc = side_grow(s)) < 0)
      break;
    for (int m = 0; m < LB_HM_COUNT; m++)
      if (col[m] >= 0 && col[m] < n && cells[col[m]][0]) {
        char *end = NULL;
        double v = strtod(cells[col[m]], &end);
        if (end != cells[col[m]])
          s->runs[s->nruns - 1][m] = v;
      }
    rows++;
  }
  fclose(f);
  return rc < 0 ? rc : rows;
}

/* lbsim's own counts per run (its per-request log holds only the requests
 * that completed; the summary counts every request). Best effort. */
static void side_counts_from_sim_summary(struct lb_harness_side *s, const char *csv, int first) {
  enum { MAXCOLS = 64 };
  FILE *f = fopen(csv, "r");
  if (!f)
    return;
  char line[8192];
  char *cells[MAXCOLS];
  const char *const keys[] = {"requests", "completed", "failed", "timed_out"};
  long *dst[] = {s->requests, s->completed, s->failed, s->timed_out};
  int col[4] = {-1, -1, -1, -1};
  if (fgets(line, sizeof(line), f)) {
    int n = split_csv(line, cells, MAXCOLS);
    for (int c = 0; c < n; c++)
      for (int k = 0; k < 4; k++)
        if (strcmp(cells[c], keys[k]) == 0)
          col[k] = c;
  }
  for (int r = first; r < s->nruns && fgets(line, sizeof(line), f); r++) {
    int n = split_csv(line, cells, MAXCOLS);
    for (int k = 0; k < 4; k++)
      if (col[k] >= 0 && col[k] < n)
        dst[k][r] = strtol(cells[col[k]], NULL, 10);
  }
  fclose(f);
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

/* The simulated run with run number id; -1 when there is none. */
static int sim_index(const struct lb_harness_side *sim, int id) {
  for (int k = 0; k < sim->nruns; k++)
    if (lb_harness_side_run_id(sim, k) == id)
      return k;
  return -1;
}

/* The verdict: each figure's interval over the valid real runs, paired by
 * run number with the simulated runs (Welch's when they cannot be: a
 * --sim-csv side). */
static void decide_verdict(const struct lb_harness_tolerance *tol,
                           struct lb_harness_scenario_cmp *c) {
  struct lb_harness_verdict *v = &c->verdict;
  int n = c->real.nruns;
  double *sv = calloc((size_t)n + 1, sizeof(double)), *rv = calloc((size_t)n + 1, sizeof(double));
  double *all = calloc((size_t)c->sim.nruns + 1, sizeof(double));
  bool *use = calloc((size_t)n + 1, sizeof(bool));
  int *pair = calloc((size_t)n + 1, sizeof(int));
  memset(v, 0, sizeof(*v));
  v->real_runs = n;
  /* lbsim's runs carry their run numbers; a --sim-csv's rows (the seed's
   * own runs, no distribution) pair with nothing. */
  bool paired = c->sim.has_distribution;
  if (!sv || !rv || !all || !use || !pair) {
    v->outcome = LB_HO_NOT_JUDGED;
    snprintf(v->reason, sizeof(v->reason), "out of memory");
    goto done;
  }
  for (int r = 0; r < n; r++) {
    pair[r] = sim_index(&c->sim, lb_harness_side_run_id(&c->real, r));
    use[r] = !c->real.health || c->real.health[r].valid;
    v->valid_runs += use[r];
    if (pair[r] < 0)
      paired = false;
  }
  /* Nothing valid: the figures over every run, for information only. */
  v->every_run = v->valid_runs == 0 && n > 0;
  for (int r = 0; r < n && v->every_run; r++)
    use[r] = true;
  for (int f = 0; f < LB_HF_COUNT; f++) {
    struct lb_harness_interval *iv = &v->fig[f];
    if (paired) {
      for (int r = 0; r < n; r++) {
        sv[r] = lb_harness_side_figure(&c->sim, pair[r], f);
        rv[r] = lb_harness_side_figure(&c->real, r, f);
      }
      lb_harness_interval_paired(sv, rv, use, (size_t)n, tol->confidence, tol->tol[f], iv);
    } else {
      int k = 0;
      for (int r = 0; r < n; r++)
        if (use[r])
          rv[k++] = lb_harness_side_figure(&c->real, r, f);
      for (int r = 0; r < c->sim.nruns; r++)
        all[r] = lb_harness_side_figure(&c->sim, r, f);
      lb_harness_interval_welch(all, (size_t)c->sim.nruns, rv, (size_t)k, tol->confidence,
                                tol->tol[f], iv);
    }
  }
  for (int f = 0; f < LB_HF_COUNT && v->every_run; f++)
    v->fig[f].outcome = LB_HO_NOT_JUDGED;
  lb_harness_verdict_combine(v);
done:
  free(sv);
  free(rv);
  free(all);
  free(use);
  free(pair);
}

void lb_harness_compare_decide(const struct lb_harness_tolerance *tol,
                               struct lb_harness_scenario_cmp *c) {
  c->ks_d = c->ks_p = c->ks_d_whole = NAN;
  if (c->sim.has_distribution && c->real.has_distribution && c->sim.nlatency && c->real.nlatency) {
    lb_harness_ks_sorted(c->sim.latency, c->sim.nlatency, c->real.latency, c->real.nlatency,
                         &c->ks_d, &c->ks_p);
    double *whole = malloc(c->real.nlatency * sizeof(double));
    if (whole) {
      for (size_t i = 0; i < c->real.nlatency; i++)
        whole[i] = round(c->real.latency[i]);
      lb_harness_ks_sorted(c->sim.latency, c->sim.nlatency, whole, c->real.nlatency, &c->ks_d_whole,
                           NULL);
      free(whole);
    }
  }
  c->invalid_runs = 0;
  for (int r = 0; r < c->real.nruns; r++)
    c->invalid_runs += c->real.health && !c->real.health[r].valid;
  decide_verdict(tol, c);
}

int lb_harness_compare_scores(const struct lb_harness_compare *cmp, bool real, int *scores) {
  int n = cmp->n;
  double *v = malloc(((size_t)n + 1) * sizeof(double));
  int *s = malloc(((size_t)n + 1) * sizeof(int));
  if (!v || !s) {
    free(v);
    free(s);
    return -ENOMEM;
  }
  for (int i = 0; i < n; i++)
    scores[i * (LB_HARNESS_SCORED + 1) + LB_HARNESS_SCORED] = 0;
  for (int k = 0; k < LB_HARNESS_SCORED; k++) {
    for (int i = 0; i < n; i++)
      v[i] = lb_harness_side_bad(real ? &cmp->items[i].real : &cmp->items[i].sim,
                                 lb_harness_scored_metrics[k]);
    lb_harness_quintile_scores(v, (size_t)n, s);
    for (int i = 0; i < n; i++) {
      scores[i * (LB_HARNESS_SCORED + 1) + k] = s[i];
      scores[i * (LB_HARNESS_SCORED + 1) + LB_HARNESS_SCORED] += s[i];
    }
  }
  free(v);
  free(s);
  return 0;
}

/* dir with every '%' doubled, for lbsim's file patterns. */
static void pattern_escape(const char *dir, char *out, size_t len) {
  size_t n = 0;
  for (const char *p = dir; *p && n + 2 < len; p++) {
    if (*p == '%')
      out[n++] = '%';
    out[n++] = *p;
  }
  out[n] = '\0';
}

/* lbsim SCENARIO --runs R --seed S --set data_frequency=1 ... (bounded):
 * runs first..first+runs-1 of the scenario (run r seeded with seed + r),
 * into dir/requests-<r>.csv, and their summary into summary_csv. */
static int run_sim(const struct lb_harness_opts *o, const struct lb_scenario *sc,
                   const char *scenario_file, int first, int runs, const char *dir,
                   const char *summary_csv, char *err, size_t errlen) {
  char bin[LB_HARNESS_PATH_MAX], r[16], seed[32], pattern[2 * LB_HARNESS_PATH_MAX + 256];
  char summary[LB_HARNESS_PATH_MAX + 256], log[LB_HARNESS_PATH_MAX + 256];
  char escaped[2 * LB_HARNESS_PATH_MAX + 200];
  int rc = lb_harness_find_binary(o->bin_dir, "lbsim", bin, sizeof(bin), err, errlen);
  if (rc < 0)
    return rc;
  snprintf(r, sizeof(r), "%d", runs);
  snprintf(seed, sizeof(seed), "%llu", (unsigned long long)sc->seed + (unsigned long long)first);
  pattern_escape(dir, escaped, sizeof(escaped));
  if (first == 0)
    snprintf(pattern, sizeof(pattern), "%s/requests-%%r.csv", escaped);
  else /* one run at a time: its own number */
    snprintf(pattern, sizeof(pattern), "%s/requests-%d.csv", escaped, first);
  snprintf(summary, sizeof(summary), "%s", summary_csv);
  snprintf(log, sizeof(log), "%s/lbsim.log", dir);
  char *argv[] = {
      bin,       (char *)scenario_file,       "--runs",         r,       "--seed",         seed,
      "--set",   "data_frequency=1",          "--summary-csv",  summary, "--requests-csv", pattern,
      "--quiet", o->fleet ? "--fleet" : NULL, (char *)o->fleet, NULL};
  char what[LB_HARNESS_PATH_MAX + 16];
  snprintf(what, sizeof(what), "lbsim on %s", scenario_file);
  return lb_harness_run_to_end(argv, log, what, SIM_TIME_LIMIT_MS, err, errlen);
}

static void fmt_num(char *buf, size_t len, double v) {
  if (isnan(v))
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%.2f", v);
}

/* The verdict's figure f in its unit: ticks, or % for utilization. */
static const char *figure_unit(int f) {
  return f == LB_HF_UTILIZATION ? "%" : "ticks";
}

static void print_intervals(FILE *out, const struct lb_harness_scenario_cmp *c) {
  const struct lb_harness_verdict *v = &c->verdict;
  fprintf(out, "%-14s %-6s %9s %9s  %-24s %-26s %-5s %s\n", "figure", "unit", "sim", "real",
          "real - sim [95% CI]", "relative to sim [95% CI]", "tol", "outcome");
  for (int f = 0; f < LB_HF_COUNT; f++) {
    const struct lb_harness_interval *iv = &v->fig[f];
    char a[32], b[32], d[64], rel[64], tol[16];
    if (iv->n == 0 && isnan(iv->sim))
      continue;
    fmt_num(a, sizeof(a), iv->sim);
    fmt_num(b, sizeof(b), iv->real);
    if (isnan(iv->lo))
      fmt_num(d, sizeof(d), iv->diff);
    else
      snprintf(d, sizeof(d), "%+.2f [%+.2f, %+.2f]", iv->diff, iv->lo, iv->hi);
    lb_harness_interval_format(iv, rel, sizeof(rel));
    if (iv->judged)
      snprintf(tol, sizeof(tol), "%g%%", 100 * iv->tol);
    else
      snprintf(tol, sizeof(tol), "off");
    fprintf(out, "%-14s %-6s %9s %9s  %-24s %-26s %-5s %s\n", lb_harness_figure_names[f],
            figure_unit(f), a, b, d, rel, tol, lb_harness_outcome_name(iv->outcome));
  }
}

static void print_runs(FILE *out, const struct lb_harness_scenario_cmp *c) {
  double ms = (double)c->sc.tick_ns / 1e6;
  fprintf(out, "%-5s %4s %9s %9s %7s %9s %8s %8s %8s %6s  %-5s %s\n", "side", "run", "requests",
          "completed", "failed", "timed_out", "mean_tk", "p99_tk", "late_ms", "cores", "valid",
          "why not");
  for (int s = 0; s < 2; s++) {
    const struct lb_harness_side *side = s ? &c->real : &c->sim;
    for (int r = 0; r < side->nruns; r++) {
      static const struct lb_harness_run_health unknown = {.valid = true, .late_ms = -1};
      const struct lb_harness_run_health *h = side->health ? &side->health[r] : &unknown;
      char late[16] = "-", cores[16] = "-", mean[32], p99[32];
      if (h->known && h->late_ms >= 0)
        snprintf(late, sizeof(late), "%.2f", h->late_ms);
      if (h->known)
        snprintf(cores, sizeof(cores), "%.2f", h->cores);
      fmt_num(mean, sizeof(mean), side->runs[r][LB_HM_MEAN_LATENCY]);
      fmt_num(p99, sizeof(p99), side->runs[r][LB_HM_P99_LATENCY]);
      fprintf(out, "%-5s %4d %9ld %9ld %7ld %9ld %8s %8s %8s %6s  %-5s %s\n", s ? "real" : "sim",
              lb_harness_side_run_id(side, r), side->requests[r], side->completed[r],
              side->failed[r], side->timed_out[r], mean, p99, late, cores,
              !s ? "-" : (h->valid ? "yes" : "NO"), h->valid ? "" : h->reason);
    }
  }
  fprintf(out,
          "(late_ms: the fleet's worst p99 timer lateness, valid up to %.1f ms = 10%% of a "
          "tick; cores: the fleet's CPU use)\n",
          ms * LB_HARNESS_LATENESS_SHARE);
}

void lb_harness_compare_print_scenario(FILE *out, const struct lb_harness_compare *cmp,
                                       const struct lb_harness_scenario_cmp *c) {
  double ms = (double)c->sc.tick_ns / 1e6;
  fprintf(out,
          "\n== %s: picker %s, %d servers, %d clients, tick %g ms, %d sim runs, %d real "
          "runs\n",
          c->sc.name, c->sc.picker, c->sc.servers, c->sc.clients, ms, c->sim.nruns, c->real.nruns);
  fprintf(out, "%-24s %10s %10s %10s %10s %10s %8s\n", "metric (ticks, %)", "sim mean", "sim bad",
          "real mean", "real bad", "diff", "ratio");
  for (int m = 0; m < LB_HM_COUNT; m++) {
    double sm = lb_harness_side_mean(&c->sim, m), sb = lb_harness_side_bad(&c->sim, m);
    double rm = lb_harness_side_mean(&c->real, m), rb = lb_harness_side_bad(&c->real, m);
    char a[32], b[32], d[32], e[32], f[32], g[32];
    fmt_num(a, sizeof(a), sm);
    fmt_num(b, sizeof(b), sb);
    fmt_num(d, sizeof(d), rm);
    fmt_num(e, sizeof(e), rb);
    fmt_num(f, sizeof(f), rm - sm);
    fmt_num(g, sizeof(g), sm != 0 ? rm / sm : NAN);
    fprintf(out, "%-24s %10s %10s %10s %10s %10s %8s\n", lb_harness_metric_names[m], a, b, d, e, f,
            g);
  }
  fprintf(out,
          "(every run, valid or not; bad = the seed's reasonably bad run: mean + stdev across "
          "runs; 1 tick = %g ms)\n",
          ms);
  if (!isnan(c->ks_d))
    fprintf(out,
            "KS two-sample: D = %.3f (p = %.3g), D with real latencies rounded to whole "
            "ticks = %.3f; %zu sim vs %zu real latencies\n",
            c->ks_d, c->ks_p, c->ks_d_whole, c->sim.nlatency, c->real.nlatency);
  print_runs(out, c);
  if (c->real_from_logs)
    fprintf(out,
            "real side: the logs of %s (not run here: fleet health only from the logs' "
            "accounting and any .stats beside them)\n",
            c->real_source);
  for (int r = 0; r < c->real.nruns && c->real.health; r++)
    if (!c->real.health[r].valid && c->real.health[r].suggestion[0]) {
      fprintf(out, "for runs not valid: %s\n", c->real.health[r].suggestion);
      break;
    }
  if (c->verdict.every_run)
    fprintf(out, "figures over every run (none is valid: shown, not judged):\n");
  else
    fprintf(out, "verdict figures, over the %sreal runs and their simulated twins:\n",
            c->verdict.valid_runs == c->real.nruns ? "" : "valid ");
  print_intervals(out, c);
  char rule[512];
  lb_harness_tolerance_describe(&cmp->tol, rule, sizeof(rule));
  fprintf(out, "verdict: %s — %s; judged on %d of %d real runs (%d not valid)\n",
          lb_harness_outcome_name(c->verdict.outcome), c->verdict.reason, c->verdict.valid_runs,
          c->verdict.real_runs, c->verdict.real_runs - c->verdict.valid_runs);
  fprintf(out, "rule: %s\n", rule);
}

static void print_scores(FILE *out, const struct lb_harness_compare *cmp) {
  if (cmp->n < 2) {
    fprintf(out, "\n(scores across scenarios and the rank correlation need 2 or more scenarios)\n");
    return;
  }
  int *ss = malloc((size_t)cmp->n * (LB_HARNESS_SCORED + 1) * sizeof(int));
  int *rs = malloc((size_t)cmp->n * (LB_HARNESS_SCORED + 1) * sizeof(int));
  if (ss && rs && lb_harness_compare_scores(cmp, false, ss) == 0 &&
      lb_harness_compare_scores(cmp, true, rs) == 0) {
    fprintf(out,
            "\n== Scores across scenarios (the seed's quintiles of the reasonably bad run; "
            "5 = very good), sim | real\n%-28s",
            "scenario");
    for (int k = 0; k < LB_HARNESS_SCORED; k++)
      fprintf(out, " %-13.13s", lb_harness_metric_names[lb_harness_scored_metrics[k]]);
    fprintf(out, " %-13s\n", "total");
    for (int i = 0; i < cmp->n; i++) {
      fprintf(out, "%-28.28s", cmp->items[i].sc.name);
      for (int k = 0; k <= LB_HARNESS_SCORED; k++) {
        int at = i * (LB_HARNESS_SCORED + 1) + k;
        fprintf(out, " %3d | %-7d", ss[at], rs[at]);
      }
      fputc('\n', out);
    }
  }
  free(ss);
  free(rs);
  if (isnan(cmp->spearman_mean_latency))
    fprintf(out, "Spearman rank correlation of the algorithms by mean latency: needs 2 or more "
                 "scenarios with a valid real run and distinct figures\n");
  else
    fprintf(out, "Spearman rank correlation of the algorithms by mean latency, sim vs real: %.3f\n",
            cmp->spearman_mean_latency);
}

double lb_harness_compare_rank_correlation(const struct lb_harness_compare *cmp) {
  double *sm = malloc(((size_t)cmp->n + 1) * sizeof(double));
  double *rm = malloc(((size_t)cmp->n + 1) * sizeof(double));
  double rho = NAN;
  if (sm && rm) { /* the ranking is a verdict too: only scenarios with a valid real run */
    size_t k = 0;
    for (int i = 0; i < cmp->n; i++) {
      if (cmp->items[i].verdict.valid_runs == 0)
        continue;
      sm[k] = lb_harness_side_mean(&cmp->items[i].sim, LB_HM_MEAN_LATENCY);
      rm[k++] = lb_harness_side_mean(&cmp->items[i].real, LB_HM_MEAN_LATENCY);
    }
    rho = lb_harness_spearman(sm, rm, k);
  }
  free(sm);
  free(rm);
  return rho;
}

void lb_harness_compare_print_summary(FILE *out, const struct lb_harness_compare *cmp) {
  char rule[512];
  lb_harness_tolerance_describe(&cmp->tol, rule, sizeof(rule));
  print_scores(out, cmp);
  fprintf(out, "\n== Verdicts\nrule: %s\n%-28s %-14s %-7s %-26s %-26s %-6s %s\n", rule, "scenario",
          "verdict", "judged", "mean, rel. [95% CI]", "p99, rel. [95% CI]", "KS D", "why");
  for (int i = 0; i < cmp->n; i++) {
    const struct lb_harness_scenario_cmp *c = &cmp->items[i];
    char a[64], b[64], d[32], judged[32];
    lb_harness_interval_format(&c->verdict.fig[LB_HF_MEAN], a, sizeof(a));
    lb_harness_interval_format(&c->verdict.fig[LB_HF_P99], b, sizeof(b));
    snprintf(d, sizeof(d), isnan(c->ks_d_whole) ? "-" : "%.3f", c->ks_d_whole);
    snprintf(judged, sizeof(judged), "%d/%d", c->verdict.valid_runs, c->verdict.real_runs);
    fprintf(out, "%-28.28s %-14s %-7s %-26s %-26s %-6s %s\n", c->sc.name,
            lb_harness_outcome_name(c->verdict.outcome), judged, a, b, d, c->verdict.reason);
  }
}

/* The simulated side: lbsim on the runs the real side has (run_ids, or
 * 0..runs-1), or the --sim-csv rows. */
static int sim_side(struct lb_harness_compare *cmp, struct lb_harness_scenario_cmp *c,
                    const char *scenario_file, const char *simdir, const int *run_ids, int runs,
                    char *err, size_t errlen) {
  const struct lb_harness_opts *o = &cmp->opts;
  char csv[LB_HARNESS_PATH_MAX + 224], summary[LB_HARNESS_PATH_MAX + 224];
  int rc;
  if (cmp->sim_csv[0]) {
    rc = lb_harness_side_add_summary_csv(&c->sim, cmp->sim_csv, c->sc.name, err, errlen);
    if (rc < 0)
      return rc;
    if (rc == 0) {
      snprintf(err, errlen, "--sim-csv %s: no row with algorithm '%s'", cmp->sim_csv, c->sc.name);
      return -ENOENT;
    }
    return 0;
  }
  bool contiguous = true; /* runs 0..runs-1: one lbsim */
  for (int k = 0; k < runs; k++)
    if (run_ids[k] != k)
      contiguous = false;
  if (o->progress)
    fprintf(stderr, "%s: simulating %d run(s) with lbsim\n", c->sc.name, runs);
  for (int k = 0; k < runs; k++) {
    if (!contiguous || k == 0) {
      if (contiguous)
        snprintf(summary, sizeof(summary), "%s/summary.csv", simdir);
      else
        snprintf(summary, sizeof(summary), "%s/summary-%d.csv", simdir, run_ids[k]);
      if ((rc = run_sim(o, &c->sc, scenario_file, run_ids[k], contiguous ? runs : 1, simdir,
                        summary, err, errlen)) < 0)
        return rc;
    }
    snprintf(csv, sizeof(csv), "%s/requests-%d.csv", simdir, run_ids[k]);
    if ((rc = lb_harness_side_add_requests(&c->sim, csv, err, errlen)) < 0)
      return rc;
    if (!contiguous)
      side_counts_from_sim_summary(&c->sim, summary, k);
  }
  if (contiguous)
    side_counts_from_sim_summary(&c->sim, summary, 0);
  return 0;
}

/* One scenario: both sides, in out/<name>/. */
static int compare_one(struct lb_harness_compare *cmp, const char *path, bool one_scenario,
                       struct lb_harness_scenario_cmp *c, char *err, size_t errlen) {
  const struct lb_harness_opts *o = &cmp->opts;
  char dir[LB_HARNESS_PATH_MAX + 160], simdir[LB_HARNESS_PATH_MAX + 176];
  char file[LB_HARNESS_PATH_MAX + 192], serr[512];
  struct lb_harness_real_logs logs;
  int *run_ids = NULL, rc;
  memset(&logs, 0, sizeof(logs));
  if ((rc = lb_harness_scenario_load_opts(path, o, true, &c->sc, err, errlen)) < 0)
    return rc;
  int runs = c->sc.runs > 0 ? c->sc.runs : 1;
  /* Logs collected elsewhere: the runs are what they hold. */
  if (cmp->real_csv || cmp->real_dir) {
    rc = cmp->real_csv ? lb_harness_real_logs_from_list(cmp->real_csv, &logs, err, errlen)
                       : lb_harness_real_logs_from_dir(cmp->real_dir, c->sc.name, one_scenario,
                                                       &logs, err, errlen);
    if (rc < 0)
      return rc;
    runs = (int)logs.n;
    c->real_from_logs = true;
    snprintf(c->real_source, sizeof(c->real_source), "%s", logs.where);
  }
  run_ids = calloc((size_t)runs + 1, sizeof(int));
  if (!run_ids) {
    rc = -ENOMEM;
    goto done;
  }
  for (int k = 0; k < runs; k++)
    run_ids[k] = c->real_from_logs ? logs.runs[k].run : k;
  snprintf(dir, sizeof(dir), "%s/%s", o->out_dir, c->sc.name);
  snprintf(simdir, sizeof(simdir), "%s/sim", dir);
  if ((rc = lb_harness_mkdirs(simdir)) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", simdir, strerror(-rc));
    goto done;
  }
  snprintf(file, sizeof(file), "%s/scenario.yaml", dir);
  FILE *f = fopen(file, "w");
  if (!f || lb_scenario_write(&c->sc, f) < 0 || fclose(f) != 0) {
    snprintf(err, errlen, "cannot write %s", file);
    rc = -EIO;
    goto done;
  }
  if ((rc = sim_side(cmp, c, file, simdir, run_ids, runs, err, errlen)) < 0)
    goto done;
  /* The real side: logs given, or a fleet per run. */
  for (int k = 0; k < runs; k++) {
    char rundir[LB_HARNESS_PATH_MAX + 224];
    struct lb_harness_run_result res;
    snprintf(rundir, sizeof(rundir), "%s/%s/run-%d", dir, c->real_from_logs ? "real-logs" : "real",
             run_ids[k]);
    if (c->real_from_logs)
      rc = lb_harness_real_logs_load_run(&c->sc, &logs.runs[k], rundir, &res, err, errlen);
    else
      rc = lb_harness_run_one(o, &c->sc, k, rundir, &res, err, errlen);
    if (rc < 0)
      goto done;
    if ((rc = lb_harness_side_add_requests(&c->real, res.requests_csv, serr, sizeof(serr))) < 0) {
      snprintf(err, errlen, "%s", serr);
      goto done;
    }
    lb_harness_side_set_health(&c->real, c->real.nruns - 1, &res);
  }
  if (c->real_from_logs) { /* run numbers as the logs have them */
    for (int s = 0; s < 2; s++) {
      struct lb_harness_side *side = s ? &c->real : &c->sim;
      if (side->nruns != runs || (s == 0 && cmp->sim_csv[0]))
        continue;
      side->run_ids = malloc((size_t)runs * sizeof(int));
      if (side->run_ids)
        memcpy(side->run_ids, run_ids, (size_t)runs * sizeof(int));
    }
  }
  lb_harness_side_finish(&c->sim);
  lb_harness_side_finish(&c->real);
  lb_harness_compare_decide(&cmp->tol, c);
  rc = 0;
done:
  free(run_ids);
  lb_harness_real_logs_free(&logs);
  return rc;
}

#define OUT_MARKER ".lbharness-compare"

/* Entries of dir other than ., .. and the marker; -errno when it cannot be
 * read. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return -errno;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, OUT_MARKER))
      n++;
  closedir(d);
  return n;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  if (ftw->level == 0)
    return 0; /* the folder itself stays */
  return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -errno;
}

int lb_harness_compare_prepare_out(const char *dir, bool force, char *err, size_t errlen) {
  char path[LB_HARNESS_PATH_MAX + 32];
  int rc = lb_harness_mkdirs(dir);
  if (rc < 0) {
    snprintf(err, errlen, "--out %s: %s", dir, strerror(-rc));
    return rc;
  }
  if ((rc = count_entries(dir)) < 0) {
    snprintf(err, errlen, "--out %s: %s", dir, strerror(-rc));
    return rc;
  }
  if (rc > 0) {
    if (!force) {
      snprintf(err, errlen,
               "--out %s: the folder is not empty (an earlier report?); one report per folder: "
               "give a new --out, or --force to replace what an earlier compare wrote there",
               dir);
      return -EEXIST;
    }
    char report[LB_HARNESS_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/" OUT_MARKER, dir);
    snprintf(report, sizeof(report), "%s/report.html", dir);
    if (access(path, F_OK) != 0 && access(report, F_OK) != 0) {
      snprintf(err, errlen,
               "--out %s --force: the folder holds files that lbharness compare did not write "
               "(no report.html or " OUT_MARKER " in it): remove them yourself or give another "
               "--out",
               dir);
      return -EEXIST;
    }
    if ((rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS)) != 0) {
      rc = rc < 0 ? rc : -EIO;
      snprintf(err, errlen, "--out %s --force: cannot empty the folder: %s", dir, strerror(-rc));
      return rc;
    }
  }
  snprintf(path, sizeof(path), "%s/" OUT_MARKER, dir);
  FILE *f = fopen(path, "w");
  if (!f || fputs("lbharness compare wrote this folder; --force may empty it\n", f) < 0 ||
      fclose(f) != 0) {
    snprintf(err, errlen, "--out %s: cannot write %s", dir, path);
    return -EIO;
  }
  return 0;
}

int lb_harness_compare_main(struct lb_harness_compare *cmp, char *const *scenarios, int nscenarios,
                            FILE *out, char *err, size_t errlen) {
  int rc = 0, failed = 0;
  cmp->items = calloc((size_t)nscenarios, sizeof(*cmp->items));
  if (!cmp->items)
    return -ENOMEM;
  for (int i = 0; i < nscenarios; i++) {
    struct lb_harness_scenario_cmp *c = &cmp->items[cmp->n];
    rc = compare_one(cmp, scenarios[i], nscenarios == 1, c, err, errlen);
    if (rc < 0) {
      /* A scenario that failed is left out; the others still count. */
      lb_harness_side_close(&c->sim);
      lb_harness_side_close(&c->real);
      memset(c, 0, sizeof(*c));
      if (lb_harness_stop_signal || rc == -ENOTSUP)
        return rc; /* interrupted, or netem went missing: nothing more can run */
      if (strstr(err, scenarios[i]))
        fprintf(stderr, "lbharness: %s (scenario left out)\n", err);
      else
        fprintf(stderr, "lbharness: %s: %s (scenario left out)\n", scenarios[i], err);
      failed++;
      continue;
    }
    cmp->n++;
    lb_harness_compare_print_scenario(out, cmp, c);
    fflush(out);
  }
  if (cmp->n == 0) {
    snprintf(err, errlen, "no scenario could be compared");
    return -ECHILD;
  }
  cmp->spearman_mean_latency = lb_harness_compare_rank_correlation(cmp);
  if ((rc = lb_harness_report_write(cmp, cmp->opts.out_dir, err, errlen)) < 0)
    return rc;
  lb_harness_compare_print_summary(out, cmp);
  fprintf(out, "\nreport: %s/report.html\n", cmp->opts.out_dir);
  if (failed) {
    snprintf(err, errlen, "%d of %d scenarios failed and are left out", failed, nscenarios);
    return -ECHILD;
  }
  return 0;
}

void lb_harness_compare_close(struct lb_harness_compare *cmp) {
  for (int i = 0; i < cmp->n; i++) {
    lb_harness_side_close(&cmp->items[i].sim);
    lb_harness_side_close(&cmp->items[i].real);
  }
  free(cmp->items);
  cmp->items = NULL;
  cmp->n = 0;
}
