/* sim_build: a run's fleet made and freed (servers, clients, channels, their
 * streams and the draws that make them), and what tests and progress read
 * of a run. */
#include "sim_engine.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accounting.h"
#include "channel.h"
#include "pick_plan.h"
#include "picker.h"
#include "proxy.h"
#include "rng.h"
#include "rules.h"
#include "sim_internal.h"
#include "sim_seqsum.h"

/* Server.reset's draws: at creation from the server's stream, on a reset
 * from its reset clock (as lbserver and lbclient's mirror). A given fleet
 * (sim_options.fleet) replaces what creation drew: drawn all the same, so
 * each stream stands where it would. */
int sim__draw_server(struct sim_run *r, struct sim_server *s, bool reset) {
  const struct sim_hooks *h = r->opt.hooks;
  if (h != NULL && h->server_params != NULL) {
    h->server_params(h->ctx, s->index, reset, &s->params);
  } else if (reset) {
    return lb_fleet_server_reset(&r->sc, &s->reset, &s->params);
  } else {
    lb_fleet_draw_server(&r->sc, s->rng, &s->params);
    if (r->opt.fleet != NULL)
      s->params = r->opt.fleet->server[s->index];
  }
  return 0;
}

/* Channel.reset: (server.mean_rtt + randGamma(mean_channel_rtt, var)) / 2,
 * at creation from the channel's stream, on a reset from its reset clock
 * (as lbclient's mirror); a given fleet's mean as draw_server's. */
int sim__draw_channel(struct sim_run *r, struct sim_channel *ch, bool reset) {
  const struct sim_hooks *h = r->opt.hooks;
  int rtt = ch->server->params.mean_rtt;
  if (h != NULL && h->channel_mean != NULL) {
    ch->mean_ticks = h->channel_mean(h->ctx, ch->client->index, ch->slot, ch->server->index);
  } else if (reset) {
    return lb_fleet_channel_reset(&r->sc, &ch->reset, rtt, &ch->mean_ticks);
  } else {
    ch->mean_ticks = lb_fleet_draw_channel_mean(&r->sc, ch->rng, rtt);
    if (r->opt.fleet != NULL)
      ch->mean_ticks = r->opt.fleet->mean_ticks[(size_t)ch->global];
  }
  return 0;
}

/* Client c's subset (random.choices of the servers), as draw_server's. */
void sim__draw_subset(struct sim_run *r, struct sim_client *cl, int *subset) {
  const struct sim_hooks *h = r->opt.hooks;
  if (h != NULL && h->subset != NULL) {
    h->subset(h->ctx, cl->index, subset, cl->n);
    return;
  }
  lb_fleet_draw_subset(&r->sc, cl->rng, subset);
  if (r->opt.fleet != NULL)
    memcpy(subset, &r->opt.fleet->subset[(size_t)cl->index * (size_t)cl->n],
           (size_t)cl->n * sizeof(*subset));
}

static void slab_close(struct sim_slab *s) {
  for (size_t i = 0; i < s->nchunks; i++)
    free(s->chunks[i]);
  free(s->chunks);
  memset(s, 0, sizeof(*s));
}

int sim_run_summary(const struct sim_run *r, struct lb_summary *out) {
  return lb_summary_compute(r->acc, out);
}

int sim_run_fleet(const struct sim_run *r, struct lb_fleet_spec *out) {
  int n = lb_fleet_subset_len(&r->sc);
  int rc = lb_fleet_spec_alloc(out, r->sc.servers, r->sc.clients, n);
  if (rc < 0)
    return rc;
  snprintf(out->label, sizeof(out->label), "%.80s run %d seed %llu", r->sc.name, r->run,
           (unsigned long long)lb_fleet_run_seed(&r->sc, r->run));
  for (int i = 0; i < r->sc.servers; i++)
    out->server[i] = r->servers[i].params;
  for (int i = 0; i < r->nchannels; i++) {
    out->subset[i] = r->channels[i].server->index;
    out->mean_ticks[i] = r->channels[i].mean_ticks;
  }
  return 0;
}

/* ---- construction ---- */

static int make_rng(uint64_t run_seed, enum lb_stream kind, uint64_t index,
                    struct lb_rng **out) {
  return lb_rng_new(lb_seed_derive(run_seed, kind, index), out);
}

