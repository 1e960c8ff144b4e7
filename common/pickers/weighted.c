/* weighted: the seed's Weighted(cost_fn, allow_negative_cost=False).
 *   cost:    None stays None; else the cost, clamped at 0 unless
 *            allow_negative.
 *   average: mean of the truthy costs (None AND 0 dropped); when there is
 *            none (or it is 0) the pick is random.choice(channels).
 *   costs:   `cost or average`: None and 0 both become the average.
 *   weights: 1/cost; with allow_negative and a weight <= 0, all shifted by
 *            (0.1 - min weight); normalised; random.choices(weights).
 * Not in the seed: weights that overflow to infinity (a cost near 0) would
 * make the seed's random.choices raise; we pick among the infinite ones. */
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

struct weighted {
  struct lb_picker base;
  struct lb_cost cost;
  bool allow_negative;
  double w[LB_PICK_MAX_CHANNELS];
  bool has[LB_PICK_MAX_CHANNELS];
};

static int weighted_pick(struct lb_picker *self, const struct lb_pick_env *env,
                         struct lb_channel *const *chs, int n, struct lb_pick *pick,
                         struct lb_channel **out) {
  (void)pick;
  struct weighted *wt = (struct weighted *)self;
  double *w = wt->w;
  for (int i = 0; i < n; i++) {
    wt->has[i] = lb_cost_eval(&wt->cost, chs[i], &w[i]);
    if (wt->has[i] && !wt->allow_negative && !(w[i] > 0))
      w[i] = 0; /* max(0, cost) */
  }
  double average;
  if (!lb__average_truthy(w, wt->has, n, &average) || average == 0) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  double min_w = INFINITY;
  int infinite = 0;
  for (int i = 0; i < n; i++) {
    double c = wt->has[i] && w[i] != 0 ? w[i] : average;
    w[i] = 1 / c;
    if (w[i] < min_w)
      min_w = w[i];
    if (isinf(w[i]))
      infinite++;
  }
  if (infinite) {
    size_t which = lb_rng_below(env->rng, (size_t)infinite);
    for (int i = 0; i < n; i++) {
      if (isinf(w[i]) && which-- == 0) {
        *out = chs[i];
        return LB_PICK_DONE;
      }
    }
  }
  if (wt->allow_negative && min_w <= 0) {
    for (int i = 0; i < n; i++)
      w[i] = w[i] - min_w + 0.1;
  }
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += w[i];
  double average_weight = sum / n;
  for (int i = 0; i < n; i++)
    w[i] = w[i] / average_weight / n;
  *out = chs[lb_rng_weighted(env->rng, w, (size_t)n)];
  return LB_PICK_DONE;
}

static void weighted_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops weighted_ops = {weighted_pick, NULL, weighted_free};

static int weighted_create(const struct lb_picker_spec *spec, int nchannels,
                           struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct weighted), &weighted_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct weighted *wt = (struct weighted *)p;
  wt->cost = spec->args[0].cost;
  wt->allow_negative = spec->args[1].num != 0;
  *out = p;
  return 0;
}

static const struct lb_arg_def weighted_args[] = {
    {.name = "cost", .kind = LB_ARG_COST, .required = true, .help = "cost; weight is 1/cost"},
    {.name = "allow_negative",
     .kind = LB_ARG_BOOL,
     .def = 0,
     .help = "keep negative costs (weights shifted positive)"},
};

const struct lb_picker_type lb__picker_weighted = {
    .name = "weighted",
    .help = "random, weighted by 1/cost; missing costs get the average (Weighted)",
    .args = weighted_args,
    .nargs = 2,
    .create = weighted_create,
};
