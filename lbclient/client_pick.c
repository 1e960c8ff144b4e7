/* client_pick: picks and probes of the hosted clients, writing a request
 * on its channel's connection, and finishing a request (completed, failed
 * or timed out) into the log and the counts. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client_driver_int.h"
#include "client_faults.h"
#include "clock.h"
#include "framing.h"
#include "log.h"
#include "reqlog.h"

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

void lb__client_conn_list_remove(struct driver *d, struct lb_creq *r) {
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

void lb__client_finish(struct driver *d, struct lb_creq *r, enum lb_outcome outcome,
                       const Lb__Response *resp) {
  struct hosted *hc = &d->clients[r->client];
  int64_t now = lb_clock_now_ns();
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
  /* Behind a proxy the server that answered is the report's, not the
   * channel's (a failure without a report keeps the channel's). */
  if (d->sc->proxy != LB_PROXY_NONE && in.has_report && in.report.server < (uint32_t)d->sc->servers)
    in.server = (int)in.report.server;
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
      lb_channel_on_completed_at(ch, (double)(now - d->t0) / (double)d->tick_ns, rec.total_ticks,
                                 &in.report); /* zeroed when absent */
  }
  if (outcome == LB_OUTCOME_COMPLETED && !r->is_probe)
    lb_samples_add(&d->overhead, (in.completion_ns - in.intended_ns) -
                                     (int64_t)(rec.modelled_ticks * (double)d->tick_ns));
  if (r->state == LB_CREQ_IN_FLIGHT)
    lb__client_conn_list_remove(d, r);
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
      lb__client_resume_pick(d, owner);
    else if (pick_stuck(owner))
      lb__client_fail(d, owner, &d->res->failed_probes, LB_OUTCOME_FAILED, NULL);
  }
  lb__client_maybe_finish_run(d);
}

/* A failure, counted under its cause. */
void lb__client_fail(struct driver *d, struct lb_creq *r, long *cause, enum lb_outcome outcome,
                     const Lb__Response *resp) {
  (*cause)++;
  lb__client_finish(d, r, outcome, resp);
}

/* ---- sending ---- */

void lb__client_write_request(struct driver *d, struct lb_creq *r) {
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
  int64_t now = lb_clock_now_ns();
  if (rc < 0) {
    lb__client_fail(d, r, &d->res->failed_send, LB_OUTCOME_FAILED, NULL);
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
  r->pick_done_ns = lb_clock_now_ns();
  if (d->conns[r->conn].state != LB_CONN_UP) {
    lb__client_fail(d, r, &d->res->failed_server_down, LB_OUTCOME_FAILED,
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
  if (d->channel_faults) { /* sent at the tick of its pick, as lbsim's Channel.send */
    struct lb_client_fault_hit hit;
    lb_client_faults_message(d->sc, hc->servers[slot], hc->id,
                             lb_client_fault_tick(d->t0, d->tick_ns, r->pick_done_ns), &hit);
    if (hit.dropped) { /* lost on the way: held, never written, until its timeout */
      d->res->partition_dropped_requests++;
      return;
    }
    r->send_delay_ticks += hit.extra_ticks;
  }
  /* The seed's send delay starts with the tick of the pick (Channel.send,
   * then Channel.tick in the same client tick): count it from that tick's
   * start, so the request reaches the server on a tick boundary as in the
   * seed, whatever the arrival lag and the pick took. */
  int64_t since = r->pick_done_ns - d->t0;
  int64_t tick_start = since > 0 ? d->t0 + since / d->tick_ns * d->tick_ns : r->pick_done_ns;
  r->hold_until_ns = tick_start + (int64_t)llround(r->send_delay_ticks * (double)d->tick_ns);
  if (r->hold_until_ns <= r->pick_done_ns)
    lb__client_write_request(d, r);
  else
    lb__client_schedule(d, r->hold_until_ns, EV_SEND, r->slot, r->gen);
}

/* The picker's env: probes are real requests on the channel. */
int lb__client_env_send_probe(void *driver, struct lb_channel *ch, struct lb_probe *watch) {
  struct hosted *hc = driver;
  struct driver *d = hc->d;
  struct lb_creq *p = NULL;
  if (lb_creq_new(&d->table, true, &p) < 0)
    return -ENOMEM;
  p->client = hc->local;
  p->intended_ns = lb_clock_now_ns();
  lb__client_schedule(d, p->intended_ns + d->timeout_ns, EV_TIMEOUT, p->slot, p->gen);
  if (watch && d->picking) {
    p->watch = watch;
    watch->driver_handle = p;
    p->owner_slot = d->picking->slot;
    p->owner_gen = d->picking->gen;
  }
  commit(d, p, ch);
  return 0; /* a probe that fails is accounted; the pick just never sees it */
}

void lb__client_env_unwatch_probe(void *driver, struct lb_probe *watch) {
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
      lb__client_fail(d, r, &d->res->failed_other, LB_OUTCOME_FAILED, NULL);
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
      lb__client_fail(d, r, &d->res->failed_probes, LB_OUTCOME_FAILED,
                      NULL); /* every probe it waits on failed */
    else if (!queued)
      waiting_add(d, r);
    return;
  }
  pick_free(d, r->pick);
  r->pick = NULL;
  if (rc < 0 || !ch) {
    if (d->res->picker_errors++ == 0)
      LB_WARN("client %d: the picker failed (%s); such requests lb__client_fail (counted in "
              "picker_errors)",
              hc->id, rc < 0 ? strerror(-rc) : "no channel");
    lb__client_fail(d, r, &d->res->failed_other, LB_OUTCOME_FAILED, NULL);
    return;
  }
  commit(d, r, ch);
}

/* The picker's clock: fractional ticks since tick 0. */
static void env_clock(struct driver *d, struct hosted *hc) {
  hc->env.now_ticks = (double)(lb_clock_now_ns() - d->t0) / (double)d->tick_ns;
  hc->env.tick_seconds = (double)d->tick_ns / 1e9;
}

void lb__client_start_pick(struct driver *d, struct lb_creq *r) {
  struct hosted *hc = &d->clients[r->client];
  env_clock(d, hc);
  r->pick = pick_alloc(d);
  if (!r->pick) {
    lb__client_fail(d, r, &d->res->failed_other, LB_OUTCOME_FAILED, NULL);
    return;
  }
  struct lb_channel *ch = NULL;
  struct lb_creq *outer = d->picking;
  d->picking = r;
  int rc = lb_picker_pick(hc->picker, &hc->env, hc->chptrs, hc->n, r->pick, &ch);
  d->picking = outer;
  pick_result(d, r, rc, ch, false);
}

void lb__client_resume_pick(struct driver *d, struct lb_creq *r) {
  struct hosted *hc = &d->clients[r->client];
  env_clock(d, hc);
  struct lb_channel *ch = NULL;
  struct lb_creq *outer = d->picking;
  d->picking = r;
  int rc = lb_picker_resume(hc->picker, &hc->env, r->pick, &ch);
  d->picking = outer;
  pick_result(d, r, rc, ch, true);
}
