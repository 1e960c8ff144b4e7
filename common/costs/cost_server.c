/* Server cost functions of the seed (ServerCostFn): read one report. Which
 * report is the source's business: ServerReportedCost reads the header of
 * the channel's latest completed request, ServerQuantumTunneledCost the
 * server's current state (the oracle). */
#include "cost.h"

static bool stat_agg(const struct lb_stat *st, enum lb_agg agg, double *out) {
  if (!st->valid)
    return false;
  switch (agg) {
  case LB_AGG_LATEST:
    *out = st->latest;
    return true;
  case LB_AGG_MEAN:
    *out = st->mean;
    return true;
  case LB_AGG_EWMA:
    /* The seed's AggregateFloat('ewma') uses LastNFloats.ewma's default
     * weight 0.2; the report's ewma uses the scenario's ewma_weight, which
     * defaults to the same 0.2. */
    *out = st->ewma;
    return true;
  default:
    return false;
  }
}

/* ServerCapacityCost / ServerAvailableCapacityCost. */
static bool capacity_cost(const struct lb_cost *c, const struct lb_server_report *r, bool available,
                          double *out) {
  double rate = 0, util = 0;
  bool has_rate = stat_agg(&r->queries_per_tick, c->agg, &rate);
  bool has_util = stat_agg(&r->utilization, c->agg2, &util);
  /* `if not request_rate or not utilization: return None` (0 counts too) */
  if (!has_rate || !has_util || rate == 0 || util == 0)
    return false;
  double capacity = rate / (util / 100);
  if (capacity <= 0)
    return false;
  if (!available) {
    *out = 1 / capacity;
    return true;
  }
  double avail = capacity - rate;
  if (avail <= 0)
    return false;
  *out = 1 / avail;
  return true;
}

/* ServerPidCost: 1/weight, with weights within 1e-4 of zero pinned to
 * +-epsilon so the division is defined. */
static double pid_cost(double weight) {
  const double epsilon = 0.0001;
  if (weight > -0.0001 && weight < 0.0001)
    weight = weight >= 0 ? epsilon : -epsilon;
  return 1 / weight;
}

bool lb_cost_server(const struct lb_cost *c, const struct lb_server_report *r, double *out) {
  switch (c->metric) {
  case LB_COST_RIF:
    return stat_agg(&r->requests_in_flight, LB_AGG_LATEST, out);
  case LB_COST_EXPECTED_LATENCY:
    if (!r->has_expected_latency)
      return false;
    *out = r->expected_latency;
    return true;
  case LB_COST_REQUEST_RATE:
    return stat_agg(&r->queries_per_tick, c->agg, out);
  case LB_COST_UTILIZATION:
    return stat_agg(&r->utilization, c->agg, out);
  case LB_COST_CAPACITY:
    return capacity_cost(c, r, false, out);
  case LB_COST_AVAILABLE_CAPACITY:
    return capacity_cost(c, r, true, out);
  case LB_COST_PID:
    *out = pid_cost(r->pid_weight);
    return true;
  case LB_COST_LATENCY:
    return stat_agg(&r->latency, c->agg, out);
  default:
    return false;
  }
}

bool lb_cost_eval(const struct lb_cost *c, const struct lb_channel *ch, double *out) {
  switch (c->source) {
  case LB_COST_CLIENT:
    return lb_cost_client(c, ch, out);
  case LB_COST_SERVER:
    /* ServerReportedCost: None until some request completed on the channel. */
    if (!ch->has_report)
      return false;
    return lb_cost_server(c, &ch->report, out);
  case LB_COST_ORACLE:
    if (!ch->oracle)
      return false;
    return lb_cost_server(c, ch->oracle, out);
  default:
    return false;
  }
}
