/* server_net: the lbserver daemon's wiring of I/O to work. A libuv loop
 * thread owns TCP and UDP (framing.h), hands requests to the pool
 * (server_pool.h) and writes responses; workers hand completions back
 * through a uv_async (batched); held responses (egress delay) come back
 * from the timer thread (server_timer.h), which also runs the accounting
 * tick (server_model.h) and publishes to the oracle board. */
#ifndef LB_SERVER_NET_H
#define LB_SERVER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "server_limits.h"
#include "server_model.h"
#include "server_timer.h"

struct lb_server_config {
  const struct lb_scenario *sc;
  int index, run;
  const char *listen; /* address to bind */
  int port, udp_port; /* 0: kernel-chosen */
  bool http;          /* an HTTP/1.1 front (server_http.h) on http_port (0: kernel-chosen) */
  int http_port;
  bool metrics; /* Prometheus metrics (server_metrics.h) on metrics_port */
  int metrics_port;
  bool no_udp;
  int max_queue;
  int max_connections;
  size_t max_frame;
  struct lb_server_limits_config limits; /* held replies, per peer, idle */
  double max_runtime_s;                  /* then drain; 0 = no bound */
  enum lb_work work;
  int64_t wake_early_ns; /* timed waits wake this early and spin the rest */
  struct lb_server_overrides overrides;
  const char *board;   /* NULL: no oracle board */
  bool handle_signals; /* SIGTERM/SIGINT drain the server */
  /* The fleet's tick 0 (CLOCK_MONOTONIC, lb_clock_now_ns); 0: none. With
   * it the accounting ticks fall on the fleet's boundaries, recording (and
   * drawing resets) starts at tick 0; without it at the first request, on
   * the server's own phase. */
  int64_t start_ns;
};

/* The pool's clock serves the deadlines within 1/LB_SERVER_CLOCK_SLACK_DIV
 * of a tick of each other with one wake-up (0.5 %: 200 us at 40 ms); a
 * request's processing or hold ends that much late at most, and the
 * lateness figures count it. */
#define LB_SERVER_CLOCK_SLACK_DIV 200

struct lb_server_stats {
  uint64_t requests, probes, rejected, draining_replies, completed;
  uint64_t bad_frames, udp_bad, udp_dropped, write_errors;
  uint64_t connections, connections_refused;
  uint64_t resets, demoted, board_errors;
  struct lb_server_lateness tick_late, hold_late, work_late;
  uint64_t ticks_skipped;
  int64_t tick_late_max_tick; /* the tick whose wake-up was latest; -1: no tick yet */
  bool forced;                /* the drain did not finish in time */
  uint64_t bad_requests;      /* numbers out of range (wire_check): STATUS_BAD_REQUEST */
  uint64_t http_refused;      /* HTTP requests answered 404/405/400 before the model */
  uint64_t http_connections, http_malformed; /* malformed: 400/413/431, connection closed */
  /* server_limits' refusals: requests refused for too many held replies
   * (answered STATUS_REJECTED, not in `rejected`), connections refused for
   * too many from one address, idle connections closed. */
  uint64_t held_refused, peer_refused, idle_closed;
};

struct lb_server;

/* Builds everything and binds (listening once it returns). err: a sentence
 * for the user. */
int lb_server_new(const struct lb_server_config *cfg, struct lb_server **out, char *err,
                  size_t errlen);
void lb_server_ports(const struct lb_server *s, int *tcp, int *udp);
/* The HTTP front's port; 0 when there is none. */
int lb_server_http_port(const struct lb_server *s);
int lb_server_metrics_port(const struct lb_server *s);

struct lb_prom_hist;
/* What the metrics read besides the stats (loop thread). */
struct lb_server_gauges {
  int in_flight, queued, busy, threads;             /* the pool now */
  uint64_t outstanding;                             /* requests alive (held ones too) */
  const struct lb_prom_hist *duration, *queue_wait; /* processed requests */
};
void lb_server_gauges(struct lb_server *s, struct lb_server_gauges *out);
/* Runs the loop until the server has drained. */
int lb_server_run(struct lb_server *s);
/* Thread-safe: stop accepting, answer what is queued or processing, then
 * make lb_server_run return. */
void lb_server_stop(struct lb_server *s);
void lb_server_stats(struct lb_server *s, struct lb_server_stats *out);
int lb_server_threads(struct lb_server *s);
void lb_server_free(struct lb_server *s);

#endif
