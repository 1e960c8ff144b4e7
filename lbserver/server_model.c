/* server_model: draws, warm channels, resets, accounting. */
#include "server_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define WARM_INITIAL 256

/* Initial parameters from the server's stream, a reset's from its reset
 * clock (fleet.h, keyed by LB_STREAM_SERVER_RESET), as lbsim draws them.
 * Drawn parameters, under the command line's overrides. */
static void set_params(struct lb_server_model *m, const struct lb_server_params *p) {
  m->threads = m->ov.threads > 0 ? m->ov.threads : p->threads;
  m->mean_processing_time =
      m->ov.processing_time >= 0 ? m->ov.processing_time : p->mean_processing_time;
  m->mean_rtt = m->ov.rtt >= 0 ? m->ov.rtt : p->mean_rtt;
  if (m->threads < 1)
    m->threads = 1;
}

static void draw_params(struct lb_server_model *m, struct lb_rng *rng) {
  struct lb_server_params p;
  lb_fleet_draw_server(m->sc, rng, &p);
  set_params(m, &p);
}

int lb_server_model_init(struct lb_server_model *m, const struct lb_scenario *sc, int index,
                         int run, const struct lb_server_overrides *ov, struct lb_board *board) {
  int rc = 0;
  memset(m, 0, sizeof(*m));
  m->sc = sc;
  m->index = index;
  m->tick_ns = sc->tick_ns;
  m->ov = *ov;
  m->board = board;
  uint64_t seed = lb_fleet_run_seed(sc, run);
  rc = lb_rng_new(lb_seed_derive(seed, LB_STREAM_SERVER, (uint64_t)index), &m->rng);
  if (rc < 0)
    return rc;
  lb_fleet_server_reset_clock(sc, seed, index, &m->reset);
  m->warm_cap = WARM_INITIAL;
  m->warm = calloc(m->warm_cap, sizeof(*m->warm));
  if (!m->warm) {
    lb_rng_free(m->rng);
    return -ENOMEM;
  }
  rc = lb_accounting_init(&m->acct, (size_t)sc->server_state_buffer, sc->ewma_weight);
  if (rc < 0) {
    free(m->warm);
    lb_rng_free(m->rng);
    return rc;
  }
  draw_params(m, m->rng);
  if (ov->initial)
    set_params(m, ov->initial);
  m->acct.report.server = (uint32_t)index;
  m->acct.report.threads = (uint32_t)m->threads;
  m->carried = m->acct.report;
  pthread_mutex_init(&m->lock, NULL);
  return 0;
}

void lb_server_model_close(struct lb_server_model *m) {
  lb_accounting_close(&m->acct);
  free(m->warm);
  lb_reset_clock_close(&m->reset);
  lb_rng_free(m->rng);
  pthread_mutex_destroy(&m->lock);
}

static size_t warm_slot(const uint64_t *tab, size_t cap, uint64_t key) {
  size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
  while (tab[i] != 0 && tab[i] != key)
    i = (i + 1) & (cap - 1);
  return i;
}

/* Marks the channel warm; true if it was cold. Under the lock. */
static bool warm_insert(struct lb_server_model *m, uint32_t channel) {
  uint64_t key = (uint64_t)channel + 1;
  size_t i = warm_slot(m->warm, m->warm_cap, key);
  if (m->warm[i] == key)
    return false;
  if ((m->warm_len + 1) * 2 > m->warm_cap) {
    size_t cap = m->warm_cap * 2;
    uint64_t *tab = calloc(cap, sizeof(*tab));
    if (tab) { /* out of memory: keep probing a fuller table */
      for (size_t j = 0; j < m->warm_cap; j++)
        if (m->warm[j])
          tab[warm_slot(tab, cap, m->warm[j])] = m->warm[j];
      free(m->warm);
      m->warm = tab;
      m->warm_cap = cap;
      i = warm_slot(m->warm, m->warm_cap, key);
    }
  }
  if (m->warm_len + 1 < m->warm_cap) {
    m->warm[i] = key;
    m->warm_len++;
  }
  return true;
}

