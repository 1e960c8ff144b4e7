/* client_driver: the real driver of the model on the client side. It hosts
 * logical clients FIRST..FIRST+COUNT-1 of a scenario in one process: their
 * subsets, channels and picker instances; replays the run's open-loop
 * arrival trace for them; holds each request for its send delay (in-process
 * delay) before writing it; and accounts every request and probe as
 * completed, failed or timed out, with one reqlog record each.
 *
 * All timing runs on one thread from a min-heap of absolute CLOCK_MONOTONIC
 * deadlines armed on a timerfd (ns precision, timer slack 1 ns), inside the
 * libuv loop that does the sockets. The lateness of every timer is
 * measured. */
#ifndef LB_CLIENT_DRIVER_H
#define LB_CLIENT_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client_opts.h"
#include "client_req.h"
#include "scenario.h"

struct lb_client_config {
  const struct lb_scenario *sc;
  int run;
  int first_client, client_count;
  const struct lb_server_addr *servers;
  int nservers;
  FILE *log;             /* reqlog CSV (header written by the driver) */
  const char *board;     /* oracle board name or NULL */
  bool has_start_at;
  int64_t start_at_realtime_ns;
  double max_runtime_s;  /* 0: unbounded */
};

struct lb_client_result {
  struct lb_creq_counts counts;
  long rejected;         /* failed with a server's STATUS_* != OK */
  long stray_responses;  /* answers to no live request (late, unknown) */
  long log_errors;
  long reconnects;
  double timer_lateness_p50_us, timer_lateness_p99_us;
  double send_lateness_p50_us, send_lateness_p99_us;
  double arrival_lateness_p99_us;
  double overhead_p50_us, overhead_p99_us; /* real - modelled, completed */
  double cpu_seconds, wall_seconds;
  bool stopped_by_signal, hit_max_runtime;
};

/* Runs to the end. 0, or a negative errno with a sentence in err. */
int lb_client_run(const struct lb_client_config *cfg, struct lb_client_result *res, char *err,
                  size_t errlen);
/* Writes res as key=value lines. */
void lb_client_result_write(const struct lb_client_result *res, FILE *f);

/* Monotonic clock in ns. */
int64_t lb_client_now_ns(void);

#endif
