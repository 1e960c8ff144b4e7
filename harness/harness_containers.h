/* harness_containers: `lbharness run|compare --hosts containers`. One
 * container per server and per client process, on a private network of
 * the container engine on this machine (harness_engine.h: which engine,
 * its settings, the image):
 *   - a run: every container started and held at a gate until all are up,
 *     the servers released with a common tick 0, the clients once every
 *     server listens; the run folder bind-mounted at its own path, so logs
 *     and stats land where a local run's do; servers stopped (SIGTERM,
 *     they drain) once the clients are done; containers and network
 *     removed on success, failure and stop signals. */
#ifndef LB_HARNESS_CONTAINERS_H
#define LB_HARNESS_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_collect.h"
#include "harness_opts.h"
#include "scenario.h"

/* Before anything starts, for --hosts containers: each scenario can run in
 * containers (no oracle board, no netem links, few enough containers for
 * the fleet's network), then lb_engine_prepare (engine, its settings,
 * image). Progress lines go to log (may be NULL). */
int lb_containers_prepare(struct lb_harness_opts *o, char *const *scenarios, int n, FILE *log,
                          char *err, size_t errlen);

/* What the fleets will be (engine, its settings, image) and each
 * scenario's server limits, a line each, to out. */
void lb_containers_describe(const struct lb_harness_opts *o, char *const *scenarios, int n,
                            FILE *out);

/* lb_harness_run_one for --hosts containers (after lb_containers_prepare). */
int lb_containers_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                          const char *run_dir, struct lb_harness_run_result *res, char *err,
                          size_t errlen);

/* One line on the limits the run's server containers had (scenario fields
 * server_cpus and server_memory), "" when none. */
void lb_containers_limits_text(const struct lb_scenario *sc, char *buf, size_t len);

#endif
