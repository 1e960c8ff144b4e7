/* client_driver: arrivals, picking, delays, connections and accounting of
 * the hosted logical clients, on one libuv loop with precise timers. */
#define _GNU_SOURCE
#include "client_driver.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "arrivals.h"
#include "channel.h"
#include "client_conn.h"
#include "client_heap.h"
#include "client_logq.h"
#include "client_record.h"
#include "client_samples.h"
#include "expr.h"
#include "fleet.h"
#include "framing.h"
#include "log.h"
#include "picker.h"
#include "proc_usage.h"
#include "reqlog.h"
#include "reset_mirror.h"
#include "rng.h"
#include "server_board.h"
#include "wire_check.h"
#include "pick_plan.h"

enum ev_kind {
  EV_START,
  EV_TICK,
  EV_ARRIVAL,
  EV_SEND,
  EV_RECEIVE,
  EV_TIMEOUT,
  EV_DRAIN,
  EV_DEADLINE
};

#define SAMPLES_MAX (1u << 20)
#define DRAIN_MAX_NS (5LL * 1000 * 1000 * 1000)
#define CONNECT_WAIT_NS (2LL * 1000 * 1000 * 1000)
#define SPIN_NS (20 * 1000)              /* spin rather than sleep for this little */
#define DISPATCH_BUDGET_NS (2000 * 1000) /* at most this long in one timer callback */

struct driver;

struct hosted {
  struct driver *d;
  int id; /* fleet-wide client index */
  int local;
  struct lb_rng *rng;
  int n;
  int *servers;
  struct lb_channel *chans;
  struct lb_channel **chptrs;
  struct lb_rng **chan_rng;
  int *chan_mirror;    /* each channel's handle in the driver's reset mirror */
  int *chan_conn;
  struct lb_picker *picker;
  struct lb_pick_env env;
};

struct pick_box {
  struct lb_pick pick; /* first: a struct lb_pick * is a struct pick_box * */
  struct pick_box *next;
  struct lb_probe room[]; /* the driver's pick_room */
};

struct waiting {
  uint32_t slot, gen;
};

/* A response held on the client for its response delay (delay: inproc):
 * the seed's Channel.receive lowers the channel's rif when the server is
 * done, and the request completes receive_ticks later. */
struct lb_held_response {
  struct lb_held_response *next; /* free list */
  int64_t received_ns;
  uint64_t queue_ns, processing_ns, hold_ns;
  bool has_report;
  struct lb_server_report report;
};

struct driver {
  const struct lb_client_config *cfg;
  const struct lb_scenario *sc;
  struct lb_wire_limits wire; /* what a response's numbers may be */
  int64_t tick_ns, t0, started_ns, timeout_ns;
  int64_t arrival_lag_ns; /* arrivals are taken this long after their tick */
  bool started, arrivals_done, stopping, stopped;
  long tick;
  long end_tick;
  uv_loop_t loop;
  uv_poll_t tpoll;
  uv_prepare_t flusher; /* writes what the iteration's callbacks sent */
  int tfd;
  int64_t armed_ns;
  bool dispatching; /* in timer_cb: it arms once at its end */
  uv_signal_t sigterm, sigint;
  struct lb_timer_heap heap;
  struct lb_creq_table table;
  struct hosted *clients;
  int nclients;
  struct lb_conn *conns;
  int nconns, conns_up_once;
  struct lb_reset_mirror *mirror; /* the fleet's resets, replayed */
  struct lb_arrival *arrivals;
  size_t narrivals, next_arrival;
  struct waiting *waiting;
  size_t nwaiting, capwaiting;
  struct waiting *arriving; /* a tick's arrivals, picked after all their probes */
  size_t caparriving;
  struct lb_pick_plan plan; /* the picker, a top-level probing() split off (pick_plan.h) */
  struct pick_box *free_picks;
  int pick_room; /* probes a pick may watch: the most of any hosted picker */
  struct lb_held_response *free_held;
  struct lb_creq *picking;
  struct lb_record_clock clk;
  struct lb_samples timer_late, send_late, arrival_late, overhead;
  int64_t timer_late_max_ns, timer_late_max_deadline_ns; /* a stall's size and time */
  struct lb_logq *logq;
  struct lb_board *board;
  struct lb_server_report *oracle;
  bool *oracle_used;
  struct lb_client_result *res;
  int exit_rc;
  char *err;
  size_t errlen;
};

int64_t lb_client_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

static void schedule(struct driver *d, int64_t deadline, int kind, uint32_t slot, uint32_t gen) {
  if (lb_timer_heap_push(&d->heap, deadline, kind, slot, gen) < 0) {
    LB_ERROR("out of memory for timers");
    return;
  }
  if (deadline < d->armed_ns && !d->dispatching)
    arm(d);
}

/* ---- picks ---- */

static struct lb_pick *pick_alloc(struct driver *d) {
  struct pick_box *b = d->free_picks;
  if (b)
    d->free_picks = b->next;
  else if (!(b = malloc(sizeof(*b) + (size_t)d->pick_room * sizeof(*b->room))))
    return NULL;
  lb_pick_init(&b->pick, b->room, d->pick_room);
  return &b->pick;
}

