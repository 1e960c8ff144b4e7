/* reset_mirror: see reset_mirror.h. */
#include "reset_mirror.h"

#include <errno.h>
#include <stdlib.h>

#include "fleet.h"
#include "rng.h"

struct mirrored_channel {
  int server;
  double mean;
  struct lb_reset_clock reset;
};

struct lb_reset_mirror {
  const struct lb_scenario *sc;
  uint64_t run_seed;
  int nservers;
  int *server_rtt;
  struct lb_reset_clock *server_reset;
  struct mirrored_channel *chans;
  int nchans, capchans;
  long next_tick; /* the first tick not replayed yet */
};

int lb_reset_mirror_new(const struct lb_scenario *sc, uint64_t run_seed,
                        struct lb_reset_mirror **out) {
  struct lb_reset_mirror *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return -ENOMEM;
  m->sc = sc;
  m->run_seed = run_seed;
  m->nservers = sc->servers;
  m->server_rtt = calloc((size_t)sc->servers, sizeof(int));
  m->server_reset = calloc((size_t)sc->servers, sizeof(*m->server_reset));
  if (m->server_rtt == NULL || m->server_reset == NULL) {
    lb_reset_mirror_free(m);
    return -ENOMEM;
  }
  for (int s = 0; s < sc->servers; s++) {
    struct lb_rng *rng = NULL;
    int rc = lb_rng_new(lb_seed_derive(run_seed, LB_STREAM_SERVER, (uint64_t)s), &rng);
    if (rc < 0) {
      lb_reset_mirror_free(m);
      return rc;
    }
    lb_fleet_server_reset_clock(sc, run_seed, s, &m->server_reset[s]);
    struct lb_server_params p;
    lb_fleet_draw_server(sc, rng, &p);
    m->server_rtt[s] = p.mean_rtt;
    lb_rng_free(rng);
  }
  *out = m;
  return 0;
}

void lb_reset_mirror_free(struct lb_reset_mirror *m) {
  if (m == NULL)
    return;
  for (int s = 0; m->server_reset && s < m->nservers; s++)
    lb_reset_clock_close(&m->server_reset[s]);
  for (int i = 0; i < m->nchans; i++)
    lb_reset_clock_close(&m->chans[i].reset);
  free(m->server_reset);
  free(m->server_rtt);
  free(m->chans);
  free(m);
}

void lb_reset_mirror_set_server_rtt(struct lb_reset_mirror *m, int server, int mean_rtt) {
  if (server >= 0 && server < m->nservers)
    m->server_rtt[server] = mean_rtt;
}

int lb_reset_mirror_add_channel(struct lb_reset_mirror *m, int client, int slot, int server,
                                double initial_mean) {
  if (server < 0 || server >= m->nservers)
    return -EINVAL;
  if (m->nchans == m->capchans) {
    int cap = m->capchans ? 2 * m->capchans : 16;
    struct mirrored_channel *p = realloc(m->chans, (size_t)cap * sizeof(*p));
    if (p == NULL)
      return -ENOMEM;
    m->chans = p;
    m->capchans = cap;
  }
  struct mirrored_channel *c = &m->chans[m->nchans];
  lb_fleet_channel_reset_clock(m->sc, m->run_seed, client, slot, &c->reset);
  c->server = server;
  c->mean = initial_mean;
  return m->nchans++;
}

int lb_reset_mirror_advance(struct lb_reset_mirror *m, long tick) {
  for (; m->next_tick <= tick; m->next_tick++) {
    long t = m->next_tick;
    for (int s = 0; s < m->nservers; s++) {
      struct lb_server_params p;
      if (!lb_reset_clock_due(&m->server_reset[s], t))
        continue;
      if (lb_fleet_server_reset(m->sc, &m->server_reset[s], &p) < 0)
        return -ENOMEM;
      m->server_rtt[s] = p.mean_rtt;
    }
    for (int i = 0; i < m->nchans; i++) {
      struct mirrored_channel *c = &m->chans[i];
      if (lb_reset_clock_due(&c->reset, t) &&
          lb_fleet_channel_reset(m->sc, &c->reset, m->server_rtt[c->server], &c->mean) < 0)
        return -ENOMEM;
    }
  }
  return 0;
}

double lb_reset_mirror_channel_mean(const struct lb_reset_mirror *m, int handle) {
  return m->chans[handle].mean;
}

int lb_reset_mirror_server_rtt(const struct lb_reset_mirror *m, int server) {
  return m->server_rtt[server];
}
