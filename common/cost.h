/* cost: the seed's cost functions (ClientCostFn / ServerCostFn), as plain
 * data. "higher is worse, 0 is best, None when no data": lb_cost_eval()
 * returns false for the seed's None.
 *
 *   client.rif                      ClientRequestsInFlightCost
 *   client.latency.{latest,mean,ewma} ClientLatencyCost(Aggregate(...))
 *   server.X                        ServerReportedCost(X): the report of the
 *                                   channel's latest completed request
 *   oracle.X                        ServerQuantumTunneledCost(X): the
 *                                   server's current report (channel.oracle)
 * with X one of
 *   rif                             ServerRequestsInFlightCost (latest)
 *   expected_latency                ServerExpectedLatencyCost
 *   request_rate.{latest,mean,ewma} ServerRequestRateCost
 *   utilization.{latest,mean,ewma}  ServerUtilizationCost
 *   capacity(A, B)                  ServerCapacityCost(A rate, B utilization)
 *   available_capacity(A, B)        ServerAvailableCapacityCost
 *   pid                             ServerPidCost (1/weight, epsilon hack)
 *   latency.{latest,mean,ewma}      ServerLatencyCost
 */
#ifndef LB_COST_H
#define LB_COST_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"
#include "report.h"

enum lb_cost_source { LB_COST_CLIENT, LB_COST_SERVER, LB_COST_ORACLE };

enum lb_cost_metric {
  LB_COST_RIF,
  LB_COST_LATENCY,
  LB_COST_EXPECTED_LATENCY,
  LB_COST_REQUEST_RATE,
  LB_COST_UTILIZATION,
  LB_COST_CAPACITY,
  LB_COST_AVAILABLE_CAPACITY,
  LB_COST_PID,
  LB_COST_METRIC_COUNT
};

enum lb_agg { LB_AGG_LATEST, LB_AGG_MEAN, LB_AGG_EWMA, LB_AGG_COUNT };

struct lb_cost {
  enum lb_cost_source source;
  enum lb_cost_metric metric;
  enum lb_agg agg;  /* latency, request_rate, utilization; capacity's rate */
  enum lb_agg agg2; /* capacity's utilization aggregate */
};

/* The seed's ewma weight of LastN.ewma() when called without one (Aggregate). */
#define LB_COST_EWMA_WEIGHT 0.2

/* Evaluates c on ch; false is the seed's None. */
bool lb_cost_eval(const struct lb_cost *c, const struct lb_channel *ch, double *out);
/* The ServerCostFn part on one report. */
bool lb_cost_server(const struct lb_cost *c, const struct lb_server_report *r, double *out);
/* The ClientCostFn part (source must be LB_COST_CLIENT). */
bool lb_cost_client(const struct lb_cost *c, const struct lb_channel *ch, double *out);

/* Names, for the expression parser and the registry. */
const char *lb_cost_source_name(enum lb_cost_source s);
const char *lb_cost_metric_name(enum lb_cost_metric m);
const char *lb_agg_name(enum lb_agg a);
/* How many aggregates the metric takes: 0, 1 (metric.agg) or 2 (metric(a, b)). */
int lb_cost_metric_aggs(enum lb_cost_metric m);
/* Whether the metric exists for the source (client has rif and latency). */
bool lb_cost_metric_valid(enum lb_cost_source s, enum lb_cost_metric m);
/* One line of help per metric. */
const char *lb_cost_metric_help(enum lb_cost_source s, enum lb_cost_metric m);
/* Canonical text, e.g. "server.capacity(mean, mean)". Returns the length
 * it needed (snprintf-like) or a negative errno. */
int lb_cost_format(const struct lb_cost *c, char *buf, size_t len);
bool lb_cost_equal(const struct lb_cost *a, const struct lb_cost *b);

#endif
