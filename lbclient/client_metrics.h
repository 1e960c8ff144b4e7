/* client_metrics: lbclient's Prometheus metrics (--metrics-port), served
 * by a thread of their own (net/prom.h: the driver's loop is its own) at
 * GET /metrics. Every figure is an atomic the driver's thread updates:
 *   lbtestbed_client_sent_total{kind="request|probe"}
 *   lbtestbed_client_requests_total{kind=...,outcome="completed|failed|
 *       timed_out"}                 summed over kind: the stats file's
 *                                   completed, failed, timed_out
 *   lbtestbed_client_requests_in_flight   sent and not yet ended
 *   lbtestbed_client_request_latency_seconds   histogram: completed
 *       requests (not probes), from the intended send time (wrk2's rule)
 *   lbtestbed_client_timer_lateness_seconds   histogram: each timer's wake-up
 *       against its deadline
 * Each hook is a no-op on a NULL struct (no --metrics-port). */
#ifndef LB_CLIENT_METRICS_H
#define LB_CLIENT_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "prom.h"
#include "reqlog.h"

struct lb_client_metrics {
  atomic_uint_fast64_t sent[2];     /* [is_probe] */
  atomic_uint_fast64_t ended[2][3]; /* [is_probe][enum lb_outcome] */
  struct lb_prom_hist latency, timer_late;
};

void lb_client_metrics_init(struct lb_client_metrics *m);
void lb_client_metrics_sent(struct lb_client_metrics *m, bool is_probe);
/* A request or probe ended; intended_ns: its intended send time. */
void lb_client_metrics_ended(struct lb_client_metrics *m, bool is_probe, enum lb_outcome outcome,
                             int64_t intended_ns);
void lb_client_metrics_timer_late(struct lb_client_metrics *m, int64_t late_ns);
/* lb_prom_collect_cb; ctx: the struct lb_client_metrics. */
void lb_client_metrics_collect(void *ctx, struct lb_prom_text *t);

#endif
