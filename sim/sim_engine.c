/* sim_engine: the seed's runTest loop over the shared model. Every step
 * below names the seed's line it reproduces; docs/sim-fidelity.md lists the
 * deliberate differences. */
#include "sim_engine.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "accounting.h"
#include "channel.h"
#include "picker.h"
#include "rng.h"
#include "rules.h"
#include "pick_plan.h"
#include "sim_seqsum.h"

/* ---- containers: request lists, a deque, a slab with a free list ---- */

struct sim_req;
struct sim_pick_slot;

/* A list entry carries what the walk over the list needs, so the walk
 * touches a request only when it acts on it.
 * - A timed list (a channel's send or receive queue, a server's processing
 *   requests): the seed ticks every request in it each tick, in list order,
 *   and moves on those whose ticks_left reached 0: `due` is the tick that
 *   happens on (req_enter_timed).
 * - A client's pending picks: `slot`, the pick's state. */
struct sim_entry {
  struct sim_req *q;
  union {
    int due;
    struct sim_pick_slot *slot;
  };
};

struct sim_list {
  int next_due; /* timed: no entry is due before; 0 (calloc): look */
  size_t n, cap;
  struct sim_entry *v;
};

static int list_push(struct sim_list *l, struct sim_entry e) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    struct sim_entry *v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = e;
  return 0;
}

static int timed_push(struct sim_list *l, struct sim_req *q, int due) {
  if (due < l->next_due)
    l->next_due = due;
  return list_push(l, (struct sim_entry){.q = q, .due = due});
}

/* The server's queue: FIFO, with demoted requests pushed at the front. */
struct sim_deque {
  struct sim_req **v;
  size_t head, n, cap; /* cap: a power of two */
};

static int deque_grow(struct sim_deque *d) {
  size_t cap = d->cap ? d->cap * 2 : 64;
  struct sim_req **v = malloc(cap * sizeof(*v));
  if (v == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < d->n; i++)
    v[i] = d->v[(d->head + i) & (d->cap - 1)];
  free(d->v);
  d->v = v;
  d->head = 0;
  d->cap = cap;
  return 0;
}

static int deque_push_back(struct sim_deque *d, struct sim_req *q) {
  if (d->n == d->cap && deque_grow(d) < 0)
    return -ENOMEM;
  d->v[(d->head + d->n) & (d->cap - 1)] = q;
  d->n++;
  return 0;
}

static int deque_push_front(struct sim_deque *d, struct sim_req *q) {
  if (d->n == d->cap && deque_grow(d) < 0)
    return -ENOMEM;
  d->head = (d->head + d->cap - 1) & (d->cap - 1);
  d->v[d->head] = q;
  d->n++;
  return 0;
}

static struct sim_req *deque_pop_front(struct sim_deque *d) {
  struct sim_req *q = d->v[d->head];
  d->head = (d->head + 1) & (d->cap - 1);
  d->n--;
  return q;
}

/* Items never move (pickers and watches hold pointers into them); freed
 * items go on a free list threaded through their first word. */
struct sim_slab {
  void **chunks;
  size_t nchunks, capchunks;
  size_t item_size, per_chunk, used_in_last;
  void *free;
};

/* Chunks of about 2 MiB and more are huge pages where the kernel gives them on
 * request: the live requests and picks of a tick are spread over them, and
 * with 4 KiB pages each touch would likely be a TLB miss too. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *chunk_alloc(size_t size) {
  if (size <= HUGE_PAGE / 2)
    return malloc(size);
  size = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  void *p = aligned_alloc(HUGE_PAGE, size);
#ifdef MADV_HUGEPAGE
  if (p != NULL)
    (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: without it, small pages */
#endif
  return p;
}

static void *slab_alloc(struct sim_slab *s) {
  if (s->free != NULL) {
    void *p = s->free;
    s->free = *(void **)p;
    return p;
  }
  if (s->nchunks == 0 || s->used_in_last == s->per_chunk) {
    if (s->nchunks == s->capchunks) {
      size_t cap = s->capchunks ? s->capchunks * 2 : 8;
      void **c = realloc(s->chunks, cap * sizeof(*c));
      if (c == NULL)
        return NULL;
      s->chunks = c;
      s->capchunks = cap;
    }
    void *chunk = chunk_alloc(s->item_size * s->per_chunk);
    if (chunk == NULL)
      return NULL;
    s->chunks[s->nchunks++] = chunk;
    s->used_in_last = 0;
  }
  return (char *)s->chunks[s->nchunks - 1] + s->item_size * s->used_in_last++;
}

