/* sim_faults: what lbsim adds to the seed's model so that requests can fail
 * as on a real fleet, counted as lbclient counts them (docs/faults.md):
 *
 * - timeout: a request not answered `timeout` ticks after it arose is
 *   timed out by its client (its rif released, its probe's watch let go);
 *   the server, which does not know, serves it all the same and its late
 *   response is dropped at the client;
 * - max_queue: a server whose waiting requests (in flight beyond its
 *   threads) reach max_queue answers a new one at once with a failure,
 *   counted as a query and an error in its report;
 * - faults (faults.h): kill (everything in the server, on the wire to it
 *   and held by it fails; sends while dead are refused; it restarts empty
 *   and cold), pause (no progress; arrivals wait and are read on resume),
 *   slow (processing x factor), delay (+ticks on a channel), partition
 *   (messages on a channel dropped: their requests time out).
 *
 * Every hook here runs only when sim_run.failures is set, so a run that
 * cannot fail takes the seed's paths alone. */
#include <limits.h>
#include <math.h>

#include "faults.h"
#include "sim_internal.h"

static const struct lb_fault *faults_of(const struct sim_run *r, int *n) {
  *n = r->sc.n_faults;
  return r->sc.faults;
}

void sim__faults_setup(struct sim_run *r) {
  double t = r->sc.timeout_ticks > 0 ? r->sc.timeout_ticks : 4.0 * r->sc.total_ticks;
  double after = ceil(t) < 1 ? 1 : ceil(t);
  /* The last tick a run can reach: total_ticks + max_cooldown - 1. */
  double last = (double)r->sc.total_ticks + r->sc.max_cooldown - 1;
  r->timeouts = after <= last;
  r->timeout_after = r->timeouts ? (int)after : INT_MAX;
  r->failures = r->timeouts || r->sc.max_queue > 0 || r->sc.n_faults > 0;
}

void sim__faults_close(struct sim_run *r) {
  free(r->timeq.v);
  r->timeq.v = NULL;
}

/* ---- the client's side: a request accounted before it completes ---- */

/* Keeps the record of q as it stands now (its state's ticks counted to
 * this tick when count_current), without a report: the client had no
 * answer. */
static int keep_now(struct sim_run *r, const struct sim_req *q, int client, int server,
                    enum lb_outcome outcome, bool count_current) {
  struct sim_req tmp = *q;
  if (count_current && tmp.state < SIM_COMPLETED) {
    int n = r->current_tick - tmp.since + (tmp.state == SIM_SERVER_QUEUE ? 0 : 1);
    if (n > 0)
      tmp.ticks_in_state[tmp.state] += n;
  }
  tmp.report = NULL;
  return sim__keep_record(r, &tmp, client, server, outcome);
}

/* Whether q still counts in its channel's requests in flight: sent, and
 * the server not done with it (Channel.receive lowers it). */
static bool holds_rif(const struct sim_req *q) {
  return q->state == SIM_SENDING || q->state == SIM_SERVER_QUEUE || q->state == SIM_PROCESSING;
}

static void drop_report(struct sim_run *r, struct sim_req *q) {
  if (q->report != NULL && --q->report->refs == 0)
    slab_free(&r->reports, q->report);
  q->report = NULL;
}

/* The client is done with q, which has a channel: recorded with outcome,
 * its rif released, a pick watching it let go, no longer live. It becomes
 * `fate` (ORPHAN: still served; LOST: dropped where next seen); a parked
 * request, in no list, is freed. */
static int give_up(struct sim_run *r, struct sim_req *q, enum lb_outcome outcome,
                   enum sim_fate fate) {
  struct sim_channel *ch = q->channel;
  int rc = keep_now(r, q, ch->client->index, ch->server->index, outcome, true);
  if (holds_rif(q))
    sim_rif_down(r, ch);
  if (q->watch != NULL) {
    q->watch->driver_handle = NULL; /* not done: the pick sees a failed probe */
    q->watch = NULL;
  }
  if (q->is_probe)
    r->live_probes--;
  else
    r->live_requests--;
  bool parked = q->fate == SIM_FATE_PARKED;
  q->fate = (unsigned char)fate;
  if (parked) {
    drop_report(r, q);
    sim__req_free(r, q);
  }
  return rc;
}

