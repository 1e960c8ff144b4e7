#include "server_faults.h"

#include <math.h>

#include "faults.h"

int64_t lb_server_faults_work_ns(const struct lb_scenario *sc, int server, int64_t tick0_ns,
                                 int64_t now_ns, int64_t work_ns) {
  if (sc->n_faults == 0 || now_ns < tick0_ns)
    return work_ns;
  int64_t tick = (now_ns - tick0_ns) / sc->tick_ns;
  if (tick > INT32_MAX)
    return work_ns;
  double factor = lb_faults_slow_factor(sc->faults, sc->n_faults, server, (int)tick);
  if (factor == 1.0)
    return work_ns;
  double ns = (double)work_ns * factor;
  return ns < (double)INT64_MAX / 2 ? (int64_t)llround(ns) : INT64_MAX / 2;
}
