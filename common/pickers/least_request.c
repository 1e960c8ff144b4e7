/* least_request: Envoy's LEAST_REQUEST load balancer.
 *
 * Envoy (source/common/upstream/load_balancer_impl.cc,
 * LeastRequestLoadBalancer; docs: arch_overview/upstream/load_balancing):
 *  - all host weights equal: `choice_count` hosts drawn at random,
 *    independently (with replacement), the one with the fewest active
 *    requests kept (the first of equals): power of two choices by default;
 *  - unequal weights: earliest-deadline-first over the effective weights
 *        weight / (active + 1)^active_request_bias,
 *    a host's deadline moving on by 1/effective weight each time it is
 *    picked, its effective weight read at that moment.
 * Host weights: `weights=threads` (default) takes a server's thread count
 * from its reports (a server not yet heard from weighs the mean of those
 * that were, or 1), as a control plane would give its capacity;
 * `weights=none` weighs every host 1. A slow_start() around this picker
 * multiplies each weight by its ramp factor (lb_pick_env.weight_factor).
 * Active requests: this client's requests and probes in flight on the
 * channel. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

enum weights { WEIGHTS_THREADS, WEIGHTS_NONE };

struct host {
  bool scheduled;
  double deadline;
};

struct least_request {
  struct lb_picker base;
  int choices;
  double bias;
  enum weights weights;
  double vtime;
  struct host *host; /* per channel index */
  double w[LB_PICK_MAX_CHANNELS];
};

static double active_of(const struct lb_channel *ch) {
  return ch->requests_in_flight > 0 ? ch->requests_in_flight : 0;
}

/* Host weights of the list into lr->w; true when they are all equal. */
static bool host_weights(struct least_request *lr, const struct lb_pick_env *env,
                         struct lb_channel *const *chs, int n) {
  double sum = 0;
  int known = 0;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    lr->w[i] = 0;
    if (lr->weights == WEIGHTS_NONE) {
      lr->w[i] = 1;
    } else if (ch->has_report && ch->report.threads > 0) {
      lr->w[i] = ch->report.threads;
      sum += lr->w[i];
      known++;
    }
  }
  double unknown = known ? sum / known : 1;
  bool equal = true;
  for (int i = 0; i < n; i++) {
    if (!(lr->w[i] > 0))
      lr->w[i] = unknown;
    if (env->weight_factor)
      lr->w[i] *= env->weight_factor[chs[i]->index];
    equal = equal && lr->w[i] == lr->w[0];
  }
  return equal;
}

static struct lb_channel *p2c(const struct least_request *lr, const struct lb_pick_env *env,
                              struct lb_channel *const *chs, int n) {
  struct lb_channel *best = NULL;
  for (int i = 0; i < lr->choices; i++) {
    struct lb_channel *ch = chs[lb_rng_below(env->rng, (size_t)n)];
    if (!best || active_of(ch) < active_of(best))
      best = ch;
  }
  return best;
}

static struct lb_channel *edf(struct least_request *lr, const struct lb_pick_env *env,
                              struct lb_channel *const *chs, int n) {
  int best = -1;
  for (int i = 0; i < n; i++) {
    struct host *h = &lr->host[chs[i]->index];
    double eff = lr->w[i] / pow(active_of(chs[i]) + 1, lr->bias);
    if (!h->scheduled) {
      h->deadline = lr->vtime + lb_rng_uniform(env->rng) / eff; /* a random start */
      h->scheduled = true;
    } else if (h->deadline < lr->vtime) {
      h->deadline = lr->vtime;
    }
    if (best < 0 || h->deadline < lr->host[chs[best]->index].deadline)
      best = i;
  }
  struct host *h = &lr->host[chs[best]->index];
  lr->vtime = h->deadline;
  /* re-added with its effective weight as it is at the pick (Envoy's
   * pickAndAdd: the request is counted active only once sent) */
  h->deadline = lr->vtime + pow(active_of(chs[best]) + 1, lr->bias) / lr->w[best];
  return chs[best];
}

static int lr_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct least_request *lr = (struct least_request *)self;
  if (host_weights(lr, env, chs, n))
    *out = p2c(lr, env, chs, n);
  else
    *out = edf(lr, env, chs, n);
  return LB_PICK_DONE;
}

static void lr_free(struct lb_picker *self) {
  struct least_request *lr = (struct least_request *)self;
  free(lr->host);
  free(lr);
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
  lr->weights = (enum weights)(int)spec->args[2].num;
  lr->host = calloc((size_t)nchannels, sizeof(*lr->host));
  if (!lr->host) {
    lr_free(p);
    return -ENOMEM;
  }
  *out = p;
  return 0;
}

static const char *const weights_choices[] = {"threads", "none", NULL};

static const struct lb_arg_def lr_args[] = {
    {.name = "choices",
     .kind = LB_ARG_INT,
     .def = 2,
     .min = 1,
     .max = LB_PICK_MAX_CHANNELS,
     .help = "hosts drawn (with replacement) per pick, when weights are equal"},
    {.name = "bias",
     .kind = LB_ARG_NUM,
     .def = 1.0,
     .min = 0,
     .max = 100,
     .help = "active_request_bias: weight / (active + 1)^bias, when weights differ"},
    {.name = "weights",
     .kind = LB_ARG_ENUM,
     .def = WEIGHTS_THREADS,
     .choices = weights_choices,
     .help = "host weights: threads (a server's reported thread count) or none (all 1)"},
};

const struct lb_picker_type lb__picker_least_request = {
    .name = "least_request",
    .help = "Envoy least request: P2C on active requests, or EDF on weight/(active+1)^bias",
    .args = lr_args,
    .nargs = 3,
    .create = lr_create,
};