static void slab_free(struct sim_slab *s, void *p) {
  *(void **)p = s->free;
  s->free = p;
}

static void slab_close(struct sim_slab *s) {
  for (size_t i = 0; i < s->nchunks; i++)
    free(s->chunks[i]);
  free(s->chunks);
  memset(s, 0, sizeof(*s));
}

/* ---- the seed's objects ---- */

struct sim_channel;
struct sim_client;

struct sim_pick_slot {
  struct sim_pick_slot *next_free; /* slab link: first */
  bool started;                    /* next(picker) was called once */
  int used;                        /* probe slots written (to re-zero) */
  struct lb_pick pick;             /* its probes: room */
  struct lb_probe room[];          /* the run's max_watched */
};

/* Request.server_state: the server's report as a tick's responses left
 * it, shared by those responses (a request holds one from its receive to
 * its completion), so a request stays small. */
struct sim_report {
  struct sim_report *next_free; /* slab link: first */
  long refs;
  struct lb_server_report rep;
};

/* Small (two cache lines): every tick acts on thousands of them. */
struct sim_req {
  struct sim_req *next_free; /* slab link: first */
  struct sim_channel *channel;
  struct lb_probe *watch;     /* a pick watching this probe */
  struct sim_report *report;  /* Request.server_state, from the receive */
  double modelled;            /* the draws: send + processing + receive ticks */
  int since;                  /* first tick that ticks it in its state (SERVER_QUEUE: by a
                                 server; the timed states: the tick it entered them) */
  int started_on_tick, completed_on_tick;
  int ticks_in_state[SIM_NSTATES];
  int tick_at_state_start[SIM_NSTATES]; /* -1: never entered */
  uint32_t *warm; /* its channel's warm stamp (sim_channel.warm), at hand for the server */
  int rif_at_arrival; /* the server's requests in flight on enqueue */
  unsigned char state;
  bool is_probe;
};

struct sim_server {
  int index;
  struct lb_server_params params;
  struct lb_rng *rng;
  struct lb_reset_clock reset; /* keyed by LB_STREAM_SERVER_RESET */
  struct sim_deque queued;
  struct sim_list processing;
  struct lb_accounting acc;
  bool acc_ready;
  /* warm_channels, keyed as the seed's by channel name ("Client c ->
   * Server s"): a channel is warm when its stamp (sim_channel.warm) equals
   * warm_gen; a reset bumps warm_gen. */
  uint32_t warm_gen;
  int build_client;     /* construction: the last client given a channel to it */
  uint32_t *build_warm; /* and that channel's warm stamp */
};

struct sim_channel {
  struct lb_channel ch; /* what pickers see: first */
  bool ch_ready;
  struct sim_client *client;
  struct sim_server *server;
  int slot, global;
  /* The server's warm_channels entry for this channel's name: the stamp
   * lives on the client's first channel to that server (a subset drawn
   * with replacement may hold a server twice, under one name). */
  uint32_t *warm, warm_stamp;
  double mean_ticks;
  struct lb_rng *rng; /* LB_STREAM_CHANNEL: initial mean, delays */
  /* What every tick reads, on one cache line: whether either queue has
   * something due, and the tick of the next reset. */
  _Alignas(64) struct sim_list sendq, recvq;
  struct lb_reset_clock reset; /* keyed by LB_STREAM_NETWORK_RESET */
};

struct sim_client {
  int index;
  struct lb_rng *rng;
  struct sim_channel *channels;
  struct lb_channel **chs;
  int n;
  struct lb_picker *picker;
  struct sim_list pending; /* requests PICKING, with their slots */
};

enum sim_phase { PHASE_MAIN, PHASE_COOLING, PHASE_DONE };

