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

#include <stddef.h>
#include <stdio.h>

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
int lb_arrivals_load(const char *path, int clients, struct lb_arrivals *out, char *err,
                     size_t errlen);
int lb_arrivals_write(const struct lb_arrivals *a, FILE *f);
void lb_arrivals_close(struct lb_arrivals *a);

#endif
