/* prequal: Prequal (Wydrowski, Kleinberg, Rumble, Archer: "Load is not what
 * you should balance: Introducing Prequal", NSDI 2024), as the paper
 * describes it.
 *
 * The client keeps a pool of at most m (`pool`, 16) probe results, each a
 * server's answer (requests in flight, latency estimate) and when it came.
 * Per query:
 *  - probes: r_probe (`probes`, 3) stochastically rounded, to servers
 *    sampled uniformly without replacement; asynchronous by default (their
 *    answers join the pool when they come back, for later queries), or
 *    synchronous (`sync=true`: the query waits for its own probes);
 *  - a probe answer joins the pool, evicting the oldest result when full;
 *    results older than `max_age` seconds (1 s; converted with the tick)
 *    leave it;
 *  - selection: with fewer than 2 results, a server uniformly at random;
 *    else hot/cold: a result is hot when its RIF is above the Q_RIF
 *    (`rif_quantile`, 2^-0.25 ~ 0.84) quantile of the pooled RIFs; the cold
 *    result with the lowest latency wins (ties: lower RIF), and when every
 *    result is hot the one with the lowest RIF;
 *  - the client raises the RIF of the result it used by one, and counts the
 *    use against the result's reuse budget (Eq. 1):
 *        b_reuse = max{1, (1 + delta) / ((1 - m/n) r_probe - r_remove)},
 *    stochastically rounded when the result joins; n is the number of
 *    servers (the client's channels). Where the denominator is <= 0 the
 *    pool drains at least as fast as probes refill it, and reuse is not
 *    limited (the formula's limit as the denominator falls to 0);
 *  - removal: r_remove (`remove`, 1) results leave the pool per query,
 *    alternating the oldest and the worst (worst: the highest RIF when some
 *    result is hot, else the highest latency).
 *
 * Server side (accounting.h, rif_latency.h): a probe answers the server's
 * current requests in flight (queued ones count) and the median latency of
 * its recent completions at RIF-1, RIF and RIF+1. The scenario's
 * `probe_service: immediate` answers probes without a worker thread, as
 * Prequal's servers do; `queued` (the seed's) queues them.
 *
 * Here: a channel keeps its latest probe answer (channel.h), so two answers
 * of one server between two picks count as one, the later. A server with
 * no latency sample answers -1: such a result counts as latency 0. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

#define POOL_MAX 64

struct result {
  struct lb_channel *ch;
  double rif;
  double latency;
  double time;
  long uses_left; /* < 0: unlimited */
};

struct prequal {
  struct lb_picker base;
  double probes;
  int pool_size;
  double max_age_s;
  double rif_quantile;
  int remove;
  double delta;
  bool sync;
  struct result pool[POOL_MAX];
  int npool;
  bool remove_worst_next; /* removal alternates: oldest first */
  unsigned long *seen;    /* per channel index: probe_answers taken in */
  unsigned long *in_gen;  /* per channel index: listed in pick `gen` */
  unsigned long gen;
  size_t idx[LB_PICK_MAX_CHANNELS];
  double rifs[POOL_MAX];
};

static void remove_at(struct prequal *q, int i) {
  for (int j = i + 1; j < q->npool; j++)
    q->pool[j - 1] = q->pool[j];
  q->npool--;
}

/* Eq. 1, stochastically rounded; -1: unlimited. */
static long reuse_budget(const struct prequal *q, const struct lb_pick_env *env) {
  int n = q->base.nchannels;
  double denom = (1.0 - (double)q->pool_size / n) * q->probes - q->remove;
  if (!(denom > 0))
    return -1;
  double b = (1.0 + q->delta) / denom;
  if (b < 1)
    b = 1;
  return lb_rng_random_round(env->rng, b);
}

static void add_result(struct prequal *q, const struct lb_pick_env *env, struct lb_channel *ch) {
  if (q->npool == q->pool_size) {
    int oldest = 0;
    for (int i = 1; i < q->npool; i++)
      if (q->pool[i].time < q->pool[oldest].time)
        oldest = i;
    remove_at(q, oldest);
  }
  q->pool[q->npool++] = (struct result){
      .ch = ch,
      .rif = ch->probe_rif,
      .latency = ch->probe_latency >= 0 ? ch->probe_latency : 0,
      .time = ch->probe_at,
      .uses_left = reuse_budget(q, env),
  };
}

static double max_age_ticks(const struct prequal *q, const struct lb_pick_env *env) {
  double tick = env->tick_seconds > 0 ? env->tick_seconds : LB_PICK_DEFAULT_TICK_S;
  return q->max_age_s / tick;
}

