/* sim_engine: the seed's TestManager, Server, Channel, Client and Request
 * as a tick driver of the shared model (accounting, channels, pickers).
 *
 * One struct sim_run is one run of one scenario: it owns its fleet, its
 * request pool and its summary accumulator, and shares nothing mutable with
 * other runs, so runs may go on different threads. Per tick, in the seed's
 * order: new requests (Client.send), every server's tick, every client's
 * tick (pending picks, then each channel's tick), tick += 1. */
#ifndef LB_SIM_ENGINE_H
#define LB_SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arrivals.h"
#include "fleet.h"
#include "fleet_file.h"
#include "reqlog.h"
#include "scenario.h"
#include "summary.h"

struct lb_rng;
struct lb_pick_plan;
struct sim_run;

/* The seed's Request.State. */
enum sim_state {
  SIM_PICKING = 0,
  SIM_SENDING = 1,
  SIM_SERVER_QUEUE = 2,
  SIM_PROCESSING = 3,
  SIM_RECEIVING = 4,
  SIM_COMPLETED = 5,
};
#define SIM_NSTATES 6

/* Test hooks: replace the model's random draws with fixed ones. Any NULL
 * member keeps the real draw. `what` names the draw. */
enum sim_draw {
  SIM_DRAW_PROCESSING,    /* randGamma(server.mean_processing_time) */
  SIM_DRAW_SEND,          /* randGamma(channel.mean_ticks), request out */
  SIM_DRAW_RECEIVE,       /* randGamma(channel.mean_ticks), response back */
  SIM_DRAW_SERVER_RESET,  /* random() < server_reset_probability */
  SIM_DRAW_NETWORK_RESET, /* random() < network_reset_probability */
};
struct sim_hooks {
  void *ctx;
  /* Integer draws (gamma) and uniform draws (resets). */
  int (*gamma)(void *ctx, enum sim_draw what, int entity, double mean);
  double (*uniform)(void *ctx, enum sim_draw what, int entity);
  /* Server parameters, at creation (reset = false) and on a reset. */
  void (*server_params)(void *ctx, int server, bool reset, struct lb_server_params *p);
  /* A channel's mean ticks, at creation and on a network reset. */
  double (*channel_mean)(void *ctx, int client, int slot, int server);
  /* Client subset (server index of each slot). */
  void (*subset)(void *ctx, int client, int *servers, int n);
};

struct sim_options {
  const struct lb_pick_plan *plan;     /* the scenario's picker (pick_plan.h) */
  FILE *requests_csv;              /* per-request records, or NULL */
  bool requests_csv_header;        /* write the header first */
  const struct lb_arrivals *arrivals; /* use this trace, else build one */
  /* Without a trace given: draw the arrivals as the run goes (the same
   * ones) instead of building the trace first, so memory grows with the
   * fleet and the ticks, not the requests; sim_run_arrivals is then NULL.
   * A scenario's trace file is loaded all the same. */
  bool stream_arrivals;
  const struct sim_hooks *hooks;   /* tests only */
  /* This fleet instead of the drawn one (fleet_file.h): its servers'
   * parameters, subsets and channel means replace the draws, which are
   * still made, so every stream stands where it would without it (a fleet
   * written by sim_run_fleet and given back makes the same run; another
   * fleet's means shape the later draws). Resets draw as ever. */
  const struct lb_fleet_spec *fleet;
  /* Called with every record the seed would keep (data_frequency). */
  void (*on_record)(void *ctx, const struct lb_request_record *rec);
  void *on_record_ctx;
};

/* Builds the fleet of run `run` of sc (seed sc->seed + run). */
int sim_run_new(const struct lb_scenario *sc, int run, const struct sim_options *opt,
                struct sim_run **out, char *err, size_t errlen);
void sim_run_free(struct sim_run *r);
/* One tick of the seed's runTest loop (main ticks, then cooldown ticks).
 * Sets *finished when the run is over. */
int sim_run_step(struct sim_run *r, bool *finished, char *err, size_t errlen);
/* Every tick to the end. */
int sim_run_execute(struct sim_run *r, char *err, size_t errlen);
int sim_run_summary(const struct sim_run *r, struct lb_summary *out);
/* The run's fleet as it is now (before the first tick: as made), into a
 * fleet spec the caller frees (lb_fleet_spec_free). */
int sim_run_fleet(const struct sim_run *r, struct lb_fleet_spec *out);

/* Inspection (tests, progress). */
int sim_run_tick(const struct sim_run *r);          /* the seed's current_tick */
int sim_run_warm_period(const struct sim_run *r);
enum lb_stage sim_run_stage(const struct sim_run *r);
const struct lb_arrivals *sim_run_arrivals(const struct sim_run *r); /* NULL: streamed */
bool sim_run_cooldown_failed(const struct sim_run *r); /* seed: "Cooldown failed" */
long sim_run_requests(const struct sim_run *r);     /* requests and probes created */
long sim_run_dropped_arrivals(const struct sim_run *r); /* past the last tick */
int sim_run_server_queued(const struct sim_run *r, int server);
int sim_run_server_processing(const struct sim_run *r, int server);
const struct lb_server_params *sim_run_server_params(const struct sim_run *r, int server);
const struct lb_server_report *sim_run_server_report(const struct sim_run *r, int server);
int sim_run_client_rif(const struct sim_run *r, int client);
int sim_run_client_pending(const struct sim_run *r, int client);
struct lb_channel *sim_run_channel(const struct sim_run *r, int client, int slot);
double sim_run_channel_mean(const struct sim_run *r, int client, int slot);
/* The modelled proxy's channel to server (scenario proxy:): its rif is
 * every client's requests in flight there; NULL without a proxy. */
const struct lb_channel *sim_run_proxy_channel(const struct sim_run *r, int server);

#endif
