/* fleet: the seed's fleet draws (Server.reset, Client.__init__,
 * Channel.reset) from per-entity streams. */
#include "fleet.h"

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

double lb_fleet_draw_channel_mean(const struct lb_scenario *sc, struct lb_rng *channel_rng,
                                  int server_mean_rtt) {
  int rtt =
      lb_rng_gamma_seed(channel_rng, sc->mean_channel_rtt, sc->channel_rtt_variance, LB_GAMMA_MIN);
  return (server_mean_rtt + rtt) / 2.0;
}

bool lb_fleet_server_reset_tick(const struct lb_scenario *sc, struct lb_rng *reset_rng,
                                struct lb_server_params *p) {
  if (lb_rng_uniform(reset_rng) >= sc->server_reset_probability)
    return false;
  lb_fleet_draw_server(sc, reset_rng, p);
  return true;
}

bool lb_fleet_channel_reset_tick(const struct lb_scenario *sc, struct lb_rng *reset_rng,
                                 int server_mean_rtt, double *mean) {
  if (lb_rng_uniform(reset_rng) >= sc->network_reset_probability)
    return false;
  *mean = lb_fleet_draw_channel_mean(sc, reset_rng, server_mean_rtt);
  return true;
}
