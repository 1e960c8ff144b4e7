/* fuzz_lbserver: the lbservers the server targets (fuzz_server, fuzz_http)
 * drive: real ones (lb_server_new on loopback, their threads running), made
 * at the first input and kept for the whole run (freed at exit). Their
 * work per request is bounded: processing takes no time (the pool answers
 * inline) and a response delay at most one 1 ms tick (the scenario's
 * total_ticks + max_cooldown, which the wire checks apply). */
#ifndef LB_FUZZ_LBSERVER_H
#define LB_FUZZ_LBSERVER_H

#include <stdbool.h>

#include "server_net_int.h"

struct lb_fuzz_lbserver {
  struct lb_scenario sc;
  struct lb_server *srv;
  struct lb_wire_limits lim; /* what a client accepts from it */
};

/* Server `which`: 0, probes queued as requests are; 1, Prequal's probes,
 * answered on arrival. With http, the HTTP front is on (s->srv->http). */
struct lb_fuzz_lbserver *lb_fuzz_lbserver(int which, bool http);

/* Aborts, saying what on stderr: a check of a fuzz target failed. */
_Noreturn void lb_fuzz_die(const char *target, const char *what);

/* One turn of s's loop, without waiting. */
void lb_fuzz_lbserver_turn(struct lb_fuzz_lbserver *s);

#endif
