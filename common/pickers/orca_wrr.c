/* orca_wrr: gRPC's weighted_round_robin policy fed by ORCA load reports
 * (gRFC A58; grpc/src/core/load_balancing/weighted_round_robin).
 *
 * Each endpoint's weight comes from its latest backend metrics:
 *     weight = qps / (utilization + eps / qps * error_utilization_penalty)
 * (0, i.e. unknown, when qps or utilization is not positive). A weight is
 * used only after the endpoint has reported for `blackout` (gRPC's
 * blackout_period, 10 s) and until its last report is `expiry` old
 * (weight_expiration_period, 3 min; an expired endpoint starts its blackout
 * again). Endpoints without a usable weight get the mean of the usable
 * ones; with fewer than two usable weights every endpoint weighs the same
 * (plain round robin). The scheduler's weights are rebuilt every
 * `update` (weight_update_period, 1 s), each rebuild giving every
 * endpoint a random initial deadline (uniform in [0, 1/weight)); picks are
 * earliest-deadline-first: the endpoint with the smallest deadline is
 * chosen and its deadline moves on by 1/weight (gRPC's static stride
 * scheduler is a deterministic EDF of the same kind).
 *
 * Here: reports are the ORCA fields of the report on the channel's latest
 * response (orca_utilization = utilization ewma / 100, orca_qps = requests
 * served per tick, orca_eps = rejections per tick; lbserver gives them per
 * second); the periods are in seconds, converted with the tick
 * (env->tick_seconds). */
#include <errno.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

struct endpoint {
  unsigned long seen;     /* ch->completed_count observed */
  bool reported;          /* has a non-zero weight */
  double non_empty_since; /* time of the first report of this streak */
  double last_update;
  double weight;
  bool scheduled;
  double deadline;
  double sched_weight; /* the scheduler's, as of the latest rebuild */
};

struct orca_wrr {
  struct lb_picker base;
  double blackout_s, expiry_s, update_s, penalty;
  double blackout, expiry, update; /* in ticks, at the latest pick */
  bool built;
  double built_at;     /* ticks of the latest rebuild */
  double vtime;        /* deadline of the latest pick: the scheduler's clock */
  struct endpoint *ep; /* per channel index */
  double w[LB_PICK_MAX_CHANNELS];
};

static void on_report(struct orca_wrr *o, struct endpoint *e, const struct lb_server_report *r,
                      double now) {
  double qps = r->orca_qps, util = r->orca_utilization, eps = r->orca_eps;
  if (!(qps > 0) || !(util > 0))
    return; /* gRPC ignores a report that gives no weight */
  double weight = qps / (util + (eps / qps) * o->penalty);
  if (!e->reported || now - e->last_update >= o->expiry)
    e->non_empty_since = now;
  e->reported = true;
  e->last_update = now;
  e->weight = weight;
}

static double usable_weight(const struct orca_wrr *o, struct endpoint *e, double now) {
  if (!e->reported)
    return 0;
  if (now - e->last_update >= o->expiry) {
    e->reported = false;
    return 0;
  }
  if (o->blackout > 0 && now - e->non_empty_since < o->blackout)
    return 0;
  return e->weight;
}

/* gRPC's rebuild: every listed endpoint's weight as of now, a random
 * initial deadline each. */
static void rebuild(struct orca_wrr *o, const struct lb_pick_env *env,
                    struct lb_channel *const *chs, int n) {
  double now = env->now_ticks;
  double sum = 0;
  int usable = 0;
  for (int i = 0; i < n; i++) {
    o->w[i] = usable_weight(o, &o->ep[chs[i]->index], now);
    if (o->w[i] > 0) {
      sum += o->w[i];
      usable++;
    }
  }
  double mean = usable ? sum / usable : 1;
  for (int i = 0; i < n; i++) {
    struct endpoint *e = &o->ep[chs[i]->index];
    e->sched_weight = usable < 2 ? 1 : o->w[i] > 0 ? o->w[i] : mean;
    e->deadline = o->vtime + lb_rng_uniform(env->rng) / e->sched_weight;
    e->scheduled = true;
  }
  o->built = true;
  o->built_at = now;
}

static int ow_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct orca_wrr *o = (struct orca_wrr *)self;
  double now = env->now_ticks;
  double tick = env->tick_seconds > 0 ? env->tick_seconds : LB_PICK_DEFAULT_TICK_S;
  o->blackout = o->blackout_s / tick;
  o->expiry = o->expiry_s / tick;
  o->update = o->update_s / tick;
  bool unscheduled = false;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    struct endpoint *e = &o->ep[ch->index];
    if (ch->completed_count != e->seen) {
      e->seen = ch->completed_count;
      if (ch->has_report)
        on_report(o, e, &ch->report, now);
    }
    unscheduled = unscheduled || !e->scheduled;
  }
  if (!o->built || unscheduled || now - o->built_at >= o->update)
    rebuild(o, env, chs, n);
  int best = -1;
  for (int i = 0; i < n; i++) {
    struct endpoint *e = &o->ep[chs[i]->index];
    if (e->deadline < o->vtime)
      e->deadline = o->vtime; /* left out of recent lists (subset): no burst */
    if (best < 0 || e->deadline < o->ep[chs[best]->index].deadline)
      best = i;
  }
  struct endpoint *e = &o->ep[chs[best]->index];
  o->vtime = e->deadline;
  e->deadline += 1.0 / e->sched_weight;
  *out = chs[best];
  return LB_PICK_DONE;
}

static void ow_free(struct lb_picker *self) {
  struct orca_wrr *o = (struct orca_wrr *)self;
  free(o->ep);
  free(o);
}

static const struct lb_picker_ops ow_ops = {ow_pick, NULL, ow_free};

static int ow_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct orca_wrr), &ow_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct orca_wrr *o = (struct orca_wrr *)p;
  o->blackout_s = spec->args[0].num;
  o->expiry_s = spec->args[1].num;
  o->penalty = spec->args[2].num;
  o->update_s = spec->args[3].num;
  o->ep = calloc((size_t)nchannels, sizeof(*o->ep));
  if (!o->ep) {
    ow_free(p);
    return -ENOMEM;
  }
  *out = p;
  return 0;
}

static const struct lb_arg_def ow_args[] = {
    {.name = "blackout",
     .kind = LB_ARG_NUM,
     .def = 10,
     .min = 0,
     .max = 1e12,
     .help = "blackout_period: seconds an endpoint must report before its weight is used"},
    {.name = "expiry",
     .kind = LB_ARG_NUM,
     .def = 180,
     .min = 1e-9,
     .max = 1e12,
     .help = "weight_expiration_period: seconds after its last report that a weight expires"},
    {.name = "error_penalty",
     .kind = LB_ARG_NUM,
     .def = 1.0,
     .min = 0,
     .max = 1e12,
     .help = "error_utilization_penalty: eps/qps counts as this much utilization"},
    {.name = "update",
     .kind = LB_ARG_NUM,
     .def = 1,
     .min = 1e-9,
     .max = 1e12,
     .help = "weight_update_period: seconds between the scheduler's rebuilds"},
};

const struct lb_picker_type lb__picker_orca_wrr = {
    .name = "orca_wrr",
    .help = "gRPC weighted round robin on ORCA reports: qps/(utilization + eps/qps*penalty), EDF",
    .args = ow_args,
    .nargs = 4,
    .create = ow_create,
};
