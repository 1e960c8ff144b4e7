/* server_model: the seed's Server as the real daemon needs it: parameters
 * drawn from the server's stream (fleet.h), processing-time draws with the
 * cold-channel penalty, resets, and the accounting fed once per tick. One
 * lock guards it all; the loop, the workers and the timer thread call in. */
#ifndef LB_SERVER_MODEL_H
#define LB_SERVER_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "accounting.h"
#include "fleet.h"
#include "report.h"
#include "rng.h"
#include "scenario.h"
#include "board.h"
#include "server_pool.h"

/* Command-line values that replace the draws (and survive resets). */
struct lb_server_overrides {
  int threads;            /* 0: draw */
  double processing_time; /* < 0: draw; 0: no processing at all (bench) */
  double rtt;             /* < 0: draw */
  /* A given fleet's parameters at creation (lbserver --fleet), drawn all
   * the same; resets redraw, as lbsim --fleet. */
  const struct lb_server_params *initial; /* NULL: the drawn ones */
};

struct lb_server_model {
  pthread_mutex_t lock;
  const struct lb_scenario *sc;
  int index;
  int64_t tick_ns;
  struct lb_server_overrides ov;
  struct lb_rng *rng;       /* LB_STREAM_SERVER: parameters, processing */
  struct lb_reset_clock reset; /* keyed by LB_STREAM_SERVER_RESET */
  int64_t reset_ticks;         /* ticks whose resets have been taken (0..n-1) */
  int threads;
  double mean_processing_time;
  double mean_rtt;
  /* warm channels: open addressing over channel + 1 (0 = empty) */
  uint64_t *warm;
  size_t warm_cap, warm_len;
  struct lb_accounting acct;
  /* What responses carry: the report before the latest tick's (a sample
   * mid-tick here stands for the seed's record at the next boundary; the
   * seed's request carries the record of the tick before its last). */
  struct lb_server_report carried;
  int errors_in_tick;
  bool started;           /* the run has begun: aligned, or a request came */
  struct lb_board *board; /* may be NULL: no fleet mean, no publishing */
  uint64_t resets, board_errors;
};

int lb_server_model_init(struct lb_server_model *m, const struct lb_scenario *sc, int index,
                         int run, const struct lb_server_overrides *ov, struct lb_board *board);
void lb_server_model_close(struct lb_server_model *m);
/* Processing time of a dequeued request, in ns (seed: randGamma(mean) +
 * cold_channel_penalty on a channel's first request; probes take exactly
 * probe_processing_time). */
int64_t lb_server_model_work_ns(struct lb_server_model *m, bool is_probe, uint32_t channel);
void lb_server_model_on_arrival(struct lb_server_model *m);
void lb_server_model_on_reject(struct lb_server_model *m);
void lb_server_model_report(struct lb_server_model *m, struct lb_server_report *out);
/* Prequal: a request (not a probe) that arrived at rif requests in flight
 * finished after latency_ns in queue and processing. */
void lb_server_model_on_complete(struct lb_server_model *m, int rif_at_arrival, int64_t latency_ns);
/* A probe's report: the one responses carry, with Prequal's answer at the
 * server's current rif (accounting.h). */
void lb_server_model_probe_report(struct lb_server_model *m, int rif, struct lb_server_report *out);
/* Tick boundary: records the tick from the pool's sample, publishes to the
 * board, then draws a reset. Returns the thread count the pool must be
 * resized to, or 0 when there was no reset. */
int lb_server_model_tick(struct lb_server_model *m, const struct lb_server_pool_sample *s);
/* The same at the boundary that starts fleet tick `tick` (>= 1; the sample
 * is tick - 1's): draws the resets of every tick up to `tick` not drawn yet
 * (ticks the timer skipped included), so a reset falls on the tick lbsim's
 * does. lb_server_model_tick draws exactly one. */
int lb_server_model_tick_at(struct lb_server_model *m, const struct lb_server_pool_sample *s,
                            int64_t tick);
/* The fleet's tick 0 is known (lbserver --start-at-realtime-ns): record
 * from it on, as the seed's servers do, rather than from the first request,
 * and draw the resets of ticks 0..tick now: tick 0's (the seed's
 * Server.tick draws it before its first dequeue), and those of the ticks
 * already over when the server starts after tick 0 (tick: the fleet tick
 * it starts in; 0 when tick 0 is still to come). Call before the pool is
 * sized from lb_server_model_threads. Returns the thread count after it. */
int lb_server_model_align(struct lb_server_model *m, int64_t tick);
int lb_server_model_threads(struct lb_server_model *m);

#endif
