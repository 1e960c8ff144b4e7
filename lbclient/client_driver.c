/* client_driver: arrivals, picking, delays, connections and accounting of
 * the hosted logical clients, on one libuv loop with precise timers. */
#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "client_driver_int.h"
#include "client_faults.h"
#include "client_metrics.h"
#include "clock.h"
#include "framing.h"
#include "log.h"
#include "proc_usage.h"
#include "reqlog.h"
#include "rules.h"
#include "statsfile.h"

/* ---- timers ---- */

static void arm(struct driver *d) {
  const struct lb_timer_entry *top = lb_timer_heap_peek(&d->heap);
  struct itimerspec its = {0};
  int64_t when = top ? top->deadline_ns : INT64_MAX;
  if (when == d->armed_ns)
    return;
  d->armed_ns = when;
  if (top) {
    when -= d->cfg->wake_early_ns; /* then spin to the deadline (timer_cb) */
    if (when < 1)
      when = 1;
    its.it_value.tv_sec = when / 1000000000LL;
    its.it_value.tv_nsec = when % 1000000000LL;
  }
  if (timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
    LB_ERROR("timerfd_settime: %s", strerror(errno));
}

void lb__client_schedule(struct driver *d, int64_t deadline, int kind, uint32_t slot,
                         uint32_t gen) {
  if (lb_timer_heap_push(&d->heap, deadline, kind, slot, gen) < 0) {
    LB_ERROR("out of memory for timers");
    return;
  }
  if (deadline < d->armed_ns && !d->dispatching)
    arm(d);
}

/* ---- the run's phases ---- */

static void timeout_one(struct lb_creq *r, void *arg) {
  lb__client_finish(arg, r, LB_OUTCOME_TIMED_OUT, NULL);
}

static void stop_run(struct driver *d, const char *why) {
  if (d->stopped)
    return;
  d->stopped = true;
  d->arrivals_done = true;
  LB_INFO("stopping: %s (%ld requests live)", why, d->table.counts.live);
  lb_creq_foreach_live(&d->table, timeout_one, d);
  for (int i = 0; i < d->nconns; i++)
    lb_conn_close(&d->conns[i]);
  uv_poll_stop(&d->tpoll);
  uv_close((uv_handle_t *)&d->tpoll, NULL);
  uv_close((uv_handle_t *)&d->flusher, NULL);
  uv_close((uv_handle_t *)&d->sigterm, NULL);
  uv_close((uv_handle_t *)&d->sigint, NULL);
}

void lb__client_maybe_finish_run(struct driver *d) {
  if (!d->stopped && d->started && d->arrivals_done && d->table.counts.live == 0)
    stop_run(d, d->stopping ? "drained after signal" : "all requests done");
}

static void on_tick(struct driver *d, long k) {
  d->tick = k;
  const struct lb_scenario *sc = d->sc;
  /* Tick k's requests see the means after the resets of ticks < k: the
   * seed's channels reset at the end of their client's tick. Out of memory,
   * the means stay as they were until a later tick catches up. */
  if (lb_reset_mirror_advance(d->mirror, k - 1) < 0)
    LB_WARN("tick %ld: out of memory replaying resets; channel means lag", k);
  if (d->board) {
    for (int s = 0; s < sc->servers; s++) {
      if (d->oracle_used[s] && lb_board_read(d->board, s, &d->oracle[s]) < 0)
        memset(&d->oracle[s], 0, sizeof(d->oracle[s]));
    }
  }
  /* Resume waiting picks, as the seed resumes its generators every tick. */
  size_t keep = 0, n = d->nwaiting;
  for (size_t i = 0; i < n && !d->stopped; i++) {
    struct waiting w = d->waiting[i];
    struct lb_creq *r = lb_creq_get(&d->table, w.slot, w.gen);
    if (!r || r->state != LB_CREQ_PICKING)
      continue;
    lb__client_resume_pick(d, r);
    r = lb_creq_get(&d->table, w.slot, w.gen);
    if (r && r->state == LB_CREQ_PICKING)
      d->waiting[keep++] = w;
  }
  /* entries added while resuming (none expected) are kept too */
  for (size_t i = n; i < d->nwaiting; i++)
    d->waiting[keep++] = d->waiting[i];
  d->nwaiting = keep;
  if (d->stopped)
    return;
  if (d->arrivals_done && k >= d->end_tick) {
    stop_run(d, "cooldown over");
    return;
  }
  lb__client_maybe_finish_run(d);
  if (!d->stopped)
    lb__client_schedule(d, d->t0 + (k + 1) * d->tick_ns, EV_TICK, 0, 0);
}

/* The seed's WithProbes' own part, at Client.send: probes to
 * min(RandomRound(P), channels with no rif) channels sampled from all, before
 * any of the tick's picks (which run at the client's tick), as lbsim. */
static void send_time_probes(struct driver *d, struct hosted *hc) {
  (void)lb_pick_plan_send_time_probes(&d->plan, &hc->env, hc->chptrs, hc->n);
}

static void on_arrivals(struct driver *d) {
  int64_t now = lb_clock_now_ns();
  size_t narriving = 0;
  bool later = false;
  while (!d->arrivals_done && d->next_arrival < d->narrivals) {
    const struct lb_arrival *a = &d->arrivals[d->next_arrival];
    int64_t at = d->t0 + (int64_t)llround(a->tick * (double)d->tick_ns);
    if (at + d->arrival_lag_ns > now) {
      lb__client_schedule(d, at + d->arrival_lag_ns, EV_ARRIVAL, 0, 0);
      later = true;
      break;
    }
    d->next_arrival++;
    lb_samples_add(&d->arrival_late, now - at - d->arrival_lag_ns);
    struct lb_creq *r = NULL;
    if (lb_creq_new(&d->table, false, &r) < 0) {
      LB_ERROR("out of memory for requests");
      continue;
    }
    r->client = a->client - d->cfg->first_client;
    r->intended_ns = at;
    lb__client_schedule(d, at + d->timeout_ns, EV_TIMEOUT, r->slot, r->gen);
    if (!d->plan.send_time_probes) {
      lb__client_start_pick(d, r);
      now = lb_clock_now_ns();
      continue;
    }
    send_time_probes(d, &d->clients[r->client]);
    if (narriving == d->caparriving) {
      size_t cap = d->caparriving ? 2 * d->caparriving : 64;
      struct waiting *v = realloc(d->arriving, cap * sizeof(*v));
      if (!v) {
        lb__client_start_pick(d, r);
        continue;
      }
      d->arriving = v;
      d->caparriving = cap;
    }
    d->arriving[narriving++] = (struct waiting){r->slot, r->gen};
  }
  for (size_t i = 0; i < narriving && !d->stopped; i++) {
    struct lb_creq *r = lb_creq_get(&d->table, d->arriving[i].slot, d->arriving[i].gen);
    if (r && r->state == LB_CREQ_PICKING && !r->pick)
      lb__client_start_pick(d, r);
  }
  if (later)
    return;
  if (d->next_arrival >= d->narrivals)
    d->arrivals_done = true;
  lb__client_maybe_finish_run(d);
}

static void start_run(struct driver *d, int64_t t0) {
  if (d->started)
    return;
  d->started = true;
  d->t0 = t0;
  d->clk.t0_ns = t0;
  LB_INFO("tick 0: %zu arrivals for clients %d..%d", d->narrivals, d->cfg->first_client,
          d->cfg->first_client + d->cfg->client_count - 1);
  lb__client_schedule(d, t0, EV_TICK, 0, 0);
  if (d->narrivals)
    lb__client_schedule(
        d, t0 + (int64_t)llround(d->arrivals[0].tick * (double)d->tick_ns) + d->arrival_lag_ns,
        EV_ARRIVAL, 0, 0);
  else
    d->arrivals_done = true;
}

static void dispatch(struct driver *d, const struct lb_timer_entry *e) {
  struct lb_creq *r;
  switch (e->kind) {
  case EV_START:
    start_run(d, d->cfg->has_start_at ? e->deadline_ns : lb_clock_now_ns());
    break;
  case EV_TICK:
    on_tick(d, (long)llround((double)(e->deadline_ns - d->t0) / (double)d->tick_ns));
    break;
  case EV_ARRIVAL:
    on_arrivals(d);
    break;
  case EV_SEND:
    r = lb_creq_get(&d->table, e->slot, e->gen);
    if (r && r->state == LB_CREQ_HOLDING) {
      if (d->conns[r->conn].state != LB_CONN_UP)
        lb__client_fail(d, r, &d->res->failed_server_down, LB_OUTCOME_FAILED, NULL);
      else
        lb__client_write_request(d, r);
    }
    break;
  case EV_RECEIVE:
    r = lb_creq_get(&d->table, e->slot, e->gen);
    if (r && r->state == LB_CREQ_RECEIVING)
      lb__client_finish(d, r, LB_OUTCOME_COMPLETED, NULL);
    break;
  case EV_TIMEOUT:
    r = lb_creq_get(&d->table, e->slot, e->gen);
    if (r)
      lb__client_finish(d, r, LB_OUTCOME_TIMED_OUT, NULL);
    break;
  case EV_DRAIN:
    stop_run(d, "drain bound after signal");
    break;
  case EV_DEADLINE:
    d->res->hit_max_runtime = true;
    stop_run(d, "--max-runtime reached");
    break;
  }
}

static void timer_cb(uv_poll_t *h, int status, int events) {
  struct driver *d = h->data;
  (void)status;
  (void)events;
  uint64_t expirations;
  if (read(d->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
    LB_DEBUG("timerfd read: %s", strerror(errno));
  d->armed_ns = INT64_MAX; /* the kernel disarmed it */
  struct lb_timer_entry e;
  d->dispatching = true;
  int64_t start = lb_clock_now_ns();
  for (;;) {
    int64_t now = lb_clock_now_ns();
    /* Behind schedule, do not starve the sockets: after the budget, let the
     * loop read what has arrived and come back (the timerfd is re-armed in
     * the past, so at once). */
    if (d->stopped || now - start > DISPATCH_BUDGET_NS)
      break;
    if (!lb_timer_heap_pop_due(&d->heap, now, &e)) {
      /* A deadline a few microseconds away is cheaper and more precise to
       * spin for than to sleep for; but never keep the sockets waiting. */
      const struct lb_timer_entry *top = lb_timer_heap_peek(&d->heap);
      int64_t spin = d->cfg->wake_early_ns > SPIN_NS ? d->cfg->wake_early_ns : SPIN_NS;
      if (!top || top->deadline_ns - now > spin)
        break;
      while (lb_clock_now_ns() < top->deadline_ns)
        ;
      continue;
    }
    int64_t late = lb_clock_now_ns() - e.deadline_ns;
    lb_samples_add(&d->timer_late, late);
    lb_client_metrics_timer_late(d->table.metrics, late);
    if (late > d->timer_late_max_ns) {
      d->timer_late_max_ns = late;
      d->timer_late_max_deadline_ns = e.deadline_ns;
    }
    dispatch(d, &e);
  }
  d->dispatching = false;
  if (!d->stopped)
    arm(d);
}

/* ---- connections ---- */

/* Before the loop polls: the requests this iteration's callbacks sent (a
 * tick's sends, a resumed pick's) leave in one write per connection. */
static void flush_conns(uv_prepare_t *h) {
  struct driver *d = h->data;
  for (int i = 0; i < d->nconns; i++)
    lb_conn_flush(&d->conns[i]);
}

void lb__client_on_conn_up(void *arg, struct lb_conn *c) {
  struct driver *d = arg;
  if (c->connects == 1 && ++d->conns_up_once == d->nconns && !d->cfg->has_start_at)
    start_run(d, lb_clock_now_ns());
  if (c->connects > 1)
    d->res->reconnects++;
}

void lb__client_on_conn_down(void *arg, struct lb_conn *c, const char *reason) {
  struct driver *d = arg;
  (void)reason;
  while (c->inflight_head != LB_CREQ_NONE) {
    lb__client_fail(d, lb_creq_at(&d->table, c->inflight_head), &d->res->failed_connection_lost,
                    LB_OUTCOME_FAILED, NULL);
  }
}

/* response_hold: client. The seed's Channel.receive: the server is done, so
 * the channel's rif goes down now; the request completes after its response
 * delay (EV_RECEIVE). The server was asked for no hold, so the response
 * arrived when it was done (plus the wire). -ENOMEM: finish at once. */
static int hold_response(struct driver *d, struct lb_creq *r, const Lb__Response *resp,
                         double hold_ticks) {
  struct lb_held_response *h = d->free_held;
  if (h)
    d->free_held = h->next;
  else if (!(h = malloc(sizeof(*h))))
    return -ENOMEM;
  h->received_ns = lb_clock_now_ns();
  h->queue_ns = resp->queue_ns;
  h->processing_ns = resp->processing_ns;
  h->hold_ns = resp->hold_ns;
  h->has_report = resp->report != NULL;
  if (h->has_report)
    lb_report_from_wire(resp->report, &h->report);
  else
    memset(&h->report, 0, sizeof(h->report));
  lb__client_conn_list_remove(d, r);
  lb_creq_received(&d->table, r);
  r->held = h;
  lb_channel_on_received(&d->clients[r->client].chans[r->chan]);
  lb__client_schedule(d, h->received_ns + (int64_t)llround(hold_ticks * (double)d->tick_ns),
                      EV_RECEIVE, r->slot, r->gen);
  return 0;
}

void lb__client_on_conn_response(void *arg, struct lb_conn *c, const Lb__Response *resp) {
  struct driver *d = arg;
  struct lb_creq *r = lb_creq_by_wire_id(&d->table, resp->id);
  if (!r || r->state != LB_CREQ_IN_FLIGHT || r->conn != c->index) {
    d->res->stray_responses++;
    return;
  }
  char why[160];
  if (lb_wire_check_response(resp, &d->wire, why, sizeof(why)) < 0) {
    LB_DEBUG("bad response: %s", why); /* counted: failed_bad_response */
    lb__client_fail(d, r, &d->res->failed_bad_response, LB_OUTCOME_FAILED, NULL);
    return;
  }
  double extra = 0; /* a delay fault's ticks: held here, whoever holds the draw */
  if (d->channel_faults) {
    /* Sent when the server was done, as lbsim's Channel.receive. */
    struct hosted *hc = &d->clients[r->client];
    struct lb_client_fault_hit hit;
    int tick = lb_client_fault_response_tick(d->t0, d->tick_ns, d->arrival_lag_ns,
                                             lb_clock_now_ns(), resp->hold_ns);
    lb_client_faults_message(d->sc, hc->servers[r->chan], hc->id, tick, &hit);
    if (hit.dropped) { /* lost on the way back: still in flight, until its timeout */
      d->res->partition_dropped_responses++;
      return;
    }
    extra = hit.extra_ticks;
    r->response_delay_ticks += extra;
  }
  double hold = d->sc->response_hold == LB_RESPONSE_HOLD_CLIENT ? r->response_delay_ticks : extra;
  if (resp->status == LB__STATUS__STATUS_OK && hold > 0 && hold_response(d, r, resp, hold) == 0)
    return;
  lb__client_finish(
      d, r, resp->status == LB__STATUS__STATUS_OK ? LB_OUTCOME_COMPLETED : LB_OUTCOME_FAILED, resp);
}

/* HTTP: request id's answer was bad (client_conn.h): it failed. One line
 * each for the first few, then counted only. */
void lb__client_on_conn_bad_response(void *arg, struct lb_conn *c, uint64_t id, const char *why) {
  struct driver *d = arg;
  struct lb_creq *r = lb_creq_by_wire_id(&d->table, id);
  if (!r || r->state != LB_CREQ_IN_FLIGHT || r->conn != c->index) {
    d->res->stray_responses++;
    return;
  }
  if (d->res->failed_bad_response < 5)
    LB_WARN("server %d: bad response, request failed: %s%s", c->server, why,
            d->res->failed_bad_response == 4 ? " (further ones counted only)" : "");
  lb__client_fail(d, r, &d->res->failed_bad_response, LB_OUTCOME_FAILED, NULL);
}

static void on_signal(uv_signal_t *s, int signum) {
  struct driver *d = s->data;
  d->res->stopped_by_signal = true;
  if (d->stopping) {
    stop_run(d, "second signal");
    return;
  }
  LB_INFO("signal %d: no more arrivals; draining %ld live requests", signum, d->table.counts.live);
  d->stopping = true;
  d->arrivals_done = true;
  if (!d->started) {
    d->started = true;
    stop_run(d, "signal before start");
    return;
  }
  int64_t bound = (int64_t)d->sc->max_cooldown * d->tick_ns;
  if (bound > DRAIN_MAX_NS)
    bound = DRAIN_MAX_NS;
  lb__client_schedule(d, lb_clock_now_ns() + bound, EV_DRAIN, 0, 0);
  lb__client_maybe_finish_run(d);
}

int lb_client_run(const struct lb_client_config *cfg, struct lb_client_result *res, char *err,
                  size_t errlen) {
  struct driver *d = calloc(1, sizeof(*d));
  if (!d)
    return -ENOMEM;
  memset(res, 0, sizeof(*res));
  err[0] = 0;
  d->cfg = cfg;
  d->sc = cfg->sc;
  lb_wire_limits_from_scenario(d->sc, &d->wire);
  d->res = res;
  d->err = err;
  d->errlen = errlen;
  d->tfd = -1;
  d->armed_ns = INT64_MAX;
  d->tick_ns = cfg->sc->tick_ns > 0 ? cfg->sc->tick_ns : 10000000;
  double timeout_ticks =
      cfg->sc->timeout_ticks > 0 ? cfg->sc->timeout_ticks : 4.0 * cfg->sc->total_ticks;
  d->timeout_ns = (int64_t)(timeout_ticks * (double)d->tick_ns);
  /* The seed's order within a tick: requests whose processing ended at the
   * boundary were received (Channel.receive, rif down) before the tick's
   * arrivals are sent (Client.send: WithProbes counts the channels with no
   * rif). Here those responses arrive a little after the boundary (server
   * wake-up, wire), so a tick's arrivals are taken 10% of a tick after it
   * (the lateness a valid run stays within, docs/harness.md); latency still
   * counts from the boundary. */
  d->arrival_lag_ns = d->tick_ns / 10;
  d->channel_faults = lb_client_faults_any(d->sc);
  d->clk.tick_ns = d->tick_ns;
  d->clk.total_ticks = cfg->sc->total_ticks;
  d->clk.warm_period = lb_rules_warm_period(cfg->sc);
  lb_timer_heap_init(&d->heap);
  lb_creq_table_init(&d->table);
  d->table.metrics = cfg->metrics;
  lb_samples_init(&d->timer_late, SAMPLES_MAX);
  lb_samples_init(&d->send_late, SAMPLES_MAX);
  lb_samples_init(&d->arrival_late, SAMPLES_MAX);
  lb_samples_init(&d->overhead, SAMPLES_MAX);
  int64_t t_begin = lb_clock_now_ns();
  struct lb_proc_usage use_begin;
  lb_proc_usage_get(&use_begin);
  bool loop_open = false, poll_open = false, signals_open = false;
  int rc = uv_loop_init(&d->loop);
  if (rc < 0) {
    snprintf(err, errlen, "uv_loop_init: %s", uv_strerror(rc));
    goto out;
  }
  loop_open = true;
  if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) < 0)
    LB_WARN("PR_SET_TIMERSLACK: %s", strerror(errno));
  if ((rc = lb__client_setup_arrivals(d)) < 0 || (rc = lb__client_setup_clients(d)) < 0)
    goto out;
  if (cfg->board) {
    rc = lb_board_open(cfg->board, d->sc->servers, false, &d->board);
    if (rc < 0) {
      snprintf(err, errlen,
               "--board %s: cannot open the oracle board (%s); are the servers "
               "running with this board on this machine?",
               cfg->board, strerror(-rc));
      goto out;
    }
  }
  d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (d->tfd < 0) {
    rc = -errno;
    snprintf(err, errlen, "timerfd_create: %s", strerror(errno));
    goto out;
  }
  if ((rc = uv_poll_init(&d->loop, &d->tpoll, d->tfd)) < 0) {
    snprintf(err, errlen, "uv_poll on timerfd: %s", uv_strerror(rc));
    goto out;
  }
  if ((rc = uv_prepare_init(&d->loop, &d->flusher)) < 0) {
    snprintf(err, errlen, "uv_prepare: %s", uv_strerror(rc));
    uv_close((uv_handle_t *)&d->tpoll, NULL);
    goto out;
  }
  poll_open = true;
  d->flusher.data = d;
  if ((rc = uv_prepare_start(&d->flusher, flush_conns)) < 0) {
    snprintf(err, errlen, "uv_prepare: %s", uv_strerror(rc));
    goto out;
  }
  d->tpoll.data = d;
  if ((rc = uv_poll_start(&d->tpoll, UV_READABLE, timer_cb)) < 0) {
    snprintf(err, errlen, "uv_poll on timerfd: %s", uv_strerror(rc));
    goto out;
  }
  if ((rc = uv_signal_init(&d->loop, &d->sigterm)) < 0) {
    snprintf(err, errlen, "signal handle (SIGTERM): %s", uv_strerror(rc));
    goto out;
  }
  if ((rc = uv_signal_init(&d->loop, &d->sigint)) < 0) {
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    snprintf(err, errlen, "signal handle (SIGINT): %s", uv_strerror(rc));
    goto out;
  }
  signals_open = true;
  d->sigterm.data = d->sigint.data = d;
  if ((rc = uv_signal_start(&d->sigterm, on_signal, SIGTERM)) < 0 ||
      (rc = uv_signal_start(&d->sigint, on_signal, SIGINT)) < 0) {
    snprintf(err, errlen, "catching SIGTERM and SIGINT: %s", uv_strerror(rc));
    goto out;
  }
  if (cfg->log) {
    lb_reqlog_write_header(cfg->log);
    if ((rc = lb_logq_new(cfg->log, 16384, &d->logq)) < 0) {
      snprintf(err, errlen, "log writer thread: %s", strerror(-rc));
      goto out;
    }
  }

  if (cfg->has_start_at) {
    int64_t past_ns;
    int64_t t0 = lb_clock_monotonic_of_realtime(cfg->start_at_realtime_ns, &past_ns);
    if (past_ns > 0)
      LB_WARN("--start-at-realtime-ns is %.3f s in the past: the first arrivals start late "
              "(their latency counts from their intended time)",
              (double)past_ns / 1e9);
    lb__client_schedule(d, t0, EV_START, 0, 0);
  } else {
    lb__client_schedule(d, lb_clock_now_ns() + CONNECT_WAIT_NS, EV_START, 0, 0);
  }
  if (cfg->max_runtime_s > 0)
    lb__client_schedule(d, t_begin + (int64_t)(cfg->max_runtime_s * 1e9), EV_DEADLINE, 0, 0);
  for (int i = 0; i < d->nconns; i++)
    lb_conn_start(&d->conns[i]);
  if (d->nconns == 0 && !cfg->has_start_at)
    start_run(d, lb_clock_now_ns());
  uv_run(&d->loop, UV_RUN_DEFAULT);
  rc = 0;
out:
  if (loop_open) {
    if (!d->stopped) {
      /* set-up failed: close what was opened */
      for (int i = 0; i < d->nconns; i++)
        lb_conn_close(&d->conns[i]);
      if (poll_open) {
        uv_close((uv_handle_t *)&d->tpoll, NULL);
        uv_close((uv_handle_t *)&d->flusher, NULL);
      }
      if (signals_open) {
        uv_close((uv_handle_t *)&d->sigterm, NULL);
        uv_close((uv_handle_t *)&d->sigint, NULL);
      }
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d->loop) < 0)
      LB_WARN("uv_loop_close: handles still open");
  }
  if (d->tfd >= 0)
    close(d->tfd);
  res->log_errors += lb_logq_close(d->logq);
  if (cfg->log && fflush(cfg->log) != 0)
    res->log_errors++;
  res->counts = d->table.counts;
  res->timer_lateness_p50_us = lb_samples_quantile(&d->timer_late, 0.5) / 1e3;
  res->timer_lateness_p99_us = lb_samples_quantile(&d->timer_late, 0.99) / 1e3;
  res->timer_lateness_max_us = (double)d->timer_late_max_ns / 1e3;
  res->timer_lateness_max_tick =
      d->timer_late_max_ns > 0 && d->clk.t0_ns > 0
          ? (long)((d->timer_late_max_deadline_ns - d->clk.t0_ns) / d->clk.tick_ns)
          : -1;
  res->send_lateness_p50_us = lb_samples_quantile(&d->send_late, 0.5) / 1e3;
  res->send_lateness_p99_us = lb_samples_quantile(&d->send_late, 0.99) / 1e3;
  res->arrival_lateness_p99_us = lb_samples_quantile(&d->arrival_late, 0.99) / 1e3;
  res->overhead_p50_us = lb_samples_quantile(&d->overhead, 0.5) / 1e3;
  res->overhead_p99_us = lb_samples_quantile(&d->overhead, 0.99) / 1e3;
  struct lb_proc_usage use_end;
  lb_proc_usage_get(&use_end);
  res->cpu_seconds = use_end.cpu_seconds - use_begin.cpu_seconds;
  res->voluntary_switches = use_end.voluntary_switches - use_begin.voluntary_switches;
  res->involuntary_switches = use_end.involuntary_switches - use_begin.involuntary_switches;
  res->wall_seconds = (double)(lb_clock_now_ns() - t_begin) / 1e9;
  lb__client_free_driver(d);
  free(d);
  return rc;
}

