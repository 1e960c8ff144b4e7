/* report.html (self-contained: inline SVG and CSS, no script) and the CSVs
 * beside it, for `lbharness compare` (harness_report.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "harness_report.h"
#include "summary.h"
#include "harness_html.h"

#define SIM_COLOR "#4c78a8"
#define REAL_COLOR "#f58518"
static const char *const phase_colors[LB_HP_COUNT] = {"#54a24b", "#4c78a8", "#e45756", "#f58518",
                                                      "#b279a2"};

static void cell(FILE *f, double v) {
  if (isnan(v))
    fputs("<td>-</td>", f);
  else
    fprintf(f, "<td>%.2f</td>", v);
}

/* A text cell (left-aligned). */
static void text_cell(FILE *f, const char *s) {
  fputs("<td class='t'>", f);
  lb_html_text(f, s);
  fputs("</td>", f);
}

/* The CSS class of an outcome. */
static const char *outcome_class(enum lb_harness_outcome o) {
  return o == LB_HO_HOLDS ? "holds" : o == LB_HO_DIFFERS ? "fails" : "unsure";
}

#define LB_REPORT_BOX_MIN 5 /* runs below which a plot shows points, not a box */

/* The runs of one side at vertical centre y: a box (min, q1, median, q3,
 * max) from LB_REPORT_BOX_MIN runs on, and every run as a point; a run
 * whose fleet was not valid is a hollow point. */
static void runs_plot(FILE *f, const double *values, const bool *valid, size_t n, double x0,
                      double scale, double y, const char *color) {
  if (n == 0)
    return;
  if (n >= LB_REPORT_BOX_MIN) {
    double *v = malloc(n * sizeof(double));
    if (!v)
      return;
    memcpy(v, values, n * sizeof(double));
    gsl_sort(v, 1, n);
    double q[5] = {v[0], gsl_stats_quantile_from_sorted_data(v, 1, n, 0.25),
                   gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5),
                   gsl_stats_quantile_from_sorted_data(v, 1, n, 0.75), v[n - 1]};
    free(v);
    double x[5];
    for (int i = 0; i < 5; i++)
      x[i] = x0 + q[i] * scale;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'/>\n", x[0], y, x[4], y,
            color);
    fprintf(f,
            "<rect x='%.1f' y='%.1f' width='%.1f' height='10' fill='%s' fill-opacity='0.4' "
            "stroke='%s'/>\n",
            x[1], y - 5, x[3] - x[1] > 1 ? x[3] - x[1] : 1, color, color);
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>\n",
            x[2], y - 5, x[2], y + 5, color);
  }
  for (size_t i = 0; i < n; i++) {
    if (valid[i])
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", x0 + values[i] * scale, y,
              color);
    else
      fprintf(f,
              "<circle cx='%.1f' cy='%.1f' r='3.5' fill='white' stroke='%s' "
              "stroke-width='1.5'><title>not valid</title></circle>\n",
              x0 + values[i] * scale, y, color);
  }
}

static void legend(FILE *f, double x, double y) {
  fprintf(f,
          "<rect x='%.1f' y='%.1f' width='10' height='10' fill='" SIM_COLOR "'/>"
          "<text x='%.1f' y='%.1f' font-size='12'>simulated</text>"
          "<rect x='%.1f' y='%.1f' width='10' height='10' fill='" REAL_COLOR "'/>"
          "<text x='%.1f' y='%.1f' font-size='12'>real</text>\n",
          x, y, x + 14, y + 9, x + 90, y, x + 104, y + 9);
}

/* One metric across runs per scenario, sim vs real: points, and boxes from
 * LB_REPORT_BOX_MIN runs on. */
