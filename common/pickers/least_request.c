/* least_request: Envoy's LEAST_REQUEST load balancer.
 *
 * Envoy (source/common/upstream/load_balancer_impl.cc, LeastRequestLoadBalancer)
 * draws `choice_count` hosts at random, independently (with replacement),
 * and keeps the one with the fewest active requests (the first of equals):
 * power of two choices by default. With unequal host weights it schedules
 * by EDF on weight / (active + 1)^active_request_bias instead. Our hosts
 * carry no static weights (all 1), so the effective weight
 * 1 / (active + 1)^bias orders hosts exactly as their active requests do
 * and `bias` changes nothing; it is kept for the spelling and computed as
 * Envoy would. Active requests: this client's requests and probes in flight
 * on the channel. */
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

struct least_request {
  struct lb_picker base;
  int choices;
  double bias;
};

static double effective_weight(const struct least_request *lr, const struct lb_channel *ch) {
  double active = ch->requests_in_flight > 0 ? ch->requests_in_flight : 0;
  return 1.0 / pow(active + 1, lr->bias);
}

static int lr_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct least_request *lr = (struct least_request *)self;
  struct lb_channel *best = NULL;
  double best_w = 0;
  for (int i = 0; i < lr->choices; i++) {
    struct lb_channel *ch = chs[lb_rng_below(env->rng, (size_t)n)];
    double w = effective_weight(lr, ch);
    if (!best || w > best_w) {
      best = ch;
      best_w = w;
    }
  }
  *out = best;
  return LB_PICK_DONE;
}

static void lr_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops lr_ops = {lr_pick, NULL, lr_free};

static int lr_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct least_request), &lr_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct least_request *lr = (struct least_request *)p;
  lr->choices = (int)spec->args[0].num;
  lr->bias = spec->args[1].num;
  *out = p;
  return 0;
}

static const struct lb_arg_def lr_args[] = {
    {.name = "choices",
     .kind = LB_ARG_INT,
     .def = 2,
     .min = 1,
     .max = LB_PICK_MAX_CHANNELS,
     .help = "hosts drawn (with replacement) per pick"},
    {.name = "bias",
     .kind = LB_ARG_NUM,
     .def = 1.0,
     .min = 0,
     .max = 100,
     .help = "active_request_bias: weight / (active + 1)^bias"},
};

const struct lb_picker_type lb__picker_least_request = {
    .name = "least_request",
    .help = "Envoy least request: fewest active requests of `choices` random channels (P2C)",
    .args = lr_args,
    .nargs = 2,
    .create = lr_create,
};
