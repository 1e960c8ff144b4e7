/* fleet: the seed's fleet draws (Server.reset, Client.__init__,
 * Channel.reset) from per-entity streams. */
#include "fleet.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

uint64_t lb_fleet_run_seed(const struct lb_scenario *sc, int run) {
  return sc->seed + (uint64_t)(int64_t)run;
}

void lb_fleet_draw_server(const struct lb_scenario *sc, struct lb_rng *server_rng,
                          struct lb_server_params *out) {
  out->threads = lb_rng_gamma_seed(server_rng, sc->mean_threads, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
  out->mean_processing_time =
      lb_rng_gamma_seed(server_rng, sc->mean_processing_time, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
  out->mean_rtt =
      lb_rng_gamma_seed(server_rng, sc->mean_server_rtt, sc->server_rtt_variance, LB_GAMMA_MIN);
}

int lb_fleet_subset_len(const struct lb_scenario *sc) {
  return sc->subset_size > 0 ? sc->subset_size : sc->servers;
}

void lb_fleet_draw_subset(const struct lb_scenario *sc, struct lb_rng *client_rng, int *out) {
  int n = lb_fleet_subset_len(sc);
  if (sc->subset_size <= 0) {
    for (int i = 0; i < n; i++)
      out[i] = i;
    return;
  }
  for (int i = 0; i < n; i++)
    out[i] = (int)lb_rng_below(client_rng, (size_t)sc->servers);
}

/* The stream index of channel (client, slot): pass it, with the run's seed,
 * to lb_seed_derive(..., LB_STREAM_CHANNEL, index). */
uint64_t lb_fleet_channel_stream(const struct lb_scenario *sc, int client, int slot) {
  return (uint64_t)client * (uint64_t)lb_fleet_subset_len(sc) + (uint64_t)slot;
}

int lb_fleet_channel_rng(const struct lb_scenario *sc, uint64_t run_seed, int client, int slot,
                         struct lb_rng **out) {
  uint64_t stream = lb_fleet_channel_stream(sc, client, slot);
  return lb_rng_new_light(lb_seed_derive(run_seed, LB_STREAM_CHANNEL, stream), out);
}

double lb_fleet_draw_channel_mean(const struct lb_scenario *sc, struct lb_rng *channel_rng,
                                  int server_mean_rtt) {
  int rtt =
      lb_rng_gamma_seed(channel_rng, sc->mean_channel_rtt, sc->channel_rtt_variance, LB_GAMMA_MIN);
  return ((double)server_mean_rtt + rtt) / 2.0;
}

/* Ticks without a reset before the next one: geometric on {0, 1, ...}. */
static long reset_gap(struct lb_reset_clock *c) {
  if (!(c->p > 0))
    return LONG_MAX;
  if (c->p >= 1)
    return 0;
  double u = lb_rng_keyed_uniform(c->key, c->gaps++);
  double gap = floor(log1p(-u) / log1p(-c->p));
  return gap < (double)(LONG_MAX / 2) ? (long)gap : LONG_MAX / 2;
}

void lb_reset_clock_init(struct lb_reset_clock *c, uint64_t key, double p) {
  *c = (struct lb_reset_clock){.p = p, .key = key};
  c->next = reset_gap(c); /* counted from tick 0 */
}

void lb_fleet_server_reset_clock(const struct lb_scenario *sc, uint64_t run_seed, int server,
                                 struct lb_reset_clock *c) {
  lb_reset_clock_init(c, lb_seed_derive(run_seed, LB_STREAM_SERVER_RESET, (uint64_t)server),
                      sc->server_reset_probability);
}

void lb_fleet_channel_reset_clock(const struct lb_scenario *sc, uint64_t run_seed, int client,
                                  int slot, struct lb_reset_clock *c) {
  uint64_t stream = lb_fleet_channel_stream(sc, client, slot);
  lb_reset_clock_init(c, lb_seed_derive(run_seed, LB_STREAM_NETWORK_RESET, stream),
                      sc->network_reset_probability);
}

void lb_reset_clock_close(struct lb_reset_clock *c) {
  lb_rng_free(c->rng);
  c->rng = NULL;
}

/* The stream for this reset's new parameters, and the next reset. */
static struct lb_rng *reset_fire(struct lb_reset_clock *c) {
  /* the light generator started at ~key: another stretch of SplitMix64's
   * cycle than the gaps' (which start at key), so they never share draws */
  if (c->rng == NULL && lb_rng_new_light(~c->key, &c->rng) < 0)
    return NULL;
  long gap = reset_gap(c);
  c->next = gap >= LONG_MAX - c->next ? LONG_MAX : c->next + 1 + gap;
  return c->rng;
}

int lb_fleet_server_reset(const struct lb_scenario *sc, struct lb_reset_clock *c,
                          struct lb_server_params *p) {
  struct lb_rng *rng = reset_fire(c);
  if (rng == NULL)
    return -ENOMEM;
  lb_fleet_draw_server(sc, rng, p);
  return 0;
}

int lb_fleet_channel_reset(const struct lb_scenario *sc, struct lb_reset_clock *c,
                           int server_mean_rtt, double *mean) {
  struct lb_rng *rng = reset_fire(c);
  if (rng == NULL)
    return -ENOMEM;
  *mean = lb_fleet_draw_channel_mean(sc, rng, server_mean_rtt);
  return 0;
}