static void svg_runs(FILE *f, const struct lb_harness_compare *cmp, enum lb_harness_metric m) {
  const double left = 220, width = 460, row = 34;
  double max = 0;
  for (int i = 0; i < cmp->n; i++)
    for (int s = 0; s < 2; s++) {
      const struct lb_harness_side *side = s ? &cmp->items[i].real : &cmp->items[i].sim;
      for (int r = 0; r < side->nruns; r++)
        if (side->runs[r][m] > max)
          max = side->runs[r][m];
    }
  max = lb_html_nice_max(max * 1.05);
  double h = 40 + row * cmp->n + 40;
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f'>\n",
          left + width + 20, h);
  legend(f, left, 8);
  fprintf(f,
          "<circle cx='%.1f' cy='13' r='3.5' fill='white' stroke='#333' stroke-width='1.5'/>"
          "<text x='%.1f' y='17' font-size='12'>real run not valid</text>\n",
          left + 200, left + 208);
  double *buf = malloc(sizeof(double) * 1024);
  bool *ok = malloc(sizeof(bool) * 1024);
  for (int i = 0; i < cmp->n && buf; i++) {
    double y = 40 + row * i;
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='end'>", left - 8, y + 16);
    lb_html_text(f, cmp->items[i].sc.name);
    fputs("</text>\n", f);
    for (int s = 0; s < 2; s++) {
      const struct lb_harness_side *side = s ? &cmp->items[i].real : &cmp->items[i].sim;
      size_t n = 0;
      for (int r = 0; r < side->nruns && n < 1024 && ok; r++)
        if (!isnan(side->runs[r][m])) {
          ok[n] = !side->health || side->health[r].valid;
          buf[n++] = side->runs[r][m];
        }
      runs_plot(f, buf, ok, n, left, width / max, y + 10 + 14 * s, s ? REAL_COLOR : SIM_COLOR);
    }
  }
  free(buf);
  free(ok);
  char label[96];
  snprintf(label, sizeof(label), "%s (ticks) across runs", lb_harness_metric_names[m]);
  lb_html_x_axis(f, left, left + width, h - 40, max, label);
  fputs("</svg>\n", f);
}

/* Empirical CDFs of the pooled latencies, sim vs real. */
static void svg_cdf(FILE *f, const struct lb_harness_scenario_cmp *c) {
  const double left = 50, top = 24, width = 560, height = 240;
  const struct lb_harness_side *sides[2] = {&c->sim, &c->real};
  double max = 0;
  for (int s = 0; s < 2; s++)
    if (sides[s]->nlatency) {
      double q =
          gsl_stats_quantile_from_sorted_data(sides[s]->latency, 1, sides[s]->nlatency, 0.999);
      if (q > max)
        max = q;
    }
  max = lb_html_nice_max(max);
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f'>\n",
          left + width + 20, top + height + 44);
  legend(f, left + 10, 4);
  for (int i = 0; i <= 4; i++) {
    double y = top + height - height * i / 4.0;
    fprintf(f,
            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
            "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%.2f</text>\n",
            left, y, left + width, y, left - 4, y + 4, i / 4.0);
  }
  for (int s = 0; s < 2; s++) {
    const struct lb_harness_side *side = sides[s];
    if (!side->nlatency)
      continue;
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='",
            s ? REAL_COLOR : SIM_COLOR);
    const int steps = 400;
    double prev_y = 0;
    for (int k = 0; k <= steps; k++) {
      size_t idx = (size_t)((double)k / steps * (double)(side->nlatency - 1));
      double v = side->latency[idx];
      if (v > max)
        v = max;
      double x = left + width * v / max;
      double y = top + height - height * (double)(idx + 1) / (double)side->nlatency;
      fprintf(f, "%.1f,%.1f %.1f,%.1f ", x, k ? prev_y : top + height, x, y);
      prev_y = y;
    }
    fputs("'/>\n", f);
  }
  lb_html_x_axis(f, left, left + width, top + height, max,
         "latency (ticks), share of requests at or below");
  fputs("</svg>\n", f);
}

/* Stacked phase means, sim and real. */
static void svg_phases(FILE *f, const struct lb_harness_scenario_cmp *c) {
  const double left = 80, width = 500;
  const struct lb_harness_side *sides[2] = {&c->sim, &c->real};
  double total[2] = {0, 0};
  for (int s = 0; s < 2; s++)
    for (int p = 0; p < LB_HP_COUNT; p++) {
      double v = lb_harness_side_phase_mean(sides[s], p);
      if (!isnan(v))
        total[s] += v;
    }
  double max = lb_html_nice_max(total[0] > total[1] ? total[0] : total[1]);
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='130'>\n",
          left + width + 20);
  for (int s = 0; s < 2; s++) {
    double y = 28 + 26 * s, x = left;
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='end'>%s</text>\n", left - 6,
            y + 13, s ? "real" : "simulated");
    for (int p = 0; p < LB_HP_COUNT; p++) {
      double v = lb_harness_side_phase_mean(sides[s], p);
      if (isnan(v) || v <= 0)
        continue;
      double w = width * v / max;
      fprintf(f,
              "<rect x='%.1f' y='%.1f' width='%.1f' height='18' fill='%s'><title>%s %.2f "
              "ticks</title></rect>\n",
              x, y, w, phase_colors[p], lb_harness_phase_names[p], v);
      x += w;
    }
  }
  for (int p = 0; p < LB_HP_COUNT; p++)
    fprintf(f,
            "<rect x='%.1f' y='4' width='10' height='10' fill='%s'/><text x='%.1f' y='13' "
            "font-size='11'>%s</text>\n",
            left + 100.0 * p, phase_colors[p], left + 100.0 * p + 13, lb_harness_phase_names[p]);
  lb_html_x_axis(f, left, left + width, 82, max, "mean ticks per phase");
  fputs("</svg>\n", f);
}