/* New answers of the listed channels in, stale results out. */
static void refresh(struct prequal *q, const struct lb_pick_env *env, struct lb_channel *const *chs,
                    int n) {
  for (int i = 0; i < n; i++) {
    struct lb_channel *ch = chs[i];
    if (ch->probe_answers != q->seen[ch->index]) {
      q->seen[ch->index] = ch->probe_answers;
      add_result(q, env, ch);
    }
  }
  double max_age = max_age_ticks(q, env);
  for (int i = q->npool - 1; i >= 0; i--)
    if (env->now_ticks - q->pool[i].time > max_age)
      remove_at(q, i);
}

static bool eligible(const struct prequal *q, const struct result *r) {
  return q->sync || q->in_gen[r->ch->index] == q->gen;
}

static void sort_small(double *v, int n) {
  for (int i = 1; i < n; i++) {
    double x = v[i];
    int j = i;
    for (; j > 0 && v[j - 1] > x; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* The pool's hot threshold over the eligible results; their count in *nr. */
static double hot_threshold(struct prequal *q, int *nr) {
  int k = 0;
  for (int i = 0; i < q->npool; i++)
    if (eligible(q, &q->pool[i]))
      q->rifs[k++] = q->pool[i].rif;
  *nr = k;
  if (k == 0)
    return 0;
  sort_small(q->rifs, k);
  return lb__hcl_percentile(q->rifs, (size_t)k, NULL, 0, q->rif_quantile * 100);
}

/* Removes one result: the oldest, or the worst (highest RIF if any result
 * is hot, else highest latency), alternately. */
static void remove_one(struct prequal *q) {
  if (q->npool == 0)
    return;
  int nr = 0;
  double hot_above = hot_threshold(q, &nr);
  bool any_hot = false;
  for (int i = 0; i < q->npool; i++)
    any_hot = any_hot || q->pool[i].rif > hot_above;
  int victim = 0;
  for (int i = 1; i < q->npool; i++) {
    const struct result *a = &q->pool[i], *b = &q->pool[victim];
    bool better;
    if (!q->remove_worst_next)
      better = a->time < b->time;
    else if (any_hot)
      better = a->rif > b->rif;
    else
      better = a->latency > b->latency;
    if (better)
      victim = i;
  }
  q->remove_worst_next = !q->remove_worst_next;
  remove_at(q, victim);
}

/* Selects from the pool (the caller checked it has 2+ eligible results),
 * uses the result, applies removal. */
static struct lb_channel *select_and_use(struct prequal *q) {
  int nr = 0;
  double hot_above = hot_threshold(q, &nr);
  int cold = -1, coolest = -1;
  for (int i = 0; i < q->npool; i++) {
    const struct result *r = &q->pool[i];
    if (!eligible(q, r))
      continue;
    if (r->rif <= hot_above &&
        (cold < 0 || r->latency < q->pool[cold].latency ||
         (r->latency == q->pool[cold].latency && r->rif < q->pool[cold].rif)))
      cold = i;
    if (coolest < 0 || r->rif < q->pool[coolest].rif)
      coolest = i;
  }
  int c = cold >= 0 ? cold : coolest;
  struct result *chosen = &q->pool[c];
  struct lb_channel *ch = chosen->ch;
  chosen->rif += 1;
  if (chosen->uses_left > 0 && --chosen->uses_left == 0)
    remove_at(q, c);
  for (int k = 0; k < q->remove; k++)
    remove_one(q);
  return ch;
}

static int eligible_count(const struct prequal *q) {
  int k = 0;
  for (int i = 0; i < q->npool; i++)
    k += eligible(q, &q->pool[i]);
  return k;
}

static int pq_resume(struct lb_picker *self, const struct lb_pick_env *env, struct lb_pick *pick,
                     struct lb_channel **out) {
  struct prequal *q = (struct prequal *)self;
  for (int i = 0; i < pick->nprobes; i++)
    if (!pick->probes[i].done)
      return LB_PICK_WAIT;
  /* Every probe of this query answered: their answers join the pool. */
  struct lb_channel *chs[LB_PICK_MAX_PROBES];
  int n = 0;
  for (int i = 0; i < pick->nprobes && n < LB_PICK_MAX_PROBES; i++)
    chs[n++] = pick->probes[i].channel;
  pick->waiting = NULL;
  refresh(q, env, chs, n);
  if (eligible_count(q) < 2) {
    if (n == 0)
      return -EINVAL; /* a sync pick always probes at least one channel */
    *out = chs[lb_rng_below(env->rng, (size_t)n)];
    return LB_PICK_DONE;
  }
  *out = select_and_use(q);
  return LB_PICK_DONE;
}

static int pq_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  struct prequal *q = (struct prequal *)self;
  unsigned long gen = ++q->gen;
  for (int i = 0; i < n; i++)
    q->in_gen[chs[i]->index] = gen;
  refresh(q, env, chs, n);
  long k = lb_rng_random_round(env->rng, q->probes);
  if (q->sync) {
    if (k < 1)
      k = 1;
    if (k > n)
      k = n;
    if (k > pick->cap)
      return -E2BIG;
    lb_rng_sample(env->rng, (size_t)n, (size_t)k, q->idx);
    pick->nprobes = 0;
    for (long i = 0; i < k; i++) {
      struct lb_probe *pr = &pick->probes[i];
      *pr = (struct lb_probe){.channel = chs[q->idx[i]]};
      int rc = lb__picker_send_probe(env, pr->channel, pr);
      if (rc < 0) {
        lb__pick_release(pick, env);
        return rc;
      }
      pick->nprobes = (int)i + 1;
    }
    pick->waiting = self;
    return LB_PICK_WAIT;
  }
  int rc = lb__picker_probe_sample(env, chs, n, k, q->idx);
  if (rc < 0)
    return rc;
  if (eligible_count(q) < 2) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  *out = select_and_use(q);
  return LB_PICK_DONE;
}

static void pq_free(struct lb_picker *self) {
  struct prequal *q = (struct prequal *)self;
  free(q->seen);
  free(q->in_gen);
  free(q);
}

static const struct lb_picker_ops pq_ops = {pq_pick, pq_resume, pq_free};

static int pq_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct prequal), &pq_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct prequal *q = (struct prequal *)p;
  q->probes = spec->args[0].num;
  q->pool_size = (int)spec->args[1].num;
  q->max_age_s = spec->args[2].num;
  q->rif_quantile = spec->args[3].num;
  q->remove = (int)spec->args[4].num;
  q->delta = spec->args[5].num;
  q->sync = false;
  q->seen = calloc((size_t)nchannels, sizeof(unsigned long));
  q->in_gen = calloc((size_t)nchannels, sizeof(unsigned long));
  if (!q->seen || !q->in_gen) {
    pq_free(p);
    return -ENOMEM;
  }
  *out = p;
  return 0;
}

