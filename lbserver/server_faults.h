/* server_faults: the scenario's faults that lbserver applies itself
 * (docs/faults.md): `slow` multiplies the processing time of work (probes
 * included, as lbsim) that starts while the fault holds on this server.
 * kill and pause are the harness's (SIGKILL, SIGSTOP). Reads only the
 * scenario: safe from any thread. */
#ifndef LB_SERVER_FAULTS_H
#define LB_SERVER_FAULTS_H

#include <stdint.h>

#include "scenario.h"

/* work_ns of work that starts at now_ns on server, on a clock whose tick 0
 * is tick0_ns (both lb_clock_now_ns), times the factor of a slow fault
 * holding at that tick (unchanged when none does). */
int64_t lb_server_faults_work_ns(const struct lb_scenario *sc, int server, int64_t tick0_ns,
                                 int64_t now_ns, int64_t work_ns);

#endif