static int write_csvs(const struct lb_harness_compare *cmp, const char *dir, char *err,
                      size_t errlen) {
  enum { NCSV = 6 };
  char path[LB_HARNESS_PATH_MAX + 32];
  const char *const names[NCSV] = {"comparison.csv", "verdicts.csv", "phases.csv",
                                   "runs.csv",       "scores.csv",   "intervals.csv"};
  FILE *f[NCSV] = {NULL};
  int rc = 0;
  for (int k = 0; k < NCSV; k++) {
    snprintf(path, sizeof(path), "%s/%s", dir, names[k]);
    if (!(f[k] = fopen(path, "w"))) {
      rc = -errno;
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
      goto done;
    }
  }
  fputs("scenario,metric,sim_mean,sim_reasonably_bad,real_mean,real_reasonably_bad,diff,ratio\n",
        f[0]);
  fputs("scenario,picker,verdict,real_runs,judged_real_runs,mean_rel,mean_rel_lo,mean_rel_hi,"
        "p99_rel,p99_rel_lo,p99_rel_hi,ks_d,ks_p,ks_d_whole_ticks,reason\n",
        f[1]);
  fputs("scenario,phase,sim_mean_ticks,real_mean_ticks\n", f[2]);
  fputs("scenario,side,run,requests,completed,failed,timed_out", f[3]);
  for (int m = 0; m < LB_HM_COUNT; m++)
    fprintf(f[3], ",%s", lb_harness_metric_names[m]);
  for (int p = 0; p < LB_HP_COUNT; p++)
    fprintf(f[3], ",%s_ticks", lb_harness_phase_names[p]);
  fputs(",valid,late_ms,cores,why_not_valid\n", f[3]);
  fputs("side,scenario", f[4]);
  for (int k = 0; k < LB_HARNESS_SCORED; k++)
    fprintf(f[4], ",%s", lb_harness_metric_names[lb_harness_scored_metrics[k]]);
  fputs(",total_score\n", f[4]);
  fputs("scenario,figure,paired,runs,sim,real,diff,diff_lo,diff_hi,rel,rel_lo,rel_hi,tolerance,"
        "outcome\n",
        f[5]);
  for (int i = 0; i < cmp->n; i++) {
    const struct lb_harness_scenario_cmp *c = &cmp->items[i];
    const struct lb_harness_verdict *v = &c->verdict;
    for (int m = 0; m < LB_HM_COUNT; m++) {
      double sm = lb_harness_side_mean(&c->sim, m), rm = lb_harness_side_mean(&c->real, m);
      fprintf(f[0], "%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", c->sc.name, lb_harness_metric_names[m],
              sm, lb_harness_side_bad(&c->sim, m), rm, lb_harness_side_bad(&c->real, m), rm - sm,
              rm / sm);
    }
    const struct lb_harness_interval *mi = &v->fig[LB_HF_MEAN], *pi = &v->fig[LB_HF_P99];
    fprintf(f[1], "%s,", c->sc.name);
    lb_summary_put_text(f[1], c->sc.picker);
    fprintf(f[1], ",%s,%d,%d,%.4g,%.4g,%.4g,%.4g,%.4g,%.4g,%.4g,%.4g,%.4g,",
            lb_harness_outcome_name(v->outcome), v->real_runs, v->valid_runs, mi->rel, mi->rel_lo,
            mi->rel_hi, pi->rel, pi->rel_lo, pi->rel_hi, c->ks_d, c->ks_p, c->ks_d_whole);
    lb_summary_put_text(f[1], v->reason);
    fputc('\n', f[1]);
    for (int fig = 0; fig < LB_HF_COUNT; fig++) {
      const struct lb_harness_interval *iv = &v->fig[fig];
      fprintf(f[5], "%s,%s,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", c->sc.name,
              lb_harness_figure_names[fig], iv->paired ? "yes" : "no", iv->n, iv->sim, iv->real,
              iv->diff, iv->lo, iv->hi, iv->rel, iv->rel_lo, iv->rel_hi);
      if (iv->judged)
        fprintf(f[5], "%g", iv->tol);
      fprintf(f[5], ",%s\n", lb_harness_outcome_name(iv->outcome));
    }
    for (int p = 0; p < LB_HP_COUNT; p++)
      fprintf(f[2], "%s,%s,%.6g,%.6g\n", c->sc.name, lb_harness_phase_names[p],
              lb_harness_side_phase_mean(&c->sim, p), lb_harness_side_phase_mean(&c->real, p));
    for (int s = 0; s < 2; s++) {
      const struct lb_harness_side *side = s ? &c->real : &c->sim;
      for (int r = 0; r < side->nruns; r++) {
        const struct lb_harness_run_health *h = side->health ? &side->health[r] : NULL;
        fprintf(f[3], "%s,%s,%d,%ld,%ld,%ld,%ld", c->sc.name, s ? "real" : "sim",
                lb_harness_side_run_id(side, r), side->requests[r], side->completed[r],
                side->failed[r], side->timed_out[r]);
        for (int m = 0; m < LB_HM_COUNT; m++)
          fprintf(f[3], ",%.6g", side->runs[r][m]);
        for (int p = 0; p < LB_HP_COUNT; p++)
          fprintf(f[3], ",%.6g", lb_harness_side_figure(side, r, LB_HF_FIRST_PHASE + p));
        fprintf(f[3], ",%s,", !h || h->valid ? "yes" : "no");
        if (h && h->known && h->late_ms >= 0)
          fprintf(f[3], "%.3f", h->late_ms);
        fputc(',', f[3]);
        if (h && h->known)
          fprintf(f[3], "%.3f", h->cores);
        fputc(',', f[3]);
        lb_summary_put_text(f[3], h && !h->valid ? h->reason : "");
        fputc('\n', f[3]);
      }
    }
  }
  int *sc = malloc(((size_t)cmp->n + 1) * (LB_HARNESS_SCORED + 1) * sizeof(int));
  for (int s = 0; s < 2 && sc && cmp->n >= 2; s++) {
    if (lb_harness_compare_scores(cmp, s == 1, sc) < 0)
      break;
    for (int i = 0; i < cmp->n; i++) {
      fprintf(f[4], "%s,%s", s ? "real" : "sim", cmp->items[i].sc.name);
      for (int k = 0; k <= LB_HARNESS_SCORED; k++)
        fprintf(f[4], ",%d", sc[i * (LB_HARNESS_SCORED + 1) + k]);
      fputc('\n', f[4]);
    }
  }
  free(sc);
done:
  for (int k = 0; k < NCSV; k++)
    if (f[k] && fclose(f[k]) != 0 && rc == 0)
      rc = -EIO;
  return rc;
}

