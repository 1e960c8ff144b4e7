#include "harness_verdict.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

const char *const lb_harness_figure_names[LB_HF_COUNT] = {
    "mean",    "p50",  "p90",          "p99",        "utilization",
    "picking", "send", "server_queue", "processing", "receive"};

static const char *const outcome_names[LB_HO_COUNT] = {"holds", "undecided", "does not hold",
                                                       "too few runs", "not judged"};

const char *lb_harness_outcome_name(enum lb_harness_outcome o) {
  return o >= 0 && o < LB_HO_COUNT ? outcome_names[o] : "-";
}

void lb_harness_tolerance_defaults(struct lb_harness_tolerance *t) {
  for (int f = 0; f < LB_HF_COUNT; f++)
    t->tol[f] = 0.05;
  t->tol[LB_HF_P90] = 0.10;
  t->tol[LB_HF_P99] = 0.10;
  /* The seed counts one tick of picking that nothing waits for (a real
   * pick takes ~0.1 tick): a known accounting difference, not a
   * prediction (docs/findings.md); judged on request. */
  t->tol[LB_HF_PICKING] = -1;
  t->confidence = 0.95;
}

int lb_harness_tolerance_set(struct lb_harness_tolerance *t, const char *spec, char *err,
                             size_t errlen) {
  const char *eq = strchr(spec, '=');
  char name[32];
  if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name)) {
    snprintf(err, errlen, "'%s': expected FIGURE=TOLERANCE (e.g. p99=10%%)", spec);
    return -EINVAL;
  }
  memcpy(name, spec, (size_t)(eq - spec));
  name[eq - spec] = '\0';
  int from = -1, to = -1;
  if (strcmp(name, "all") == 0)
    from = 0, to = LB_HF_COUNT;
  else if (strcmp(name, "phases") == 0)
    from = LB_HF_FIRST_PHASE, to = LB_HF_COUNT;
  for (int f = 0; f < LB_HF_COUNT && from < 0; f++)
    if (strcmp(name, lb_harness_figure_names[f]) == 0)
      from = f, to = f + 1;
  if (from < 0) {
    snprintf(err, errlen,
             "'%s': unknown figure '%s': expected mean, p50, p90, p99, utilization, picking, "
             "send, server_queue, processing, receive, phases or all",
             spec, name);
    return -EINVAL;
  }
  const char *value = eq + 1;
  double v;
  if (strcmp(value, "off") == 0) {
    v = -1;
  } else {
    char *end = NULL;
    v = strtod(value, &end);
    bool percent = end && *end == '%';
    if (percent)
      end++;
    if (end == value || *end || !(v >= 0) || !isfinite(v)) {
      snprintf(err, errlen,
               "'%s': expected a tolerance as a fraction (0.05), a percentage (5%%) or off, "
               "got '%s'",
               spec, value);
      return -EINVAL;
    }
    if (percent)
      v /= 100;
  }
  for (int f = from; f < to; f++)
    t->tol[f] = v;
  return 0;
}

void lb_harness_tolerance_list(const struct lb_harness_tolerance *t, char *buf, size_t len) {
  size_t used = 0;
  const char *off = "";
  if (len)
    buf[0] = '\0';
  for (int f = 0; f < LB_HF_COUNT && used < len; f++) {
    if (t->tol[f] < 0) {
      off = "; not judged:";
      continue;
    }
    used += (size_t)snprintf(buf + used, len - used, "%s%s ±%g %%", used ? ", " : "",
                             lb_harness_figure_names[f], 100 * t->tol[f]);
  }
  for (int f = 0; f < LB_HF_COUNT && used < len && *off; f++)
    if (t->tol[f] < 0) {
      used += (size_t)snprintf(buf + used, len - used, "%s %s", off, lb_harness_figure_names[f]);
      off = ",";
    }
}

void lb_harness_tolerance_describe(const struct lb_harness_tolerance *t, char *buf, size_t len) {
  char list[400];
  lb_harness_tolerance_list(t, list, sizeof(list));
  snprintf(buf, len,
           "holds when the %g %% interval of real - sim (paired by seed), relative to sim, lies "
           "within %s",
           100 * t->confidence, list);
}

