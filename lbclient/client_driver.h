/* client_driver: the real driver of the model on the client side. It hosts
 * logical clients FIRST..FIRST+COUNT-1 of a scenario in one process: their
 * subsets, channels and picker instances; replays the run's open-loop
 * arrival trace for them; holds each request for its send delay (in-process
 * delay) before writing it; and accounts every request and probe as
 * completed, failed or timed out, with one reqlog record each.
 *
 * Timing: one thread runs a min-heap of absolute CLOCK_MONOTONIC deadlines
 * armed on a timerfd (ns precision, PR_SET_TIMERSLACK 1) inside the libuv
 * loop that does the sockets; tick k is at t0 + k * tick. The lateness of
 * every timer, of every write against its intended send time and of every
 * arrival is measured and reported. Records go to a writer thread
 * (client_logq) and are formatted after the run.
 *
 * Against the seed, knowingly:
 *  - Draws come from the per-entity streams of fleet.h: client c's rng
 *    draws its subset, then serves its picker; channel (c, slot)'s rng draws
 *    its mean from the server's *initial* mean_rtt (a client cannot see a
 *    server reset), then each request's send and response delay, and the
 *    per-tick network reset (uniform < network_reset_probability, then a
 *    new mean).
 *  - A channel's requests_in_flight rises when the request is committed to
 *    the channel (start of its send hold, as the seed's Channel.send) and
 *    falls when the response *arrives at the client*; the seed lowers it
 *    when the server finishes processing, but a real client cannot know
 *    that before the response (which the server holds for the receive
 *    delay) arrives.
 *  - A WAITing pick is resumed when a probe it watches completes, and at
 *    every tick boundary (as the seed resumes its generators each tick).
 *    Probes are real requests (is_probe) on the channel and are accounted
 *    and logged like requests. A probe that fails never completes for the
 *    pick; a pick left waiting with no probe that can still complete fails
 *    its request at once.
 *  - Failures: a lost TCP connection fails the requests written on it; a
 *    pick or a send to a server whose connection is down fails at once
 *    (and the connection retries with backoff, 20 ms doubling to 1 s); a
 *    response with a status other than OK is a failure. Failed requests
 *    lower rif but add no latency sample. UDP has no connection: requests
 *    to a dead server time out.
 *  - Every request ends: completed, failed, or timed out after the
 *    scenario's timeout (default 4 * total_ticks). After the last arrival
 *    the run waits until nothing is live, or until tick
 *    max(total_ticks, last arrival) + max_cooldown, then times out the
 *    rest. SIGTERM/SIGINT stop arrivals and wait at most min(max_cooldown
 *    ticks, 5 s); a second signal or --max-runtime times out what is left.
 *  - The log has every request and probe; the seed records only those
 *    completing on ticks that are multiples of data_frequency.
 *  - Phases (client_record.h): picking = intended start to pick done;
 *    send = the client's hold + half the time no one accounts for (wire and
 *    event loops); server_queue and processing as the server reports them;
 *    receive = the server's hold + the other half. test_stage is the seed's
 *    by completion tick, with its warm_period. modelled_ticks = drawn send
 *    delay + drawn response delay + the processing the server reports, so
 *    real - modelled is the testbed's overhead (plus the model's queueing).
 */
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

/* Monotonic clock in ns. */
int64_t lb_client_now_ns(void);

#endif