static void scores_table(FILE *f, const struct lb_harness_compare *cmp) {
  int *ss = malloc(((size_t)cmp->n + 1) * (LB_HARNESS_SCORED + 1) * sizeof(int));
  int *rs = malloc(((size_t)cmp->n + 1) * (LB_HARNESS_SCORED + 1) * sizeof(int));
  if (ss && rs && lb_harness_compare_scores(cmp, false, ss) == 0 &&
      lb_harness_compare_scores(cmp, true, rs) == 0) {
    fputs("<table><tr><th>scenario</th>", f);
    for (int k = 0; k < LB_HARNESS_SCORED; k++)
      fprintf(f, "<th>%s<br>sim | real</th>",
              lb_harness_metric_names[lb_harness_scored_metrics[k]]);
    fputs("<th>total<br>sim | real</th></tr>\n", f);
    for (int i = 0; i < cmp->n; i++) {
      fputs("<tr>", f);
      text_cell(f, cmp->items[i].sc.name);
      for (int k = 0; k < LB_HARNESS_SCORED; k++) {
        int at = i * (LB_HARNESS_SCORED + 1) + k;
        fprintf(f, "<td class='t'>%s | %s</td>", lb_harness_score_name(ss[at]),
                lb_harness_score_name(rs[at]));
      }
      int at = i * (LB_HARNESS_SCORED + 1) + LB_HARNESS_SCORED;
      fprintf(f, "<td>%d | %d</td></tr>\n", ss[at], rs[at]);
    }
    fputs("</table>\n", f);
  }
  free(ss);
  free(rs);
}