static void pick_free(struct driver *d, struct lb_pick *p) {
  if (!p)
    return;
  /* No probe may keep a pointer into this pick. */
  for (int i = 0; i < p->cap; i++) {
    struct lb_creq *probe = p->probes[i].driver_handle;
    if (probe && probe->watch == &p->probes[i])
      probe->watch = NULL;
    p->probes[i].driver_handle = NULL;
  }
  struct pick_box *b = (struct pick_box *)p;
  b->next = d->free_picks;
  d->free_picks = b;
}

/* ---- finishing ---- */

/* True while some probe the pick watches may still complete. */
static bool pick_has_live_probe(const struct lb_pick *p) {
  for (int i = 0; i < p->nprobes; i++)
    if (!p->probes[i].done && p->probes[i].driver_handle)
      return true;
  return false;
}

/* A pick that waits on probes none of which can complete any more would
 * wait until its request times out: fail it now. */
static bool pick_stuck(const struct lb_creq *r) {
  return r->state == LB_CREQ_PICKING && r->pick && r->pick->waiting && r->pick->nprobes > 0 &&
         !pick_has_live_probe(r->pick);
}

static void resume_pick(struct driver *d, struct lb_creq *r);
static void maybe_finish_run(struct driver *d);

static void conn_list_remove(struct driver *d, struct lb_creq *r) {
  struct lb_conn *c = &d->conns[r->conn];
  if (r->conn_prev != LB_CREQ_NONE)
    lb_creq_at(&d->table, r->conn_prev)->conn_next = r->conn_next;
  else
    c->inflight_head = r->conn_next;
  if (r->conn_next != LB_CREQ_NONE)
    lb_creq_at(&d->table, r->conn_next)->conn_prev = r->conn_prev;
  r->conn_prev = r->conn_next = LB_CREQ_NONE;
}

static void conn_list_add(struct driver *d, struct lb_creq *r) {
  struct lb_conn *c = &d->conns[r->conn];
  r->conn_prev = LB_CREQ_NONE;
  r->conn_next = c->inflight_head;
  if (c->inflight_head != LB_CREQ_NONE)
    lb_creq_at(&d->table, c->inflight_head)->conn_prev = r->slot;
  c->inflight_head = r->slot;
}

static void fail(struct driver *d, struct lb_creq *r, long *cause, enum lb_outcome outcome,
                 const Lb__Response *resp);

static void finish(struct driver *d, struct lb_creq *r, enum lb_outcome outcome,
                   const Lb__Response *resp) {
  struct hosted *hc = &d->clients[r->client];
  int64_t now = lb_client_now_ns();
  struct lb_held_response *held = r->state == LB_CREQ_RECEIVING ? r->held : NULL;
  const struct lb_held_response *answer = outcome == LB_OUTCOME_COMPLETED ? held : NULL;
  struct lb_record_input in = {
      .client = hc->id,
      .server = r->chan >= 0 ? hc->servers[r->chan] : -1,
      .is_probe = r->is_probe,
      .outcome = outcome,
      .committed = r->chan >= 0,
      .written = r->state == LB_CREQ_IN_FLIGHT || r->state == LB_CREQ_RECEIVING,
      .answered = resp != NULL || answer != NULL,
      .intended_ns = r->intended_ns,
      .pick_done_ns = r->pick_done_ns,
      .written_ns = r->written_ns,
      .completion_ns = now,
      .send_delay_ticks = r->send_delay_ticks,
      .response_delay_ticks = r->response_delay_ticks,
  };
  if (resp) {
    in.queue_ns = resp->queue_ns;
    in.processing_ns = resp->processing_ns;
    in.hold_ns = resp->hold_ns;
    if (resp->report) {
      in.has_report = true;
      lb_report_from_wire(resp->report, &in.report);
    }
  } else if (answer) { /* response_hold: client: the server's (none asked) and the client's */
    in.queue_ns = answer->queue_ns;
    in.processing_ns = answer->processing_ns;
    in.hold_ns = answer->hold_ns + (uint64_t)(now - answer->received_ns);
    in.has_report = answer->has_report;
    in.report = answer->report;
  }
  struct lb_request_record rec;
  lb_record_fill(&d->clk, &in, &rec);
  if (r->chan < 0)
    rec.server = -1;
  if (d->logq)
    lb_logq_push(d->logq, &rec);

  /* The channel's view: rif was raised when the request was committed, and
   * lowered already for a held response. */
  if (r->state == LB_CREQ_HOLDING || r->state == LB_CREQ_IN_FLIGHT ||
      r->state == LB_CREQ_RECEIVING) {
    struct lb_channel *ch = &hc->chans[r->chan];
    if (r->state != LB_CREQ_RECEIVING)
      lb_channel_on_received(ch);
    if (outcome == LB_OUTCOME_COMPLETED)
      lb_channel_on_completed_at(ch, (double)(now - d->t0) / (double)d->tick_ns,
                                 rec.total_ticks, &in.report); /* zeroed when absent */
  }
  if (outcome == LB_OUTCOME_COMPLETED && !r->is_probe)
    lb_samples_add(&d->overhead, (in.completion_ns - in.intended_ns) -
                                     (int64_t)(rec.modelled_ticks * (double)d->tick_ns));
  if (r->state == LB_CREQ_IN_FLIGHT)
    conn_list_remove(d, r);
  if (r->state == LB_CREQ_PICKING && r->pick) {
    lb_pick_abandon(r->pick, &hc->env);
    pick_free(d, r->pick);
    r->pick = NULL;
  }
  struct lb_creq *owner = NULL;
  bool probe_completed = false;
  if (r->watch) {
    struct lb_probe *w = r->watch;
    w->driver_handle = NULL;
    if (outcome == LB_OUTCOME_COMPLETED) {
      w->done = true;
      w->latency = rec.total_ticks;
      w->has_queued = in.has_report && in.report.queued_requests.valid;
      w->queued_latest = w->has_queued ? in.report.queued_requests.latest : 0;
      probe_completed = true;
    }
    owner = lb_creq_get(&d->table, r->owner_slot, r->owner_gen);
    r->watch = NULL;
  }
  if (resp && resp->status != LB__STATUS__STATUS_OK)
    d->res->rejected++;
  lb_creq_end(&d->table, r, outcome);
  if (held) {
    held->next = d->free_held;
    d->free_held = held;
  }
  if (owner && owner->state == LB_CREQ_PICKING && !d->stopped && owner != d->picking) {
    if (probe_completed)
      resume_pick(d, owner);
    else if (pick_stuck(owner))
      fail(d, owner, &d->res->failed_probes, LB_OUTCOME_FAILED, NULL);
  }
  maybe_finish_run(d);
}

