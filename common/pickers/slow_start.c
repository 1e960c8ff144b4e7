/* slow_start: Envoy's slow start mode (slow_start_config of the round
 * robin and least request load balancers) around a weighted picker.
 *
 * A host that joins, or returns, ramps its weight over `window` seconds:
 *     time_factor = max(time_since_start, 1 s) / window
 *     factor = max(min_weight_percent / 100, time_factor^(1 / aggression))
 * while time_since_start < window; 1 after. The factor multiplies the
 * host's weight: this picker hands the factors to the picker it wraps
 * (lb_pick_env.weight_factor), and weighted pickers (least_request) apply
 * them.
 *
 * Here: a channel joins when this client first picks among it; it returns
 * when its server's report shows a reset it had not shown (report.resets:
 * lbsim's servers; a real server's restart is a fresh join of its
 * connection). Time is env->now_ticks converted with the tick. A waiting
 * inner picker's resumes do not pass through here (no weights there). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "picker_impl.h"

struct slow_start {
  struct lb_picker base;
  struct lb_picker *inner;
  double window_s, aggression, min_percent;
  bool *joined;      /* per channel index */
  double *start;     /* per channel index: ticks its ramp started */
  uint32_t *resets;  /* per channel index: report.resets seen */
  double *factor;    /* per channel index: handed to the inner picker */
};

/* Envoy's factor, time_since_start in seconds. */
static double ramp_factor(const struct slow_start *s, double since) {
  if (since >= s->window_s)
    return 1;
  double tf = (since > 1 ? since : 1) / s->window_s;
  double f = pow(tf, 1 / s->aggression);
  double lo = s->min_percent / 100;
  return f > lo ? f : lo;
}

static int ss_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  struct slow_start *s = (struct slow_start *)self;
  double tick = env->tick_seconds > 0 ? env->tick_seconds : LB_PICK_DEFAULT_TICK_S;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    int k = ch->index;
    if (!s->joined[k]) {
      s->joined[k] = true;
      s->start[k] = env->now_ticks;
      s->resets[k] = ch->has_report ? ch->report.resets : 0;
    } else if (ch->has_report && ch->report.resets != s->resets[k]) {
      s->resets[k] = ch->report.resets;
      s->start[k] = env->now_ticks;
    }
    s->factor[k] = ramp_factor(s, (env->now_ticks - s->start[k]) * tick);
  }
  struct lb_pick_env inner = *env;
  inner.weight_factor = s->factor;
  return s->inner->ops->pick(s->inner, &inner, chs, n, pick, out);
}

static void ss_free(struct lb_picker *self) {
  struct slow_start *s = (struct slow_start *)self;
  lb_picker_free(s->inner);
  free(s->joined);
  free(s->start);
  free(s->resets);
  free(s->factor);
  free(s);
}

static const struct lb_picker_ops ss_ops = {ss_pick, NULL, ss_free};

static int ss_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct slow_start), &ss_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct slow_start *s = (struct slow_start *)p;
  s->window_s = spec->args[1].num;
  s->aggression = spec->args[2].num;
  s->min_percent = spec->args[3].num;
  s->joined = calloc((size_t)nchannels, sizeof(*s->joined));
  s->start = calloc((size_t)nchannels, sizeof(*s->start));
  s->resets = calloc((size_t)nchannels, sizeof(*s->resets));
  s->factor = calloc((size_t)nchannels, sizeof(*s->factor));
  if (!s->joined || !s->start || !s->resets || !s->factor) {
    ss_free(p);
    return -ENOMEM;
  }
  rc = lb_picker_new(spec->args[0].picker, nchannels, &s->inner);
  if (rc < 0) {
    ss_free(p);
    return rc;
  }
  p->max_watched = s->inner->max_watched;
  *out = p;
  return 0;
}

static const struct lb_arg_def ss_args[] = {
    {.name = "picker",
     .kind = LB_ARG_PICKER,
     .required = true,
     .help = "weighted picker whose weights ramp (least_request)"},
    {.name = "window",
     .kind = LB_ARG_NUM,
     .def = 10,
     .min = 1e-9,
     .max = 1e12,
     .help = "slow_start_window, seconds (converted with the tick)"},
    {.name = "aggression",
     .kind = LB_ARG_NUM,
     .def = 1,
     .min = 1e-9,
     .max = 1e6,
     .help = "the ramp's aggression: factor = time_factor^(1/aggression)"},
    {.name = "min_weight_percent",
     .kind = LB_ARG_NUM,
     .def = 10,
     .min = 0,
     .max = 100,
     .help = "the lowest factor, percent"},
};

const struct lb_picker_type lb__picker_slow_start = {
    .name = "slow_start",
    .help = "Envoy slow start: a joining or returning host's weight ramps over `window` seconds",
    .args = ss_args,
    .nargs = 4,
    .create = ss_create,
};