/* A figure's relative interval as a cell, coloured by its outcome. */
static void interval_cell(FILE *f, const struct lb_harness_interval *iv) {
  char text[96];
  lb_harness_interval_format(iv, text, sizeof(text));
  fprintf(f, "<td class='%s'>", iv->judged ? outcome_class(iv->outcome) : "");
  lb_html_text(f, text);
  fputs("</td>", f);
}

static void intervals_table(FILE *f, const struct lb_harness_scenario_cmp *c) {
  fputs("<table><tr><th>figure</th><th>unit</th><th>sim</th><th>real</th>"
        "<th>real &minus; sim [95&nbsp;% CI]</th><th>relative to sim [95&nbsp;% CI]</th>"
        "<th>tolerance</th><th>outcome</th></tr>\n",
        f);
  for (int fig = 0; fig < LB_HF_COUNT; fig++) {
    const struct lb_harness_interval *iv = &c->verdict.fig[fig];
    if (iv->n == 0 && isnan(iv->sim))
      continue;
    fputs("<tr>", f);
    text_cell(f, lb_harness_figure_names[fig]);
    text_cell(f, fig == LB_HF_UTILIZATION ? "%" : "ticks");
    cell(f, iv->sim);
    cell(f, iv->real);
    if (isnan(iv->lo))
      cell(f, iv->diff);
    else
      fprintf(f, "<td>%+.2f [%+.2f, %+.2f]</td>", iv->diff, iv->lo, iv->hi);
    interval_cell(f, iv);
    if (iv->judged)
      fprintf(f, "<td>&plusmn;%g&nbsp;%%</td>", 100 * iv->tol);
    else
      fputs("<td>not judged</td>", f);
    fprintf(f, "<td class='t %s'>%s</td></tr>\n", iv->judged ? outcome_class(iv->outcome) : "",
            lb_harness_outcome_name(iv->outcome));
  }
  fputs("</table>\n", f);
}

static void runs_table(FILE *f, const struct lb_harness_scenario_cmp *c) {
  fputs("<table><tr><th>side</th><th>run</th><th>valid</th><th>late ms (p99)</th><th>cores</th>"
        "<th>requests</th><th>completed</th><th>failed</th><th>timed out</th><th>mean</th>"
        "<th>p99</th><th>why not valid</th></tr>\n",
        f);
  for (int s = 0; s < 2; s++) {
    const struct lb_harness_side *side = s ? &c->real : &c->sim;
    for (int r = 0; r < side->nruns; r++) {
      const struct lb_harness_run_health *h = side->health ? &side->health[r] : NULL;
      bool valid = !h || h->valid;
      fprintf(f, "<tr%s><td class='t'>%s</td><td>%d</td><td class='t'>%s</td>",
              valid ? "" : " class='invalid'", s ? "real" : "simulated",
              lb_harness_side_run_id(side, r),
              !s      ? "-"
              : valid ? "yes"
                      : "<b>NOT VALID</b>");
      cell(f, h && h->known && h->late_ms >= 0 ? h->late_ms : NAN);
      cell(f, h && h->known ? h->cores : NAN);
      fprintf(f, "<td>%ld</td><td>%ld</td><td>%ld</td><td>%ld</td>", side->requests[r],
              side->completed[r], side->failed[r], side->timed_out[r]);
      cell(f, side->runs[r][LB_HM_MEAN_LATENCY]);
      cell(f, side->runs[r][LB_HM_P99_LATENCY]);
      text_cell(f, valid ? "" : h->reason);
      fputs("</tr>\n", f);
    }
  }
  fputs("</table>\n", f);
}