/* Where the relative interval lies against [-tol, +tol]. */
static void judge(struct lb_harness_interval *iv, double confidence, double sd_err, double df) {
  iv->rel = iv->sim != 0 ? iv->diff / fabs(iv->sim) : NAN;
  iv->lo = iv->hi = iv->rel_lo = iv->rel_hi = NAN;
  iv->judged = iv->tol >= 0;
  if (iv->n < 2 || !(df > 0)) {
    iv->outcome = iv->judged ? LB_HO_TOO_FEW : LB_HO_NOT_JUDGED;
    return;
  }
  double t = gsl_cdf_tdist_Pinv(1 - (1 - confidence) / 2, df);
  iv->lo = iv->diff - t * sd_err;
  iv->hi = iv->diff + t * sd_err;
  if (iv->sim != 0) {
    iv->rel_lo = iv->lo / fabs(iv->sim);
    iv->rel_hi = iv->hi / fabs(iv->sim);
  }
  if (!iv->judged) {
    iv->outcome = LB_HO_NOT_JUDGED;
    return;
  }
  const double eps = 1e-12; /* on the bound is within */
  if (isnan(iv->rel_lo) || isnan(iv->rel_hi)) {
    /* A simulated figure of 0: within only when the interval is 0. */
    iv->outcome = iv->lo == 0 && iv->hi == 0 ? LB_HO_HOLDS : LB_HO_UNDECIDED;
  } else if (iv->rel_lo >= -iv->tol - eps && iv->rel_hi <= iv->tol + eps) {
    iv->outcome = LB_HO_HOLDS;
  } else if (iv->rel_lo > iv->tol + eps || iv->rel_hi < -iv->tol - eps) {
    iv->outcome = LB_HO_DIFFERS;
  } else {
    iv->outcome = LB_HO_UNDECIDED;
  }
}

void lb_harness_interval_paired(const double *sim, const double *real, const bool *use, size_t n,
                                double confidence, double tol, struct lb_harness_interval *out) {
  memset(out, 0, sizeof(*out));
  out->paired = true;
  out->tol = tol;
  double ssum = 0, rsum = 0, dsum = 0;
  int k = 0;
  for (size_t r = 0; r < n; r++) {
    if ((use && !use[r]) || isnan(sim[r]) || isnan(real[r]))
      continue;
    ssum += sim[r];
    rsum += real[r];
    dsum += real[r] - sim[r];
    k++;
  }
  out->n = k;
  out->sim = k ? ssum / k : NAN;
  out->real = k ? rsum / k : NAN;
  out->diff = k ? dsum / k : NAN;
  double ss = 0;
  for (size_t r = 0; r < n; r++) {
    if ((use && !use[r]) || isnan(sim[r]) || isnan(real[r]))
      continue;
    double e = real[r] - sim[r] - out->diff;
    ss += e * e;
  }
  double sd_err = k > 1 ? sqrt(ss / (k - 1) / k) : NAN;
  judge(out, confidence, sd_err, k - 1);
}

/* Mean and sample variance of the non-NaN values; returns the count. */
static int moments(const double *x, size_t n, double *mean, double *var) {
  double sum = 0, ss = 0;
  int k = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(x[i])) {
      sum += x[i];
      k++;
    }
  *mean = k ? sum / k : NAN;
  for (size_t i = 0; i < n; i++)
    if (!isnan(x[i]))
      ss += (x[i] - *mean) * (x[i] - *mean);
  *var = k > 1 ? ss / (k - 1) : NAN;
  return k;
}

void lb_harness_interval_welch(const double *sim, size_t nsim, const double *real, size_t nreal,
                               double confidence, double tol, struct lb_harness_interval *out) {
  memset(out, 0, sizeof(*out));
  out->tol = tol;
  double sv, rv;
  int ns = moments(sim, nsim, &out->sim, &sv), nr = moments(real, nreal, &out->real, &rv);
  out->n = ns < nr ? ns : nr;
  out->diff = out->real - out->sim;
  double a = sv / ns, b = rv / nr;
  double sd_err = sqrt(a + b);
  /* Welch-Satterthwaite; two constant sides give 0 / 0: no spread at all. */
  double df = a + b > 0 ? (a + b) * (a + b) / (a * a / (ns - 1) + b * b / (nr - 1)) : ns + nr - 2;
  judge(out, confidence, sd_err, df);
}

