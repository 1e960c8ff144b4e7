/* least: the seed's LeastCost(cost_fn, choices=None). With choices, first
 * random.sample(channels, k=min(choices, n)) (without replacement). Each
 * channel's cost is max(0, cost or 0): None (and negatives) count as 0.
 * The seed takes min() over a shuffled list, i.e. the lowest cost with ties
 * broken uniformly at random; we draw among the ties directly.
 * rotate_ties=true (not the seed's) takes the tied channel after the one
 * picked last, in channel order, as HAProxy's leastconn and nginx's
 * least_conn go round the servers of equal load. */
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

struct least_cost {
  struct lb_picker base;
  struct lb_cost cost;
  int choices; /* 0: None */
  bool rotate_ties;
  size_t last; /* rotate_ties: the channel picked last */
  size_t idx[LB_PICK_MAX_CHANNELS];
  int tie[LB_PICK_MAX_CHANNELS];
};

static int lc_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct least_cost *lc = (struct least_cost *)self;
  int m = n;
  if (lc->choices > 0) {
    m = lc->choices < n ? lc->choices : n;
    lb_rng_sample(env->rng, (size_t)n, (size_t)m, lc->idx);
  } else {
    for (int i = 0; i < n; i++)
      lc->idx[i] = (size_t)i;
  }
  /* One pass: the least cost so far and, in order, the channels that share
   * it (a lower cost starts the list again), without branching on the
   * costs (they are random: branches on them mispredict). Costs are never
   * NaN here; all infinite, they all tie. */
  double best = INFINITY;
  int ties = 0;
  for (int i = 0; i < m; i++) {
    double v = 0;
    if (!lb_cost_eval(&lc->cost, chs[lc->idx[i]], &v) || !(v > 0))
      v = 0; /* max(0, cost or 0) */
    bool lower = v < best;
    ties = lower ? 0 : ties;
    best = lower ? v : best;
    lc->tie[ties] = i;
    ties += v == best;
  }
  size_t which = 0;
  if (ties > 1 && lc->rotate_ties) {
    /* the first tie past the last pick, else the first (wrapping round) */
    for (int t = 0; t < ties; t++)
      if (lc->idx[lc->tie[t]] > lc->last) {
        which = (size_t)t;
        break;
      }
  } else if (ties > 1)
    which = lb_rng_below(env->rng, (size_t)ties);
  lc->last = lc->idx[lc->tie[which]];
  *out = chs[lc->last];
  return LB_PICK_DONE;
}

static void lc_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops lc_ops = {lc_pick, NULL, lc_free};

static int lc_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct least_cost), &lc_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct least_cost *lc = (struct least_cost *)p;
  lc->cost = spec->args[0].cost;
  lc->choices = spec->args[1].none ? 0 : (int)spec->args[1].num;
  lc->rotate_ties = spec->args[2].num != 0;
  lc->last = (size_t)-1; /* the first tie first */
  *out = p;
  return 0;
}

static const struct lb_arg_def lc_args[] = {
    {.name = "cost", .kind = LB_ARG_COST, .required = true, .help = "cost to minimise"},
    {.name = "choices",
     .kind = LB_ARG_INT,
     .none_default = true,
     .min = 1,
     .max = LB_PICK_MAX_CHANNELS,
     .help = "first sample this many channels without replacement (default: all)"},
    {.name = "rotate_ties",
     .kind = LB_ARG_BOOL,
     .def = 0,
     .help = "ties in turn (the one after the last pick), as HAProxy's and nginx's "
             "least-connections; default: at random, the seed's"},
};

const struct lb_picker_type lb__picker_least_cost = {
    .name = "least",
    .help = "the channel of least cost, None as 0, ties at random (LeastCost)",
    .args = lc_args,
    .nargs = 3,
    .create = lc_create,
};