/* A failure, counted under its cause. */
static void fail(struct driver *d, struct lb_creq *r, long *cause, enum lb_outcome outcome,
                 const Lb__Response *resp) {
  (*cause)++;
  finish(d, r, outcome, resp);
}

/* ---- sending ---- */

static void write_request(struct driver *d, struct lb_creq *r) {
  struct hosted *hc = &d->clients[r->client];
  struct lb_conn *c = &d->conns[r->conn];
  Lb__Request req = LB__REQUEST__INIT;
  req.id = lb_creq_wire_id(r);
  req.is_probe = r->is_probe;
  req.client = (uint32_t)hc->id;
  /* The server's warm-channel key. The seed keys warm_channels by channel
   * NAME, "Client c -> Server s": at one server that is the client, so two
   * subset slots to the same server share warmness (lbsim keys by client). */
  req.channel = (uint32_t)hc->id;
  /* The response delay: held by the server (response_hold: server, as a
   * network would), or here once the response is in (client: the seed's
   * Channel.receive lowers rif when the server is done; hold_response). */
  req.response_delay_ns =
      d->sc->response_hold == LB_RESPONSE_HOLD_SERVER && r->response_delay_ticks > 0
          ? (uint64_t)llround(r->response_delay_ticks * (double)d->tick_ns)
          : 0;
  int rc = lb_conn_send_request(c, &req);
  int64_t now = lb_client_now_ns();
  if (rc < 0) {
    fail(d, r, &d->res->failed_send, LB_OUTCOME_FAILED, NULL);
    return;
  }
  lb_creq_written(&d->table, r);
  r->written_ns = now;
  conn_list_add(d, r);
  /* Late against when it could first go: the hold's end, or the pick when
   * the hold (counted from the pick's tick start) was already over. */
  int64_t due = r->hold_until_ns > r->pick_done_ns ? r->hold_until_ns : r->pick_done_ns;
  lb_samples_add(&d->send_late, now - due);
}

