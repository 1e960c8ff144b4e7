/* fleet: the seed's draws of a fleet, from per-entity streams (rng.h), so
 * that lbsim and the real daemons build the same fleet from one scenario,
 * seed and run:
 *   server i:  rng = lb_seed_derive(seed + run, LB_STREAM_SERVER, i);
 *              threads = randGamma(mean_threads),
 *              mean_processing_time = randGamma(mean_processing_time),
 *              mean_rtt = randGamma(mean_server_rtt, server_rtt_variance)
 *              (Server.reset's order; resets later draw from the same rng).
 *   client c:  rng = lb_seed_derive(seed + run, LB_STREAM_CLIENT, c);
 *              subset = random.choices(servers, k=subset_size) (with
 *              replacement, as the seed), or every server when 0; the same
 *              rng then serves the client's picker.
 *   channel (c, slot): rng = lb_seed_derive(seed + run, LB_STREAM_CHANNEL,
 *              c * servers_or_subset + slot); mean_ticks =
 *              (server.mean_rtt + randGamma(mean_channel_rtt,
 *              channel_rtt_variance)) / 2, then its send/receive draws.
 *   resets:    from streams of their own, one uniform per tick from tick 0
 *              (rng.h; reset_mirror.h replays them away from the servers). */
#ifndef LB_FLEET_H
#define LB_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"
#include "scenario.h"

struct lb_server_params {
  int threads;
  int mean_processing_time;
  int mean_rtt;
};

uint64_t lb_fleet_run_seed(const struct lb_scenario *sc, int run);
/* Draws (or redraws, on a reset) a server's parameters from its rng. */
void lb_fleet_draw_server(const struct lb_scenario *sc, struct lb_rng *server_rng,
                          struct lb_server_params *out);
/* Number of channels a client has: subset_size, or servers when 0. */
int lb_fleet_subset_len(const struct lb_scenario *sc);
/* Fills out[0..lb_fleet_subset_len) with server indices from client_rng. */
void lb_fleet_draw_subset(const struct lb_scenario *sc, struct lb_rng *client_rng, int *out);
uint64_t lb_fleet_channel_stream(const struct lb_scenario *sc, int client, int slot);
/* The channel's mean one-way ticks (seed: Channel.reset). */
double lb_fleet_draw_channel_mean(const struct lb_scenario *sc, struct lb_rng *channel_rng,
                                  int server_mean_rtt);

/* One tick of a server's resets (the seed's Server.tick), from its reset
 * stream (LB_STREAM_SERVER_RESET): a uniform, and below
 * server_reset_probability new parameters into *p. True on a reset. */
bool lb_fleet_server_reset_tick(const struct lb_scenario *sc, struct lb_rng *reset_rng,
                                struct lb_server_params *p);
/* One tick of a channel's network resets (the seed's Channel.tick), from its
 * reset stream (LB_STREAM_NETWORK_RESET): a uniform, and below
 * network_reset_probability a new *mean from the server's rtt of the
 * moment. True on a reset. */
bool lb_fleet_channel_reset_tick(const struct lb_scenario *sc, struct lb_rng *reset_rng,
                                 int server_mean_rtt, double *mean);

#endif
