/* sim_engine: the seed's runTest loop over the shared model. Every step
 * below names the seed's line it reproduces; docs/sim-fidelity.md lists the
 * deliberate differences. The objects and containers: sim_internal.h;
 * construction: sim_build.c. */
#include "sim_engine.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accounting.h"
#include "channel.h"
#include "picker.h"
#include "rng.h"
#include "rules.h"
#include "pick_plan.h"
#include "sim_internal.h"
#include "sim_seqsum.h"

/* ---- draws (hookable for tests) ---- */

static int draw_gamma(struct sim_run *r, enum sim_draw what, int entity, struct lb_rng *rng,
                      double mean) {
  const struct sim_hooks *h = r->opt.hooks;
  if (h != NULL && h->gamma != NULL)
    return h->gamma(h->ctx, what, entity, mean);
  return lb_rng_gamma_seed(rng, mean, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
}

/* Does this tick reset the entity? The seed draws random() < p on every
 * tick; the reset clock (fleet.h) has the same law without a draw per tick.
 * The tests' hooks still draw on every tick, to replay the seed's draws. */
static bool reset_due(struct sim_run *r, enum sim_draw what, int entity,
                      const struct lb_reset_clock *clock) {
  const struct sim_hooks *h = r->opt.hooks;
  if (h != NULL && h->uniform != NULL)
    return h->uniform(h->ctx, what, entity) < clock->p;
  return lb_reset_clock_due(clock, r->current_tick);
}

/* ---- Request ---- */

static struct sim_req *req_new(struct sim_run *r, bool is_probe) {
  struct sim_req *q = slab_alloc(&r->reqs);
  if (q == NULL)
    return NULL;
  memset(q, 0, sizeof(*q));
  q->state = SIM_PICKING;
  q->is_probe = is_probe;
  q->started_on_tick = r->current_tick;
  q->completed_on_tick = -1;
  for (int i = 0; i < SIM_NSTATES; i++)
    q->tick_at_state_start[i] = -1;
  r->created++;
  if (is_probe)
    r->live_probes++;
  else
    r->live_requests++;
  if (r->timeouts && sim__timeout_track(r, q) < 0) {
    sim__req_free(r, q);
    return NULL;
  }
  return q;
}

void sim__req_free(struct sim_run *r, struct sim_req *q) {
  if (!sim_fate_accounted(q)) { /* else counted out when it was accounted */
    if (q->is_probe)
      r->live_probes--;
    else
      r->live_requests--;
  }
  q->serial = 0;
  slab_free(&r->reqs, q);
}

/* Request.setState(state, ticks) into a timed list, entered on this tick
 * before the list's walk (every push happens so: probes and picks before
 * their client's channels tick, responses and dequeues before the clients
 * and the processing walk). The seed's ticks_left -= 1 per tick reaches
 * <= 0 on the ceil(ticks)-th tick (at least the first; never for NaN or
 * beyond int): the subtractions are exact down to the last one, as
 * x - 1 is exact for 1 <= x < 2^53. Returns that tick. */
static int req_enter_timed(struct sim_run *r, struct sim_req *q, int state, double ticks) {
  req_set_state(r, q, state);
  q->since = r->current_tick;
  double k = ticks <= 0 ? 1 : ceil(ticks);
  if (!(k < (double)(INT32_MAX - r->current_tick)))
    return INT32_MAX;
  return r->current_tick + (int)k - 1;
}

static int timed_collect(struct sim_run *r, struct sim_list *l);

/* This tick's walk of a timed list: takes out the requests due now, in list
 * order, into r->due (acting on them never walks another list, so they stay
 * there until the caller is done), and starts loading them: the caller
 * counts their ticks (req_count_ticks) as it reaches each, by when it has
 * arrived. Most lists have nothing due: that answer is inline. */
static inline int timed_take_due(struct sim_run *r, struct sim_list *l) {
  r->due.n = 0;
  return l->next_due > r->current_tick ? 0 : timed_collect(r, l);
}

static int timed_collect(struct sim_run *r, struct sim_list *l) {
  int now = r->current_tick;
  if (r->due.cap < l->n) {
    struct sim_req **v = realloc(r->due.v, l->n * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    r->due.v = v;
    r->due.cap = l->n;
  }
  size_t keep = 0;
  int next = INT32_MAX;
  for (size_t i = 0; i < l->n; i++) {
    struct sim_entry e = l->v[i];
    if (e.due <= now) {
      __builtin_prefetch(e.q);
      __builtin_prefetch((const char *)e.q + 64); /* its second line */
      r->due.v[r->due.n++] = e.q;
    } else {
      l->v[keep++] = e;
      next = e.due < next ? e.due : next;
    }
  }
  l->n = keep;
  l->next_due = next;
  return 0;
}

static int req_total_ticks(const struct sim_req *q) {
  int t = 0;
  for (int i = 0; i < SIM_NSTATES; i++)
    t += q->ticks_in_state[i];
  return t;
}

/* ---- Channel ---- */

/* Channel.send */
static int channel_send(struct sim_run *r, struct sim_channel *ch, struct sim_req *q) {
  double extra = 0; /* a delay fault's ticks */
  if (r->failures) {
    int rc = sim__send_check(r, ch, q, &extra);
    if (rc != 0)
      return rc < 0 ? rc : 0; /* refused or dropped: dealt with */
  }
  sim_rif_up(r, ch);
  int d = draw_gamma(r, SIM_DRAW_SEND, ch->global, ch->rng, ch->mean_ticks);
  int due = req_enter_timed(r, q, SIM_SENDING, d + extra);
  q->channel = ch;
  q->warm = ch->warm;
  q->modelled += d + extra;
  return timed_push(&ch->sendq, q, due);
}

/* completion_seen: next_tick: the rif goes down when the next tick starts
 * (seen_release), not before this tick's picks. */
static int seen_next_tick(struct sim_run *r, struct sim_channel *ch) {
  if (r->nseen_next == r->capseen_next) {
    size_t cap = r->capseen_next ? 2 * r->capseen_next : 64;
    struct sim_channel **v = realloc(r->seen_next, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    r->seen_next = v;
    r->capseen_next = cap;
  }
  r->seen_next[r->nseen_next++] = ch;
  return 0;
}

static void seen_release(struct sim_run *r) {
  for (size_t i = 0; i < r->nseen_next; i++)
    sim_rif_down(r, r->seen_next[i]);
  r->nseen_next = 0;
}

/* Channel.receive: the report is the server's state before this tick's
 * record. */
int sim__channel_receive(struct sim_run *r, struct sim_channel *ch, struct sim_req *q,
                         struct sim_report *rep) {
  double extra = 0; /* a delay fault's ticks */
  bool release = true;
  if (r->failures) {
    int rc = sim__receive_check(r, ch, q, rep, &extra);
    if (rc != 0)
      return rc < 0 ? rc : 0; /* the response dropped: q parked */
    release = !sim_fate_accounted(q); /* given up: its rif went then */
  }
  if (release && r->sc.completion_seen == LB_COMPLETION_SEEN_NEXT_TICK) {
    int rc = seen_next_tick(r, ch);
    if (rc < 0)
      return rc;
  } else if (release)
    sim_rif_down(r, ch);
  int d = draw_gamma(r, SIM_DRAW_RECEIVE, ch->global, ch->rng, ch->mean_ticks);
  int due = req_enter_timed(r, q, SIM_RECEIVING, d + extra);
  q->modelled += d + extra;
  q->report = rep;
  rep->refs++;
  return timed_push(&ch->recvq, q, due);
}

/* Server.enqueue. Every queued request ticks once per server tick
 * (SERVER_QUEUE is stallable: only the count matters), so rather than walk
 * the queue each tick we count the ticks when it leaves: enqueued in a
 * client tick, its first queue tick is the next server tick. */

/* A probe's own report: the shared one (NULL: the server's latest) and
 * Prequal's answer at the server's requests in flight now. */
struct sim_report *sim__probe_report(struct sim_run *r, struct sim_server *s,
                                     const struct sim_report *shared) {
  struct sim_report *rep = slab_alloc(&r->reports);
  if (rep == NULL)
    return NULL;
  rep->refs = 0;
  rep->rep = shared != NULL ? shared->rep : *lb_accounting_report(&s->acc);
  lb_accounting_probe_answer(&s->acc, (int)(s->queued.n + s->processing.n), &rep->rep);
  return rep;
}

int sim__server_enqueue(struct sim_run *r, struct sim_server *s, struct sim_req *q) {
  req_set_state(r, q, SIM_SERVER_QUEUE);
  q->since = r->current_tick + 1;
  if (r->failures) {
    int rc = sim__enqueue_check(r, s, q);
    if (rc != 0)
      return rc < 0 ? rc : 0; /* dropped, held or rejected */
  }
  if (q->is_probe && r->sc.probe_service == LB_PROBE_IMMEDIATE) {
    /* Prequal: answered on arrival, no worker thread, not a query. */
    struct sim_report *rep = sim__probe_report(r, s, NULL);
    if (rep == NULL)
      return -ENOMEM;
    q->since = r->current_tick;
    return sim__channel_receive(r, q->channel, q, rep);
  }
  q->rif_at_arrival = (int)(s->queued.n + s->processing.n);
  lb_accounting_on_enqueue(&s->acc);
  return deque_push_back(&s->queued, q);
}

/* A request's record as it stands; client and server given, as a request
 * given up before its pick has no channel (server -1). */
static void fill_record(const struct sim_run *r, const struct sim_req *q, int client, int server,
                        enum lb_outcome outcome, struct lb_request_record *rec) {
  memset(rec, 0, sizeof(*rec));
  rec->stage = r->stage;
  rec->client = client;
  rec->server = server;
  rec->is_probe = q->is_probe;
  rec->outcome = outcome;
  rec->started_on_tick = q->started_on_tick;
  rec->completed_on_tick = q->completed_on_tick;
  rec->tick_at_send = q->tick_at_state_start[SIM_SENDING];
  rec->tick_at_server_queue = q->tick_at_state_start[SIM_SERVER_QUEUE];
  rec->tick_at_processing = q->tick_at_state_start[SIM_PROCESSING];
  rec->tick_at_receive = q->tick_at_state_start[SIM_RECEIVING];
  rec->tick_at_completion = q->tick_at_state_start[SIM_COMPLETED];
  rec->picking_ticks = q->ticks_in_state[SIM_PICKING];
  rec->send_ticks = q->ticks_in_state[SIM_SENDING];
  rec->server_queue_ticks = q->ticks_in_state[SIM_SERVER_QUEUE];
  rec->processing_ticks = q->ticks_in_state[SIM_PROCESSING];
  rec->receive_ticks = q->ticks_in_state[SIM_RECEIVING];
  rec->total_ticks = req_total_ticks(q);
  rec->has_report = q->report != NULL;
  if (q->report != NULL)
    rec->report = q->report->rep;
  rec->modelled_ticks = q->modelled;
}

/* TestManager.RequestCompleted + completed.insert, for every outcome: the
 * seed keeps the record of a request that ends on a tick divisible by
 * data_frequency; every request is counted. A request that did not
 * complete ends now. */
int sim__keep_record(struct sim_run *r, const struct sim_req *q, int client, int server,
                     enum lb_outcome outcome) {
  int freq = r->sc.data_frequency > 0 ? r->sc.data_frequency : 1;
  if (r->current_tick % freq != 0) {
    lb_summary_acc_count(r->acc, outcome, q->is_probe);
    return 0;
  }
  struct lb_request_record rec;
  fill_record(r, q, client, server, outcome, &rec);
  if (outcome != LB_OUTCOME_COMPLETED)
    rec.completed_on_tick = rec.tick_at_completion = r->current_tick;
  int rc = lb_summary_acc_add(r->acc, &rec);
  if (rc < 0)
    return rc;
  if (r->opt.requests_csv != NULL)
    lb_reqlog_write(r->opt.requests_csv, &rec);
  if (r->opt.on_record != NULL)
    r->opt.on_record(r->opt.on_record_ctx, &rec);
  return 0;
}

/* Client.complete + TestManager.RequestCompleted + completed.insert */
static int client_complete(struct sim_run *r, struct sim_channel *ch, struct sim_req *q) {
  if (r->failures && q->fate != SIM_FATE_LIVE) /* failed, or given up already */
    return sim__complete_check(r, ch, q);
  req_set_state(r, q, SIM_COMPLETED);
  int total = req_total_ticks(q);
  int rc = sim__keep_record(r, q, ch->client->index, ch->server->index, LB_OUTCOME_COMPLETED);
  if (rc < 0)
    return rc;
  const struct lb_server_report *rep = &q->report->rep; /* received: set */
  lb_channel_on_completed_at(&ch->ch, r->current_tick, total, rep);
  if (q->watch != NULL) {
    struct lb_probe *w = q->watch;
    w->done = true;
    w->latency = total;
    w->has_queued = rep->queued_requests.valid;
    w->queued_latest = rep->queued_requests.latest;
    w->driver_handle = NULL;
  }
  if (--q->report->refs == 0)
    slab_free(&r->reports, q->report);
  sim__req_free(r, q);
  return 0;
}

/* Channel.tick */
static int channel_tick(struct sim_run *r, struct sim_channel *ch) {
  int rc = 0;
  if (reset_due(r, SIM_DRAW_NETWORK_RESET, ch->global, &ch->reset) &&
      (rc = sim__draw_channel(r, ch, true)) < 0)
    return rc;
  if ((rc = timed_take_due(r, &ch->sendq)) < 0)
    return rc;
  for (size_t i = 0; i < r->due.n; i++) {
    req_count_ticks(r->due.v[i], r->current_tick);
    if ((rc = sim__server_enqueue(r, ch->server, r->due.v[i])) < 0)
      return rc;
  }
  if ((rc = timed_take_due(r, &ch->recvq)) < 0)
    return rc;
  for (size_t i = 0; i < r->due.n; i++) {
    req_count_ticks(r->due.v[i], r->current_tick);
    if ((rc = client_complete(r, ch, r->due.v[i])) < 0)
      return rc;
  }
  return 0;
}

/* ---- Server ---- */

/* Server.reset */
static int server_reset(struct sim_run *r, struct sim_server *s) {
  int rc = sim__draw_server(r, s, true);
  if (rc < 0)
    return rc;
  s->warm_gen++;
  /* queries_in_tick is the Server's, not its ServerState's: a reset keeps it. */
  int queries = s->acc.queries_in_tick;
  lb_accounting_reset(&s->acc);
  s->acc.queries_in_tick = queries;
  sim_seqsum_set(&r->util, s->index, false, 0);
  s->acc.report.threads = (uint32_t)(s->params.threads > 0 ? s->params.threads : 0);
  size_t threads = (size_t)(s->params.threads > 0 ? s->params.threads : 0);
  if (s->processing.n > threads) {
    /* starved = processing[threads:]; each inserted at the queue's front */
    for (size_t i = threads; i < s->processing.n; i++) {
      struct sim_req *q = s->processing.v[i].q;
      req_count_ticks(q, r->current_tick - 1); /* this tick's walk is to come */
      req_set_state(r, q, SIM_SERVER_QUEUE);
      q->since = r->current_tick; /* this tick's queue tick counts */
      rc = deque_push_front(&s->queued, q);
      if (rc < 0)
        return rc;
    }
    s->processing.n = threads;
  }
  return 0;
}

/* Server.tick */
static int server_tick(struct sim_run *r, struct sim_server *s) {
  int rc;
  if (r->failures && (rc = sim__server_faults(r, s)) != 0)
    return rc < 0 ? rc : 0; /* dead or paused: no progress */
  if (reset_due(r, SIM_DRAW_SERVER_RESET, s->index, &s->reset) &&
      (rc = server_reset(r, s)) < 0)
    return rc;

  /* dequeue */
  size_t threads = (size_t)(s->params.threads > 0 ? s->params.threads : 0);
  size_t free_threads = threads > s->processing.n ? threads - s->processing.n : 0;
  size_t k = free_threads < s->queued.n ? free_threads : s->queued.n;
  for (size_t i = 0; i < k; i++) { /* start loading them all: each takes a draw */
    const char *q = (const char *)s->queued.v[(s->queued.head + i) & (s->queued.cap - 1)];
    __builtin_prefetch(q);
    __builtin_prefetch(q + 64); /* its second line: warm, state starts */
  }
  for (size_t i = 0; i < k; i++) {
    struct sim_req *q = deque_pop_front(&s->queued);
    /* the queue ticks it had: ticks since .. this tick - 1 */
    q->ticks_in_state[SIM_SERVER_QUEUE] += r->current_tick - q->since;
    double pt = draw_gamma(r, SIM_DRAW_PROCESSING, s->index, s->rng, s->params.mean_processing_time);
    bool cold = *q->warm != s->warm_gen;
    *q->warm = s->warm_gen;
    pt = lb_rules_processing_ticks(&r->sc, pt, cold, q->is_probe);
    if (r->failures)
      pt *= sim__slow_factor(r, s);
    int due = req_enter_timed(r, q, SIM_PROCESSING, pt);
    q->modelled += pt;
    if ((rc = timed_push(&s->processing, q, due)) < 0)
      return rc;
  }

  /* The queue's tick: counted at dequeue (server_enqueue). */

  /* process */
  size_t processed = s->processing.n;
  double latency_sum = 0;
  int latencies = 0;
  if ((rc = timed_take_due(r, &s->processing)) < 0)
    return rc;
  struct sim_report *rep = NULL;
  if (r->due.n > 0) {
    if ((rep = slab_alloc(&r->reports)) == NULL)
      return -ENOMEM;
    rep->refs = 0;
    rep->rep = *lb_accounting_report(&s->acc);
  }
  for (size_t i = 0; i < r->due.n; i++) {
    struct sim_req *q = r->due.v[i];
    req_count_ticks(q, r->current_tick);
    double latency = q->ticks_in_state[SIM_SERVER_QUEUE] + q->ticks_in_state[SIM_PROCESSING];
    struct sim_report *own = rep;
    if (q->is_probe && (own = sim__probe_report(r, s, rep)) == NULL)
      return -ENOMEM;
    if (!q->is_probe && (rc = lb_accounting_on_complete(&s->acc, q->rif_at_arrival, latency)) < 0)
      return rc;
    if ((rc = sim__channel_receive(r, q->channel, q, own)) < 0)
      return rc;
    latency_sum += latency;
    latencies++;
  }
  if (rep != NULL && rep->refs == 0) /* every response a probe's own */
    slab_free(&r->reports, rep);

  /* record: the PID target is the mean of utilization.mean() over every
   * server whose window is not empty right now (some already recorded this
   * tick, as in the seed's loop order). */
  double fleet_sum = 0;
  int fleet_n = 0;
  if ((rc = sim_seqsum_read(&r->util, s->index, &fleet_sum, &fleet_n)) < 0)
    return rc;
  double fleet_mean = fleet_n > 0 ? fleet_sum / fleet_n : 0;
  struct lb_tick_observation obs = {
      .utilization = threads > 0 ? 100.0 * (double)processed / (double)threads : 0,
      .requests_in_flight = (int)(s->queued.n + s->processing.n),
      .queued_requests = (int)s->queued.n,
      .has_latency = latencies > 0,
      .latency = latencies > 0 ? latency_sum / latencies : 0,
      .errors = s->errors_in_tick, /* max_queue rejections */
      .completions = latencies,
  };
  s->errors_in_tick = 0;
  if ((rc = lb_accounting_tick(&s->acc, &obs, fleet_n > 0 ? &fleet_mean : NULL)) < 0)
    return rc;
  double mean = 0;
  bool has = lb_window_mean(&s->acc.utilization, &mean);
  sim_seqsum_set(&r->util, s->index, has, mean);
  return 0;
}

/* ---- Client ---- */

void sim__pick_release(struct sim_run *r, struct sim_pick_slot *slot) {
  struct lb_pick *pick = &slot->pick;
  int n = pick->nprobes > slot->used ? pick->nprobes : slot->used;
  if (n > pick->cap)
    n = pick->cap;
  for (int i = 0; i < n; i++) {
    struct sim_req *q = pick->probes[i].driver_handle;
    if (q != NULL)
      q->watch = NULL;
  }
  slab_free(&r->picks, slot);
}

int sim__env_send_probe(void *driver, struct lb_channel *lch, struct lb_probe *watch) {
  struct sim_run *r = driver;
  struct sim_channel *ch = (struct sim_channel *)lch;
  struct sim_req *q = req_new(r, true);
  if (q == NULL) {
    r->env_error = -ENOMEM;
    return -ENOMEM;
  }
  if (watch != NULL) { /* before the send: a refused probe's watch is let go */
    struct sim_pick_slot *slot = r->cur_slot;
    if (slot != NULL && watch >= slot->pick.probes &&
        watch < slot->pick.probes + slot->pick.cap &&
        (int)(watch - slot->pick.probes) >= slot->used)
      slot->used = (int)(watch - slot->pick.probes) + 1;
    q->watch = watch;
    watch->channel = lch;
    watch->done = false;
    watch->driver_handle = q;
  }
  int rc = channel_send(r, ch, q);
  if (rc < 0) {
    r->env_error = rc;
    return rc;
  }
  return 0;
}

void sim__env_unwatch_probe(void *driver, struct lb_probe *watch) {
  (void)driver;
  struct sim_req *q = watch->driver_handle;
  if (q != NULL)
    q->watch = NULL;
  watch->driver_handle = NULL;
}

/* WithProbes.__call__'s own part, at Client.send (pick_plan.h). */
static int with_probes(struct sim_run *r, struct sim_client *c) {
  r->env.rng = c->rng;
  return lb_pick_plan_send_time_probes(r->opt.plan, &r->env, (struct lb_channel *const *)c->chs,
                                       c->n);
}

/* Client.send */
static int client_send(struct sim_run *r, struct sim_client *c) {
  struct sim_req *q = req_new(r, false);
  if (q == NULL)
    return -ENOMEM;
  if (r->opt.plan->send_time_probes) {
    int rc = with_probes(r, c);
    if (rc < 0)
      return rc;
  }
  struct sim_pick_slot *slot = slab_alloc(&r->picks);
  if (slot == NULL)
    return -ENOMEM;
  slot->started = false;
  slot->used = 0;
  lb_pick_init(&slot->pick, slot->room, r->max_watched);
  q->since = r->current_tick; /* its client ticks it from this tick on */
  return list_push(&c->pending, (struct sim_entry){.q = q, .slot = slot});
}

/* Client.tick */
static int client_tick(struct sim_run *r, struct sim_client *c, char *err, size_t errlen) {
  int rc;
  size_t keep = 0;
  r->env.rng = c->rng;
  for (size_t i = 0; i < c->pending.n; i++) {
    struct sim_entry e = c->pending.v[i];
    if (i + 4 < c->pending.n) { /* picks waiting on probes are quick: load ahead */
      __builtin_prefetch(c->pending.v[i + 4].slot);
      __builtin_prefetch(c->pending.v[i + 4].q);
      __builtin_prefetch((const char *)c->pending.v[i + 4].q + 64);
    }
    struct lb_channel *out = NULL;
    struct sim_pick_slot *slot = e.slot;
    if (r->failures && (rc = sim__pick_check(r, c, e.q, slot)) != 0) {
      if (rc < 0)
        return rc;
      continue; /* timed out, or stuck on failed probes: accounted */
    }
    r->cur_slot = slot;
    r->env.now_ticks = r->current_tick;
    /* Behind a proxy, the proxy's picker over its channels, whose channel
     * i is the client's channel i; a resumed pick goes back to the picker
     * that started it. */
    struct lb_picker *picker = r->proxy_picker != NULL ? r->proxy_picker : c->picker;
    if (!slot->started) {
      slot->started = true;
      if (r->proxy_picker != NULL)
        rc = lb_picker_pick(picker, &r->env, (struct lb_channel *const *)r->proxy_chp,
                            r->sc.servers, &slot->pick, &out);
      else
        rc = lb_picker_pick(picker, &r->env, (struct lb_channel *const *)c->chs, c->n,
                            &slot->pick, &out);
    } else {
      rc = lb_picker_resume(picker, &r->env, &slot->pick, &out);
    }
    if (r->proxy_picker != NULL && rc == LB_PICK_DONE && out != NULL)
      out = &c->channels[out->index].ch;
    r->cur_slot = NULL;
    if (rc >= 0 && r->env_error < 0)
      rc = r->env_error;
    if (rc == LB_PICK_DONE && out == NULL)
      rc = -EPROTO;
    if (rc < 0) {
      snprintf(err, errlen, "picker '%s' failed for Client %d at tick %d: %s",
               r->opt.plan->expr, c->index, r->current_tick, strerror(-rc));
      return rc;
    }
    if (rc == LB_PICK_DONE) {
      sim__pick_release(r, slot);
      /* Request.tick in PICKING: every client tick from the first to this */
      req_count_ticks(e.q, r->current_tick);
      if ((rc = channel_send(r, (struct sim_channel *)out, e.q)) < 0)
        return rc;
    } else {
      c->pending.v[keep++] = e;
    }
  }
  c->pending.n = keep;
  for (int i = 0; i < c->n; i++) {
    if (i + 1 < c->n)
      __builtin_prefetch(&c->channels[i + 1].rng);
    if ((rc = channel_tick(r, &c->channels[i])) < 0)
      return rc;
  }
  return 0;
}

/* ---- TestManager ---- */

/* The run's next arrival, from its trace or its stream; false: none left. */
static bool arrival_peek(struct sim_run *r, struct lb_arrival *a) {
  if (r->arrivals != NULL) {
    if (r->next_arrival >= r->arrivals->n)
      return false;
    *a = r->arrivals->items[r->next_arrival];
    return true;
  }
  if (!r->lookahead_ok)
    r->lookahead_ok = lb_arrival_stream_next(&r->stream, &r->lookahead);
  *a = r->lookahead;
  return r->lookahead_ok;
}

static void arrival_take(struct sim_run *r) {
  if (r->arrivals != NULL)
    r->next_arrival++;
  else
    r->lookahead_ok = false;
}

/* TestManager.tick: new requests, servers, clients, tick += 1. */
static int manager_tick(struct sim_run *r, bool arrivals, char *err, size_t errlen) {
  int rc;
  struct lb_arrival a;
  seen_release(r); /* completion_seen: next_tick: last tick's completions */
  if (r->timeouts && (rc = sim__timeouts_due(r)) < 0)
    goto fail;
  if (arrivals) {
    while (arrival_peek(r, &a) && a.tick < r->current_tick + 1) {
      arrival_take(r);
      int c = a.client;
      if (c < 0 || c >= r->sc.clients) {
        r->dropped_arrivals++;
        continue;
      }
      if ((rc = client_send(r, &r->clients[c])) < 0)
        goto fail;
    }
  }
  sim_seqsum_begin(&r->util);
  for (int i = 0; i < r->sc.servers; i++)
    if ((rc = server_tick(r, &r->servers[i])) < 0)
      goto fail;
  for (int i = 0; i < r->sc.clients; i++) {
    /* A client's pending picks were made at its arrivals, before the
     * servers' pass evicted them: load the next clients' first ones ahead
     * (their list two clients ahead, their picks and requests one ahead). */
    if (i + 2 < r->sc.clients && r->clients[i + 2].pending.n > 0)
      __builtin_prefetch(r->clients[i + 2].pending.v);
    if (i + 1 < r->sc.clients) {
      const struct sim_list *next = &r->clients[i + 1].pending;
      for (size_t k = 0; k < next->n && k < 4; k++) {
        __builtin_prefetch(next->v[k].slot);
        __builtin_prefetch(next->v[k].q);
        __builtin_prefetch((const char *)next->v[k].q + 64);
      }
    }
    if ((rc = client_tick(r, &r->clients[i], err, errlen)) < 0)
      return rc;
  }
  r->current_tick++;
  return 0;
fail:
  snprintf(err, errlen, "tick %d: %s", r->current_tick, strerror(-rc));
  return rc;
}

static void finish(struct sim_run *r) {
  r->phase = PHASE_DONE;
  if (r->current_tick >= r->sc.total_ticks + r->sc.max_cooldown)
    r->cooldown_failed = true;
  /* Requests still in flight never complete (the seed drops them): count
   * them, so every request sent is accounted for. */
  for (long i = 0; i < r->live_requests; i++)
    lb_summary_acc_count(r->acc, LB_OUTCOME_TIMED_OUT, 0);
  for (long i = 0; i < r->live_probes; i++)
    lb_summary_acc_count(r->acc, LB_OUTCOME_TIMED_OUT, 1);
  /* Arrivals past the last tick never left the client. */
  struct lb_arrival a;
  for (; arrival_peek(r, &a); arrival_take(r))
    r->dropped_arrivals++;
}

int sim_run_step(struct sim_run *r, bool *finished, char *err, size_t errlen) {
  *finished = false;
  if (r->phase == PHASE_MAIN && r->current_tick >= r->sc.total_ticks) {
    r->phase = PHASE_COOLING; /* total_ticks 0: no main tick at all */
    r->stage = LB_STAGE_COOLING;
  }
  if (r->phase == PHASE_MAIN) {
    r->stage = lb_rules_stage(r->current_tick, r->warm_period, r->sc.total_ticks);
    int rc = manager_tick(r, true, err, errlen);
    if (rc < 0)
      return rc;
    if (r->current_tick >= r->sc.total_ticks) {
      r->phase = PHASE_COOLING;
      r->stage = LB_STAGE_COOLING;
    }
    return 0;
  }
  if (r->phase == PHASE_COOLING) {
    bool idle = r->cooldown_ticks >= r->sc.max_cooldown;
    if (!idle) {
      idle = true;
      for (int i = 0; i < r->sc.clients && idle; i++)
        idle = client_rif(&r->clients[i]) == 0;
    }
    if (!idle) {
      r->cooldown_ticks++;
      return manager_tick(r, false, err, errlen);
    }
    finish(r);
  }
  *finished = true;
  return 0;
}

int sim_run_execute(struct sim_run *r, char *err, size_t errlen) {
  bool done = false;
  while (!done) {
    int rc = sim_run_step(r, &done, err, errlen);
    if (rc < 0)
      return rc;
  }
  return 0;
}
