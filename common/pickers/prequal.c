/* prequal: Prequal (Wydrowski, Kleinberg, Rumble, Archer: "Load is not what
 * you should balance: Introducing Prequal", NSDI 2024).
 *
 * The client keeps a small pool of recent probe results, each a server's
 * (requests in flight, latency estimate) and its age. Per query it sends
 * `probes` probes (randomly rounded) to distinct random servers, and picks
 * from the pool by hot/cold lexicographic order: a result is hot when its
 * RIF is above the `rif_quantile` quantile of the pool's RIFs; among cold
 * results the lowest latency wins, and when all are hot the lowest RIF. The
 * chosen result's RIF is raised by one (the query just sent), so it can be
 * reused without herding. Results older than `max_age` ticks leave the pool;
 * when the pool is full the oldest one makes room.
 *
 * Here: a result is the report on any response of the channel (probes, and
 * requests, which carry the same report: Prequal proper uses probe replies
 * only), read when a pick next looks; latency is the report's
 * expected_latency (the server's latency at its current RIF, as Prequal's
 * servers estimate it), else its mean latency. With an empty pool the pick
 * is random. Time is env->now_ticks. */
#include <errno.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

#define POOL_MAX 64

struct result {
  int index; /* channel index */
  double rif;
  double latency;
  double time;
};

struct prequal {
  struct lb_picker base;
  double probes;
  int pool_size;
  double max_age;
  double rif_quantile;
  struct result pool[POOL_MAX];
  int npool;
  unsigned long *seen;   /* per channel index: completed_count observed */
  unsigned long *in_gen; /* per channel index: listed in pick `gen` */
  int *pos;              /* per channel index: its position in the list */
  unsigned long gen;
  size_t idx[LB_PICK_MAX_CHANNELS];
  double rifs[POOL_MAX];
};

static void remove_at(struct prequal *q, int i) {
  q->pool[i] = q->pool[--q->npool];
}

static void add_result(struct prequal *q, const struct lb_channel *ch, double now) {
  const struct lb_server_report *r = &ch->report;
  struct result res = {.index = ch->index, .time = now};
  res.rif = r->requests_in_flight.valid ? r->requests_in_flight.latest : 0;
  if (r->has_expected_latency)
    res.latency = r->expected_latency;
  else if (r->latency.valid)
    res.latency = r->latency.mean;
  for (int i = 0; i < q->npool; i++) {
    if (q->pool[i].index == ch->index) {
      q->pool[i] = res; /* fresher news of the same server */
      return;
    }
  }
  if (q->npool == q->pool_size) {
    int oldest = 0;
    for (int i = 1; i < q->npool; i++) {
      if (q->pool[i].time < q->pool[oldest].time)
        oldest = i;
    }
    remove_at(q, oldest);
  }
  q->pool[q->npool++] = res;
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

static int pq_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct prequal *q = (struct prequal *)self;
  double now = env->now_ticks;
  unsigned long gen = ++q->gen;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    q->in_gen[ch->index] = gen;
    q->pos[ch->index] = i;
    if (ch->completed_count != q->seen[ch->index]) {
      q->seen[ch->index] = ch->completed_count;
      if (ch->has_report)
        add_result(q, ch, now);
    }
  }
  for (int i = q->npool - 1; i >= 0; i--) {
    if (now - q->pool[i].time > q->max_age)
      remove_at(q, i);
  }

  int rc = lb__picker_probe_sample(env, chs, n, lb_rng_random_round(env->rng, q->probes), q->idx);
  if (rc < 0)
    return rc;

  int nr = 0;
  for (int i = 0; i < q->npool; i++) {
    if (q->in_gen[q->pool[i].index] == gen)
      q->rifs[nr++] = q->pool[i].rif;
  }
  if (nr == 0) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  sort_small(q->rifs, nr);
  double hot_above = lb__hcl_percentile(q->rifs, (size_t)nr, NULL, 0, q->rif_quantile * 100);
  int cold = -1, coolest = -1;
  for (int i = 0; i < q->npool; i++) {
    const struct result *r = &q->pool[i];
    if (q->in_gen[r->index] != gen)
      continue;
    if (r->rif <= hot_above &&
        (cold < 0 || r->latency < q->pool[cold].latency ||
         (r->latency == q->pool[cold].latency && r->rif < q->pool[cold].rif)))
      cold = i;
    if (coolest < 0 || r->rif < q->pool[coolest].rif)
      coolest = i;
  }
  struct result *chosen = &q->pool[cold >= 0 ? cold : coolest];
  chosen->rif += 1;
  *out = chs[q->pos[chosen->index]];
  return LB_PICK_DONE;
}

static void pq_free(struct lb_picker *self) {
  struct prequal *q = (struct prequal *)self;
  free(q->seen);
  free(q->in_gen);
  free(q->pos);
  free(q);
}

static const struct lb_picker_ops pq_ops = {pq_pick, NULL, pq_free};

static int pq_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct prequal), &pq_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct prequal *q = (struct prequal *)p;
  q->probes = spec->args[0].num;
  q->pool_size = (int)spec->args[1].num;
  q->max_age = spec->args[2].num;
  q->rif_quantile = spec->args[3].num;
  q->seen = calloc((size_t)nchannels, sizeof(unsigned long));
  q->in_gen = calloc((size_t)nchannels, sizeof(unsigned long));
  q->pos = calloc((size_t)nchannels, sizeof(int));
  if (!q->seen || !q->in_gen || !q->pos) {
    pq_free(p);
    return -ENOMEM;
  }
  *out = p;
  return 0;
}

static const struct lb_arg_def pq_args[] = {
    {.name = "probes",
     .kind = LB_ARG_NUM,
     .def = 3,
     .min = 0,
     .max = LB_PICK_MAX_CHANNELS,
     .help = "probes per query, randomly rounded"},
    {.name = "pool",
     .kind = LB_ARG_INT,
     .def = 16,
     .min = 1,
     .max = POOL_MAX,
     .help = "probe results kept"},
    {.name = "max_age",
     .kind = LB_ARG_NUM,
     .def = 20,
     .min = 0,
     .max = 1e12,
     .help = "ticks a probe result stays usable"},
    {.name = "rif_quantile",
     .kind = LB_ARG_NUM,
     .def = 0.8,
     .min = 0,
     .max = 1,
     .help = "results with RIF above this quantile of the pool are hot"},
};

const struct lb_picker_type lb__picker_prequal = {
    .name = "prequal",
    .help = "Prequal: probe pool, hot/cold lexicographic on (RIF, latency)",
    .args = pq_args,
    .nargs = 4,
    .probes = true,
    .create = pq_create,
};
