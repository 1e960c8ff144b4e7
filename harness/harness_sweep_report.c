/* The sweep's report.html: inline SVG and CSS, no script. Latency (log
 * scale) and errors against load per picker, simulated solid and real
 * dashed, each with the band of its runs (min..max); the ranking at each
 * load on both sides and Spearman's rho. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness_html.h"
#include "harness_sweep.h"

static const char *const colors[] = {"#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2",
                                     "#b279a2", "#eeca3b", "#9d755d", "#ff9da6", "#bab0ac"};
#define NCOLORS (sizeof(colors) / sizeof(colors[0]))

#define W 860.0
#define H 330.0
#define X0 70.0
#define X1 560.0
#define Y0 20.0
#define Y1 270.0

static const struct lb_sweep_cell *cellc(const struct lb_sweep *s, int l, int p, int side) {
  return &s->cells[((size_t)l * (size_t)s->npickers + (size_t)p) * 2 + (size_t)side];
}

static void cell_range(const struct lb_sweep_cell *c, enum lb_sweep_metric m, double *lo,
                       double *hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int r = 0; r < c->n; r++) {
    double v = c->v[r][m];
    if (isnan(v))
      continue;
    *lo = v < *lo ? v : *lo;
    *hi = v > *hi ? v : *hi;
  }
}

struct yscale {
  bool log;
  double lo, hi; /* log: decades (powers of ten); linear: 0..hi */
};

static double ypos(const struct yscale *y, double v) {
  double t;
  if (y->log) {
    if (!(v > 0))
      v = y->lo;
    t = (log10(v) - log10(y->lo)) / (log10(y->hi) - log10(y->lo));
  } else {
    t = v / y->hi;
  }
  if (t < 0)
    t = 0;
  if (t > 1)
    t = 1;
  return Y1 - t * (Y1 - Y0);
}

static void y_axis(FILE *f, const struct yscale *y, const char *label) {
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", X0, Y0, X0, Y1);
  if (y->log) {
    for (double v = y->lo; v <= y->hi * 1.0001; v *= 10) {
      double py = ypos(y, v);
      fprintf(f,
              "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
              "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%g</text>\n",
              X0, py, X1, py, X0 - 4, py + 4, v);
    }
  } else {
    for (int i = 0; i <= 5; i++) {
      double v = y->hi * i / 5.0, py = ypos(y, v);
      fprintf(f,
              "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
              "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%g</text>\n",
              X0, py, X1, py, X0 - 4, py + 4, v);
    }
  }
  fprintf(f,
          "<text x='14' y='%.1f' font-size='12' text-anchor='middle' "
          "transform='rotate(-90 14 %.1f)'>",
          (Y0 + Y1) / 2, (Y0 + Y1) / 2);
  lb_html_text(f, label);
  fputs("</text>\n", f);
}

static void legend(FILE *f, const struct lb_sweep *s) {
  for (int p = 0; p < s->npickers; p++) {
    double y = Y0 + 16.0 * p;
    fprintf(f,
            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='3'/>"
            "<text x='%.1f' y='%.1f' font-size='11'>",
            X1 + 14, y, X1 + 34, y, colors[p % NCOLORS], X1 + 38, y + 4);
    char name[40];
    snprintf(name, sizeof(name), "%.36s", s->pickers[p]);
    lb_html_text(f, name);
    fputs("</text>\n", f);
  }
  double y = Y0 + 16.0 * s->npickers + 10;
  fprintf(f,
          "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>"
          "<text x='%.1f' y='%.1f' font-size='11'>simulated</text>"
          "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333' stroke-dasharray='6,3'/>"
          "<text x='%.1f' y='%.1f' font-size='11'>real</text>\n",
          X1 + 14, y, X1 + 34, y, X1 + 38, y + 4, X1 + 14, y + 16, X1 + 34, y + 16, X1 + 38,
          y + 20);
}

