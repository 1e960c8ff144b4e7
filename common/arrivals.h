/* arrivals: the open-loop arrival trace of a run, shared by lbsim and the
 * real fleet so both see the same requests at the same ticks.
 *
 * The seed's way: round(rate * servers * total_ticks) requests, each at
 * randrange(0, total_ticks); within a tick each goes to random.choice(clients).
 * Poisson: exponential gaps at rate * servers per tick, client uniform.
 * Trace file: one arrival per line, "tick,client" (tick fractional allowed),
 * '#' comments; sorted by tick on load. */
#ifndef LB_ARRIVALS_H
#define LB_ARRIVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rng.h"
#include "scenario.h"

struct lb_arrival {
  double tick; /* integer in the seed's model */
  int client;
};

struct lb_arrivals {
  struct lb_arrival *items; /* sorted by tick, stable */
  size_t n;
};

/* Builds the trace for run `run` of sc (seeded from lb_seed_derive(sc->seed +
 * run, LB_STREAM_ARRIVALS, 0)), or loads sc->trace for arrivals: trace. */
int lb_arrivals_build(const struct lb_scenario *sc, int run, struct lb_arrivals *out, char *err,
                      size_t errlen);
/* The same draws, one arrival at a time (memory by ticks, not by
 * requests): lbsim's runs that keep no trace. Not for arrivals: trace. */
struct lb_arrival_stream {
  struct lb_rng *rng;
  bool poisson;
  size_t clients, ticks;
  size_t total, tick, *per_tick; /* seed: arrivals in each tick, [tick + 1] */
  double next_tick, mean_gap;    /* poisson */
};
int lb_arrival_stream_open(const struct lb_scenario *sc, int run, struct lb_arrival_stream *st,
                           char *err, size_t errlen);
/* The next arrival, in trace order; false at the end. */
bool lb_arrival_stream_next(struct lb_arrival_stream *st, struct lb_arrival *out);
void lb_arrival_stream_close(struct lb_arrival_stream *st);
int lb_arrivals_load(const char *path, int clients, struct lb_arrivals *out, char *err,
                     size_t errlen);
int lb_arrivals_write(const struct lb_arrivals *a, FILE *f);
void lb_arrivals_close(struct lb_arrivals *a);

#endif