struct sim_run {
  struct lb_scenario sc;
  int run;
  struct sim_options opt;
  struct sim_server *servers;
  struct sim_client *clients;
  struct sim_channel *channels; /* every client's, client-major */
  int nchannels;
  struct lb_arrivals own_arrivals;
  const struct lb_arrivals *arrivals; /* NULL: drawn as the run goes */
  size_t next_arrival;
  struct lb_arrival_stream stream; /* sim_options.stream_arrivals */
  struct lb_arrival lookahead;
  bool stream_open, lookahead_ok;
  long dropped_arrivals;
  int current_tick;
  int warm_period;
  enum lb_stage stage;
  enum sim_phase phase;
  int cooldown_ticks;
  bool cooldown_failed;
  struct sim_slab reqs, picks, reports;
  int max_watched; /* probes a pick may watch: the room in a pick slot */
  long created, live_requests, live_probes;
  struct lb_pick_env env;
  int env_error; /* a probe send that failed inside a picker */
  struct sim_pick_slot *cur_slot; /* the pick being run */
  struct lb_summary_acc *acc;
  struct {
    struct sim_req **v;
    size_t n, cap;
  } due; /* timed_take_due's */
  /* Each server's utilization.mean(), refreshed when it changes (record,
   * reset): the PID's fleet mean, the seed's loop over the servers without
   * the walk (sim_seqsum.h). */
  struct sim_seqsum util;
  bool util_ready;
};

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

/* Server.reset's draws: at creation from the server's stream, on a reset
 * from its reset clock (as lbserver and lbclient's mirror). A given fleet
 * (sim_options.fleet) replaces what creation drew: drawn all the same, so
 * each stream stands where it would. */
static int draw_server(struct sim_run *r, struct sim_server *s, bool reset) {
  const struct sim_hooks *h = r->opt.hooks;
  if (h != NULL && h->server_params != NULL) {
    h->server_params(h->ctx, s->index, reset, &s->params);
  } else if (reset) {
    return lb_fleet_server_reset(&r->sc, &s->reset, &s->params);
  } else {
    lb_fleet_draw_server(&r->sc, s->rng, &s->params);
    if (r->opt.fleet != NULL)
      s->params = r->opt.fleet->server[s->index];
  }
  return 0;
}

/* Channel.reset: (server.mean_rtt + randGamma(mean_channel_rtt, var)) / 2,
 * at creation from the channel's stream, on a reset from its reset clock
 * (as lbclient's mirror); a given fleet's mean as draw_server's. */
static int draw_channel(struct sim_run *r, struct sim_channel *ch, bool reset) {
  const struct sim_hooks *h = r->opt.hooks;
  int rtt = ch->server->params.mean_rtt;
  if (h != NULL && h->channel_mean != NULL) {
    ch->mean_ticks = h->channel_mean(h->ctx, ch->client->index, ch->slot, ch->server->index);
  } else if (reset) {
    return lb_fleet_channel_reset(&r->sc, &ch->reset, rtt, &ch->mean_ticks);
  } else {
    ch->mean_ticks = lb_fleet_draw_channel_mean(&r->sc, ch->rng, rtt);
    if (r->opt.fleet != NULL)
      ch->mean_ticks = r->opt.fleet->mean_ticks[(size_t)ch->global];
  }
  return 0;
}

/* Client c's subset (random.choices of the servers), as draw_server's. */
static void draw_subset(struct sim_run *r, struct sim_client *cl, int *subset) {
  const struct sim_hooks *h = r->opt.hooks;
  if (h != NULL && h->subset != NULL) {
    h->subset(h->ctx, cl->index, subset, cl->n);
    return;
  }
  lb_fleet_draw_subset(&r->sc, cl->rng, subset);
  if (r->opt.fleet != NULL)
    memcpy(subset, &r->opt.fleet->subset[(size_t)cl->index * (size_t)cl->n],
           (size_t)cl->n * sizeof(*subset));
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
  return q;
}

static void req_free(struct sim_run *r, struct sim_req *q) {
  if (q->is_probe)
    r->live_probes--;
  else
    r->live_requests--;
  slab_free(&r->reqs, q);
}