/* Each name's warm stamp, server by server (sim_run.warm_stamps). */
static int place_warm_stamps(struct sim_run *r) {
  int ns = r->sc.servers, nc = r->nchannels;
  r->warm_stamps = calloc(nc > 0 ? (size_t)nc : 1, sizeof(*r->warm_stamps));
  size_t *next = calloc((size_t)ns + 1, sizeof(*next));
  int *place = malloc((nc > 0 ? (size_t)nc : 1) * sizeof(*place));
  int rc = -ENOMEM;
  if (r->warm_stamps == NULL || next == NULL || place == NULL)
    goto out;
  for (int i = 0; i < nc; i++) /* names per server */
    if (r->channels[i].warm_owner == i)
      next[r->channels[i].server->index + 1]++;
  for (int s = 0; s < ns; s++) /* each server's first place */
    next[s + 1] += next[s];
  for (int i = 0; i < nc; i++)
    if (r->channels[i].warm_owner == i)
      place[i] = (int)next[r->channels[i].server->index]++;
  for (int i = 0; i < nc; i++) /* an owner comes before the channels that share its name */
    r->channels[i].warm = &r->warm_stamps[place[r->channels[i].warm_owner]];
  rc = 0;
out:
  free(next);
  free(place);
  return rc;
}

/* Every channel's generator (a light one, fleet.h) and reset clock. */
static int make_channel_rngs(struct sim_run *r, uint64_t run_seed, int n) {
  for (int i = 0; i < r->nchannels; i++) {
    struct sim_channel *ch = &r->channels[i];
    lb_fleet_channel_reset_clock(&r->sc, run_seed, i / n, i % n, &ch->reset);
    int rc = lb_fleet_channel_rng(&r->sc, run_seed, i / n, i % n, &ch->rng);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* The modelled proxy: a channel per server and the one picker over them
 * (sim_internal.h). Every client's subset is every server in order. */
static int make_proxy(struct sim_run *r, char *err, size_t errlen) {
  int n = r->sc.servers, rc;
  if (lb_fleet_subset_len(&r->sc) != n || r->sc.subset_size != 0) {
    snprintf(err, errlen, "%s: proxy %s: the proxy's clients reach every server (subset_size 0)",
             r->sc.name, lb_proxy_name(r->sc.proxy));
    return -EINVAL;
  }
  r->proxy_chs = calloc((size_t)n, sizeof(*r->proxy_chs));
  r->proxy_chp = calloc((size_t)n, sizeof(*r->proxy_chp));
  if (r->proxy_chs == NULL || r->proxy_chp == NULL)
    goto oom;
  for (; r->proxy_nchs < n; r->proxy_nchs++) {
    int i = r->proxy_nchs;
    if (lb_channel_init(&r->proxy_chs[i], i, i, (size_t)r->sc.client_requests_buffer) < 0)
      goto oom;
    r->proxy_chs[i].oracle = lb_accounting_report(&r->servers[i].acc);
    r->proxy_chp[i] = &r->proxy_chs[i];
  }
  if ((rc = lb_picker_new(r->opt.plan->spec, n, &r->proxy_picker)) < 0) {
    snprintf(err, errlen, "%s: picker '%s' for the proxy: %s", r->sc.name, r->opt.plan->expr,
             strerror(-rc));
    return rc;
  }
  return 0;
oom:
  snprintf(err, errlen, "%s: out of memory building the proxy", r->sc.name);
  return -ENOMEM;
}

int sim_run_new(const struct lb_scenario *sc, int run, const struct sim_options *opt,
                struct sim_run **out, char *err, size_t errlen) {
  int rc = -ENOMEM;
  struct sim_run *r = NULL;
  *out = NULL;
  if (opt == NULL || opt->plan == NULL || opt->plan->spec == NULL) {
    snprintf(err, errlen, "lbsim: no picker");
    return -EINVAL;
  }
  if (sc->servers < 1 || sc->clients < 1 || sc->total_ticks < 0) {
    snprintf(err, errlen, "%s: need servers >= 1, clients >= 1 and total_ticks >= 0", sc->name);
    return -EINVAL;
  }
  int n = lb_fleet_subset_len(sc);
  if (n < 1 || n > LB_PICK_MAX_CHANNELS) {
    snprintf(err, errlen, "%s: subset_size %d: a client has 1 to %d channels", sc->name, n,
             LB_PICK_MAX_CHANNELS);
    return -EINVAL;
  }
  if (opt->fleet != NULL && (rc = lb_fleet_spec_check(opt->fleet, sc, err, errlen)) < 0)
    return rc;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    goto oom;
  r->sc = *sc;
  r->run = run;
  r->opt = *opt;
  r->stage = LB_STAGE_WARMING;
  r->phase = PHASE_MAIN;
  /* Requests on whole cache-line pairs: 120 bytes at any offset often
   * span three lines, and every state change touches most of a request. */
  r->reqs.item_size = (sizeof(struct sim_req) + 63) / 64 * 64;
  r->reqs.per_chunk = HUGE_PAGE / r->reqs.item_size;
  r->reports.item_size = sizeof(struct sim_report);
  r->reports.per_chunk = 256;
  r->env.driver = r;
  r->env.tick_seconds = (double)r->sc.tick_ns / 1e9;
  r->env.send_probe = sim__env_send_probe;
  r->env.unwatch_probe = sim__env_unwatch_probe;
  r->warm_period = lb_rules_warm_period(sc);
  if ((rc = lb_summary_acc_new(&r->acc)) < 0)
    goto oom;

  uint64_t seed = lb_fleet_run_seed(sc, run);
  r->servers = calloc((size_t)sc->servers, sizeof(*r->servers));
  r->clients = calloc((size_t)sc->clients, sizeof(*r->clients));
  r->nchannels = sc->clients * n;
  r->channels =
      aligned_alloc(_Alignof(struct sim_channel), (size_t)r->nchannels * sizeof(*r->channels));
  if (r->channels != NULL)
    memset(r->channels, 0, (size_t)r->nchannels * sizeof(*r->channels));
  if (r->servers == NULL || r->clients == NULL || r->channels == NULL ||
      sim_seqsum_init(&r->util, sc->servers) < 0)
    goto oom;
  r->util_ready = true;
  for (int i = 0; i < sc->servers; i++) {
    struct sim_server *s = &r->servers[i];
    s->index = i;
    s->warm_gen = 1;
    s->build_client = -1;
    lb_fleet_server_reset_clock(sc, seed, i, &s->reset);
    if (make_rng(seed, LB_STREAM_SERVER, (uint64_t)i, &s->rng) < 0)
      goto oom;
    if (lb_accounting_init(&s->acc, (size_t)sc->server_state_buffer, sc->ewma_weight) < 0)
      goto oom;
    s->acc_ready = true;
    sim__draw_server(r, s, false);
    /* The report's server and threads are the driver's to fill. */
    s->acc.report.server = (uint32_t)i;
    s->acc.report.threads = (uint32_t)(s->params.threads > 0 ? s->params.threads : 0);
  }
  if (make_channel_rngs(r, seed, n) < 0)
    goto oom;
  int subset[LB_PICK_MAX_CHANNELS];
  for (int c = 0; c < sc->clients; c++) {
    struct sim_client *cl = &r->clients[c];
    cl->index = c;
    cl->n = n;
    cl->channels = &r->channels[(size_t)c * (size_t)n];
    cl->chs = calloc((size_t)n, sizeof(*cl->chs));
    if (cl->chs == NULL || make_rng(seed, LB_STREAM_CLIENT, (uint64_t)c, &cl->rng) < 0)
      goto oom;
    sim__draw_subset(r, cl, subset);
    for (int k = 0; k < n; k++) {
      struct sim_channel *ch = &cl->channels[k];
      if (subset[k] < 0 || subset[k] >= sc->servers) {
        rc = -EINVAL;
        snprintf(err, errlen, "client %d: subset slot %d names server %d", c, k, subset[k]);
        goto fail;
      }
      ch->client = cl;
      ch->server = &r->servers[subset[k]];
      ch->slot = k;
      ch->global = c * n + k;
      ch->warm_owner = ch->global;
      if (ch->server->build_client == c)
        ch->warm_owner = ch->server->build_owner; /* the name's first channel */
      ch->server->build_client = c;
      ch->server->build_owner = ch->warm_owner;
      if (lb_channel_init(&ch->ch, k, subset[k], (size_t)sc->client_requests_buffer) < 0)
        goto oom;
      ch->ch_ready = true;
      ch->ch.oracle = lb_accounting_report(&ch->server->acc);
      sim__draw_channel(r, ch, false);
      cl->chs[k] = &ch->ch;
    }
    if ((rc = lb_picker_new(opt->plan->spec, n, &cl->picker)) < 0) {
      snprintf(err, errlen, "%s: picker '%s' for Client %d: %s", sc->name, opt->plan->expr, c,
               strerror(-rc));
      goto fail;
    }
    int w = lb_picker_max_watched(cl->picker);
    r->max_watched = w > r->max_watched ? w : r->max_watched;
  }
  if (sc->proxy != LB_PROXY_NONE && (rc = make_proxy(r, err, errlen)) < 0)
    goto fail;
  if (place_warm_stamps(r) < 0)
    goto oom;
  /* Pick slots with room for what a pick may watch, not LB_PICK_MAX_PROBES:
   * thousands wait at once, and their memory is touched fresh. */
  r->picks.item_size = sizeof(struct sim_pick_slot) + (size_t)r->max_watched * sizeof(struct lb_probe);
  r->picks.per_chunk = HUGE_PAGE / r->picks.item_size;
  if (opt->arrivals != NULL) {
    r->arrivals = opt->arrivals;
  } else if (opt->stream_arrivals && sc->arrivals != LB_ARRIVALS_TRACE) {
    if ((rc = lb_arrival_stream_open(sc, run, &r->stream, err, errlen)) < 0)
      goto fail;
    r->stream_open = true;
  } else {
    if ((rc = lb_arrivals_build(sc, run, &r->own_arrivals, err, errlen)) < 0)
      goto fail;
    r->arrivals = &r->own_arrivals;
  }
  sim__faults_setup(r);
  *out = r;
  return 0;
oom:
  rc = -ENOMEM;
  snprintf(err, errlen, "%s: out of memory building the fleet", sc->name);
fail:
  sim_run_free(r);
  return rc;
}

void sim_run_free(struct sim_run *r) {
  if (r == NULL)
    return;
  if (r->servers != NULL) {
    for (int i = 0; i < r->sc.servers; i++) {
      struct sim_server *s = &r->servers[i];
      lb_rng_free(s->rng);
      lb_reset_clock_close(&s->reset);
      free(s->queued.v);
      free(s->processing.v);
      free(s->held.v);
      if (s->acc_ready)
        lb_accounting_close(&s->acc);
    }
  }
  if (r->clients != NULL) {
    for (int c = 0; c < r->sc.clients; c++) {
      struct sim_client *cl = &r->clients[c];
      lb_picker_free(cl->picker);
      lb_rng_free(cl->rng);
      free(cl->chs);
      free(cl->pending.v);
    }
  }
  for (int i = 0; r->channels != NULL && i < r->nchannels; i++) {
    struct sim_channel *ch = &r->channels[i];
    lb_rng_free(ch->rng);
    lb_reset_clock_close(&ch->reset);
    free(ch->sendq.v);
    free(ch->recvq.v);
    if (ch->ch_ready)
      lb_channel_close(&ch->ch);
  }
  lb_picker_free(r->proxy_picker);
  for (int i = 0; i < r->proxy_nchs; i++)
    lb_channel_close(&r->proxy_chs[i]);
  free(r->proxy_chs);
  free(r->proxy_chp);
  free(r->seen_next);
  free(r->servers);
  free(r->clients);
  free(r->channels);
  free(r->warm_stamps);
  if (r->util_ready)
    sim_seqsum_close(&r->util);
  lb_arrivals_close(&r->own_arrivals);
  if (r->stream_open)
    lb_arrival_stream_close(&r->stream);
  lb_summary_acc_free(r->acc);
  free(r->due.v);
  sim__faults_close(r);
  slab_close(&r->reqs);
  slab_close(&r->picks);
  slab_close(&r->reports);
  free(r);
}

/* ---- inspection ---- */

int sim_run_tick(const struct sim_run *r) { return r->current_tick; }
int sim_run_warm_period(const struct sim_run *r) { return r->warm_period; }
enum lb_stage sim_run_stage(const struct sim_run *r) { return r->stage; }
const struct lb_arrivals *sim_run_arrivals(const struct sim_run *r) { return r->arrivals; }
bool sim_run_cooldown_failed(const struct sim_run *r) { return r->cooldown_failed; }
long sim_run_requests(const struct sim_run *r) { return r->created; }
long sim_run_dropped_arrivals(const struct sim_run *r) { return r->dropped_arrivals; }
int sim_run_server_queued(const struct sim_run *r, int s) { return (int)r->servers[s].queued.n; }
int sim_run_server_processing(const struct sim_run *r, int s) {
  return (int)r->servers[s].processing.n;
}
const struct lb_server_params *sim_run_server_params(const struct sim_run *r, int s) {
  return &r->servers[s].params;
}
const struct lb_server_report *sim_run_server_report(const struct sim_run *r, int s) {
  return lb_accounting_report(&r->servers[s].acc);
}
int sim_run_client_rif(const struct sim_run *r, int c) { return client_rif(&r->clients[c]); }
int sim_run_client_pending(const struct sim_run *r, int c) {
  return (int)r->clients[c].pending.n;
}
struct lb_channel *sim_run_channel(const struct sim_run *r, int c, int slot) {
  return &r->clients[c].channels[slot].ch;
}
double sim_run_channel_mean(const struct sim_run *r, int c, int slot) {
  return r->clients[c].channels[slot].mean_ticks;
}
const struct lb_channel *sim_run_proxy_channel(const struct sim_run *r, int server) {
  return r->proxy_chs != NULL ? &r->proxy_chs[server] : NULL;
}