static int pq_create_sync(const struct lb_picker_spec *spec, int nchannels,
                          struct lb_picker **out) {
  int rc = pq_create(spec, nchannels, out);
  if (rc < 0)
    return rc;
  struct prequal *q = (struct prequal *)*out;
  q->sync = true;
  long most = (long)ceil(q->probes);
  if (most < 1)
    most = 1;
  if (most > nchannels)
    most = nchannels;
  if (most > LB_PICK_MAX_PROBES)
    most = LB_PICK_MAX_PROBES;
  (*out)->max_watched = (int)most;
  return 0;
}

static const struct lb_arg_def pq_args[] = {
    {.name = "probes",
     .kind = LB_ARG_NUM,
     .def = 3,
     .min = 0,
     .max = LB_PICK_MAX_PROBES,
     .help = "r_probe: probes per query, stochastically rounded"},
    {.name = "pool",
     .kind = LB_ARG_INT,
     .def = 16,
     .min = 1,
     .max = POOL_MAX,
     .help = "m: probe results kept"},
    {.name = "max_age",
     .kind = LB_ARG_NUM,
     .def = 1,
     .min = 0,
     .max = 1e12,
     .help = "seconds a probe result stays usable (converted with the tick)"},
    {.name = "rif_quantile",
     .kind = LB_ARG_NUM,
     .def = 0.8408964152537145, /* 2^-0.25 */
     .min = 0,
     .max = 1,
     .help = "Q_RIF: results with RIF above this quantile of the pool are hot"},
    {.name = "remove",
     .kind = LB_ARG_INT,
     .def = 1,
     .min = 0,
     .max = POOL_MAX,
     .help = "r_remove: results removed per query, alternating oldest and worst"},
    {.name = "delta",
     .kind = LB_ARG_NUM,
     .def = 0.1,
     .min = 0,
     .max = 1e6,
     .help = "delta of the reuse budget (Eq. 1)"},
};

const struct lb_picker_type lb__picker_prequal = {
    .name = "prequal",
    .help = "Prequal (async): probe pool, hot/cold on (RIF, latency), reuse budget, removal",
    .args = pq_args,
    .nargs = 6,
    .probes = true,
    .create = pq_create,
};

const struct lb_picker_type lb__picker_prequal_sync = {
    .name = "prequal_sync",
    .help = "Prequal, sync mode: each query waits for its own probes' answers",
    .args = pq_args,
    .nargs = 6,
    .probes = true,
    .create = pq_create_sync,
};
