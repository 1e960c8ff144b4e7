/* pick_plan: how a driver (lbsim, lbclient) drives a scenario's picker
 * expression, so both drive it the same way.
 *
 * The seed's WithProbes is a plain function, not a generator: it sends its
 * probes when the client receives the request (Client.send), while the
 * picker it wraps is a generator that runs nothing until the client's next
 * tick. picker.h has one entry point (lb_picker_pick), so where the
 * expression is probing(INNER, probes=P) at its top (every seed scenario
 * that probes), the driver sends the WithProbes probes at send time
 * (lb_pick_plan_send_time_probes) and gives each client a picker built from INNER, called at the client's tick:
 * exactly the seed's timing. Anywhere else probing() runs inside
 * lb_picker_pick at the client's tick (see docs/sim-fidelity.md). */
#ifndef LB_PICK_PLAN_H
#define LB_PICK_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

struct lb_channel;
struct lb_pick_env;
struct lb_picker_spec;

struct lb_pick_plan {
  char expr[LB_PICKER_EXPR_MAX];  /* the scenario's expression */
  struct lb_picker_spec *spec;    /* what each client instantiates */
  bool send_time_probes;          /* the driver sends WithProbes' probes at send */
  double probes_per_request;      /* WithProbes.probes_per_request */
};

/* Parses expr (errors from the expression parser, prefixed with `origin`).
 * split: split a top-level probing() as above (the default of both drivers). */
int lb_pick_plan_init(struct lb_pick_plan *p, const char *expr, bool split, const char *origin,
                  char *err, size_t errlen);
void lb_pick_plan_close(struct lb_pick_plan *p);

/* WithProbes.__call__'s own part, when a request arrives at a client whose
 * channels are chs[0..n): probes to min(RandomRound(P), channels with no
 * rif) channels sampled from all, through env (env->rng the client's).
 * Nothing when the plan did not split. 0 or a negative errno. */
int lb_pick_plan_send_time_probes(const struct lb_pick_plan *p, const struct lb_pick_env *env,
                                  struct lb_channel *const *chs, int n);

/* Exposed for tests: if expr is probing(INNER[, probes=P]) at its top,
 * copies INNER into inner and P into *probes and returns true. */
bool lb_pick_plan_split_probing(const char *expr, char *inner, size_t innerlen, double *probes);

#endif
