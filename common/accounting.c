/* accounting: the "Record" part of the seed's Server.tick and its
 * ServerState.update, kept as running windows instead of immutable copies. */
#include "accounting.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RIF_TABLE_INITIAL 128
#define NWINDOWS 7

static void windows(struct lb_accounting *a, struct lb_window *ws[NWINDOWS]) {
  ws[0] = &a->utilization;
  ws[1] = &a->queries_per_tick;
  ws[2] = &a->requests_in_flight;
  ws[3] = &a->queued_requests;
  ws[4] = &a->latency;
  ws[5] = &a->errors;
  ws[6] = &a->served;
}

int lb_accounting_init(struct lb_accounting *a, size_t window_n, double ewma_weight) {
  int rc = 0;
  memset(a, 0, sizeof(*a));
  a->window_n = window_n;
  a->ewma_weight = ewma_weight;
  struct lb_window *ws[NWINDOWS];
  windows(a, ws);
  for (size_t i = 0; i < NWINDOWS; i++) {
    rc = lb_window_init(ws[i], window_n);
    if (rc < 0)
      goto fail;
  }
  a->latency_at_rif = calloc(RIF_TABLE_INITIAL, sizeof(*a->latency_at_rif));
  a->has_latency_at_rif = calloc(RIF_TABLE_INITIAL, sizeof(*a->has_latency_at_rif));
  if (!a->latency_at_rif || !a->has_latency_at_rif) {
    rc = -ENOMEM;
    goto fail;
  }
  a->rif_cap = RIF_TABLE_INITIAL;
  lb_rif_latency_init(&a->by_rif);
  lb_accounting_reset(a);
  a->resets = 0;
  a->report.resets = 0;
  return 0;
fail:
  lb_accounting_close(a);
  return rc;
}

void lb_accounting_close(struct lb_accounting *a) {
  if (!a)
    return;
  struct lb_window *ws[NWINDOWS];
  windows(a, ws);
  for (size_t i = 0; i < NWINDOWS; i++)
    lb_window_close(ws[i]);
  lb_rif_latency_close(&a->by_rif);
  free(a->latency_at_rif);
  free(a->has_latency_at_rif);
  a->latency_at_rif = NULL;
  a->has_latency_at_rif = NULL;
  a->rif_cap = 0;
  a->rif_keys = 0;
}

/* The report's fields that are not window stats. */
static void snapshot_rest(struct lb_accounting *a) {
  struct lb_server_report *r = &a->report;
  r->has_expected_latency = lb_accounting_expected_latency(a, &r->expected_latency);
  if (!r->has_expected_latency)
    r->expected_latency = 0;
  r->pid_weight = a->pid_weight;
  r->orca_utilization = r->utilization.valid ? r->utilization.ewma / 100 : 0;
  /* gRFC A58's qps is the rate served, not offered. */
  double qps = 0, eps = 0;
  r->orca_qps = lb_window_mean(&a->served, &qps) ? qps : 0;
  r->orca_eps = lb_window_mean(&a->errors, &eps) ? eps : 0;
  r->resets = a->resets;
  /* server and threads belong to the driver: left as it set them. */
}

static void snapshot(struct lb_accounting *a) {
  struct lb_server_report *r = &a->report;
  double w = a->ewma_weight;
  lb_stat_from_window(&r->utilization, &a->utilization, w);
  lb_stat_from_window(&r->queries_per_tick, &a->queries_per_tick, w);
  lb_stat_from_window(&r->requests_in_flight, &a->requests_in_flight, w);
  lb_stat_from_window(&r->queued_requests, &a->queued_requests, w);
  lb_stat_from_window(&r->latency, &a->latency, w);
  snapshot_rest(a);
}

/* st was taken from w when it held len_before values, and one value has been
 * inserted since. While nothing was dropped the seed's ewma, a left fold from
 * the oldest value, is the previous fold taken one step further: the same
 * arithmetic as lb_window_ewma's loop, so the same bits, in O(1). */
static void stat_after_insert(struct lb_stat *st, const struct lb_window *w, size_t len_before,
                              double weight) {
  if (!st->valid || len_before == 0 || lb_window_len(w) != len_before + 1) {
    lb_stat_from_window(st, w, weight);
    return;
  }
  double x = 0;
  lb_window_latest(w, &x);
  st->latest = x;
  lb_window_mean(w, &st->mean);
  st->ewma = weight * x + (1 - weight) * st->ewma;
}

