/* accounting: the "Record" half of the seed's Server.tick. A driver (the
 * simulator's server, or lbserver on its tick timer) feeds it what happened
 * and reads back the report a response header carries. No clocks here: the
 * driver says when a tick ends and what it observed during it. */
#ifndef LB_ACCOUNTING_H
#define LB_ACCOUNTING_H

#include <stdbool.h>
#include <stddef.h>

#include "pid.h"
#include "report.h"
#include "rif_latency.h"
#include "window.h"

/* What the driver observed over one tick. */
struct lb_tick_observation {
  double utilization; /* seed: 100 * requests processing this tick / threads;
                         real: 100 * busy thread-time / (threads * tick) */
  int requests_in_flight; /* queued + processing at the end of the tick */
  int queued_requests;    /* queued at the end of the tick */
  bool has_latency;       /* some request finished processing this tick */
  double latency;         /* mean ticks in queue + processing of those */
  int errors;             /* rejections this tick (ORCA eps) */
  int completions;        /* requests served this tick (ORCA qps) */
};

struct lb_accounting {
  size_t window_n;
  double ewma_weight;
  int queries_in_tick; /* enqueues since the last tick boundary */
  struct lb_window utilization, queries_per_tick, requests_in_flight,
      queued_requests, latency, errors, served;
  /* Prequal's latency by RIF at arrival (rif_latency.h). */
  struct lb_rif_latency by_rif;
  uint32_t resets;
  /* latency_with_rif: latest latency recorded at each requests-in-flight
   * count (the seed's dict). Indexed by rif; has[] marks present keys. */
  double *latency_at_rif;
  bool *has_latency_at_rif;
  size_t rif_cap;
  size_t rif_keys; /* number of present keys */
  double pid_weight;
  struct lb_pid pid;
  struct lb_server_report report; /* snapshot after the latest tick */
};

/* window_n: the scenario's server_state_buffer. */
int lb_accounting_init(struct lb_accounting *a, size_t window_n, double ewma_weight);
void lb_accounting_close(struct lb_accounting *a);
/* Server reset: empty windows and table, pid weight 0, fresh controller. */
void lb_accounting_reset(struct lb_accounting *a);
/* A request (or probe) entered the server's queue. */
void lb_accounting_on_enqueue(struct lb_accounting *a);
/* Tick boundary. fleet_mean_utilization is the mean of utilization.mean()
 * over the fleet's servers whose window is not empty, or NULL when none is
 * (the seed then leaves the PID weight alone). Updates pid weight, windows,
 * the rif table, then the report snapshot. Returns 0 or -ENOMEM. */
int lb_accounting_tick(struct lb_accounting *a, const struct lb_tick_observation *obs,
                       const double *fleet_mean_utilization);
/* A request (not a probe) that arrived when the server had rif requests in
 * flight finished after latency ticks in queue and processing: Prequal's
 * estimate's sample. Returns 0 or -ENOMEM. */
int lb_accounting_on_complete(struct lb_accounting *a, int rif_at_arrival, double latency);
/* Prequal's probe answer at the server's current rif (queued included):
 * sets out's has_probe_answer, probe_rif and probe_latency (-1: none). */
void lb_accounting_probe_answer(const struct lb_accounting *a, int rif,
                                struct lb_server_report *out);
/* The report as of the latest tick boundary. */
const struct lb_server_report *lb_accounting_report(const struct lb_accounting *a);
/* The seed's expectedLatency(): interpolate(latency_with_rif, mean rif). */
bool lb_accounting_expected_latency(const struct lb_accounting *a, double *out);
/* The seed's interpolate() over a (key -> value) table given as sorted
 * parallel arrays; exposed for tests of the seed's asserts. */
bool lb_interpolate(const double *keys, const double *values, size_t n, double x, double *out);

#endif
