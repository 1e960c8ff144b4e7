/* harness_run: one real run of a scenario on a fleet of lbserver and
 * lbclient processes on this machine (or its network namespaces): the
 * fleet started on a common tick 0, watched with progress lines, stopped,
 * its logs collected (harness_collect.h); --hosts containers hands the run
 * to harness_containers.h. */
#ifndef LB_HARNESS_RUN_H
#define LB_HARNESS_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_collect.h"
#include "harness_opts.h"
#include "harness_paths.h"
#include "scenario.h"

/* Runs run `run` of sc in run_dir (created): servers, clients, collection.
 * On any failure or stop signal the whole fleet is killed and reaped before
 * it returns a negative errno with err filled. */
int lb_harness_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                       const char *run_dir, struct lb_harness_run_result *res, char *err,
                       size_t errlen);

#endif
