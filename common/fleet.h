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
 *   channel (c, slot): rng = a light generator (SplitMix64) seeded with
 *              lb_seed_derive(seed + run, LB_STREAM_CHANNEL,
 *              c * servers_or_subset + slot); mean_ticks =
 *              (server.mean_rtt + randGamma(mean_channel_rtt,
 *              channel_rtt_variance)) / 2, then its send/receive draws.
 *   resets:    a reset clock per server and per channel (below), keyed by
 *              LB_STREAM_SERVER_RESET / LB_STREAM_NETWORK_RESET and the
 *              entity's index (reset_mirror.h replays them away from the
 *              servers). */
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
/* Channel (client, slot)'s stream, a light generator (rng.h): its mean's
 * draw, then its delays. */
int lb_fleet_channel_rng(const struct lb_scenario *sc, uint64_t run_seed, int client, int slot,
                         struct lb_rng **out);
/* The channel's mean one-way ticks (seed: Channel.reset). */
double lb_fleet_draw_channel_mean(const struct lb_scenario *sc, struct lb_rng *channel_rng,
                                  int server_mean_rtt);

/* An entity's random resets. The seed draws `random() < p` on every tick
 * from tick 0 (Server.tick, Channel.tick); the ticks that reset are then a
 * Bernoulli process, and the clock draws the same process as its gaps
 * (geometric: floor(log(1 - u) / log(1 - p))), each from the SplitMix64
 * sequence of the key (lb_rng_keyed_uniform), so a quiet tick costs one
 * comparison and no generator. A reset's new parameters come from a light
 * generator (rng.h) seeded from the key, made at the first reset. The same
 * key gives the same resets to lbsim, lbserver and lbclient's mirror. */
struct lb_reset_clock {
  long next;          /* the next tick that resets; LONG_MAX: none */
  double p;           /* per tick */
  uint64_t key;       /* lb_seed_derive(run seed, the reset stream, index) */
  uint64_t gaps;      /* gaps drawn */
  struct lb_rng *rng; /* new parameters' stream, from the first reset */
};

void lb_reset_clock_init(struct lb_reset_clock *c, uint64_t key, double p);
/* Server s's clock (LB_STREAM_SERVER_RESET, server_reset_probability) and
 * channel (client, slot)'s (LB_STREAM_NETWORK_RESET,
 * network_reset_probability) for the run seeded run_seed. */
void lb_fleet_server_reset_clock(const struct lb_scenario *sc, uint64_t run_seed, int server,
                                 struct lb_reset_clock *c);
void lb_fleet_channel_reset_clock(const struct lb_scenario *sc, uint64_t run_seed, int client,
                                  int slot, struct lb_reset_clock *c);
void lb_reset_clock_close(struct lb_reset_clock *c);
static inline bool lb_reset_clock_due(const struct lb_reset_clock *c, long tick) {
  return tick >= c->next;
}
/* A server's reset at its clock's tick: new parameters into *p, and the
 * next reset scheduled. 0, or -ENOMEM (nothing changed). */
int lb_fleet_server_reset(const struct lb_scenario *sc, struct lb_reset_clock *c,
                          struct lb_server_params *p);
/* A channel's reset at its clock's tick: a new *mean from the server's rtt
 * of the moment, and the next reset scheduled. 0, or -ENOMEM. */
int lb_fleet_channel_reset(const struct lb_scenario *sc, struct lb_reset_clock *c,
                           int server_mean_rtt, double *mean);

#endif
