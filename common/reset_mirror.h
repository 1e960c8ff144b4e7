/* reset_mirror: a fleet's server and network resets, replayed tick by tick
 * away from the servers. Resets come from reset clocks of their own
 * (fleet.h, keyed by LB_STREAM_SERVER_RESET and LB_STREAM_NETWORK_RESET),
 * so anyone with the scenario, seed and run can replay them:
 * lbclient does, and so has the channel means lbsim has at every tick
 * (lbsim's own channels draw the same way), without being told of a
 * reset. Per tick, in the seed's order: every server's reset (Server.tick),
 * then every channel's (Channel.tick, from the server's rtt of the moment). */
#ifndef LB_RESET_MIRROR_H
#define LB_RESET_MIRROR_H

#include <stdint.h>

#include "scenario.h"

struct lb_reset_mirror;

/* Servers 0..sc->servers-1 with their initial parameters (fleet.h). */
int lb_reset_mirror_new(const struct lb_scenario *sc, uint64_t run_seed,
                        struct lb_reset_mirror **out);
void lb_reset_mirror_free(struct lb_reset_mirror *m);
/* A given fleet's server parameters at creation in place of the drawn ones
 * (resets still redraw, as lbsim --fleet). */
void lb_reset_mirror_set_server_rtt(struct lb_reset_mirror *m, int server, int mean_rtt);
/* Adds channel (client, slot) to `server` with its initial mean; returns
 * its handle (>= 0) or a negative errno. */
int lb_reset_mirror_add_channel(struct lb_reset_mirror *m, int client, int slot, int server,
                                double initial_mean);
/* Replays ticks up to and including `tick` (earlier ones once each).
 * 0, or -ENOMEM (a reset's stream could not be made; call again). */
int lb_reset_mirror_advance(struct lb_reset_mirror *m, long tick);
double lb_reset_mirror_channel_mean(const struct lb_reset_mirror *m, int handle);
int lb_reset_mirror_server_rtt(const struct lb_reset_mirror *m, int server);

#endif
