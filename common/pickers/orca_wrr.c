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
 * (plain round robin). Picks are earliest-deadline-first: the endpoint with
 * the smallest deadline is chosen and its deadline moves on by 1/weight
 * (gRPC's static stride scheduler is a deterministic EDF of the same kind).
 *
 * Here: reports are the ORCA fields of the report on the channel's latest
 * response (orca_utilization = utilization ewma / 100, orca_qps = queries
 * per tick, orca_eps = errors per tick); time is in ticks (env->now_ticks),
 * and blackout/expiry default to 10 and 180 ticks. */
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
};

struct orca_wrr {
  struct lb_picker base;
  double blackout, expiry, penalty;
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

static int ow_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct orca_wrr *o = (struct orca_wrr *)self;
  double now = env->now_ticks;
  double sum = 0;
  int usable = 0;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    struct endpoint *e = &o->ep[ch->index];
    if (ch->completed_count != e->seen) {
      e->seen = ch->completed_count;
      if (ch->has_report)
        on_report(o, e, &ch->report, now);
    }
    o->w[i] = usable_weight(o, e, now);
    if (o->w[i] > 0) {
      sum += o->w[i];
      usable++;
    }
  }
  double mean = usable ? sum / usable : 1;
  int best = -1;
  for (int i = 0; i < n; i++) {
    if (usable < 2 || !(o->w[i] > 0))
      o->w[i] = usable < 2 ? 1 : mean;
    struct endpoint *e = &o->ep[chs[i]->index];
    if (!e->scheduled) {
      /* a random start, as gRPC, so clients do not move in step */
      e->deadline = o->vtime + lb_rng_uniform(env->rng) / o->w[i];
      e->scheduled = true;
    } else if (e->deadline < o->vtime) {
      e->deadline = o->vtime; /* left out of recent lists (subset): no burst */
    }
    if (best < 0 || e->deadline < o->ep[chs[best]->index].deadline)
      best = i;
  }
  struct endpoint *e = &o->ep[chs[best]->index];
  o->vtime = e->deadline;
  e->deadline += 1.0 / o->w[best];
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
  o->blackout = spec->args[0].num;
  o->expiry = spec->args[1].num;
  o->penalty = spec->args[2].num;
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
     .help = "ticks an endpoint must report before its weight is used"},
    {.name = "expiry",
     .kind = LB_ARG_NUM,
     .def = 180,
     .min = 1e-9,
     .max = 1e12,
     .help = "ticks after its last report that a weight expires"},
    {.name = "error_penalty",
     .kind = LB_ARG_NUM,
     .def = 1.0,
     .min = 0,
     .max = 1e12,
     .help = "error_utilization_penalty: eps/qps counts as this much utilization"},
};

const struct lb_picker_type lb__picker_orca_wrr = {
    .name = "orca_wrr",
    .help = "gRPC weighted round robin on ORCA reports: qps/(utilization + eps/qps*penalty), EDF",
    .args = ow_args,
    .nargs = 3,
    .create = ow_create,
};