void lb_accounting_reset(struct lb_accounting *a) {
  /* Server.reset(): a fresh ServerState and PidController. queries_in_tick
   * is the server's, not the state's: the seed keeps counting it. */
  struct lb_window *ws[NWINDOWS];
  windows(a, ws);
  for (size_t i = 0; i < NWINDOWS; i++)
    lb_window_clear(ws[i]);
  if (a->has_latency_at_rif)
    memset(a->has_latency_at_rif, 0, a->rif_cap * sizeof(*a->has_latency_at_rif));
  a->rif_keys = 0;
  lb_rif_latency_clear(&a->by_rif);
  a->resets++;
  a->pid_weight = 0;
  lb_pid_init_server(&a->pid);
  /* Requests finishing later in the tick of a reset carry the fresh state. */
  snapshot(a);
}

void lb_accounting_on_enqueue(struct lb_accounting *a) {
  a->queries_in_tick++;
}

/* The four windows inserted on every tick share len and head: once full,
 * their ewma folds run side by side, four independent chains of the same
 * arithmetic as lb_window_ewma (the same bits), not one chain's latency
 * after another's. A fifth window `x` (latency: its own head), when given
 * full and of the same size, folds in the same loop. Returns false where
 * the four are not in step (x untouched). */
#define NSTEP 4
static bool full_windows_in_step(struct lb_stat *st[NSTEP], const struct lb_window *ws[NSTEP],
                                 const size_t len_before[NSTEP], double weight, struct lb_stat *xst,
                                 const struct lb_window *x) {
  const size_t len = ws[0]->len, head = ws[0]->head, cap = ws[0]->cap;
  for (int k = 0; k < NSTEP; k++) {
    if (ws[k]->len != len || ws[k]->head != head || ws[k]->cap != cap || len_before[k] != cap ||
        len != cap)
      return false;
  }
  const double *r0 = ws[0]->ring, *r1 = ws[1]->ring, *r2 = ws[2]->ring, *r3 = ws[3]->ring;
  const double *rx = x ? x->ring : r0;
  const double c = 1 - weight;
  size_t i = head, ix = x ? x->head : head;
  double a0 = r0[i], a1 = r1[i], a2 = r2[i], a3 = r3[i], ax = rx[ix];
  for (size_t j = 1; j < cap; j++) {
    i = i + 1 == cap ? 0 : i + 1;
    ix = ix + 1 == cap ? 0 : ix + 1;
    a0 = weight * r0[i] + c * a0;
    a1 = weight * r1[i] + c * a1;
    a2 = weight * r2[i] + c * a2;
    a3 = weight * r3[i] + c * a3;
    ax = weight * rx[ix] + c * ax;
  }
  const double ewma[NSTEP] = {a0, a1, a2, a3};
  for (int k = 0; k < NSTEP; k++) {
    st[k]->valid = lb_window_latest(ws[k], &st[k]->latest);
    lb_window_mean(ws[k], &st[k]->mean);
    st[k]->ewma = ewma[k];
  }
  if (x) {
    xst->valid = lb_window_latest(x, &xst->latest);
    lb_window_mean(x, &xst->mean);
    xst->ewma = ax;
  }
  return true;
}

static int grow_rif_table(struct lb_accounting *a, size_t need) {
  size_t cap = a->rif_cap ? a->rif_cap : RIF_TABLE_INITIAL;
  while (cap <= need) {
    if (cap > ((size_t)-1) / 4 / sizeof(double))
      return -ENOMEM;
    cap *= 2;
  }
  double *v = realloc(a->latency_at_rif, cap * sizeof(*v));
  if (!v)
    return -ENOMEM;
  a->latency_at_rif = v;
  bool *h = realloc(a->has_latency_at_rif, cap * sizeof(*h));
  if (!h)
    return -ENOMEM;
  a->has_latency_at_rif = h;
  memset(v + a->rif_cap, 0, (cap - a->rif_cap) * sizeof(*v));
  memset(h + a->rif_cap, 0, (cap - a->rif_cap) * sizeof(*h));
  a->rif_cap = cap;
  return 0;
}

