/* server_metrics: lbserver's Prometheus metrics (--metrics-port), served on
 * the server's loop (net/prom.h) at GET /metrics:
 *   lbtestbed_server_received_total{kind="request|probe"}
 *   lbtestbed_server_requests_total{outcome="completed|rejected|draining|
 *       bad_request"}                the stats file's completed, rejected,
 *                                    draining_replies, bad_requests
 *   lbtestbed_server_request_duration_seconds   histogram: queue + processing
 *   lbtestbed_server_queue_wait_seconds         histogram: queue only
 *   lbtestbed_server_queue_length, _busy_threads, _threads,
 *   lbtestbed_server_requests_in_flight (queued + processing),
 *   lbtestbed_server_requests_outstanding (answers not yet sent: holds too)
 *   lbtestbed_server_timer_lateness_seconds{timer="tick|hold|work",
 *       stat="p50|p99|max"}          gauges: p50/p99 over the latest
 *                                    wake-ups, max over all (a summary
 *                                    would need a sum we do not keep)
 *   lbtestbed_server_timer_wakeups_total{timer=...}
 *   lbtestbed_server_connections_total{protocol="tcp|http"},
 *   lbtestbed_server_bad_frames_total, _resets_total, _write_errors_total
 * No server label: Prometheus's instance label tells the servers apart. */
#ifndef LB_SERVER_METRICS_H
#define LB_SERVER_METRICS_H

#include "prom.h"

/* ctx: the struct lb_server. */
void lb_server_metrics_collect(void *ctx, struct lb_prom_text *t);

#endif
