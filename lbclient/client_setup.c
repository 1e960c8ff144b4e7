/* client_setup: builds the driver's hosted clients (pickers, channels,
 * subsets, connections, the reset mirror and the oracle's slots) and their
 * arrivals, and frees it all. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client_driver_int.h"
#include "expr.h"
#include "fleet.h"
#include "log.h"

/* ---- set-up ---- */

int lb__client_setup_clients(struct driver *d) {
  const struct lb_client_config *cfg = d->cfg;
  const struct lb_scenario *sc = d->sc;
  char err[512];
  /* Behind a proxy (scenario proxy:) the proxy picks the server; the
   * client's channels all lead to it, and picking one at random only
   * decides which channel's delays the request takes (docs/proxies.md). */
  const char *expr = sc->proxy != LB_PROXY_NONE ? "random" : sc->picker;
  int rc = lb_pick_plan_init(&d->plan, expr, true, sc->path, err, sizeof(err));
  if (rc < 0) {
    snprintf(d->err, d->errlen, "%s", err);
    return rc;
  }
  const struct lb_picker_spec *spec = d->plan.spec;
  if (lb_picker_spec_needs_oracle(spec) && !cfg->board) {
    snprintf(d->err, d->errlen,
             "picker '%s' reads the oracle (oracle.* costs), which needs the servers' "
             "shared-memory board: pass --board NAME (servers on this machine only)",
             sc->picker);
    return -EINVAL;
  }
  uint64_t run_seed = lb_fleet_run_seed(sc, cfg->run);
  rc = lb_reset_mirror_new(sc, run_seed, &d->mirror);
  if (rc < 0)
    goto out;
  for (int s = 0; cfg->fleet && s < sc->servers; s++)
    lb_reset_mirror_set_server_rtt(d->mirror, s, cfg->fleet->server[s].mean_rtt);
  d->oracle = calloc((size_t)sc->servers, sizeof(*d->oracle));
  d->oracle_used = calloc((size_t)sc->servers, sizeof(bool));
  d->clients = calloc((size_t)cfg->client_count, sizeof(*d->clients));
  int n = lb_fleet_subset_len(sc);
  d->conns = calloc((size_t)cfg->client_count * (size_t)n, sizeof(*d->conns));
  if (!d->oracle || !d->oracle_used || !d->clients || !d->conns) {
    rc = -ENOMEM;
    goto out;
  }
  struct lb_conn_callbacks cb = {.arg = d,
                                 .on_up = lb__client_on_conn_up,
                                 .on_down = lb__client_on_conn_down,
                                 .on_response = lb__client_on_conn_response,
                                 .on_bad_response = lb__client_on_conn_bad_response};
  for (int c = 0; c < cfg->client_count; c++) {
    struct hosted *hc = &d->clients[c];
    d->nclients = c + 1;
    hc->d = d;
    hc->local = c;
    hc->id = cfg->first_client + c;
    hc->n = n;
    hc->servers = calloc((size_t)n, sizeof(int));
    hc->chans = calloc((size_t)n, sizeof(*hc->chans));
    hc->chptrs = calloc((size_t)n, sizeof(*hc->chptrs));
    hc->chan_rng = calloc((size_t)n, sizeof(*hc->chan_rng));
    hc->chan_mirror = calloc((size_t)n, sizeof(int));
    hc->chan_conn = calloc((size_t)n, sizeof(int));
    if (!hc->servers || !hc->chans || !hc->chptrs || !hc->chan_rng || !hc->chan_mirror ||
        !hc->chan_conn) {
      rc = -ENOMEM;
      goto out;
    }
    if ((rc = lb_rng_new(lb_seed_derive(run_seed, LB_STREAM_CLIENT, (uint64_t)hc->id), &hc->rng)) <
        0)
      goto out;
    lb_fleet_draw_subset(sc, hc->rng, hc->servers);
    if (cfg->fleet)
      memcpy(hc->servers, &cfg->fleet->subset[(size_t)hc->id * (size_t)n], (size_t)n * sizeof(int));
    for (int s = 0; s < n; s++) {
      int server = hc->servers[s];
      if ((rc = lb_channel_init(&hc->chans[s], s, server, (size_t)sc->client_requests_buffer)) < 0)
        goto out;
      hc->chptrs[s] = &hc->chans[s];
      if (cfg->board) {
        hc->chans[s].oracle = &d->oracle[server];
        d->oracle_used[server] = true;
      }
      if ((rc = lb_fleet_channel_rng(sc, run_seed, hc->id, s, &hc->chan_rng[s])) < 0)
        goto out;
      double mean = lb_fleet_draw_channel_mean(sc, hc->chan_rng[s],
                                               lb_reset_mirror_server_rtt(d->mirror, server));
      if (cfg->fleet)
        mean = cfg->fleet->mean_ticks[(size_t)hc->id * (size_t)n + (size_t)s];
      if ((rc = lb_reset_mirror_add_channel(d->mirror, hc->id, s, server, mean)) < 0)
        goto out;
      hc->chan_mirror[s] = rc;
      /* One connection per server for the process, shared by its logical
       * clients: the requests of a tick to one server leave in one write,
       * and are answered in few reads. Requests are told apart by id. */
      int conn = -1;
      for (int k = 0; k < d->nconns; k++)
        if (d->conns[k].server == server)
          conn = k;
      if (conn < 0) {
        if (server >= cfg->nservers) {
          snprintf(d->err, d->errlen,
                   "client %d's subset has server %d, but --servers lists only %d (the scenario "
                   "has servers: %d)",
                   hc->id, server, cfg->nservers, sc->servers);
          rc = -EINVAL;
          goto out;
        }
        const struct lb_server_addr *a = &cfg->servers[server];
        int port = lb_client_server_port(a, sc->transport, d->err, d->errlen);
        if (port < 0) {
          rc = port;
          goto out;
        }
        struct sockaddr_storage addr;
        if ((rc = lb_conn_resolve(a->host, port, &addr)) < 0) {
          snprintf(d->err, d->errlen, "--servers: cannot resolve '%s'", a->host);
          goto out;
        }
        conn = d->nconns;
        if ((rc = lb_conn_init(&d->conns[conn], &d->loop, conn, server, sc->transport, &addr,
                               &cb)) < 0)
          goto out;
        /* A killed server serves again from its restart tick in the model:
         * retry at least every half tick, so the clients find it then and
         * not up to a second later (a kill fault's failures, issue 17). */
        lb_conn_set_backoff_max(&d->conns[conn], (int)(sc->tick_ns / 2000000));
        d->nconns++;
      }
      hc->chan_conn[s] = conn;
    }
    if ((rc = lb_picker_new(spec, n, &hc->picker)) < 0) {
      snprintf(d->err, d->errlen, "picker '%s': cannot build it for a subset of %d", sc->picker, n);
      goto out;
    }
    int w = lb_picker_max_watched(hc->picker);
    d->pick_room = w > d->pick_room ? w : d->pick_room;
    hc->env = (struct lb_pick_env){.rng = hc->rng,
                                   .driver = hc,
                                   .send_probe = lb__client_env_send_probe,
                                   .unwatch_probe = lb__client_env_unwatch_probe};
  }
  rc = 0;
out:
  if (rc < 0 && !d->err[0])
    snprintf(d->err, d->errlen, "set-up failed: %s", strerror(-rc));
  return rc;
}

