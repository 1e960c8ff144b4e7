/* cost names: the dotted spelling of costs in picker expressions. */
#include <errno.h>
#include <stdio.h>

#include "cost.h"

static const char *const source_names[] = {"client", "server", "oracle"};
static const char *const metric_names[LB_COST_METRIC_COUNT] = {
    "rif",         "latency",  "expected_latency",   "request_rate",
    "utilization", "capacity", "available_capacity", "pid"};
static const char *const agg_names[LB_AGG_COUNT] = {"latest", "mean", "ewma"};

static const char *const server_help[LB_COST_METRIC_COUNT] = {
    "requests in flight (queued + processing), latest (ServerRequestsInFlightCost)",
    "ticks in queue + processing of finished requests, aggregated (ServerLatencyCost)",
    "latency interpolated at the mean requests in flight (ServerExpectedLatencyCost)",
    "queries per tick, aggregated (ServerRequestRateCost)",
    "percent of threads busy, aggregated (ServerUtilizationCost)",
    ("1/capacity, capacity = rate/(utilization/100), aggregates (rate, utilization) "
     "(ServerCapacityCost)"),
    "1/(capacity - rate) (ServerAvailableCapacityCost)",
    "1/server PID weight, weights within 1e-4 of 0 pinned to +-1e-4 (ServerPidCost)",
};

const char *lb_cost_source_name(enum lb_cost_source s) {
  return (unsigned)s < 3 ? source_names[s] : "?";
}

const char *lb_cost_metric_name(enum lb_cost_metric m) {
  return (unsigned)m < LB_COST_METRIC_COUNT ? metric_names[m] : "?";
}

const char *lb_agg_name(enum lb_agg a) {
  return (unsigned)a < LB_AGG_COUNT ? agg_names[a] : "?";
}

int lb_cost_metric_aggs(enum lb_cost_metric m) {
  switch (m) {
  case LB_COST_LATENCY:
  case LB_COST_REQUEST_RATE:
  case LB_COST_UTILIZATION:
    return 1;
  case LB_COST_CAPACITY:
  case LB_COST_AVAILABLE_CAPACITY:
    return 2;
  default:
    return 0;
  }
}

bool lb_cost_metric_valid(enum lb_cost_source s, enum lb_cost_metric m) {
  if ((unsigned)m >= LB_COST_METRIC_COUNT)
    return false;
  if (s == LB_COST_CLIENT)
    return m == LB_COST_RIF || m == LB_COST_LATENCY;
  return true;
}

const char *lb_cost_metric_help(enum lb_cost_source s, enum lb_cost_metric m) {
  if (!lb_cost_metric_valid(s, m))
    return "";
  if (s == LB_COST_CLIENT)
    return m == LB_COST_RIF ? "this client's requests and probes in flight on the channel "
                              "(ClientRequestsInFlightCost)"
                            : "total ticks of the channel's last completed requests, aggregated "
                              "(ClientLatencyCost)";
  return server_help[m];
}

int lb_cost_format(const struct lb_cost *c, char *buf, size_t len) {
  if (!lb_cost_metric_valid(c->source, c->metric))
    return -EINVAL;
  int n;
  switch (lb_cost_metric_aggs(c->metric)) {
  case 1:
    n = snprintf(buf, len, "%s.%s.%s", lb_cost_source_name(c->source),
                 lb_cost_metric_name(c->metric), lb_agg_name(c->agg));
    break;
  case 2:
    n = snprintf(buf, len, "%s.%s(%s, %s)", lb_cost_source_name(c->source),
                 lb_cost_metric_name(c->metric), lb_agg_name(c->agg), lb_agg_name(c->agg2));
    break;
  default:
    n = snprintf(buf, len, "%s.%s", lb_cost_source_name(c->source), lb_cost_metric_name(c->metric));
    break;
  }
  return n < 0 ? -EINVAL : n;
}

bool lb_cost_equal(const struct lb_cost *a, const struct lb_cost *b) {
  if (a->source != b->source || a->metric != b->metric)
    return false;
  int aggs = lb_cost_metric_aggs(a->metric);
  if (aggs >= 1 && a->agg != b->agg)
    return false;
  if (aggs >= 2 && a->agg2 != b->agg2)
    return false;
  return true;
}
