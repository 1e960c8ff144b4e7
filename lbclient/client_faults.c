#include "client_faults.h"

#include <limits.h>

#include "faults.h"

int lb_client_fault_tick(int64_t t0, int64_t tick_ns, int64_t at_ns) {
  if (tick_ns <= 0 || at_ns < t0)
    return -1;
  /* at_ns - t0 >= 0 and both are clock readings: no overflow */
  int64_t k = (at_ns - t0) / tick_ns;
  return k > INT_MAX ? INT_MAX : (int)k;
}

int lb_client_fault_response_tick(int64_t t0, int64_t tick_ns, int64_t lag_ns, int64_t received_ns,
                                  uint64_t hold_ns) {
  if (received_ns < t0)
    return -1;
  /* The wire's hold is range-checked (an hour at most), but a client must
   * not trust it here either. */
  uint64_t back = hold_ns + (uint64_t)(lag_ns > 0 ? lag_ns : 0);
  if (back < hold_ns || back > (uint64_t)(received_ns - t0))
    return -1;
  return lb_client_fault_tick(t0, tick_ns, received_ns - (int64_t)back);
}

void lb_client_faults_message(const struct lb_scenario *sc, int server, int client, int tick,
                              struct lb_client_fault_hit *out) {
  out->dropped = false;
  out->extra_ticks = 0;
  if (sc->n_faults == 0 || tick < 0)
    return;
  out->dropped = lb_faults_partitioned(sc->faults, sc->n_faults, server, client, tick);
  if (!out->dropped)
    out->extra_ticks = lb_faults_delay_ticks(sc->faults, sc->n_faults, server, client, tick);
}

bool lb_client_faults_any(const struct lb_scenario *sc) {
  for (int i = 0; i < sc->n_faults; i++)
    if (sc->faults[i].kind == LB_FAULT_DELAY || sc->faults[i].kind == LB_FAULT_PARTITION)
      return true;
  return false;
}