/* Appends ", NAME" (or "NAME" first) to a list. */
static void list_add(char *buf, size_t len, const char *name) {
  size_t used = strlen(buf);
  if (used < len)
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

void lb_harness_verdict_combine(struct lb_harness_verdict *v) {
  int judged = 0, holds = 0, too_few = 0, min_n = -1;
  char differ[256] = "", straddle[256] = "";
  v->reason[0] = '\0';
  for (int f = 0; f < LB_HF_COUNT; f++) {
    const struct lb_harness_interval *iv = &v->fig[f];
    if (!iv->judged || (iv->n == 0 && isnan(iv->sim)))
      continue; /* no tolerance, or a figure this side does not have */
    judged++;
    holds += iv->outcome == LB_HO_HOLDS;
    too_few += iv->outcome == LB_HO_TOO_FEW;
    if (min_n < 0 || iv->n < min_n)
      min_n = iv->n;
    if (iv->outcome == LB_HO_DIFFERS) {
      char text[128];
      lb_harness_interval_format(iv, text, sizeof(text));
      char item[160];
      snprintf(item, sizeof(item), "%s %s", lb_harness_figure_names[f], text);
      list_add(differ, sizeof(differ), item);
    } else if (iv->outcome == LB_HO_UNDECIDED) {
      list_add(straddle, sizeof(straddle), lb_harness_figure_names[f]);
    }
  }
  if (v->valid_runs == 0) {
    v->outcome = LB_HO_NOT_JUDGED;
    if (v->real_runs)
      snprintf(v->reason, sizeof(v->reason),
               "none of the %d real runs is valid for comparison (the fleet could not keep the "
               "model's schedule)",
               v->real_runs);
    else
      snprintf(v->reason, sizeof(v->reason), "no real run");
    return;
  }
  if (judged == 0) {
    v->outcome = LB_HO_NOT_JUDGED;
    snprintf(v->reason, sizeof(v->reason), "no figure to judge");
    return;
  }
  if (too_few) {
    v->outcome = LB_HO_TOO_FEW;
    snprintf(v->reason, sizeof(v->reason),
             "%d valid run%s to judge: an interval needs 2 or more (--runs R)", min_n,
             min_n == 1 ? "" : "s");
    return;
  }
  size_t used = 0;
  if (differ[0])
    used = (size_t)snprintf(v->reason, sizeof(v->reason), "outside the tolerance: %s", differ);
  if (straddle[0] && used < sizeof(v->reason))
    snprintf(v->reason + used, sizeof(v->reason) - used,
             "%sthe interval straddles the tolerance: %s (more runs narrow it: --runs R)",
             used ? "; " : "", straddle);
  if (differ[0])
    v->outcome = LB_HO_DIFFERS;
  else if (holds == judged)
    v->outcome = LB_HO_HOLDS;
  else
    v->outcome = LB_HO_UNDECIDED;
  if (v->outcome == LB_HO_HOLDS)
    snprintf(v->reason, sizeof(v->reason), "every judged figure's interval within its tolerance");
}

static void pct(char *buf, size_t len, double v) {
  if (isnan(v))
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%+.1f", 100 * v);
}

void lb_harness_interval_format(const struct lb_harness_interval *iv, char *buf, size_t len) {
  char a[24], b[24], c[24];
  pct(a, sizeof(a), iv->rel);
  if (isnan(iv->rel)) {
    snprintf(buf, len, "-");
    return;
  }
  if (isnan(iv->rel_lo)) {
    snprintf(buf, len, "%s %% (n = %d)", a, iv->n);
    return;
  }
  pct(b, sizeof(b), iv->rel_lo);
  pct(c, sizeof(c), iv->rel_hi);
  snprintf(buf, len, "%s %% [%s, %s]", a, b, c);
}