void lb_client_result_write(const struct lb_client_result *r, FILE *f) {
  const struct {
    const char *key;
    long v;
  } counts[] = {
      {"sent", r->counts.sent},
      {"completed", r->counts.completed},
      {"failed", r->counts.failed},
      {"timed_out", r->counts.timed_out},
      {"probes", r->counts.probes},
      {"rejected", r->rejected},
      {"stray_responses", r->stray_responses},
      {"partition_dropped_requests", r->partition_dropped_requests},
      {"partition_dropped_responses", r->partition_dropped_responses},
      {"reconnects", r->reconnects},
      {"log_errors", r->log_errors},
      {"picker_errors", r->picker_errors},
      {"failed_connection_lost", r->failed_connection_lost},
      {"failed_server_down", r->failed_server_down},
      {"failed_send", r->failed_send},
      {"failed_probes", r->failed_probes},
      {"failed_other", r->failed_other},
      {"failed_bad_response", r->failed_bad_response},
  };
  for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
    lb_statsfile_put_int(f, counts[i].key, counts[i].v);
  lb_statsfile_put_real(f, "timer_lateness_p50_us", r->timer_lateness_p50_us, 1);
  lb_statsfile_put_real(f, "timer_lateness_p99_us", r->timer_lateness_p99_us, 1);
  lb_statsfile_put_real(f, "timer_lateness_max_us", r->timer_lateness_max_us, 1);
  lb_statsfile_put_int(f, "timer_lateness_max_tick", r->timer_lateness_max_tick);
  lb_statsfile_put_real(f, "send_lateness_p50_us", r->send_lateness_p50_us, 1);
  lb_statsfile_put_real(f, "send_lateness_p99_us", r->send_lateness_p99_us, 1);
  lb_statsfile_put_real(f, "arrival_lateness_p99_us", r->arrival_lateness_p99_us, 1);
  lb_statsfile_put_real(f, "overhead_p50_us", r->overhead_p50_us, 1);
  lb_statsfile_put_real(f, "overhead_p99_us", r->overhead_p99_us, 1);
  lb_statsfile_put_real(f, "cpu_seconds", r->cpu_seconds, 3);
  lb_statsfile_put_int(f, "voluntary_switches", r->voluntary_switches);
  lb_statsfile_put_int(f, "involuntary_switches", r->involuntary_switches);
  lb_statsfile_put_real(f, "wall_seconds", r->wall_seconds, 3);
  lb_statsfile_put_int(f, "stopped_by_signal", r->stopped_by_signal);
  lb_statsfile_put_int(f, "hit_max_runtime", r->hit_max_runtime);
}
