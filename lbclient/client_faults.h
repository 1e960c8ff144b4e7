/* client_faults: the scenario's delay and partition faults as lbclient
 * carries them out on its channels, in-process (docs/faults.md):
 *   delay      a message on the channel sent while the fault holds waits
 *              `ticks` more: the request's send hold, the response's hold;
 *   partition  a message on the channel sent while it holds is dropped:
 *              the request is never written, or its response is thrown
 *              away when it comes; either way it times out.
 * A channel is a logical client's (fleet-wide index) to a server (index);
 * a fault without `client` holds on every client's channel to its server.
 * Ticks count from the fleet's tick 0, the message's tick as lbsim's: a
 * request is sent at the tick of its pick (Channel.send), a response at the
 * tick the server finished it (Channel.receive). Pure: the driver asks. */
#ifndef LB_CLIENT_FAULTS_H
#define LB_CLIENT_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"

/* What the faults do to one message. */
struct lb_client_fault_hit {
  bool dropped;       /* a partition holds */
  double extra_ticks; /* a delay's ticks, else 0 */
};

/* The tick that at_ns falls in, tick 0 starting at t0: -1 before t0,
 * INT_MAX beyond. */
int lb_client_fault_tick(int64_t t0, int64_t tick_ns, int64_t at_ns);

/* The tick a response was sent at, as lbsim counts it: the server was done
 * hold_ns (its own hold of the response) before it arrived at received_ns,
 * and work done at a tick's boundary is the tick before's (the driver takes
 * such responses up to lag_ns after the boundary). */
int lb_client_fault_response_tick(int64_t t0, int64_t tick_ns, int64_t lag_ns, int64_t received_ns,
                                  uint64_t hold_ns);

/* What sc's faults do to a message on server's channel to client sent at
 * tick. */
void lb_client_faults_message(const struct lb_scenario *sc, int server, int client, int tick,
                              struct lb_client_fault_hit *out);

/* Whether sc has a delay or partition fault (the driver asks nothing
 * otherwise). */
bool lb_client_faults_any(const struct lb_scenario *sc);

#endif