int lb__client_setup_arrivals(struct driver *d) {
  struct lb_arrivals all = {0};
  char err[512];
  int rc = lb_arrivals_build(d->sc, d->cfg->run, &all, err, sizeof(err));
  if (rc < 0) {
    snprintf(d->err, d->errlen, "arrivals: %s", err);
    return rc;
  }
  int lo = d->cfg->first_client, hi = d->cfg->first_client + d->cfg->client_count;
  size_t n = 0;
  for (size_t i = 0; i < all.n; i++)
    n += all.items[i].client >= lo && all.items[i].client < hi;
  d->arrivals = malloc((n ? n : 1) * sizeof(*d->arrivals));
  if (!d->arrivals) {
    lb_arrivals_close(&all);
    return -ENOMEM;
  }
  double last = 0;
  for (size_t i = 0; i < all.n; i++) {
    if (all.items[i].client >= lo && all.items[i].client < hi) {
      d->arrivals[d->narrivals++] = all.items[i];
      if (all.items[i].tick > last)
        last = all.items[i].tick;
    }
  }
  lb_arrivals_close(&all);
  double end = fmax((double)d->sc->total_ticks, ceil(last));
  d->end_tick = (long)end + d->sc->max_cooldown;
  return 0;
}

static void free_held_of(struct lb_creq *r, void *arg) {
  (void)arg;
  free(r->held);
  r->held = NULL;
}

void lb__client_free_driver(struct driver *d) {
  for (int c = 0; c < d->nclients; c++) {
    struct hosted *hc = &d->clients[c];
    for (int s = 0; s < hc->n; s++) {
      if (hc->chan_rng && hc->chan_rng[s])
        lb_rng_free(hc->chan_rng[s]);
      if (hc->chans)
        lb_channel_close(&hc->chans[s]);
    }
    lb_picker_free(hc->picker);
    lb_rng_free(hc->rng);
    free(hc->servers);
    free(hc->chans);
    free(hc->chptrs);
    free(hc->chan_rng);
    free(hc->chan_mirror);
    free(hc->chan_conn);
  }
  free(d->clients);
  free(d->conns);
  lb_pick_plan_close(&d->plan);
  lb_reset_mirror_free(d->mirror);
  free(d->oracle);
  free(d->oracle_used);
  free(d->arrivals);
  free(d->waiting);
  free(d->arriving);
  while (d->free_picks) {
    struct pick_box *b = d->free_picks;
    d->free_picks = b->next;
    free(b);
  }
  lb_creq_foreach_live(&d->table, free_held_of, NULL);
  while (d->free_held) {
    struct lb_held_response *h = d->free_held;
    d->free_held = h->next;
    free(h);
  }
  lb_board_close(d->board);
  lb_timer_heap_close(&d->heap);
  lb_creq_table_close(&d->table);
  lb_samples_close(&d->timer_late);
  lb_samples_close(&d->send_late);
  lb_samples_close(&d->arrival_late);
  lb_samples_close(&d->overhead);
}
