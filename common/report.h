/* report: the server's load report, the seed's ServerState as a snapshot of
 * aggregates. It is what a response header carries, what a channel keeps of
 * its latest completed request, and what the oracle board holds. Plain data:
 * copy it by value. */
#ifndef LB_REPORT_H
#define LB_REPORT_H

#include <stdbool.h>
#include <stdint.h>

struct lb_window;

/* latest/mean/ewma of one window; valid is false when it was empty (None). */
struct lb_stat {
  bool valid;
  double latest;
  double mean;
  double ewma; /* weight: the scenario's ewma_weight (seed default 0.2) */
};

struct lb_server_report {
  struct lb_stat utilization;        /* percent of threads busy, per tick */
  struct lb_stat queries_per_tick;
  struct lb_stat requests_in_flight; /* queued + processing */
  struct lb_stat queued_requests;    /* the seed's requests_in_queue too */
  struct lb_stat latency;            /* ticks in queue + processing */
  bool has_expected_latency;         /* seed: expectedLatency() is not None */
  double expected_latency;
  double pid_weight;                 /* the server-side PID weight */
  double orca_utilization;           /* utilization.ewma / 100 */
  double orca_qps;                   /* queries per second (real driver) or per tick */
  double orca_eps;                   /* errors (rejections) per second or tick */
  /* Prequal's probe answer, on probe responses only (has_probe_answer):
   * the requests in flight (queued ones included) when the probe was
   * answered, and the server's latency estimate at that RIF
   * (rif_latency.h); probe_latency < 0 when the server has no estimate. */
  bool has_probe_answer;
  double probe_rif;
  double probe_latency;
  uint32_t resets;                   /* server resets so far (a return: slow start) */
  uint32_t server;
  uint32_t threads;
};

/* Fills st from a window (valid=false when empty). */
void lb_stat_from_window(struct lb_stat *st, const struct lb_window *w, double ewma_weight);

#endif
