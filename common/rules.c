/* rules: the run rules of the seed notebook shared by both drivers. */
#include "rules.h"

#include <math.h>

int lb_rules_warm_period(const struct lb_scenario *sc) {
  double warm = (sc->mean_channel_rtt + sc->mean_server_rtt + sc->mean_processing_time) * 3;
  double half = sc->total_ticks / 2.0;
  return (int)(warm < half ? warm : half);
}

enum lb_stage lb_rules_stage(double tick, int warm_period, int total_ticks) {
  if (tick >= total_ticks)
    return LB_STAGE_COOLING;
  /* for i in range(total_ticks): if i > warm_period: RUNNING */
  return floor(tick) > warm_period ? LB_STAGE_RUNNING : LB_STAGE_WARMING;
}

double lb_rules_processing_ticks(const struct lb_scenario *sc, double drawn, bool cold,
                                 bool is_probe) {
  if (is_probe)
    return sc->probe_processing_time;
  return cold ? drawn + sc->cold_channel_penalty : drawn;
}