int lb_accounting_tick(struct lb_accounting *a, const struct lb_tick_observation *obs,
                       const double *fleet_mean_utilization) {
  /* seed: `latency if latency` - a latency of 0 (or none) is not recorded. */
  bool record_latency = obs->has_latency && obs->latency != 0;
  int rif = obs->requests_in_flight < 0 ? 0 : obs->requests_in_flight;
  if (record_latency && (size_t)rif >= a->rif_cap) {
    int rc = grow_rif_table(a, (size_t)rif);
    if (rc < 0)
      return rc; /* nothing changed */
  }

  double adjustment = 0;
  if (fleet_mean_utilization) {
    double avg = *fleet_mean_utilization;
    /* "This seems to help." */
    double target = avg < 80 ? avg + 10 : avg;
    adjustment = lb_pid_update(&a->pid, obs->utilization, target);
  }
  a->pid_weight += adjustment;

  size_t len_util = a->utilization.len, len_qpt = a->queries_per_tick.len,
         len_rif = a->requests_in_flight.len, len_queued = a->queued_requests.len,
         len_latency = a->latency.len;
  lb_window_insert(&a->utilization, obs->utilization);
  lb_window_insert(&a->queries_per_tick, a->queries_in_tick);
  lb_window_insert(&a->requests_in_flight, rif);
  lb_window_insert(&a->queued_requests, obs->queued_requests);
  lb_window_insert(&a->errors, obs->errors);
  lb_window_insert(&a->served, obs->completions);
  if (record_latency) {
    lb_window_insert(&a->latency, obs->latency);
    if (!a->has_latency_at_rif[rif]) {
      a->has_latency_at_rif[rif] = true;
      a->rif_keys++;
    }
    a->latency_at_rif[rif] = obs->latency;
  }
  a->queries_in_tick = 0;
  struct lb_server_report *r = &a->report;
  double w = a->ewma_weight;
  struct lb_stat *st[NSTEP] = {&r->utilization, &r->queries_per_tick, &r->requests_in_flight,
                               &r->queued_requests};
  const struct lb_window *ws[NSTEP] = {&a->utilization, &a->queries_per_tick,
                                       &a->requests_in_flight, &a->queued_requests};
  const size_t before[NSTEP] = {len_util, len_qpt, len_rif, len_queued};
  /* Latency is recorded only when there was one: else its window, and so
   * its stat, is as it was. Full before and after, its fold is a whole one
   * (as stat_after_insert's): it may join the four. */
  const struct lb_window *lw = &a->latency;
  bool latency_joins = record_latency && len_latency == lw->cap && lw->len == lw->cap &&
                       lw->cap == a->utilization.cap;
  if (full_windows_in_step(st, ws, before, w, latency_joins ? &r->latency : NULL,
                           latency_joins ? lw : NULL)) {
    if (record_latency && !latency_joins)
      stat_after_insert(&r->latency, lw, len_latency, w);
  } else {
    for (int k = 0; k < NSTEP; k++)
      stat_after_insert(st[k], ws[k], before[k], w);
    if (record_latency)
      stat_after_insert(&r->latency, lw, len_latency, w);
  }
  snapshot_rest(a);
  return 0;
}

int lb_accounting_on_complete(struct lb_accounting *a, int rif_at_arrival, double latency) {
  return lb_rif_latency_add(&a->by_rif, rif_at_arrival, latency);
}

void lb_accounting_probe_answer(const struct lb_accounting *a, int rif,
                                struct lb_server_report *out) {
  out->has_probe_answer = true;
  out->probe_rif = rif < 0 ? 0 : rif;
  if (!lb_rif_latency_estimate(&a->by_rif, rif, &out->probe_latency))
    out->probe_latency = -1;
}

const struct lb_server_report *lb_accounting_report(const struct lb_accounting *a) {
  return &a->report;
}

/* interpolate() on the rif-indexed table: the closest key at or below x and
 * the closest at or above it. */
bool lb_accounting_expected_latency(const struct lb_accounting *a, double *out) {
  double x;
  if (!lb_window_mean(&a->requests_in_flight, &x))
    return false;
  if (a->rif_keys == 0 || x != x)
    return false;
  size_t cap = a->rif_cap;
  /* Scan down from floor(x) and up from ceil(x). */
  double fl = floor(x);
  long below = -1, above = -1;
  long start = fl < 0 ? -1 : (fl >= (double)cap ? (long)cap - 1 : (long)fl);
  for (long k = start; k >= 0; k--) {
    if (a->has_latency_at_rif[k]) {
      below = k;
      break;
    }
  }
  double ce = ceil(x);
  if (ce < (double)cap) {
    for (size_t k = ce < 0 ? 0 : (size_t)ce; k < cap; k++) {
      if (a->has_latency_at_rif[k]) {
        above = (long)k;
        break;
      }
    }
  }
  double keys[2], values[2];
  size_t n = 0;
  if (below >= 0) {
    keys[n] = (double)below;
    values[n++] = a->latency_at_rif[below];
  }
  if (above >= 0 && above != below) {
    keys[n] = (double)above;
    values[n++] = a->latency_at_rif[above];
  }
  return lb_interpolate(keys, values, n, x, out);
}

bool lb_interpolate(const double *keys, const double *values, size_t n, double x, double *out) {
  if (n == 0)
    return false;
  /* First key >= x. */
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (keys[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < n && keys[lo] == x) {
    *out = values[lo];
    return true;
  }
  bool has_above = lo < n;
  bool has_below = lo > 0;
  if (!has_below) {
    *out = values[lo];
    return true;
  }
  if (!has_above) {
    *out = values[lo - 1];
    return true;
  }
  double kb = keys[lo - 1], vb = values[lo - 1];
  double ka = keys[lo], va = values[lo];
  /* d[below] + (d[above] - d[below]) * (x - below) / (above - below) */
  *out = vb + (va - vb) * (x - kb) / (ka - kb);
  return true;
}
