/* fastest_probe: the seed's FastestProbe(validate). On the first call it
 * sends a watched probe on every channel of the list, in shuffled order, and
 * answers WAIT. On each resume it returns the channel of the first probe, in
 * that order, that has completed and passes `validate`; once every probe has
 * completed and none passed, the channel of the fastest probe (the last of
 * equals: the seed builds {latency: channel} and a later probe overwrites an
 * equal latency). The other probes are unwatched, not cancelled.
 *
 * validate:
 *   always              AlwaysTrue (the default).
 *   empty_server        the seed's IsServerEmpty, kept as written: it
 *                       compares the probe's requests_in_queue *window* to 0,
 *                       which is never equal, so no probe is ever valid and
 *                       the pick waits for every probe, then takes the
 *                       fastest. (The seed itself then ends its generator
 *                       with `return channel`, which its Client.tick would
 *                       see as StopIteration; we return the channel.)
 *   empty_server_fixed  what IsServerEmpty meant: the probe's report says
 *                       its latest queued requests was 0. */
#include <errno.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

enum validate { VALIDATE_ALWAYS, VALIDATE_EMPTY_SERVER, VALIDATE_EMPTY_SERVER_FIXED };

struct fastest_probe {
  struct lb_picker base;
  enum validate validate;
  size_t order[LB_PICK_MAX_CHANNELS];
};

static bool probe_valid(enum validate v, const struct lb_probe *pr) {
  switch (v) {
  case VALIDATE_ALWAYS:
    return true;
  case VALIDATE_EMPTY_SERVER:
    return false; /* LastNFloats == 0 is always False */
  case VALIDATE_EMPTY_SERVER_FIXED:
    return pr->has_queued && pr->queued_latest == 0;
  }
  return false;
}

static int fp_resume(struct lb_picker *self, const struct lb_pick_env *env, struct lb_pick *pick,
                     struct lb_channel **out) {
  struct fastest_probe *fp = (struct fastest_probe *)self;
  struct lb_channel *chosen = NULL;
  bool all_done = true;
  for (int i = 0; i < pick->nprobes; i++) {
    const struct lb_probe *pr = &pick->probes[i];
    if (pr->done && probe_valid(fp->validate, pr)) {
      chosen = pr->channel;
      break;
    }
    if (!pr->done)
      all_done = false;
  }
  if (!chosen && all_done) {
    const struct lb_probe *best = NULL;
    for (int i = 0; i < pick->nprobes; i++) {
      const struct lb_probe *pr = &pick->probes[i];
      if (!best || pr->latency <= best->latency)
        best = pr;
    }
    chosen = best ? best->channel : NULL;
    if (!chosen)
      return -EINVAL;
  }
  if (!chosen)
    return LB_PICK_WAIT;
  lb__pick_release(pick, env);
  pick->waiting = NULL;
  *out = chosen;
  return LB_PICK_DONE;
}

static int fp_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  struct fastest_probe *fp = (struct fastest_probe *)self;
  if (n > pick->cap)
    return -E2BIG;
  lb_rng_sample(env->rng, (size_t)n, (size_t)n, fp->order);
  pick->nprobes = 0;
  for (int i = 0; i < n; i++) {
    struct lb_probe *pr = &pick->probes[i];
    *pr = (struct lb_probe){.channel = chs[fp->order[i]]};
    int rc = lb__picker_send_probe(env, pr->channel, pr);
    if (rc < 0) {
      lb__pick_release(pick, env);
      return rc;
    }
    pick->nprobes = i + 1;
  }
  pick->waiting = self;
  /* The seed checks at once (nothing has completed yet), then yields None. */
  return fp_resume(self, env, pick, out);
}

static void fp_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops fp_ops = {fp_pick, fp_resume, fp_free};

static int fp_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct fastest_probe), &fp_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  ((struct fastest_probe *)p)->validate = (enum validate)(int)spec->args[0].num;
  /* one watched probe per channel it is given, at most the client's */
  p->max_watched = nchannels < LB_PICK_MAX_PROBES ? nchannels : LB_PICK_MAX_PROBES;
  *out = p;
  return 0;
}

static const char *const validate_names[] = {"always", "empty_server", "empty_server_fixed", NULL};

static const struct lb_arg_def fp_args[] = {
    {.name = "validate",
     .kind = LB_ARG_ENUM,
     .def = VALIDATE_ALWAYS,
     .choices = validate_names,
     .help = "which completed probe counts: always; empty_server (the seed's, never true); "
             "empty_server_fixed (latest queued == 0)"},
};

const struct lb_picker_type lb__picker_fastest_probe = {
    .name = "fastest_probe",
    .help = "probe every channel, take the first valid probe to come back (FastestProbe)",
    .args = fp_args,
    .nargs = 1,
    .probes = true,
    .create = fp_create,
};