/* One figure against load. pct: values are fractions shown in percent. */
static void chart(FILE *f, const struct lb_sweep *s, enum lb_sweep_metric m, const char *title,
                  bool log_y, bool pct) {
  double lo = INFINITY, hi = 0, xmax = 0;
  for (int l = 0; l < s->nloads; l++) {
    xmax = s->loads[l] > xmax ? s->loads[l] : xmax;
    for (int p = 0; p < s->npickers; p++)
      for (int side = 0; side < 2; side++) {
        double a, b;
        cell_range(cellc(s, l, p, side), m, &a, &b);
        if (a > 0 && a < lo)
          lo = a;
        if (b > hi)
          hi = b;
      }
  }
  double scale = pct ? 100 : 1;
  struct yscale y = {.log = log_y};
  if (log_y) {
    y.lo = isfinite(lo) ? pow(10, floor(log10(lo))) : 1;
    y.hi = hi > 0 ? pow(10, ceil(log10(hi))) : 10;
    if (y.hi <= y.lo)
      y.hi = y.lo * 10;
  } else {
    y.hi = lb_html_nice_max(hi * scale);
  }
  xmax = lb_html_nice_max(xmax);
  fprintf(f, "<h3>");
  lb_html_text(f, title);
  fprintf(f, "</h3>\n<svg width='%.0f' height='%.0f' xmlns='http://www.w3.org/2000/svg'>\n", W, H);
  y_axis(f, &y, pct ? "percent of requests" : "ticks");
  lb_html_x_axis(f, X0, X1, Y1, xmax, "load (multiple of capacity)");
  for (int side = 0; side < 2; side++) {
    for (int p = 0; p < s->npickers; p++) {
      const char *color = colors[p % NCOLORS];
      /* the band: max along, min back */
      char pts[LB_SWEEP_MAX_LOADS * 2 * 24];
      size_t n = 0;
      int have = 0;
      for (int l = 0; l < s->nloads; l++) {
        double a, b;
        cell_range(cellc(s, l, p, side), m, &a, &b);
        if (!isfinite(b))
          continue;
        n += (size_t)snprintf(pts + n, sizeof(pts) - n, "%.1f,%.1f ",
                              X0 + (X1 - X0) * s->loads[l] / xmax, ypos(&y, b * scale));
        have++;
      }
      for (int l = s->nloads - 1; l >= 0 && n < sizeof(pts); l--) {
        double a, b;
        cell_range(cellc(s, l, p, side), m, &a, &b);
        if (!isfinite(a))
          continue;
        n += (size_t)snprintf(pts + n, sizeof(pts) - n, "%.1f,%.1f ",
                              X0 + (X1 - X0) * s->loads[l] / xmax, ypos(&y, a * scale));
      }
      if (have == 0)
        continue;
      fprintf(f, "<polygon points='%s' fill='%s' fill-opacity='0.12' stroke='none'/>\n", pts,
              color);
      fputs("<polyline fill='none' ", f);
      fprintf(f, "stroke='%s' stroke-width='2'%s points='", color,
              side ? " stroke-dasharray='6,3'" : "");
      for (int l = 0; l < s->nloads; l++) {
        double v = lb_sweep_cell_mean(cellc(s, l, p, side), m);
        if (!isnan(v))
          fprintf(f, "%.1f,%.1f ", X0 + (X1 - X0) * s->loads[l] / xmax, ypos(&y, v * scale));
      }
      fputs("'/>\n", f);
    }
  }
  legend(f, s);
  fputs("</svg>\n", f);
}

/* Picker indices ordered by mean p99 on one side (NaN last). */
static int order(const struct lb_sweep *s, int l, int side, int *idx) {
  int n = 0;
  for (int p = 0; p < s->npickers; p++)
    if (!isnan(lb_sweep_cell_mean(cellc(s, l, p, side), LB_SW_P99)))
      idx[n++] = p;
  for (int i = 1; i < n; i++) {
    int k = idx[i], j = i;
    double v = lb_sweep_cell_mean(cellc(s, l, k, side), LB_SW_P99);
    for (; j > 0 && lb_sweep_cell_mean(cellc(s, l, idx[j - 1], side), LB_SW_P99) > v; j--)
      idx[j] = idx[j - 1];
    idx[j] = k;
  }
  return n;
}

