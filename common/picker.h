/* picker: the seed's channel pickers behind one small vtable.
 *
 * A picker expression (expr.h) parses into an immutable spec; each logical
 * client builds its own picker instance from it (instances keep per-channel
 * state keyed by lb_channel.index). For each request the driver calls
 * lb_picker_pick(); a probing picker may send probes through the env and
 * answer LB_PICK_WAIT, and the driver then calls lb_picker_resume() (the
 * simulator on every following tick, as the seed's generators are resumed;
 * lbclient when a watched probe completes) until it answers LB_PICK_DONE.
 * Randomness comes only from env->rng. No allocation per pick. */
#ifndef LB_PICKER_H
#define LB_PICKER_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"

struct lb_rng;
struct lb_picker;
struct lb_picker_spec;

#define LB_PICK_DONE 0
#define LB_PICK_WAIT 1
#define LB_PICK_MAX_CHANNELS 256 /* largest subset a picker accepts */
#define LB_PICK_MAX_PROBES 64    /* most probes any pick watches */

/* A probe a pick watches: the driver fills done/latency/queued_latest when
 * the probe completes (its channel's accounting is the driver's as for any
 * request). */
struct lb_probe {
  struct lb_channel *channel;
  bool done;
  double latency;          /* total ticks of the probe */
  bool has_queued;         /* the probe's report had a queued window */
  double queued_latest;    /* its latest queued_requests */
  void *driver_handle;     /* the driver's, untouched by pickers */
};

/* Per-request picking state, owned by the driver (embedded in its request
 * record or pooled): pickers never allocate one. The driver gives it room
 * for the probes a pick of its picker may watch (lb_picker_max_watched):
 * a fastest-probe pick of two channels needs two, not LB_PICK_MAX_PROBES,
 * and the simulator holds thousands of picks at once. */
struct lb_pick {
  const struct lb_picker *waiting; /* leaf picker that answered WAIT */
  int nprobes;
  int cap;                  /* room in probes */
  struct lb_probe *probes;  /* the driver's */
};

/* A fresh pick over room[0..cap), zeroed. */
void lb_pick_init(struct lb_pick *pick, struct lb_probe *room, int cap);

struct lb_pick_env {
  struct lb_rng *rng;
  void *driver;
  /* Send a probe on ch now. watch is NULL (fire and forget, WithProbes) or a
   * slot in the pick that the driver fills when the probe completes. As the
   * seed's Channel.send, the probe counts in ch->requests_in_flight
   * (lb_channel_on_sent) by the time this returns: the picker that runs
   * next (probing(least(client.rif))) sees it. */
  int (*send_probe)(void *driver, struct lb_channel *ch, struct lb_probe *watch);
  /* The pick no longer watches this slot (it finished or was abandoned):
   * the probe still runs and is accounted, its result is not reported.
   * Called once for each watched probe not yet done when the pick finishes
   * (LB_PICK_DONE) or is abandoned; done probes are not unwatched. */
  void (*unwatch_probe)(void *driver, struct lb_probe *watch);
  /* The driver's clock in ticks (fractional in real runs), for pickers that
   * age or decay what they saw (peak_ewma, prequal, orca_wrr). Left 0, time
   * stands still for them. */
  double now_ticks;
  /* A tick's duration in seconds (the scenario's `tick`), for pickers whose
   * periods are given in time (orca_wrr, slow_start); 0: LB_PICK_DEFAULT_TICK_S. */
  double tick_seconds;
  /* Per channel index, a factor on the channel's weight (slow_start sets it
   * for the picker it wraps; weighted pickers such as least_request apply
   * it); NULL: every factor 1. */
  const double *weight_factor;
};
#define LB_PICK_DEFAULT_TICK_S 0.01

/* Builds one client's instance; nchannels is the client's subset size. */
int lb_picker_new(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out);
/* The most probes one pick of p watches (0: it never waits): the room its
 * lb_pick needs. */
int lb_picker_max_watched(const struct lb_picker *p);
void lb_picker_free(struct lb_picker *p);
/* Starts picking among chs[0..n). pick must be fresh from lb_pick_init. Returns
 * LB_PICK_DONE with *out set, LB_PICK_WAIT, or a negative errno. */
int lb_picker_pick(struct lb_picker *p, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out);
/* Resumes a pick that answered LB_PICK_WAIT. */
int lb_picker_resume(struct lb_picker *p, const struct lb_pick_env *env,
                     struct lb_pick *pick, struct lb_channel **out);
/* Gives up a pick (client shutting down): unwatches its probes. */
void lb_pick_abandon(struct lb_pick *pick, const struct lb_pick_env *env);

#endif