/* Request.setState */
static inline void req_set_state(struct sim_run *r, struct sim_req *q, int state) {
  q->state = state;
  if (state == SIM_COMPLETED)
    q->completed_on_tick = r->current_tick;
  if (q->tick_at_state_start[state] < 0)
    q->tick_at_state_start[state] = r->current_tick;
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

/* The ticks a request spent in its state (timed, or PICKING), through `last`. */
static inline void req_count_ticks(struct sim_req *q, int last) {
  q->ticks_in_state[q->state] += last - q->since + 1;
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
  lb_channel_on_sent(&ch->ch);
  int d = draw_gamma(r, SIM_DRAW_SEND, ch->global, ch->rng, ch->mean_ticks);
  int due = req_enter_timed(r, q, SIM_SENDING, d);
  q->channel = ch;
  q->warm = ch->warm;
  q->modelled += d;
  return timed_push(&ch->sendq, q, due);
}

/* Channel.receive: the report is the server's state before this tick's
 * record. */
static int channel_receive(struct sim_run *r, struct sim_channel *ch, struct sim_req *q,
                           struct sim_report *rep) {
  lb_channel_on_received(&ch->ch);
  int d = draw_gamma(r, SIM_DRAW_RECEIVE, ch->global, ch->rng, ch->mean_ticks);
  int due = req_enter_timed(r, q, SIM_RECEIVING, d);
  q->modelled += d;
  q->report = rep;
  rep->refs++;
  return timed_push(&ch->recvq, q, due);
}

/* Server.enqueue. Every queued request ticks once per server tick
 * (SERVER_QUEUE is stallable: only the count matters), so rather than walk
 * the queue each tick we count the ticks when it leaves: enqueued in a
 * client tick, its first queue tick is the next server tick. */
static int channel_receive(struct sim_run *r, struct sim_channel *ch, struct sim_req *q,
                           struct sim_report *rep);

/* A probe's own report: the shared one (NULL: the server's latest) and
 * Prequal's answer at the server's requests in flight now. */
static struct sim_report *probe_report(struct sim_run *r, struct sim_server *s,
                                       const struct sim_report *shared) {
  struct sim_report *rep = slab_alloc(&r->reports);
  if (rep == NULL)
    return NULL;
  rep->refs = 0;
  rep->rep = shared != NULL ? shared->rep : *lb_accounting_report(&s->acc);
  lb_accounting_probe_answer(&s->acc, (int)(s->queued.n + s->processing.n), &rep->rep);
  return rep;
}

static int server_enqueue(struct sim_run *r, struct sim_server *s, struct sim_req *q) {
  req_set_state(r, q, SIM_SERVER_QUEUE);
  q->since = r->current_tick + 1;
  if (q->is_probe && r->sc.probe_service == LB_PROBE_IMMEDIATE) {
    /* Prequal: answered on arrival, no worker thread, not a query. */
    struct sim_report *rep = probe_report(r, s, NULL);
    if (rep == NULL)
      return -ENOMEM;
    q->since = r->current_tick;
    return channel_receive(r, q->channel, q, rep);
  }
  q->rif_at_arrival = (int)(s->queued.n + s->processing.n);
  lb_accounting_on_enqueue(&s->acc);
  return deque_push_back(&s->queued, q);
}

static void fill_record(const struct sim_run *r, const struct sim_req *q,
                        struct lb_request_record *rec) {
  memset(rec, 0, sizeof(*rec));
  rec->stage = r->stage;
  rec->client = q->channel->client->index;
  rec->server = q->channel->server->index;
  rec->is_probe = q->is_probe;
  rec->outcome = LB_OUTCOME_COMPLETED;
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

/* Client.complete + TestManager.RequestCompleted + completed.insert */
static int client_complete(struct sim_run *r, struct sim_channel *ch, struct sim_req *q) {
  req_set_state(r, q, SIM_COMPLETED);
  int total = req_total_ticks(q);
  int freq = r->sc.data_frequency > 0 ? r->sc.data_frequency : 1;
  if (r->current_tick % freq == 0) {
    struct lb_request_record rec;
    fill_record(r, q, &rec);
    int rc = lb_summary_acc_add(r->acc, &rec);
    if (rc < 0)
      return rc;
    if (r->opt.requests_csv != NULL)
      lb_reqlog_write(r->opt.requests_csv, &rec);
    if (r->opt.on_record != NULL)
      r->opt.on_record(r->opt.on_record_ctx, &rec);
  } else {
    lb_summary_acc_count(r->acc, LB_OUTCOME_COMPLETED, q->is_probe);
  }
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
  req_free(r, q);
  return 0;
}

/* Channel.tick */
static int channel_tick(struct sim_run *r, struct sim_channel *ch) {
  int rc = 0;
  if (reset_due(r, SIM_DRAW_NETWORK_RESET, ch->global, &ch->reset) &&
      (rc = draw_channel(r, ch, true)) < 0)
    return rc;
  if ((rc = timed_take_due(r, &ch->sendq)) < 0)
    return rc;
  for (size_t i = 0; i < r->due.n; i++) {
    req_count_ticks(r->due.v[i], r->current_tick);
    if ((rc = server_enqueue(r, ch->server, r->due.v[i])) < 0)
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
  int rc = draw_server(r, s, true);
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
  if (reset_due(r, SIM_DRAW_SERVER_RESET, s->index, &s->reset) &&
      (rc = server_reset(r, s)) < 0)
    return rc;

  /* dequeue */
  size_t threads = (size_t)(s->params.threads > 0 ? s->params.threads : 0);
  size_t free_threads = threads > s->processing.n ? threads - s->processing.n : 0;
  size_t k = free_threads < s->queued.n ? free_threads : s->queued.n;
  for (size_t i = 0; i < k; i++) /* start loading them all: each takes a draw */
    __builtin_prefetch(s->queued.v[(s->queued.head + i) & (s->queued.cap - 1)]);
  for (size_t i = 0; i < k; i++) {
    struct sim_req *q = deque_pop_front(&s->queued);
    /* the queue ticks it had: ticks since .. this tick - 1 */
    q->ticks_in_state[SIM_SERVER_QUEUE] += r->current_tick - q->since;
    double pt = draw_gamma(r, SIM_DRAW_PROCESSING, s->index, s->rng, s->params.mean_processing_time);
    bool cold = *q->warm != s->warm_gen;
    *q->warm = s->warm_gen;
    pt = lb_rules_processing_ticks(&r->sc, pt, cold, q->is_probe);
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
    if (q->is_probe && (own = probe_report(r, s, rep)) == NULL)
      return -ENOMEM;
    if (!q->is_probe && (rc = lb_accounting_on_complete(&s->acc, q->rif_at_arrival, latency)) < 0)
      return rc;
    if ((rc = channel_receive(r, q->channel, q, own)) < 0)
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
      .errors = 0,
      .completions = latencies,
  };
  if ((rc = lb_accounting_tick(&s->acc, &obs, fleet_n > 0 ? &fleet_mean : NULL)) < 0)
    return rc;
  double mean = 0;
  bool has = lb_window_mean(&s->acc.utilization, &mean);
  sim_seqsum_set(&r->util, s->index, has, mean);
  return 0;
}

/* ---- Client ---- */

static void pick_release(struct sim_run *r, struct sim_pick_slot *slot) {
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

static int env_send_probe(void *driver, struct lb_channel *lch, struct lb_probe *watch) {
  struct sim_run *r = driver;
  struct sim_channel *ch = (struct sim_channel *)lch;
  struct sim_req *q = req_new(r, true);
  if (q == NULL) {
    r->env_error = -ENOMEM;
    return -ENOMEM;
  }
  int rc = channel_send(r, ch, q);
  if (rc < 0) {
    r->env_error = rc;
    return rc;
  }
  if (watch != NULL) {
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
  return 0;
}

static void env_unwatch_probe(void *driver, struct lb_probe *watch) {
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
    if (i + 4 < c->pending.n) /* picks waiting on probes are quick: load ahead */
      __builtin_prefetch(c->pending.v[i + 4].slot);
    struct lb_channel *out = NULL;
    struct sim_pick_slot *slot = e.slot;
    r->cur_slot = slot;
    r->env.now_ticks = r->current_tick;
    if (!slot->started) {
      slot->started = true;
      rc = lb_picker_pick(c->picker, &r->env, (struct lb_channel *const *)c->chs, c->n,
                          &slot->pick, &out);
    } else {
      rc = lb_picker_resume(c->picker, &r->env, &slot->pick, &out);
    }
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
      pick_release(r, slot);
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

static int client_rif(const struct sim_client *c) {
  int rif = 0;
  for (int i = 0; i < c->n; i++)
    rif += c->channels[i].ch.requests_in_flight;
  return rif;
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
  for (int i = 0; i < r->sc.clients; i++)
    if ((rc = client_tick(r, &r->clients[i], err, errlen)) < 0)
      return rc;
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

int sim_run_summary(const struct sim_run *r, struct lb_summary *out) {
  return lb_summary_compute(r->acc, out);
}

int sim_run_fleet(const struct sim_run *r, struct lb_fleet_spec *out) {
  int n = lb_fleet_subset_len(&r->sc);
  int rc = lb_fleet_spec_alloc(out, r->sc.servers, r->sc.clients, n);
  if (rc < 0)
    return rc;
  snprintf(out->label, sizeof(out->label), "%.80s run %d seed %llu", r->sc.name, r->run,
           (unsigned long long)lb_fleet_run_seed(&r->sc, r->run));
  for (int i = 0; i < r->sc.servers; i++)
    out->server[i] = r->servers[i].params;
  for (int i = 0; i < r->nchannels; i++) {
    out->subset[i] = r->channels[i].server->index;
    out->mean_ticks[i] = r->channels[i].mean_ticks;
  }
  return 0;
}

/* ---- construction ---- */

static int make_rng(uint64_t run_seed, enum lb_stream kind, uint64_t index,
                    struct lb_rng **out) {
  return lb_rng_new(lb_seed_derive(run_seed, kind, index), out);
}

/* Every channel's generator (a light one, fleet.h) and reset clock. */
static int make_channel_rngs(struct sim_run *r, uint64_t run_seed, int n) {
  for (int i = 0; i < r->nchannels; i++) {
    struct sim_channel *ch = &r->channels[i];
    lb_fleet_channel_reset_clock(&r->sc, run_seed, i / n, i % n, &ch->reset);
    int rc = lb_fleet_channel_rng(&r->sc, run_seed, i / n, i % n, &ch->rng);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int sim_run_new(const struct lb_scenario *sc, int run, const struct sim_options *opt,
                struct sim_run **out, char *err, size_t errlen) {
  int rc = -ENOMEM;
  struct sim_run *r = NULL;
  *out = NULL;
  if (opt == NULL || opt->plan == NULL || opt->plan->spec == NULL) {
    snprintf(err, errlen, "lbsim: no picker");
    return -EINVAL;
  }
  if (sc->servers < 1 || sc->clients < 1 || sc->total_ticks < 0) {
    snprintf(err, errlen, "%s: need servers >= 1, clients >= 1 and total_ticks >= 0", sc->name);
    return -EINVAL;
  }
  int n = lb_fleet_subset_len(sc);
  if (n < 1 || n > LB_PICK_MAX_CHANNELS) {
    snprintf(err, errlen, "%s: subset_size %d: a client has 1 to %d channels", sc->name, n,
             LB_PICK_MAX_CHANNELS);
    return -EINVAL;
  }
  if (opt->fleet != NULL && (rc = lb_fleet_spec_check(opt->fleet, sc, err, errlen)) < 0)
    return rc;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    goto oom;
  r->sc = *sc;
  r->run = run;
  r->opt = *opt;
  r->stage = LB_STAGE_WARMING;
  r->phase = PHASE_MAIN;
  /* Requests on whole cache-line pairs: 120 bytes at any offset often
   * span three lines, and every state change touches most of a request. */
  r->reqs.item_size = (sizeof(struct sim_req) + 63) / 64 * 64;
  r->reqs.per_chunk = HUGE_PAGE / r->reqs.item_size;
  r->reports.item_size = sizeof(struct sim_report);
  r->reports.per_chunk = 256;
  r->env.driver = r;
  r->env.tick_seconds = (double)r->sc.tick_ns / 1e9;
  r->env.send_probe = env_send_probe;
  r->env.unwatch_probe = env_unwatch_probe;
  r->warm_period = lb_rules_warm_period(sc);
  if ((rc = lb_summary_acc_new(&r->acc)) < 0)
    goto oom;

  uint64_t seed = lb_fleet_run_seed(sc, run);
  r->servers = calloc((size_t)sc->servers, sizeof(*r->servers));
  r->clients = calloc((size_t)sc->clients, sizeof(*r->clients));
  r->nchannels = sc->clients * n;
  r->channels =
      aligned_alloc(_Alignof(struct sim_channel), (size_t)r->nchannels * sizeof(*r->channels));
  if (r->channels != NULL)
    memset(r->channels, 0, (size_t)r->nchannels * sizeof(*r->channels));
  if (r->servers == NULL || r->clients == NULL || r->channels == NULL ||
      sim_seqsum_init(&r->util, sc->servers) < 0)
    goto oom;
  r->util_ready = true;
  for (int i = 0; i < sc->servers; i++) {
    struct sim_server *s = &r->servers[i];
    s->index = i;
    s->warm_gen = 1;
    s->build_client = -1;
    lb_fleet_server_reset_clock(sc, seed, i, &s->reset);
    if (make_rng(seed, LB_STREAM_SERVER, (uint64_t)i, &s->rng) < 0)
      goto oom;
    if (lb_accounting_init(&s->acc, (size_t)sc->server_state_buffer, sc->ewma_weight) < 0)
      goto oom;
    s->acc_ready = true;
    draw_server(r, s, false);
    /* The report's server and threads are the driver's to fill. */
    s->acc.report.server = (uint32_t)i;
    s->acc.report.threads = (uint32_t)(s->params.threads > 0 ? s->params.threads : 0);
  }
  if (make_channel_rngs(r, seed, n) < 0)
    goto oom;
  int subset[LB_PICK_MAX_CHANNELS];
  for (int c = 0; c < sc->clients; c++) {
    struct sim_client *cl = &r->clients[c];
    cl->index = c;
    cl->n = n;
    cl->channels = &r->channels[(size_t)c * (size_t)n];
    cl->chs = calloc((size_t)n, sizeof(*cl->chs));
    if (cl->chs == NULL || make_rng(seed, LB_STREAM_CLIENT, (uint64_t)c, &cl->rng) < 0)
      goto oom;
    draw_subset(r, cl, subset);
    for (int k = 0; k < n; k++) {
      struct sim_channel *ch = &cl->channels[k];
      if (subset[k] < 0 || subset[k] >= sc->servers) {
        rc = -EINVAL;
        snprintf(err, errlen, "client %d: subset slot %d names server %d", c, k, subset[k]);
        goto fail;
      }
      ch->client = cl;
      ch->server = &r->servers[subset[k]];
      ch->slot = k;
      ch->global = c * n + k;
      ch->warm = &ch->warm_stamp;
      if (ch->server->build_client == c)
        ch->warm = ch->server->build_warm; /* the name's first channel */
      ch->server->build_client = c;
      ch->server->build_warm = ch->warm;
      if (lb_channel_init(&ch->ch, k, subset[k], (size_t)sc->client_requests_buffer) < 0)
        goto oom;
      ch->ch_ready = true;
      ch->ch.oracle = lb_accounting_report(&ch->server->acc);
      draw_channel(r, ch, false);
      cl->chs[k] = &ch->ch;
    }
    if ((rc = lb_picker_new(opt->plan->spec, n, &cl->picker)) < 0) {
      snprintf(err, errlen, "%s: picker '%s' for Client %d: %s", sc->name, opt->plan->expr, c,
               strerror(-rc));
      goto fail;
    }
    int w = lb_picker_max_watched(cl->picker);
    r->max_watched = w > r->max_watched ? w : r->max_watched;
  }
  /* Pick slots with room for what a pick may watch, not LB_PICK_MAX_PROBES:
   * thousands wait at once, and their memory is touched fresh. */
  r->picks.item_size = sizeof(struct sim_pick_slot) + (size_t)r->max_watched * sizeof(struct lb_probe);
  r->picks.per_chunk = HUGE_PAGE / r->picks.item_size;
  if (opt->arrivals != NULL) {
    r->arrivals = opt->arrivals;
  } else if (opt->stream_arrivals && sc->arrivals != LB_ARRIVALS_TRACE) {
    if ((rc = lb_arrival_stream_open(sc, run, &r->stream, err, errlen)) < 0)
      goto fail;
    r->stream_open = true;
  } else {
    if ((rc = lb_arrivals_build(sc, run, &r->own_arrivals, err, errlen)) < 0)
      goto fail;
    r->arrivals = &r->own_arrivals;
  }
  *out = r;
  return 0;
oom:
  rc = -ENOMEM;
  snprintf(err, errlen, "%s: out of memory building the fleet", sc->name);
fail:
  sim_run_free(r);
  return rc;
}

void sim_run_free(struct sim_run *r) {
  if (r == NULL)
    return;
  if (r->servers != NULL) {
    for (int i = 0; i < r->sc.servers; i++) {
      struct sim_server *s = &r->servers[i];
      lb_rng_free(s->rng);
      lb_reset_clock_close(&s->reset);
      free(s->queued.v);
      free(s->processing.v);
      if (s->acc_ready)
        lb_accounting_close(&s->acc);
    }
  }
  if (r->clients != NULL) {
    for (int c = 0; c < r->sc.clients; c++) {
      struct sim_client *cl = &r->clients[c];
      lb_picker_free(cl->picker);
      lb_rng_free(cl->rng);
      free(cl->chs);
      free(cl->pending.v);
    }
  }
  for (int i = 0; r->channels != NULL && i < r->nchannels; i++) {
    struct sim_channel *ch = &r->channels[i];
    lb_rng_free(ch->rng);
    lb_reset_clock_close(&ch->reset);
    free(ch->sendq.v);
    free(ch->recvq.v);
    if (ch->ch_ready)
      lb_channel_close(&ch->ch);
  }
  free(r->servers);
  free(r->clients);
  free(r->channels);
  if (r->util_ready)
    sim_seqsum_close(&r->util);
  lb_arrivals_close(&r->own_arrivals);
  if (r->stream_open)
    lb_arrival_stream_close(&r->stream);
  lb_summary_acc_free(r->acc);
  free(r->due.v);
  slab_close(&r->reqs);
  slab_close(&r->picks);
  slab_close(&r->reports);
  free(r);
}

/* ---- inspection ---- */

int sim_run_tick(const struct sim_run *r) { return r->current_tick; }
int sim_run_warm_period(const struct sim_run *r) { return r->warm_period; }
enum lb_stage sim_run_stage(const struct sim_run *r) { return r->stage; }
const struct lb_arrivals *sim_run_arrivals(const struct sim_run *r) { return r->arrivals; }
bool sim_run_cooldown_failed(const struct sim_run *r) { return r->cooldown_failed; }
long sim_run_requests(const struct sim_run *r) { return r->created; }
long sim_run_dropped_arrivals(const struct sim_run *r) { return r->dropped_arrivals; }
int sim_run_server_queued(const struct sim_run *r, int s) { return (int)r->servers[s].queued.n; }
int sim_run_server_processing(const struct sim_run *r, int s) {
  return (int)r->servers[s].processing.n;
}
const struct lb_server_params *sim_run_server_params(const struct sim_run *r, int s) {
  return &r->servers[s].params;
}
const struct lb_server_report *sim_run_server_report(const struct sim_run *r, int s) {
  return lb_accounting_report(&r->servers[s].acc);
}
int sim_run_client_rif(const struct sim_run *r, int c) { return client_rif(&r->clients[c]); }
int sim_run_client_pending(const struct sim_run *r, int c) {
  return (int)r->clients[c].pending.n;
}
struct lb_channel *sim_run_channel(const struct sim_run *r, int c, int slot) {
  return &r->clients[c].channels[slot].ch;
}
double sim_run_channel_mean(const struct sim_run *r, int c, int slot) {
  return r->clients[c].channels[slot].mean_ticks;
}
