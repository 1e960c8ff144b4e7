/* probing: the seed's WithProbes(picker, probes_per_request=2.0). Sends
 * fire-and-forget probes, then delegates to the inner picker (which sees the
 * probes in its channels' requests in flight: drivers count a probe as sent
 * when send_probe returns). Quirk kept: the probed channels are
 * random.sample(ALL channels, k=min(#channels with no request in flight,
 * RandomRound(probes))) - the count of empty channels only caps how many are
 * probed; the probes may go to busy channels. */
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

struct with_probes {
  struct lb_picker base;
  struct lb_picker *inner;
  double probes;
  size_t idx[LB_PICK_MAX_CHANNELS];
};

int lb__with_probes_send(const struct lb_pick_env *env, struct lb_channel *const *chs, int n,
                         double probes, size_t *idx) {
  long empty = 0;
  for (int i = 0; i < n; i++)
    empty += chs[i]->requests_in_flight == 0;
  long k = lb_rng_random_round(env->rng, probes);
  return lb__picker_probe_sample(env, chs, n, k < empty ? k : empty, idx);
}

static int wp_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  struct with_probes *wp = (struct with_probes *)self;
  int rc = lb__with_probes_send(env, chs, n, wp->probes, wp->idx);
  if (rc < 0)
    return rc;
  return wp->inner->ops->pick(wp->inner, env, chs, n, pick, out);
}

static void wp_free(struct lb_picker *self) {
  struct with_probes *wp = (struct with_probes *)self;
  lb_picker_free(wp->inner);
  free(wp);
}

static const struct lb_picker_ops wp_ops = {wp_pick, NULL, wp_free};

static int wp_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct with_probes), &wp_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct with_probes *wp = (struct with_probes *)p;
  wp->probes = spec->args[1].num;
  rc = lb_picker_new(spec->args[0].picker, nchannels, &wp->inner);
  if (rc < 0) {
    free(wp);
    return rc;
  }
  p->max_watched = wp->inner->max_watched; /* its own probes are unwatched */
  *out = p;
  return 0;
}

static const struct lb_arg_def wp_args[] = {
    {.name = "picker",
     .kind = LB_ARG_PICKER,
     .required = true,
     .help = "picker that chooses after the probes are sent"},
    {.name = "probes",
     .kind = LB_ARG_NUM,
     .def = 2.0,
     .min = 0,
     .max = LB_PICK_MAX_CHANNELS,
     .help = "probes per request, randomly rounded"},
};

const struct lb_picker_type lb__picker_with_probes = {
    .name = "probing",
    .help = "send fire-and-forget probes to random channels, then run `picker` (WithProbes)",
    .args = wp_args,
    .nargs = 2,
    .probes = true,
    .create = wp_create,
};