/* ---- timeouts ---- */

int sim__timeout_track(struct sim_run *r, struct sim_req *q) {
  if (++r->serials == 0)
    ++r->serials; /* 0 marks a freed request */
  q->serial = r->serials;
  if (r->timeq.n == r->timeq.cap) {
    size_t cap = r->timeq.cap ? r->timeq.cap * 2 : 1024;
    struct sim_timeout *v = malloc(cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    for (size_t i = 0; i < r->timeq.n; i++)
      v[i] = r->timeq.v[(r->timeq.head + i) & (r->timeq.cap - 1)];
    free(r->timeq.v);
    r->timeq.v = v;
    r->timeq.head = 0;
    r->timeq.cap = cap;
  }
  r->timeq.v[(r->timeq.head + r->timeq.n) & (r->timeq.cap - 1)] =
      (struct sim_timeout){q, q->serial, q->started_on_tick + r->timeout_after};
  r->timeq.n++;
  return 0;
}

/* Requests arise in tick order, so the queue is in timeout order. */
int sim__timeouts_due(struct sim_run *r) {
  while (r->timeq.n > 0) {
    struct sim_timeout e = r->timeq.v[r->timeq.head];
    if (e.due > r->current_tick)
      break;
    r->timeq.head = (r->timeq.head + 1) & (r->timeq.cap - 1);
    r->timeq.n--;
    struct sim_req *q = e.q;
    /* Gone, accounted, or still picking (its client's walk times it out:
     * sim__pick_check, this same tick). */
    if (q->serial != e.serial || sim_fate_accounted(q) || q->state == SIM_PICKING)
      continue;
    int rc = give_up(r, q, LB_OUTCOME_TIMED_OUT, SIM_FATE_ORPHAN);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* lbclient's pick_has_live_probe: some probe the pick watches may still
 * complete. */
static bool pick_has_live_probe(const struct lb_pick *p) {
  for (int i = 0; i < p->nprobes; i++)
    if (!p->probes[i].done && p->probes[i].driver_handle != NULL)
      return true;
  return false;
}

int sim__pick_check(struct sim_run *r, struct sim_client *c, struct sim_req *q,
                    struct sim_pick_slot *slot) {
  bool late = r->timeouts && r->current_tick - q->started_on_tick >= r->timeout_after;
  bool stuck = !late && slot->started && slot->pick.waiting != NULL && slot->pick.nprobes > 0 &&
               !pick_has_live_probe(&slot->pick);
  if (!late && !stuck)
    return 0;
  sim__pick_release(r, slot);
  int rc = keep_now(r, q, c->index, -1, late ? LB_OUTCOME_TIMED_OUT : LB_OUTCOME_FAILED, true);
  sim__req_free(r, q);
  return rc < 0 ? rc : 1;
}

/* ---- the channel ---- */

int sim__send_check(struct sim_run *r, struct sim_channel *ch, struct sim_req *q, double *extra) {
  int n;
  const struct lb_fault *f = faults_of(r, &n);
  if (n == 0)
    return 0;
  int server = ch->server->index, client = ch->client->index, t = r->current_tick;
  if (lb_faults_dead(f, n, server, t)) {
    /* Connection refused: failed at once, never sent (lbclient fails fast
     * on a connection that is down). */
    int rc = keep_now(r, q, client, server, LB_OUTCOME_FAILED, false);
    if (q->watch != NULL) {
      q->watch->driver_handle = NULL;
      q->watch = NULL;
    }
    sim__req_free(r, q);
    return rc < 0 ? rc : 1;
  }
  if (lb_faults_partitioned(f, n, server, client, t)) {
    /* Sent, and lost on the way: the client waits for it to time out. */
    sim_rif_up(r, ch);
    req_set_state(r, q, SIM_SENDING);
    q->since = t;
    q->channel = ch;
    q->warm = ch->warm;
    q->fate = SIM_FATE_PARKED;
    return 1;
  }
  *extra = lb_faults_delay_ticks(f, n, server, client, t);
  return 0;
}

int sim__receive_check(struct sim_run *r, struct sim_channel *ch, struct sim_req *q,
                       struct sim_report *rep, double *extra) {
  int n;
  const struct lb_fault *f = faults_of(r, &n);
  if (n == 0)
    return 0;
  int server = ch->server->index, client = ch->client->index, t = r->current_tick;
  if (!sim_fate_accounted(q) && lb_faults_partitioned(f, n, server, client, t)) {
    /* The response lost: the client still counts q in flight. */
    q->report = rep;
    rep->refs++;
    q->fate = SIM_FATE_PARKED;
    return 1;
  }
  *extra = lb_faults_delay_ticks(f, n, server, client, t);
  return 0;
}

/* ---- the server ---- */

int sim__enqueue_check(struct sim_run *r, struct sim_server *s, struct sim_req *q) {
  if (q->fate == SIM_FATE_LOST) { /* failed at a kill while on the wire */
    sim__req_free(r, q);
    return 1;
  }
  if (s->paused) /* read when the server resumes */
    return list_push(&s->held, (struct sim_entry){.q = q}) < 0 ? -ENOMEM : 1;
  if (r->sc.max_queue <= 0 || (q->is_probe && r->sc.probe_service == LB_PROBE_IMMEDIATE))
    return 0;
  size_t threads = (size_t)(s->params.threads > 0 ? s->params.threads : 0);
  size_t in_flight = s->queued.n + s->processing.n;
  if (in_flight < threads + (size_t)r->sc.max_queue)
    return 0;
  /* lbserver: a query (on_arrival), then refused by the full queue, an
   * error in this tick, answered at once with the report as it stands. */
  lb_accounting_on_enqueue(&s->acc);
  s->errors_in_tick++;
  struct sim_report *rep = slab_alloc(&r->reports);
  if (rep == NULL)
    return -ENOMEM;
  rep->refs = 0;
  rep->rep = *lb_accounting_report(&s->acc);
  if (!sim_fate_accounted(q))
    q->fate = SIM_FATE_REJECTED;
  q->since = r->current_tick;
  int rc = sim__channel_receive(r, q->channel, q, rep);
  if (rep->refs == 0)
    slab_free(&r->reports, rep);
  return rc < 0 ? rc : 1;
}

int sim__complete_check(struct sim_run *r, struct sim_channel *ch, struct sim_req *q) {
  int rc = 0;
  if (q->fate == SIM_FATE_REJECTED) {
    /* lbclient: a response with a failure status, with its report. */
    req_set_state(r, q, SIM_COMPLETED);
    rc = sim__keep_record(r, q, ch->client->index, ch->server->index, LB_OUTCOME_FAILED);
    if (q->watch != NULL) {
      q->watch->driver_handle = NULL;
      q->watch = NULL;
    }
  } /* else accounted already: a late response, dropped */
  drop_report(r, q);
  sim__req_free(r, q);
  return rc;
}

/* A request in a killed server: failed (unless accounted) and freed. */
static int fail_in_server(struct sim_run *r, struct sim_req *q) {
  int rc = 0;
  if (!sim_fate_accounted(q))
    rc = give_up(r, q, LB_OUTCOME_FAILED, SIM_FATE_LOST);
  sim__req_free(r, q);
  return rc;
}

/* kill -9: the connections drop, so the client fails at once everything it
 * has out to the server: queued, in service, on the wire to it, and the
 * responses it holds (response_hold: server). */
static int server_kill(struct sim_run *r, struct sim_server *s) {
  int rc = 0;
  s->dead = true;
  while (s->queued.n > 0 && rc >= 0)
    rc = fail_in_server(r, deque_pop_front(&s->queued));
  for (size_t i = 0; i < s->processing.n && rc >= 0; i++)
    rc = fail_in_server(r, s->processing.v[i].q);
  s->processing.n = 0;
  s->processing.next_due = INT32_MAX;
  bool held_responses = r->sc.response_hold == LB_RESPONSE_HOLD_SERVER;
  for (int c = 0; c < r->nchannels && rc >= 0; c++) {
    struct sim_channel *ch = &r->channels[c];
    if (ch->server != s)
      continue;
    for (size_t i = 0; i < ch->sendq.n && rc >= 0; i++) {
      struct sim_req *q = ch->sendq.v[i].q;
      if (!sim_fate_accounted(q))
        rc = give_up(r, q, LB_OUTCOME_FAILED, SIM_FATE_LOST);
      q->fate = SIM_FATE_LOST;
    }
    for (size_t i = 0; held_responses && i < ch->recvq.n && rc >= 0; i++) {
      struct sim_req *q = ch->recvq.v[i].q;
      if (!sim_fate_accounted(q))
        rc = give_up(r, q, LB_OUTCOME_FAILED, SIM_FATE_LOST);
    }
  }
  sim_seqsum_set(&r->util, s->index, false, 0);
  return rc;
}

/* The process started again: same parameters, empty queue, fresh
 * accounting (no history, no queries), every channel to it cold. */
static void server_restart(struct sim_run *r, struct sim_server *s) {
  s->dead = false;
  s->warm_gen++;
  lb_accounting_reset(&s->acc);
  s->acc.queries_in_tick = 0;
  s->acc.report.threads = (uint32_t)(s->params.threads > 0 ? s->params.threads : 0);
  s->errors_in_tick = 0;
  sim_seqsum_set(&r->util, s->index, false, 0);
}

/* SIGCONT: work in service resumes with the time it had left; arrivals
 * held meanwhile are read in order, as on arrival (max_queue applies),
 * having queued since they came. */
static int server_resume(struct sim_run *r, struct sim_server *s) {
  int shift = r->current_tick - s->paused_at;
  int next = INT32_MAX;
  for (size_t i = 0; i < s->processing.n; i++) {
    struct sim_entry *e = &s->processing.v[i];
    e->due = e->due > INT32_MAX - shift ? INT32_MAX : e->due + shift;
    next = e->due < next ? e->due : next;
  }
  s->processing.next_due = next;
  s->paused = false;
  for (size_t i = 0; i < s->held.n; i++) {
    struct sim_req *q = s->held.v[i].q;
    int since = q->since; /* the tick after its arrival */
    int rc = sim__server_enqueue(r, s, q);
    if (rc < 0)
      return rc;
    if (q->state == SIM_SERVER_QUEUE)
      q->since = since;
  }
  s->held.n = 0;
  return 0;
}

int sim__server_faults(struct sim_run *r, struct sim_server *s) {
  int n, rc = 0;
  const struct lb_fault *f = faults_of(r, &n);
  if (n == 0)
    return 0;
  int t = r->current_tick;
  bool paused = lb_faults_paused(f, n, s->index, t);
  bool dead = lb_faults_dead(f, n, s->index, t);
  if (s->paused && !paused && (rc = server_resume(r, s)) < 0)
    return rc;
  if (!s->dead && dead && (rc = server_kill(r, s)) < 0)
    return rc;
  if (s->dead && !dead)
    server_restart(r, s);
  if (!s->paused && paused) {
    s->paused = true;
    s->paused_at = t;
  }
  return s->dead || s->paused ? 1 : 0;
}

double sim__slow_factor(const struct sim_run *r, const struct sim_server *s) {
  int n;
  const struct lb_fault *f = faults_of(r, &n);
  return n == 0 ? 1.0 : lb_faults_slow_factor(f, n, s->index, r->current_tick);
}
