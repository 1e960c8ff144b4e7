/* peak_ewma: Finagle's / Linkerd's peak-EWMA load balancer.
 *
 * Finagle (finagle-core .../loadbalancer/PeakEwma.scala) and tower's
 * PeakEwma (linkerd2-proxy) keep per endpoint a latency estimate that jumps
 * to any sample above it (peak sensitive) and otherwise decays towards
 * new samples with weight w = exp(-elapsed / decay):
 *     observe(rtt): if rtt > cost: cost = rtt
 *                   else cost = cost * w + rtt * (1 - w);  stamp = now
 * Reading the estimate first observes 0, so an idle endpoint's estimate
 * decays with time. Load = cost * (pending + 1), or Penalty + pending for an
 * endpoint with pending requests and no estimate yet; the pick is the lower
 * load of two distinct random endpoints (power of two choices).
 *
 * Here: time is in ticks (env->now_ticks; decay=10 ticks stands for
 * Finagle's 10 s), samples are the total ticks of the channel's completed
 * requests and probes, each observed at the time it completed (the
 * channel's completed_at) when a pick next looks at the channel, and
 * pending is this client's requests in flight on it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

#define PENALTY ((double)(INT64_MAX >> 16)) /* Finagle's Penalty */

struct endpoint {
  double cost;
  double stamp;
  unsigned long seen; /* ch->completed_count observed so far */
};

struct peak_ewma {
  struct lb_picker base;
  double decay;
  struct endpoint *ep; /* per channel index */
};

static void observe(const struct peak_ewma *pe, struct endpoint *e, double now, double rtt) {
  double td = now - e->stamp;
  if (td < 0)
    td = 0;
  double w = exp(-td / pe->decay);
  if (rtt > e->cost)
    e->cost = rtt;
  else
    e->cost = e->cost * w + rtt * (1.0 - w);
  e->stamp = now;
}

static double load(const struct peak_ewma *pe, const struct lb_channel *ch, double now) {
  struct endpoint *e = &pe->ep[ch->index];
  /* New samples since the last look, oldest first. */
  unsigned long fresh = ch->completed_count - e->seen;
  size_t len = lb_window_len(&ch->latency);
  if (fresh > len)
    fresh = len;
  for (size_t i = len - fresh; i < len; i++) /* each at its own arrival */
    observe(pe, e, lb_window_at(&ch->completed_at, i), lb_window_at(&ch->latency, i));
  e->seen = ch->completed_count;
  observe(pe, e, now, 0.0); /* get(): decay */
  double pending = ch->requests_in_flight > 0 ? ch->requests_in_flight : 0;
  if (e->cost == 0.0 && pending != 0)
    return PENALTY + pending;
  return e->cost * (pending + 1);
}

static int pe_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct peak_ewma *pe = (struct peak_ewma *)self;
  if (n == 1) {
    *out = chs[0];
    return LB_PICK_DONE;
  }
  size_t a = lb_rng_below(env->rng, (size_t)n);
  size_t b = lb_rng_below(env->rng, (size_t)n - 1);
  if (b >= a)
    b++;
  double la = load(pe, chs[a], env->now_ticks);
  double lb = load(pe, chs[b], env->now_ticks);
  *out = la <= lb ? chs[a] : chs[b];
  return LB_PICK_DONE;
}

static void pe_free(struct lb_picker *self) {
  struct peak_ewma *pe = (struct peak_ewma *)self;
  free(pe->ep);
  free(pe);
}

static const struct lb_picker_ops pe_ops = {pe_pick, NULL, pe_free};

static int pe_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct peak_ewma), &pe_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct peak_ewma *pe = (struct peak_ewma *)p;
  pe->decay = spec->args[0].num;
  pe->ep = calloc((size_t)nchannels, sizeof(*pe->ep));
  if (!pe->ep) {
    pe_free(p);
    return -ENOMEM;
  }
  *out = p;
  return 0;
}

static const struct lb_arg_def pe_args[] = {
    {.name = "decay",
     .kind = LB_ARG_NUM,
     .def = 10,
     .min = 1e-9,
     .max = 1e12,
     .help = "decay time of the latency estimate, in ticks"},
};

const struct lb_picker_type lb__picker_peak_ewma = {
    .name = "peak_ewma",
    .help = "Finagle/Linkerd peak EWMA: lower latency*(pending+1) of two random channels",
    .args = pe_args,
    .nargs = 1,
    .create = pe_create,
};
