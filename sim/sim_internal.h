/* sim_internal: the simulator's objects (the seed's Server, Channel,
 * Client, Request, TestManager) and the containers they live in, shared by
 * sim_engine.c (the ticks), sim_build.c (construction, draws of the fleet,
 * inspection). Not for use outside sim/. */
#ifndef LB_SIM_INTERNAL_H
#define LB_SIM_INTERNAL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "accounting.h"
#include "channel.h"
#include "picker.h"
#include "sim_engine.h"
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

static inline int list_push(struct sim_list *l, struct sim_entry e) {
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

static inline int timed_push(struct sim_list *l, struct sim_req *q, int due) {
  if (due < l->next_due)
    l->next_due = due;
  return list_push(l, (struct sim_entry){.q = q, .due = due});
}

/* The server's queue: FIFO, with demoted requests pushed at the front. */
struct sim_deque {
  struct sim_req **v;
  size_t head, n, cap; /* cap: a power of two */
};

static inline int deque_grow(struct sim_deque *d) {
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

static inline int deque_push_back(struct sim_deque *d, struct sim_req *q) {
  if (d->n == d->cap && deque_grow(d) < 0)
    return -ENOMEM;
  d->v[(d->head + d->n) & (d->cap - 1)] = q;
  d->n++;
  return 0;
}

static inline int deque_push_front(struct sim_deque *d, struct sim_req *q) {
  if (d->n == d->cap && deque_grow(d) < 0)
    return -ENOMEM;
  d->head = (d->head + d->cap - 1) & (d->cap - 1);
  d->v[d->head] = q;
  d->n++;
  return 0;
}

static inline struct sim_req *deque_pop_front(struct sim_deque *d) {
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
static inline void *chunk_alloc(size_t size) {
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

static inline void *slab_alloc(struct sim_slab *s) {
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

static inline void slab_free(struct sim_slab *s, void *p) {
  *(void **)p = s->free;
  s->free = p;
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
  struct lb_probe *watch;    /* a pick watching this probe */
  struct sim_report *report; /* Request.server_state, from the receive */
  double modelled;           /* the draws: send + processing + receive ticks */
  int since;                 /* first tick that ticks it in its state (SERVER_QUEUE: by a
                                server; the timed states: the tick it entered them) */
  int started_on_tick, completed_on_tick;
  int ticks_in_state[SIM_NSTATES];
  int tick_at_state_start[SIM_NSTATES]; /* -1: never entered */
  uint32_t *warm;     /* its channel's warm stamp (sim_channel.warm), at hand for the server */
  int rif_at_arrival; /* the server's requests in flight on enqueue */
  unsigned char state;
  bool is_probe;
  unsigned char fate; /* enum sim_fate (sim_faults.c) */
  uint32_t serial;    /* the run's count at creation; 0 once freed (timeouts) */
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
  int build_client; /* construction: the last client given a channel to it */
  int build_owner;  /* and that channel's warm_owner */
  /* Faults and failures (sim_faults.c). */
  bool dead, paused;
  int paused_at;        /* first paused tick */
  struct sim_list held; /* arrivals while paused, in order (entries' due unused) */
  int errors_in_tick;   /* max_queue rejections this tick (the report's eps) */
};

struct sim_channel {
  struct lb_channel ch; /* what pickers see: first */
  bool ch_ready;
  struct sim_client *client;
  struct sim_server *server;
  int slot, global;
  /* The server's warm_channels entry for this channel's name, in
   * sim_run.warm_stamps: one per name (a subset drawn with replacement may
   * hold a server twice, under one name; warm_owner is the global index of
   * the client's first channel to that server). */
  uint32_t *warm;
  int warm_owner;
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
  /* The warm stamps (sim_channel.warm), server-major: a server's dequeues
   * read and write its own names' stamps, a line or two, where a stamp in
   * its channel would be a cache miss a dequeue in a large fleet. */
  uint32_t *warm_stamps;
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
  int env_error;                  /* a probe send that failed inside a picker */
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
  /* The failure model (sim_faults.c): off (false) unless the scenario can
   * fail a request, so runs without faults, max_queue or a timeout inside
   * the run take none of its paths. */
  bool failures;
  bool timeouts;     /* a request may time out within the run */
  int timeout_after; /* ticks from started_on_tick: ceil(timeout) */
  uint32_t serials;  /* requests created, for sim_req.serial */
  struct {
    struct sim_timeout *v;
    size_t head, n, cap; /* cap: a power of two */
  } timeq;               /* live requests by creation, for their timeouts */
  /* The modelled proxy (scenario `proxy:`, docs/proxies.md): one picker
   * over every server shared by every client, on channels of its own whose
   * rif is every client's requests in flight to that server (the proxy's
   * own connections); NULL without a proxy. A client's subset is then
   * every server in order, so the proxy's channel i is each client's
   * channel i. */
  struct lb_picker *proxy_picker;
  struct lb_channel *proxy_chs;
  struct lb_channel **proxy_chp;
  int proxy_nchs; /* proxy_chs made (to close) */
  /* completion_seen: next_tick: the channels whose server finished a
   * request this tick, their rif lowered when the next tick starts. */
  struct sim_channel **seen_next;
  size_t nseen_next, capseen_next;
};

/* Channel.send's and Channel.receive's rif: the client's channel's, and the
 * proxy's view of its server when there is a proxy. */
static inline void sim_rif_up(struct sim_run *r, struct sim_channel *ch) {
  lb_channel_on_sent(&ch->ch);
  if (r->proxy_chs != NULL)
    lb_channel_on_sent(&r->proxy_chs[ch->server->index]);
}

static inline void sim_rif_down(struct sim_run *r, struct sim_channel *ch) {
  lb_channel_on_received(&ch->ch);
  if (r->proxy_chs != NULL)
    lb_channel_on_received(&r->proxy_chs[ch->server->index]);
}

static inline int client_rif(const struct sim_client *c) {
  int rif = 0;
  for (int i = 0; i < c->n; i++)
    rif += c->channels[i].ch.requests_in_flight;
  return rif;
}

/* Request.setState */
static inline void req_set_state(struct sim_run *r, struct sim_req *q, int state) {
  q->state = state;
  if (state == SIM_COMPLETED)
    q->completed_on_tick = r->current_tick;
  if (q->tick_at_state_start[state] < 0)
    q->tick_at_state_start[state] = r->current_tick;
}

/* The ticks a request spent in its state (timed, or PICKING), through `last`. */
static inline void req_count_ticks(struct sim_req *q, int last) {
  q->ticks_in_state[q->state] += last - q->since + 1;
}

/* Where a request stands with its client beyond its state (sim_faults.c). */
enum sim_fate {
  SIM_FATE_LIVE = 0, /* as the seed's */
  SIM_FATE_REJECTED, /* its response is a failure (max_queue) */
  SIM_FATE_PARKED,   /* a partition dropped it: in no list, the client waits */
  SIM_FATE_ORPHAN,   /* the client gave up (timeout): the server serves it all the same */
  SIM_FATE_LOST,     /* the client failed it (kill): dropped where next seen */
};
/* The client has counted it already: not live, no record at its end. */
static inline bool sim_fate_accounted(const struct sim_req *q) {
  return q->fate >= SIM_FATE_ORPHAN;
}

/* sim_faults.c: the failure model and the faults (docs/faults.md). */
struct sim_timeout {
  struct sim_req *q;
  uint32_t serial;
  int due; /* the tick it times out */
};
/* Sets the run's flags and the timeout after construction. */
void sim__faults_setup(struct sim_run *r);
void sim__faults_close(struct sim_run *r);
/* A request created now: its timeout queued. */
int sim__timeout_track(struct sim_run *r, struct sim_req *q);
/* This tick's timeouts of requests past their pick. */
int sim__timeouts_due(struct sim_run *r);
/* A pending pick timed out or stuck (every probe it waits on failed):
 * accounted and freed; 1 when so, 0 when it goes on. */
int sim__pick_check(struct sim_run *r, struct sim_client *c, struct sim_req *q,
                    struct sim_pick_slot *slot);
/* Channel.send under faults: 1 when q was refused (dead server: accounted
 * and freed) or dropped (partition: parked), else 0 with *extra the
 * delay fault's ticks. */
int sim__send_check(struct sim_run *r, struct sim_channel *ch, struct sim_req *q, double *extra);
/* Channel.receive under faults: 1 when a partition dropped the response
 * (q parked), else 0 with *extra the delay fault's ticks. */
int sim__receive_check(struct sim_run *r, struct sim_channel *ch, struct sim_req *q,
                       struct sim_report *rep, double *extra);
/* Server.enqueue under failures: 1 when dealt with (dropped, held by a
 * pause, rejected by max_queue), 0 to queue it. */
int sim__enqueue_check(struct sim_run *r, struct sim_server *s, struct sim_req *q);
/* Client.complete of a request that failed or was given up: 1 when dealt
 * with (recorded as failed, or discarded), 0 for a normal completion. */
int sim__complete_check(struct sim_run *r, struct sim_channel *ch, struct sim_req *q);
/* Server.tick's faults: kill, restart, pause, resume. 1 when the server
 * does nothing this tick (dead or paused). */
int sim__server_faults(struct sim_run *r, struct sim_server *s);
/* The slow fault's factor for work starting on s now. */
double sim__slow_factor(const struct sim_run *r, const struct sim_server *s);
/* sim_engine.c, for the failure model. */
int sim__keep_record(struct sim_run *r, const struct sim_req *q, int client, int server,
                     enum lb_outcome outcome);
int sim__server_enqueue(struct sim_run *r, struct sim_server *s, struct sim_req *q);
int sim__channel_receive(struct sim_run *r, struct sim_channel *ch, struct sim_req *q,
                         struct sim_report *rep);
struct sim_report *sim__probe_report(struct sim_run *r, struct sim_server *s,
                                     const struct sim_report *shared);
void sim__req_free(struct sim_run *r, struct sim_req *q);
void sim__pick_release(struct sim_run *r, struct sim_pick_slot *slot);

/* sim_build.c: Server.reset's, Channel.reset's and the subset's draws. */
int sim__draw_server(struct sim_run *r, struct sim_server *s, bool reset);
int sim__draw_channel(struct sim_run *r, struct sim_channel *ch, bool reset);
void sim__draw_subset(struct sim_run *r, struct sim_client *cl, int *subset);
/* sim_engine.c: the picker env's probe hooks. */
int sim__env_send_probe(void *driver, struct lb_channel *lch, struct lb_probe *watch);
void sim__env_unwatch_probe(void *driver, struct lb_probe *watch);

#endif