static void ranking_cell(FILE *f, const struct lb_sweep *s, int l, int side) {
  int idx[LB_SWEEP_MAX_PICKERS];
  int n = order(s, l, side, idx);
  fputs("<td>", f);
  if (n == 0)
    fputs("-", f);
  for (int i = 0; i < n; i++) {
    fprintf(f, "%s%d. <span style='color:%s'>&#9632;</span> ", i ? "<br>" : "", i + 1,
            colors[idx[i] % NCOLORS]);
    lb_html_text(f, s->pickers[idx[i]]);
    fprintf(f, " (%.1f)", lb_sweep_cell_mean(cellc(s, l, idx[i], side), LB_SW_P99));
  }
  fputs("</td>", f);
}

static void rankings(FILE *f, const struct lb_sweep *s) {
  fputs("<h2>Ranking at each load (by mean p99 latency over the runs, ticks)</h2>\n"
        "<table><tr><th>load</th><th>simulated</th><th>real</th><th>Spearman &rho;</th></tr>\n",
        f);
  for (int l = 0; l < s->nloads; l++) {
    fprintf(f, "<tr><td>%.2f</td>", s->loads[l]);
    ranking_cell(f, s, l, 0);
    ranking_cell(f, s, l, 1);
    double rho = lb_sweep_spearman(s, l);
    if (isnan(rho))
      fputs("<td>-</td>", f);
    else
      fprintf(f, "<td>%.2f</td>", rho);
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void table(FILE *f, const struct lb_sweep *s, enum lb_sweep_metric m, const char *what) {
  fprintf(f, "<h2>%s, simulated (mean over runs; real in brackets)</h2>\n<table><tr><th>load</th>",
          what);
  for (int p = 0; p < s->npickers; p++) {
    fputs("<th>", f);
    lb_html_text(f, s->pickers[p]);
    fputs("</th>", f);
  }
  fputs("</tr>\n", f);
  for (int l = 0; l < s->nloads; l++) {
    fprintf(f, "<tr><td>%.2f</td>", s->loads[l]);
    for (int p = 0; p < s->npickers; p++) {
      double a = lb_sweep_cell_mean(cellc(s, l, p, 0), m);
      double b = lb_sweep_cell_mean(cellc(s, l, p, 1), m);
      fputs("<td>", f);
      if (isnan(a))
        fputs("-", f);
      else
        fprintf(f, "%.1f", a);
      if (!isnan(b))
        fprintf(f, " [%.1f]", b);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

int lb_sweep_report_write(const struct lb_sweep *s, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "w");
  if (!f) {
    int rc = -errno;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return rc;
  }
  fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>lbharness sweep: ", f);
  lb_html_text(f, s->name);
  fputs("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:3px 7px;text-align:left;vertical-align:top}</style></head><body>\n<h1>Load sweep: ",
        f);
  lb_html_text(f, s->name);
  fprintf(f,
          "</h1>\n<p>Scenario <code>%s</code>; %d loads from %.2f to %.2f of capacity; %d "
          "picker(s); %d run(s) per load, picker and side (run r seeded with the scenario's "
          "seed + r); %s. Lines: the mean over the runs; bands: their range (min to max).</p>\n",
          s->scenario, s->nloads, s->loads[0], s->loads[s->nloads - 1], s->npickers, s->runs,
          s->real ? "simulated (solid) and real (dashed)" : "simulated only");
  int invalid = 0;
  for (int l = 0; l < s->nloads; l++)
    for (int p = 0; p < s->npickers; p++)
      invalid += cellc(s, l, p, 1)->invalid;
  if (invalid)
    fprintf(f, "<p><b>%d real run(s) did not keep the schedule</b> (not valid for comparison; "
               "see each run's folder).</p>\n",
            invalid);
  chart(f, s, LB_SW_P50, "p50 latency against load", true, false);
  chart(f, s, LB_SW_P99, "p99 latency against load", true, false);
  chart(f, s, LB_SW_P999, "p99.9 latency against load", true, false);
  chart(f, s, LB_SW_ERRORS, "errors against load (failed and timed out, % of requests)", false,
        true);
  rankings(f, s);
  table(f, s, LB_SW_P99, "p99 latency");
  table(f, s, LB_SW_P999, "p99.9 latency");
  fputs("</body></html>\n", f);
  if (fclose(f) != 0) {
    snprintf(err, errlen, "%s: write failed", path);
    return -EIO;
  }
  return 0;
}