int lb_harness_report_write(const struct lb_harness_compare *cmp, const char *dir, char *err,
                            size_t errlen) {
  int rc = write_csvs(cmp, dir, err, errlen);
  if (rc < 0)
    return rc;
  char path[LB_HARNESS_PATH_MAX + 32], rule[512], when[64];
  snprintf(path, sizeof(path), "%s/report.html", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -errno;
  }
  time_t now = time(NULL);
  strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
  lb_harness_tolerance_list(&cmp->tol, rule, sizeof(rule));
  fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>lbharness compare</title>\n"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right;vertical-align:top}th{text-align:left;background:#f6f8fa}"
        "td.t{text-align:left;overflow-wrap:normal;word-break:normal}"
        "td{white-space:nowrap}td.t:last-child{white-space:normal;min-width:16em}"
        "code{white-space:nowrap}"
        ".holds{color:#1a7f37;font-weight:bold}.fails{color:#cf222e;font-weight:bold}"
        ".unsure{color:#9a6700;font-weight:bold}"
        "tr.invalid td{background:#fff3cd}.invalid{background:#fff3cd;padding:6px}"
        ".rule{background:#f6f8fa;padding:6px}</style></head><body>\n",
        f);
  fprintf(f, "<h1>Simulator vs real fleet</h1>\n<p>%s. Latencies in ticks.</p>\n", when);
  fputs("<p class='rule'><b>Verdict rule.</b> For each figure, the runs are paired by seed (the "
        "same fleet and arrivals on both sides); the interval is the 95&nbsp;% Student-t "
        "confidence interval of the mean paired difference real &minus; sim over the valid real "
        "runs, divided by the simulated figure's mean over the same runs. A figure "
        "<span class='holds'>holds</span> when the whole interval lies within &plusmn; its "
        "tolerance, <span class='fails'>does not hold</span> when it lies wholly outside, and is "
        "<span class='unsure'>undecided</span> when it straddles a bound (more runs narrow it). "
        "A scenario holds when every judged figure holds; it is <span class='unsure'>not "
        "judged</span> when none of its real runs is valid and has <span class='unsure'>too few "
        "runs</span> below 2 valid pairs. Tolerances, relative to the simulated figure: ",
        f);
  lb_html_text(f, rule);
  fputs(".</p>\n", f);
  if (*lb_harness_compare_accounting(cmp)) {
    fputs("<p class='rule'><b>Accounting.</b> ", f);
    lb_html_text(f, lb_harness_compare_accounting(cmp));
    fputs(".</p>\n", f);
  }
  fputs("<h2>Verdicts</h2>\n<table><tr><th>scenario</th><th>picker</th><th>verdict</th>"
        "<th>judged runs</th><th>mean latency, rel. [95&nbsp;% CI]</th>"
        "<th>p99 latency, rel. [95&nbsp;% CI]</th><th>KS D (whole ticks)</th><th>why</th></tr>\n",
        f);
  for (int i = 0; i < cmp->n; i++) {
    const struct lb_harness_scenario_cmp *c = &cmp->items[i];
    const struct lb_harness_verdict *v = &c->verdict;
    fprintf(f, "<tr><td class='t'><a href='#s%d'>", i);
    lb_html_text(f, c->sc.name);
    fputs("</a></td><td class='t'><code>", f);
    lb_html_text(f, c->sc.picker);
    fprintf(f, "</code></td><td class='t %s'>%s</td>", outcome_class(v->outcome),
            lb_harness_outcome_name(v->outcome));
    fprintf(f, "<td%s>%d of %d</td>", v->valid_runs < v->real_runs ? " class='invalid'" : "",
            v->valid_runs, v->real_runs);
    interval_cell(f, &v->fig[LB_HF_MEAN]);
    interval_cell(f, &v->fig[LB_HF_P99]);
    if (isnan(c->ks_d_whole))
      fputs("<td>-</td>", f);
    else
      fprintf(f, "<td>%.3f</td>", c->ks_d_whole);
    text_cell(f, v->reason);
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
  if (cmp->n >= 2) {
    if (isnan(cmp->spearman_mean_latency))
      fputs("<p>Spearman rank correlation of the scenarios by mean latency: needs 2 or more "
            "scenarios with a valid real run and distinct figures.</p>\n",
            f);
    else
      fprintf(f,
              "<p>Spearman rank correlation of the scenarios by mean latency, simulated vs "
              "real: <b>%.3f</b></p>\n",
              cmp->spearman_mean_latency);
  }
  fprintf(f,
          "<h2>Mean latency, run by run</h2>\n<p>Each point is a run; boxes from %d runs on. "
          "Hollow points: real runs whose fleet was not valid.</p>\n",
          LB_REPORT_BOX_MIN);
  svg_runs(f, cmp, LB_HM_MEAN_LATENCY);
  fputs("<h2>p99 latency, run by run</h2>\n", f);
  svg_runs(f, cmp, LB_HM_P99_LATENCY);
  if (cmp->n >= 2) {
    fputs("<h2>Scores (the seed's quintiles of the reasonably bad run)</h2>\n", f);
    scores_table(f, cmp);
  }
  for (int i = 0; i < cmp->n; i++) {
    const struct lb_harness_scenario_cmp *c = &cmp->items[i];
    const struct lb_harness_verdict *v = &c->verdict;
    fprintf(f, "<h2 id='s%d'>", i);
    lb_html_text(f, c->sc.name);
    fputs("</h2>\n<p>picker <code>", f);
    lb_html_text(f, c->sc.picker);
    fprintf(f,
            "</code>, %d servers, %d clients, tick %g ms, %d ticks; %d simulated and %d real "
            "runs.</p>\n",
            c->sc.servers, c->sc.clients, (double)c->sc.tick_ns / 1e6, c->sc.total_ticks,
            c->sim.nruns, c->real.nruns);
    if (c->real_from_logs) {
      fputs("<p>The real side is the per-request logs of <code>", f);
      lb_html_text(f, c->real_source);
      fputs("</code> (collected elsewhere; their fleet's health only as far as the logs and "
            "any .stats beside them show).</p>\n",
            f);
    }
    fprintf(f, "<p>Verdict: <span class='%s'>%s</span> &mdash; ", outcome_class(v->outcome),
            lb_harness_outcome_name(v->outcome));
    lb_html_text(f, v->reason);
    fprintf(f, "; judged on %d of %d real runs.</p>\n", v->valid_runs, v->real_runs);
    if (c->invalid_runs) {
      fprintf(f,
              "<p class='invalid'>%d real run(s) not valid for comparison (their fleet could "
              "not keep the model's schedule; reasons in the table of runs).",
              c->invalid_runs);
      for (int r = 0; r < c->real.nruns; r++)
        if (!c->real.health[r].valid && c->real.health[r].suggestion[0]) {
          fputs(" Suggestion: ", f);
          lb_html_text(f, c->real.health[r].suggestion);
          fputc('.', f);
          break;
        }
      fputs("</p>\n", f);
    }
    if (v->every_run)
      fputs("<h3>Figures over every run (none is valid: shown, not judged)</h3>\n", f);
    else
      fputs("<h3>Figures judged</h3>\n", f);
    intervals_table(f, c);
    fputs("<h3>Runs</h3>\n", f);
    runs_table(f, c);
    fputs("<h3>The seed's summary figures (every run)</h3>\n<table><tr><th>metric</th>"
          "<th>sim mean</th><th>sim bad</th><th>real mean</th><th>real bad</th><th>diff</th>"
          "<th>ratio</th></tr>\n",
          f);
    for (int m = 0; m < LB_HM_COUNT; m++) {
      double sm = lb_harness_side_mean(&c->sim, m), rm = lb_harness_side_mean(&c->real, m);
      fputs("<tr>", f);
      text_cell(f, lb_harness_metric_names[m]);
      cell(f, sm);
      cell(f, lb_harness_side_bad(&c->sim, m));
      cell(f, rm);
      cell(f, lb_harness_side_bad(&c->real, m));
      cell(f, rm - sm);
      cell(f, rm / sm);
      fputs("</tr>\n", f);
    }
    fputs("</table>\n<p>\"bad\" is the seed's reasonably bad run: mean + stdev across runs.</p>\n",
          f);
    if (!isnan(c->ks_d)) {
      fprintf(f,
              "<p>KS two-sample: D = %.3f (p = %.3g); with real latencies rounded to whole "
              "ticks D = %.3f; %zu simulated vs %zu real latencies (every run).</p>\n",
              c->ks_d, c->ks_p, c->ks_d_whole, c->sim.nlatency, c->real.nlatency);
      fputs("<h3>Latency CDF</h3>\n", f);
      svg_cdf(f, c);
    }
    if (c->sim.phase_n || c->real.phase_n) {
      fputs("<h3>Where the time goes (mean per phase)</h3>\n", f);
      svg_phases(f, c);
    }
  }
  fputs("<p>CSV files beside this report: verdicts.csv, intervals.csv, comparison.csv, "
        "phases.csv, runs.csv, scores.csv.</p>\n</body></html>\n",
        f);
  if (fclose(f) != 0)
    return -EIO;
  return 0;
}
