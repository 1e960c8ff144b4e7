#include "harness_comparison.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness_health.h"

const enum lb_harness_metric lb_harness_scored_metrics[LB_HARNESS_SCORED] = {
    LB_HM_MEAN_LATENCY, LB_HM_STDEV_LATENCY, LB_HM_P99_LATENCY, LB_HM_MEAN_STDEV_UTILIZATION,
    LB_HM_STDEV_UTILIZATION};

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
  if (*lb_harness_compare_accounting(cmp))
    fprintf(out, "accounting: %s\n", lb_harness_compare_accounting(cmp));
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

const char *lb_harness_compare_accounting(const struct lb_harness_compare *cmp) {
  return cmp->seed_picking
             ? "real picking counted as the seed counts it (--seed-picking): 1 tick for the "
               "tick of arrival plus each whole tick waited, the part of a tick a pick took counted "
               "in send"
             : "";
}

void lb_harness_compare_print_summary(FILE *out, const struct lb_harness_compare *cmp) {
  char rule[512];
  lb_harness_tolerance_describe(&cmp->tol, rule, sizeof(rule));
  print_scores(out, cmp);
  fprintf(out, "\n== Verdicts\nrule: %s\n", rule);
  if (*lb_harness_compare_accounting(cmp))
    fprintf(out, "accounting: %s\n", lb_harness_compare_accounting(cmp));
  fprintf(out, "%-28s %-14s %-7s %-26s %-26s %-6s %s\n", "scenario",
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
