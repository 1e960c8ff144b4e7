/* Client cost functions of the seed (ClientCostFn): what the client saw on
 * the channel itself. */
#include "cost.h"

bool lb_cost_client(const struct lb_cost *c, const struct lb_channel *ch, double *out) {
  switch (c->metric) {
  case LB_COST_RIF:
    /* ClientRequestsInFlightCost: never None (0 is a value). */
    *out = ch->requests_in_flight;
    return true;
  case LB_COST_LATENCY:
    /* ClientLatencyCost(Aggregate(m)) over the last client_requests_buffer
     * completed requests' total ticks; None when none completed. Seed quirk
     * not kept: Aggregate('latest') is LastN.latest, which returns the
     * Request object itself (a TypeError once compared); we return its
     * total ticks. */
    switch (c->agg) {
    case LB_AGG_LATEST:
      return lb_window_latest(&ch->latency, out);
    case LB_AGG_MEAN:
      return lb_window_mean(&ch->latency, out);
    case LB_AGG_EWMA:
      return lb_window_ewma(&ch->latency, LB_COST_EWMA_WEIGHT, out);
    default:
      return false;
    }
  default:
    return false;
  }
}
