/* client_driver: the real driver of the model on the client side. It hosts
 * logical clients FIRST..FIRST+COUNT-1 of a scenario in one process, replays
 * their arrivals, picks, holds and writes each request, and accounts every
 * request and probe (completed, failed or timed out) with one reqlog record
 * each. How it keeps time and where it departs from the seed, knowingly:
 * lbclient/README.md. Its files: client_driver.c (timers, the run),
 * client_pick.c (picks, sending, finishing), client_setup.c (building). */
#ifndef LB_CLIENT_DRIVER_H
#define LB_CLIENT_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client_opts.h"
#include "client_req.h"
#include "fleet_file.h"
#include "scenario.h"

struct lb_client_metrics;

struct lb_client_config {
  const struct lb_scenario *sc;
  int run;
  int first_client, client_count;
  const struct lb_server_addr *servers;
  int nservers;
  FILE *log;         /* reqlog CSV (header written by the driver) */
  const char *board; /* oracle board name or NULL */
  /* The run's given fleet (lbclient --fleet), checked against sc: subsets,
   * channel means and the servers' rtts at creation replace the drawn
   * ones, drawn all the same (as lbsim --fleet). NULL: drawn. */
  const struct lb_fleet_spec *fleet;
  bool has_start_at;
  int64_t start_at_realtime_ns;
  double max_runtime_s;              /* 0: unbounded */
  int64_t wake_early_ns;             /* wake this early, then spin to each deadline */
  struct lb_client_metrics *metrics; /* NULL: no --metrics-port (client_metrics.h) */
};

struct lb_client_result {
  struct lb_creq_counts counts;
  /* Failures by cause (they sum to counts.failed). */
  long rejected;               /* a server's STATUS_* != OK */
  long failed_connection_lost; /* written on a connection that was lost */
  long failed_server_down;     /* picked or held for a server that was down */
  long failed_send;            /* the write failed */
  long failed_probes;          /* the pick's watched probes all failed */
  long failed_other;           /* the picker failed, out of memory */
  long failed_bad_response;    /* a number out of range (wire_check): NaN, inf, huge */
  long stray_responses;        /* answers to no live request (late, unknown) */
  /* A partition fault's drops (client_faults.h): requests never written,
   * responses thrown away; each such request times out. */
  long partition_dropped_requests, partition_dropped_responses;
  long log_errors;
  long reconnects;
  long picker_errors; /* picks that returned an error: their requests failed */
  double timer_lateness_p50_us, timer_lateness_p99_us;
  double timer_lateness_max_us; /* the worst timer of the run ... */
  long timer_lateness_max_tick; /* ... and the tick it was due in (-1: none) */
  double send_lateness_p50_us, send_lateness_p99_us;
  double arrival_lateness_p99_us;
  double overhead_p50_us, overhead_p99_us; /* real - modelled, completed */
  double cpu_seconds, wall_seconds;
  long voluntary_switches, involuntary_switches; /* of the process, over the run */
  bool stopped_by_signal, hit_max_runtime;
};

/* Runs to the end. 0, or a negative errno with a sentence in err. */
int lb_client_run(const struct lb_client_config *cfg, struct lb_client_result *res, char *err,
                  size_t errlen);
/* Writes res as key=value lines. */
void lb_client_result_write(const struct lb_client_result *res, FILE *f);


#endif
