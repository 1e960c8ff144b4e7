/* rules: the seed notebook's run rules that both drivers follow, written
 * once: the warm period, the stage of a tick, and a request's processing
 * ticks (cold-channel penalty, probes). lbsim calls them tick by tick,
 * lbserver and lbclient on fractional ticks from the clock. */
#ifndef LB_RULES_H
#define LB_RULES_H

#include <stdbool.h>

#include "reqlog.h"
#include "scenario.h"

/* warm_period = int(min((channel rtt + server rtt + processing) * 3,
 * total_ticks / 2)). */
int lb_rules_warm_period(const struct lb_scenario *sc);

/* The stage at tick (fractional on the real side): the seed's loop index
 * is floor(tick); RUNNING once it is > warm_period, COOLING from
 * total_ticks on, WARMING before. */
enum lb_stage lb_rules_stage(double tick, int warm_period, int total_ticks);

/* A request's processing ticks: the drawn time, plus the cold-channel
 * penalty on a cold channel; a probe takes probe_processing_time instead
 * (the seed draws, then overrides). */
double lb_rules_processing_ticks(const struct lb_scenario *sc, double drawn, bool cold,
                                 bool is_probe);

#endif