static void commit(struct driver *d, struct lb_creq *r, struct lb_channel *ch) {
  struct hosted *hc = &d->clients[r->client];
  int slot = ch->index;
  r->chan = slot;
  r->conn = hc->chan_conn[slot];
  r->pick_done_ns = lb_client_now_ns();
  if (d->conns[r->conn].state != LB_CONN_UP) {
    fail(d, r, &d->res->failed_server_down, LB_OUTCOME_FAILED,
         NULL); /* fail fast while the server is down */
    return;
  }
  lb_creq_commit(&d->table, r);
  lb_channel_on_sent(ch);
  if (d->sc->delay == LB_DELAY_INPROC) {
    double mean = lb_reset_mirror_channel_mean(d->mirror, hc->chan_mirror[slot]);
    r->send_delay_ticks =
        lb_rng_gamma_seed(hc->chan_rng[slot], mean, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
    r->response_delay_ticks =
        lb_rng_gamma_seed(hc->chan_rng[slot], mean, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
  }
  /* The seed's send delay starts with the tick of the pick (Channel.send,
   * then Channel.tick in the same client tick): count it from that tick's
   * start, so the request reaches the server on a tick boundary as in the
   * seed, whatever the arrival lag and the pick took. */
  int64_t since = r->pick_done_ns - d->t0;
  int64_t tick_start = since > 0 ? d->t0 + since / d->tick_ns * d->tick_ns : r->pick_done_ns;
  r->hold_until_ns = tick_start + (int64_t)llround(r->send_delay_ticks * (double)d->tick_ns);
  if (r->hold_until_ns <= r->pick_done_ns)
    write_request(d, r);
  else
    schedule(d, r->hold_until_ns, EV_SEND, r->slot, r->gen);
}

/* The picker's env: probes are real requests on the channel. */
static int env_send_probe(void *driver, struct lb_channel *ch, struct lb_probe *watch) {
  struct hosted *hc = driver;
  struct driver *d = hc->d;
  struct lb_creq *p = NULL;
  if (lb_creq_new(&d->table, true, &p) < 0)
    return -ENOMEM;
  p->client = hc->local;
  p->intended_ns = lb_client_now_ns();
  schedule(d, p->intended_ns + d->timeout_ns, EV_TIMEOUT, p->slot, p->gen);
  if (watch && d->picking) {
    p->watch = watch;
    watch->driver_handle = p;
    p->owner_slot = d->picking->slot;
    p->owner_gen = d->picking->gen;
  }
  commit(d, p, ch);
  return 0; /* a probe that fails is accounted; the pick just never sees it */
}

static void env_unwatch_probe(void *driver, struct lb_probe *watch) {
  (void)driver;
  struct lb_creq *p = watch->driver_handle;
  if (p && p->watch == watch)
    p->watch = NULL;
  watch->driver_handle = NULL;
}

static void waiting_add(struct driver *d, struct lb_creq *r) {
  if (d->nwaiting == d->capwaiting) {
    size_t cap = d->capwaiting ? d->capwaiting * 2 : 64;
    struct waiting *w = realloc(d->waiting, cap * sizeof(*w));
    if (!w) {
      fail(d, r, &d->res->failed_other, LB_OUTCOME_FAILED, NULL);
      return;
    }
    d->waiting = w;
    d->capwaiting = cap;
  }
  d->waiting[d->nwaiting++] = (struct waiting){r->slot, r->gen};
}

static void pick_result(struct driver *d, struct lb_creq *r, int rc, struct lb_channel *ch,
                        bool queued) {
  struct hosted *hc = &d->clients[r->client];
  if (rc == LB_PICK_WAIT) {
    if (pick_stuck(r))
      fail(d, r, &d->res->failed_probes, LB_OUTCOME_FAILED,
           NULL); /* every probe it waits on failed */
    else if (!queued)
      waiting_add(d, r);
    return;
  }
  pick_free(d, r->pick);
  r->pick = NULL;
  if (rc < 0 || !ch) {
    if (d->res->picker_errors++ == 0)
      LB_WARN("client %d: the picker failed (%s); such requests fail (counted in "
              "picker_errors)",
              hc->id, rc < 0 ? strerror(-rc) : "no channel");
    fail(d, r, &d->res->failed_other, LB_OUTCOME_FAILED, NULL);
    return;
  }
  commit(d, r, ch);
}

/* The picker's clock: fractional ticks since tick 0. */
static void env_clock(struct driver *d, struct hosted *hc) {
  hc->env.now_ticks = (double)(lb_client_now_ns() - d->t0) / (double)d->tick_ns;
  hc->env.tick_seconds = (double)d->tick_ns / 1e9;
}

static void start_pick(struct driver *d, struct lb_creq *r) {
  struct hosted *hc = &d->clients[r->client];
  env_clock(d, hc);
  r->pick = pick_alloc(d);
  if (!r->pick) {
    fail(d, r, &d->res->failed_other, LB_OUTCOME_FAILED, NULL);
    return;
  }
  struct lb_channel *ch = NULL;
  struct lb_creq *outer = d->picking;
  d->picking = r;
  int rc = lb_picker_pick(hc->picker, &hc->env, hc->chptrs, hc->n, r->pick, &ch);
  d->picking = outer;
  pick_result(d, r, rc, ch, false);
}

static void resume_pick(struct driver *d, struct lb_creq *r) {
  struct hosted *hc = &d->clients[r->client];
  env_clock(d, hc);
  struct lb_channel *ch = NULL;
  struct lb_creq *outer = d->picking;
  d->picking = r;
  int rc = lb_picker_resume(hc->picker, &hc->env, r->pick, &ch);
  d->picking = outer;
  pick_result(d, r, rc, ch, true);
}

/* ---- the run's phases ---- */

static void timeout_one(struct lb_creq *r, void *arg) {
  finish(arg, r, LB_OUTCOME_TIMED_OUT, NULL);
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

static void maybe_finish_run(struct driver *d) {
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
    resume_pick(d, r);
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
  maybe_finish_run(d);
  if (!d->stopped)
    schedule(d, d->t0 + (k + 1) * d->tick_ns, EV_TICK, 0, 0);
}

/* The seed's WithProbes' own part, at Client.send: probes to
 * min(RandomRound(P), channels with no rif) channels sampled from all, before
 * any of the tick's picks (which run at the client's tick), as lbsim. */
static void send_time_probes(struct driver *d, struct hosted *hc) {
  (void)lb_pick_plan_send_time_probes(&d->plan, &hc->env, hc->chptrs, hc->n);
}

static void on_arrivals(struct driver *d) {
  int64_t now = lb_client_now_ns();
  size_t narriving = 0;
  bool later = false;
  while (!d->arrivals_done && d->next_arrival < d->narrivals) {
    const struct lb_arrival *a = &d->arrivals[d->next_arrival];
    int64_t at = d->t0 + (int64_t)llround(a->tick * (double)d->tick_ns);
    if (at + d->arrival_lag_ns > now) {
      schedule(d, at + d->arrival_lag_ns, EV_ARRIVAL, 0, 0);
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
    schedule(d, at + d->timeout_ns, EV_TIMEOUT, r->slot, r->gen);
    if (!d->plan.send_time_probes) {
      start_pick(d, r);
      now = lb_client_now_ns();
      continue;
    }
    send_time_probes(d, &d->clients[r->client]);
    if (narriving == d->caparriving) {
      size_t cap = d->caparriving ? 2 * d->caparriving : 64;
      struct waiting *v = realloc(d->arriving, cap * sizeof(*v));
      if (!v) {
        start_pick(d, r);
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
      start_pick(d, r);
  }
  if (later)
    return;
  if (d->next_arrival >= d->narrivals)
    d->arrivals_done = true;
  maybe_finish_run(d);
}

static void start_run(struct driver *d, int64_t t0) {
  if (d->started)
    return;
  d->started = true;
  d->t0 = t0;
  d->clk.t0_ns = t0;
  LB_INFO("tick 0: %zu arrivals for clients %d..%d", d->narrivals, d->cfg->first_client,
          d->cfg->first_client + d->cfg->client_count - 1);
  schedule(d, t0, EV_TICK, 0, 0);
  if (d->narrivals)
    schedule(d, t0 + (int64_t)llround(d->arrivals[0].tick * (double)d->tick_ns) + d->arrival_lag_ns,
             EV_ARRIVAL, 0, 0);
  else
    d->arrivals_done = true;
}

static void dispatch(struct driver *d, const struct lb_timer_entry *e) {
  struct lb_creq *r;
  switch (e->kind) {
  case EV_START:
    start_run(d, d->cfg->has_start_at ? e->deadline_ns : lb_client_now_ns());
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
        fail(d, r, &d->res->failed_server_down, LB_OUTCOME_FAILED, NULL);
      else
        write_request(d, r);
    }
    break;
  case EV_RECEIVE:
    r = lb_creq_get(&d->table, e->slot, e->gen);
    if (r && r->state == LB_CREQ_RECEIVING)
      finish(d, r, LB_OUTCOME_COMPLETED, NULL);
    break;
  case EV_TIMEOUT:
    r = lb_creq_get(&d->table, e->slot, e->gen);
    if (r)
      finish(d, r, LB_OUTCOME_TIMED_OUT, NULL);
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
  int64_t start = lb_client_now_ns();
  for (;;) {
    int64_t now = lb_client_now_ns();
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
      while (lb_client_now_ns() < top->deadline_ns)
        ;
      continue;
    }
    int64_t late = lb_client_now_ns() - e.deadline_ns;
    lb_samples_add(&d->timer_late, late);
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

static void on_conn_up(void *arg, struct lb_conn *c) {
  struct driver *d = arg;
  if (c->connects == 1 && ++d->conns_up_once == d->nconns && !d->cfg->has_start_at)
    start_run(d, lb_client_now_ns());
  if (c->connects > 1)
    d->res->reconnects++;
}

static void on_conn_down(void *arg, struct lb_conn *c, const char *reason) {
  struct driver *d = arg;
  (void)reason;
  while (c->inflight_head != LB_CREQ_NONE) {
    fail(d, lb_creq_at(&d->table, c->inflight_head), &d->res->failed_connection_lost,
         LB_OUTCOME_FAILED, NULL);
  }
}

/* response_hold: client. The seed's Channel.receive: the server is done, so
 * the channel's rif goes down now; the request completes after its response
 * delay (EV_RECEIVE). The server was asked for no hold, so the response
 * arrived when it was done (plus the wire). -ENOMEM: finish at once. */
static int hold_response(struct driver *d, struct lb_creq *r, const Lb__Response *resp) {
  struct lb_held_response *h = d->free_held;
  if (h)
    d->free_held = h->next;
  else if (!(h = malloc(sizeof(*h))))
    return -ENOMEM;
  h->received_ns = lb_client_now_ns();
  h->queue_ns = resp->queue_ns;
  h->processing_ns = resp->processing_ns;
  h->hold_ns = resp->hold_ns;
  h->has_report = resp->report != NULL;
  if (h->has_report)
    lb_report_from_wire(resp->report, &h->report);
  else
    memset(&h->report, 0, sizeof(h->report));
  conn_list_remove(d, r);
  lb_creq_received(&d->table, r);
  r->held = h;
  lb_channel_on_received(&d->clients[r->client].chans[r->chan]);
  schedule(d, h->received_ns + (int64_t)llround(r->response_delay_ticks * (double)d->tick_ns),
           EV_RECEIVE, r->slot, r->gen);
  return 0;
}

static void on_conn_response(void *arg, struct lb_conn *c, const Lb__Response *resp) {
  struct driver *d = arg;
  struct lb_creq *r = lb_creq_by_wire_id(&d->table, resp->id);
  if (!r || r->state != LB_CREQ_IN_FLIGHT || r->conn != c->index) {
    d->res->stray_responses++;
    return;
  }
  char why[160];
  if (lb_wire_check_response(resp, &d->wire, why, sizeof(why)) < 0) {
    LB_DEBUG("bad response: %s", why); /* counted: failed_bad_response */
    fail(d, r, &d->res->failed_bad_response, LB_OUTCOME_FAILED, NULL);
    return;
  }
  if (resp->status == LB__STATUS__STATUS_OK && r->response_delay_ticks > 0 &&
      d->sc->response_hold == LB_RESPONSE_HOLD_CLIENT && hold_response(d, r, resp) == 0)
    return;
  finish(d, r, resp->status == LB__STATUS__STATUS_OK ? LB_OUTCOME_COMPLETED : LB_OUTCOME_FAILED,
         resp);
}

/* HTTP: request id's answer was bad (client_conn.h): it failed. One line
 * each for the first few, then counted only. */
static void on_conn_bad_response(void *arg, struct lb_conn *c, uint64_t id, const char *why) {
  struct driver *d = arg;
  struct lb_creq *r = lb_creq_by_wire_id(&d->table, id);
  if (!r || r->state != LB_CREQ_IN_FLIGHT || r->conn != c->index) {
    d->res->stray_responses++;
    return;
  }
  if (d->res->failed_bad_response < 5)
    LB_WARN("server %d: bad response, request failed: %s%s", c->server, why,
            d->res->failed_bad_response == 4 ? " (further ones counted only)" : "");
  fail(d, r, &d->res->failed_bad_response, LB_OUTCOME_FAILED, NULL);
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
  schedule(d, lb_client_now_ns() + bound, EV_DRAIN, 0, 0);
  maybe_finish_run(d);
}

/* ---- set-up ---- */

static int setup_clients(struct driver *d) {
  const struct lb_client_config *cfg = d->cfg;
  const struct lb_scenario *sc = d->sc;
  char err[512];
  int rc = lb_pick_plan_init(&d->plan, sc->picker, true, sc->path, err, sizeof(err));
  if (rc < 0) {
    snprintf(d->err, d->errlen, "%s", err);
    return rc;
  }
  const struct lb_picker_spec *spec = d->plan.spec;
  if (lb_picker_spec_needs_oracle(spec) && !cfg->board) {
    snprintf(d->err, d->errlen,
             "picker '%s' reads the oracle (oracle.* costs), which needs the servers' "
             "shared-memory board: pass --board NAME (servers on this machine only)",
             sc->picker);
    return -EINVAL;
  }
  uint64_t run_seed = lb_fleet_run_seed(sc, cfg->run);
  rc = lb_reset_mirror_new(sc, run_seed, &d->mirror);
  if (rc < 0)
    goto out;
  for (int s = 0; cfg->fleet && s < sc->servers; s++)
    lb_reset_mirror_set_server_rtt(d->mirror, s, cfg->fleet->server[s].mean_rtt);
  d->oracle = calloc((size_t)sc->servers, sizeof(*d->oracle));
  d->oracle_used = calloc((size_t)sc->servers, sizeof(bool));
  d->clients = calloc((size_t)cfg->client_count, sizeof(*d->clients));
  int n = lb_fleet_subset_len(sc);
  d->conns = calloc((size_t)cfg->client_count * (size_t)n, sizeof(*d->conns));
  if (!d->oracle || !d->oracle_used || !d->clients || !d->conns) {
    rc = -ENOMEM;
    goto out;
  }
  struct lb_conn_callbacks cb = {
      .arg = d,
      .on_up = on_conn_up,
      .on_down = on_conn_down,
      .on_response = on_conn_response,
      .on_bad_response = on_conn_bad_response};
  for (int c = 0; c < cfg->client_count; c++) {
    struct hosted *hc = &d->clients[c];
    d->nclients = c + 1;
    hc->d = d;
    hc->local = c;
    hc->id = cfg->first_client + c;
    hc->n = n;
    hc->servers = calloc((size_t)n, sizeof(int));
    hc->chans = calloc((size_t)n, sizeof(*hc->chans));
    hc->chptrs = calloc((size_t)n, sizeof(*hc->chptrs));
    hc->chan_rng = calloc((size_t)n, sizeof(*hc->chan_rng));
    hc->chan_mirror = calloc((size_t)n, sizeof(int));
    hc->chan_conn = calloc((size_t)n, sizeof(int));
    if (!hc->servers || !hc->chans || !hc->chptrs || !hc->chan_rng || !hc->chan_mirror ||
        !hc->chan_conn) {
      rc = -ENOMEM;
      goto out;
    }
    if ((rc = lb_rng_new(lb_seed_derive(run_seed, LB_STREAM_CLIENT, (uint64_t)hc->id), &hc->rng)) <
        0)
      goto out;
    lb_fleet_draw_subset(sc, hc->rng, hc->servers);
    if (cfg->fleet)
      memcpy(hc->servers, &cfg->fleet->subset[(size_t)hc->id * (size_t)n], (size_t)n * sizeof(int));
    for (int s = 0; s < n; s++) {
      int server = hc->servers[s];
      if ((rc = lb_channel_init(&hc->chans[s], s, server, (size_t)sc->client_requests_buffer)) < 0)
        goto out;
      hc->chptrs[s] = &hc->chans[s];
      if (cfg->board) {
        hc->chans[s].oracle = &d->oracle[server];
        d->oracle_used[server] = true;
      }
      if ((rc = lb_fleet_channel_rng(sc, run_seed, hc->id, s, &hc->chan_rng[s])) < 0)
        goto out;
      double mean = lb_fleet_draw_channel_mean(sc, hc->chan_rng[s],
                                               lb_reset_mirror_server_rtt(d->mirror, server));
      if (cfg->fleet)
        mean = cfg->fleet->mean_ticks[(size_t)hc->id * (size_t)n + (size_t)s];
      if ((rc = lb_reset_mirror_add_channel(d->mirror, hc->id, s, server, mean)) < 0)
        goto out;
      hc->chan_mirror[s] = rc;
      /* One connection per server for the process, shared by its logical
       * clients: the requests of a tick to one server leave in one write,
       * and are answered in few reads. Requests are told apart by id. */
      int conn = -1;
      for (int k = 0; k < d->nconns; k++)
        if (d->conns[k].server == server)
          conn = k;
      if (conn < 0) {
        if (server >= cfg->nservers) {
          snprintf(d->err, d->errlen,
                   "client %d's subset has server %d, but --servers lists only %d (the scenario "
                   "has servers: %d)",
                   hc->id, server, cfg->nservers, sc->servers);
          rc = -EINVAL;
          goto out;
        }
        const struct lb_server_addr *a = &cfg->servers[server];
        int port = lb_client_server_port(a, sc->transport, d->err, d->errlen);
        if (port < 0) {
          rc = port;
          goto out;
        }
        struct sockaddr_storage addr;
        if ((rc = lb_conn_resolve(a->host, port, &addr)) < 0) {
          snprintf(d->err, d->errlen, "--servers: cannot resolve '%s'", a->host);
          goto out;
        }
        conn = d->nconns;
        if ((rc = lb_conn_init(&d->conns[conn], &d->loop, conn, server, sc->transport, &addr,
                               &cb)) < 0)
          goto out;
        d->nconns++;
      }
      hc->chan_conn[s] = conn;
    }
    if ((rc = lb_picker_new(spec, n, &hc->picker)) < 0) {
      snprintf(d->err, d->errlen, "picker '%s': cannot build it for a subset of %d", sc->picker, n);
      goto out;
    }
    int w = lb_picker_max_watched(hc->picker);
    d->pick_room = w > d->pick_room ? w : d->pick_room;
    hc->env = (struct lb_pick_env){.rng = hc->rng,
                                   .driver = hc,
                                   .send_probe = env_send_probe,
                                   .unwatch_probe = env_unwatch_probe};
  }
  rc = 0;
out:
  if (rc < 0 && !d->err[0])
    snprintf(d->err, d->errlen, "set-up failed: %s", strerror(-rc));
  return rc;
}

static int setup_arrivals(struct driver *d) {
  struct lb_arrivals all = {0};
  char err[512];
  int rc = lb_arrivals_build(d->sc, d->cfg->run, &all, err, sizeof(err));
  if (rc < 0) {
    snprintf(d->err, d->errlen, "arrivals: %s", err);
    return rc;
  }
  int lo = d->cfg->first_client, hi = d->cfg->first_client + d->cfg->client_count;
  size_t n = 0;
  for (size_t i = 0; i < all.n; i++)
    n += all.items[i].client >= lo && all.items[i].client < hi;
  d->arrivals = malloc((n ? n : 1) * sizeof(*d->arrivals));
  if (!d->arrivals) {
    lb_arrivals_close(&all);
    return -ENOMEM;
  }
  double last = 0;
  for (size_t i = 0; i < all.n; i++) {
    if (all.items[i].client >= lo && all.items[i].client < hi) {
      d->arrivals[d->narrivals++] = all.items[i];
      if (all.items[i].tick > last)
        last = all.items[i].tick;
    }
  }
  lb_arrivals_close(&all);
  double end = fmax((double)d->sc->total_ticks, ceil(last));
  d->end_tick = (long)end + d->sc->max_cooldown;
  return 0;
}

static void free_held_of(struct lb_creq *r, void *arg) {
  (void)arg;
  free(r->held);
  r->held = NULL;
}

static void free_driver(struct driver *d) {
  for (int c = 0; c < d->nclients; c++) {
    struct hosted *hc = &d->clients[c];
    for (int s = 0; s < hc->n; s++) {
      if (hc->chan_rng && hc->chan_rng[s])
        lb_rng_free(hc->chan_rng[s]);
      if (hc->chans)
        lb_channel_close(&hc->chans[s]);
    }
    lb_picker_free(hc->picker);
    lb_rng_free(hc->rng);
    free(hc->servers);
    free(hc->chans);
    free(hc->chptrs);
    free(hc->chan_rng);
    free(hc->chan_mirror);
    free(hc->chan_conn);
  }
  free(d->clients);
  free(d->conns);
  lb_pick_plan_close(&d->plan);
  lb_reset_mirror_free(d->mirror);
  free(d->oracle);
  free(d->oracle_used);
  free(d->arrivals);
  free(d->waiting);
  free(d->arriving);
  while (d->free_picks) {
    struct pick_box *b = d->free_picks;
    d->free_picks = b->next;
    free(b);
  }
  lb_creq_foreach_live(&d->table, free_held_of, NULL);
  while (d->free_held) {
    struct lb_held_response *h = d->free_held;
    d->free_held = h->next;
    free(h);
  }
  lb_board_close(d->board);
  lb_timer_heap_close(&d->heap);
  lb_creq_table_close(&d->table);
  lb_samples_close(&d->timer_late);
  lb_samples_close(&d->send_late);
  lb_samples_close(&d->arrival_late);
  lb_samples_close(&d->overhead);
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
  d->clk.tick_ns = d->tick_ns;
  d->clk.total_ticks = cfg->sc->total_ticks;
  d->clk.warm_period = lb_record_warm_period(cfg->sc->mean_channel_rtt, cfg->sc->mean_server_rtt,
                                             cfg->sc->mean_processing_time, cfg->sc->total_ticks);
  lb_timer_heap_init(&d->heap);
  lb_creq_table_init(&d->table);
  lb_samples_init(&d->timer_late, SAMPLES_MAX);
  lb_samples_init(&d->send_late, SAMPLES_MAX);
  lb_samples_init(&d->arrival_late, SAMPLES_MAX);
  lb_samples_init(&d->overhead, SAMPLES_MAX);
  int64_t t_begin = lb_client_now_ns();
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
  if ((rc = setup_arrivals(d)) < 0 || (rc = setup_clients(d)) < 0)
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
  uv_signal_init(&d->loop, &d->sigterm);
  uv_signal_init(&d->loop, &d->sigint);
  signals_open = true;
  d->sigterm.data = d->sigint.data = d;
  uv_signal_start(&d->sigterm, on_signal, SIGTERM);
  uv_signal_start(&d->sigint, on_signal, SIGINT);
  if (cfg->log) {
    lb_reqlog_write_header(cfg->log);
    if ((rc = lb_logq_new(cfg->log, 16384, &d->logq)) < 0) {
      snprintf(err, errlen, "log writer thread: %s", strerror(-rc));
      goto out;
    }
  }

  if (cfg->has_start_at) {
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t real_now = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec;
    int64_t t0 = lb_client_now_ns() + (cfg->start_at_realtime_ns - real_now);
    if (t0 < lb_client_now_ns())
      LB_WARN("--start-at-realtime-ns is %.3f s in the past: the first arrivals start late "
              "(their latency counts from their intended time)",
              (double)(real_now - cfg->start_at_realtime_ns) / 1e9);
    schedule(d, t0, EV_START, 0, 0);
  } else {
    schedule(d, lb_client_now_ns() + CONNECT_WAIT_NS, EV_START, 0, 0);
  }
  if (cfg->max_runtime_s > 0)
    schedule(d, t_begin + (int64_t)(cfg->max_runtime_s * 1e9), EV_DEADLINE, 0, 0);
  for (int i = 0; i < d->nconns; i++)
    lb_conn_start(&d->conns[i]);
  if (d->nconns == 0 && !cfg->has_start_at)
    start_run(d, lb_client_now_ns());
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
  res->wall_seconds = (double)(lb_client_now_ns() - t_begin) / 1e9;
  free_driver(d);
  free(d);
  return rc;
}

void lb_client_result_write(const struct lb_client_result *r, FILE *f) {
  fprintf(f, "sent=%ld\ncompleted=%ld\nfailed=%ld\ntimed_out=%ld\nprobes=%ld\n", r->counts.sent,
          r->counts.completed, r->counts.failed, r->counts.timed_out, r->counts.probes);
  fprintf(f, "rejected=%ld\nstray_responses=%ld\nreconnects=%ld\nlog_errors=%ld\n", r->rejected,
          r->stray_responses, r->reconnects, r->log_errors);
  fprintf(f, "picker_errors=%ld\n", r->picker_errors);
  fprintf(f,
          "failed_connection_lost=%ld\nfailed_server_down=%ld\nfailed_send=%ld\n"
          "failed_probes=%ld\nfailed_other=%ld\nfailed_bad_response=%ld\n",
          r->failed_connection_lost, r->failed_server_down, r->failed_send, r->failed_probes,
          r->failed_other, r->failed_bad_response);
  fprintf(f, "timer_lateness_p50_us=%.1f\ntimer_lateness_p99_us=%.1f\n", r->timer_lateness_p50_us,
          r->timer_lateness_p99_us);
  fprintf(f, "timer_lateness_max_us=%.1f\ntimer_lateness_max_tick=%ld\n",
          r->timer_lateness_max_us, r->timer_lateness_max_tick);
  fprintf(f, "send_lateness_p50_us=%.1f\nsend_lateness_p99_us=%.1f\n", r->send_lateness_p50_us,
          r->send_lateness_p99_us);
  fprintf(f, "arrival_lateness_p99_us=%.1f\n", r->arrival_lateness_p99_us);
  fprintf(f, "overhead_p50_us=%.1f\noverhead_p99_us=%.1f\n", r->overhead_p50_us,
          r->overhead_p99_us);
  fprintf(f, "cpu_seconds=%.3f\nvoluntary_switches=%ld\ninvoluntary_switches=%ld\n",
          r->cpu_seconds, r->voluntary_switches, r->involuntary_switches);
  fprintf(f, "wall_seconds=%.3f\n", r->wall_seconds);
  fprintf(f, "stopped_by_signal=%d\nhit_max_runtime=%d\n", r->stopped_by_signal,
          r->hit_max_runtime);
}
