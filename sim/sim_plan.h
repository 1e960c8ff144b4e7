/* sim_plan: how lbsim drives a scenario's picker expression.
 *
 * The seed's WithProbes is a plain function, not a generator: it sends its
 * probes when the client receives the request (Client.send), while the
 * picker it wraps is a generator that runs nothing until the client's next
 * tick. picker.h has one entry point (lb_picker_pick), so where the
 * expression is probing(INNER, probes=P) at its top (every seed scenario
 * that probes), lbsim sends the WithProbes probes itself at send time and
 * gives each client a picker built from INNER, called at the client's tick:
 * exactly the seed's timing. Anywhere else probing() runs inside
 * lb_picker_pick at the client's tick (see docs/sim-fidelity.md). */
#ifndef LB_SIM_PLAN_H
#define LB_SIM_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

struct lb_picker_spec;

struct sim_plan {
  char expr[LB_PICKER_EXPR_MAX];  /* the scenario's expression */
  struct lb_picker_spec *spec;    /* what each client instantiates */
  bool send_time_probes;          /* lbsim sends WithProbes' probes at send */
  double probes_per_request;      /* WithProbes.probes_per_request */
};

/* Parses expr (errors from the expression parser, prefixed with `origin`).
 * split: split a top-level probing() as above (lbsim's default). */
int sim_plan_init(struct sim_plan *p, const char *expr, bool split, const char *origin,
                  char *err, size_t errlen);
void sim_plan_close(struct sim_plan *p);

/* Exposed for tests: if expr is probing(INNER[, probes=P]) at its top,
 * copies INNER into inner and P into *probes and returns true. */
bool sim_plan_split_probing(const char *expr, char *inner, size_t innerlen, double *probes);

#endif