int64_t lb_server_model_work_ns(struct lb_server_model *m, bool is_probe, uint32_t channel) {
  double drawn = 0;
  bool cold = false;
  pthread_mutex_lock(&m->lock);
  if (m->mean_processing_time > 0) {
    drawn = lb_rng_gamma_seed(m->rng, m->mean_processing_time, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
    cold = warm_insert(m, channel);
  }
  double ticks = lb_rules_processing_ticks(m->sc, drawn, cold, is_probe);
  pthread_mutex_unlock(&m->lock);
  return (int64_t)llround(ticks * (double)m->tick_ns);
}

void lb_server_model_on_arrival(struct lb_server_model *m) {
  pthread_mutex_lock(&m->lock);
  m->started = true;
  lb_accounting_on_enqueue(&m->acct);
  pthread_mutex_unlock(&m->lock);
}

void lb_server_model_on_reject(struct lb_server_model *m) {
  pthread_mutex_lock(&m->lock);
  m->errors_in_tick++;
  pthread_mutex_unlock(&m->lock);
}

void lb_server_model_report(struct lb_server_model *m, struct lb_server_report *out) {
  pthread_mutex_lock(&m->lock);
  *out = m->carried;
  pthread_mutex_unlock(&m->lock);
}

void lb_server_model_on_complete(struct lb_server_model *m, int rif_at_arrival, int64_t latency_ns) {
  pthread_mutex_lock(&m->lock);
  (void)lb_accounting_on_complete(&m->acct, rif_at_arrival, (double)latency_ns / (double)m->tick_ns);
  pthread_mutex_unlock(&m->lock);
}

void lb_server_model_probe_report(struct lb_server_model *m, int rif, struct lb_server_report *out) {
  pthread_mutex_lock(&m->lock);
  *out = m->carried;
  lb_accounting_probe_answer(&m->acct, rif, out);
  pthread_mutex_unlock(&m->lock);
}

int lb_server_model_threads(struct lb_server_model *m) {
  pthread_mutex_lock(&m->lock);
  int n = m->threads;
  pthread_mutex_unlock(&m->lock);
  return n;
}

/* Takes the resets of ticks reset_ticks..upto from the reset clock. True if
 * any reset (the latest wins). Out of memory for the reset's stream, the
 * tick is tried again at the next boundary. Under the lock. */
static bool draw_resets(struct lb_server_model *m, int64_t upto) {
  bool any = false;
  for (; m->reset_ticks <= upto; m->reset_ticks++) {
    struct lb_server_params p;
    if (!lb_reset_clock_due(&m->reset, (long)m->reset_ticks))
      continue;
    if (lb_fleet_server_reset(m->sc, &m->reset, &p) < 0)
      break;
    set_params(m, &p);
    memset(m->warm, 0, m->warm_cap * sizeof(*m->warm));
    m->warm_len = 0;
    lb_accounting_reset(&m->acct);
    m->acct.report.server = (uint32_t)m->index;
    m->acct.report.threads = (uint32_t)m->threads;
    m->resets++;
    any = true;
  }
  return any;
}

int lb_server_model_align(struct lb_server_model *m, int64_t tick) {
  pthread_mutex_lock(&m->lock);
  m->started = true;
  if (draw_resets(m, tick > 0 ? tick : 0))
    m->carried = m->acct.report;
  int n = m->threads;
  pthread_mutex_unlock(&m->lock);
  return n;
}

int lb_server_model_tick(struct lb_server_model *m, const struct lb_server_pool_sample *s) {
  pthread_mutex_lock(&m->lock);
  int64_t tick = m->reset_ticks;
  pthread_mutex_unlock(&m->lock);
  return lb_server_model_tick_at(m, s, tick);
}

int lb_server_model_tick_at(struct lb_server_model *m, const struct lb_server_pool_sample *s,
                            int64_t fleet_tick) {
  struct lb_tick_observation obs = {0};
  double fleet_mean = 0;
  bool has_fleet_mean = false;
  int resize = 0;
  double tick = (double)m->tick_ns;
  double interval = s->interval_ns > 0 ? (double)s->interval_ns : tick;
  /* The seed's servers start recording (and drawing resets) at the fleet's
   * tick 0. Without that tick (lb_server_model_align) a real server is up
   * before its clients start (half a second: 25-50 ticks, a quarter to a
   * half of a 100-tick window of zeros in every `.mean` until the window
   * turned over): ticks before its first request are neither recorded nor
   * drawn for. */
  pthread_mutex_lock(&m->lock);
  bool started = m->started;
  pthread_mutex_unlock(&m->lock);
  if (!started)
    return 0;
  /* Read the board before taking the lock: other servers' slots only. */
  if (m->board)
    has_fleet_mean = lb_board_fleet_mean_utilization(m->board, &fleet_mean) == 0;

  pthread_mutex_lock(&m->lock);
  /* The seed's utilization is 100 * requests processing in the tick /
   * threads: a whole number of busy threads. The mean busy threads of the
   * tick (busy time / its length) is rounded to that grid: the seed's
   * summary averages the DISTINCT values of server_utilization_latest, so
   * continuous values would give a different statistic (~66 against ~48 on
   * scenarios/quick.yaml with the same plain mean). */
  double busy = rint((double)s->busy_ns / interval);
  if (busy > (double)s->threads)
    busy = (double)s->threads;
  if (busy < 0)
    busy = 0;
  obs.utilization = 100.0 * busy / (double)s->threads;
  /* The seed records after its tick's completions: a request processing
   * for p ticks is counted p - 1 times. Sampled mid-tick here it would be
   * counted p times: those ending within the next tick are left out. */
  obs.requests_in_flight = s->queued + s->processing - s->processing_ending;
  obs.queued_requests = s->queued;
  obs.has_latency = s->completed > 0;
  obs.latency = s->completed > 0 ? (double)s->latency_sum_ns / s->completed / tick : 0;
  obs.errors = m->errors_in_tick;
  obs.completions = (int)s->completed;
  m->errors_in_tick = 0;
  m->carried = m->acct.report;
  lb_accounting_tick(&m->acct, &obs, has_fleet_mean ? &fleet_mean : NULL);
  struct lb_server_report *r = &m->acct.report;
  r->server = (uint32_t)m->index;
  r->threads = (uint32_t)m->threads;
  /* ORCA rates are per second in the real driver. */
  r->orca_qps *= 1e9 / tick;
  r->orca_eps *= 1e9 / tick;
  struct lb_server_report snap = *r;

  if (draw_resets(m, fleet_tick)) {
    resize = m->threads;
    snap = m->acct.report;
    m->carried = snap;
  }
  pthread_mutex_unlock(&m->lock);

  if (m->board && lb_board_write(m->board, m->index, &snap,
                                 snap.utilization.valid ? snap.utilization.mean : NAN) < 0) {
    pthread_mutex_lock(&m->lock);
    m->board_errors++;
    pthread_mutex_unlock(&m->lock);
  }
  return resize;
}
