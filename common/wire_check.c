/* wire_check: range checks on numbers from the wire. */
#include "wire_check.h"

#include <errno.h>
#include <math.h>

#include "errbuf.h"
#include "scenario.h"

void lb_wire_limits_from_scenario(const struct lb_scenario *sc, struct lb_wire_limits *lim) {
  lim->max_ns = LB_WIRE_MAX_NS;
  if (sc->tick_ns > 0 && sc->total_ticks >= 0 && sc->max_cooldown >= 0) {
    int64_t ticks = (int64_t)sc->total_ticks + (int64_t)sc->max_cooldown;
    if (ticks < LB_WIRE_MAX_NS / sc->tick_ns)
      lim->max_ns = ticks * sc->tick_ns;
  }
  lim->channels = sc->clients > 0 ? (uint32_t)sc->clients : 0;
  lim->servers = sc->servers > 0 ? (uint32_t)sc->servers : 0;
}

int lb_wire_check_ns(uint64_t v, int64_t max_ns) {
  return max_ns >= 0 && v <= (uint64_t)max_ns ? 0 : -ERANGE;
}

int lb_wire_check_real(double v, bool may_be_negative) {
  if (!isfinite(v) || fabs(v) > LB_WIRE_MAX_REAL || (!may_be_negative && v < 0))
    return -ERANGE;
  return 0;
}

static int bad_ns(const char *what, const char *field, uint64_t v, int64_t max_ns, char *err,
                  size_t errlen) {
  lb_errf(err, errlen, "%s field %s is %llu ns, outside [0, %lld]", what, field,
          (unsigned long long)v, (long long)max_ns);
  return -ERANGE;
}

static int bad_real(const char *field, double v, bool may_be_negative, char *err, size_t errlen) {
  lb_errf(err, errlen, "report field %s is %g: expected a finite %s of at most %g in size", field,
          v, may_be_negative ? "number" : "non-negative number", LB_WIRE_MAX_REAL);
  return -ERANGE;
}

int lb_wire_check_request(const Lb__Request *req, const struct lb_wire_limits *lim, char *err,
                          size_t errlen) {
  if (lb_wire_check_ns(req->response_delay_ns, lim->max_ns) < 0)
    return bad_ns("request", "response_delay_ns", req->response_delay_ns, lim->max_ns, err, errlen);
  if (lim->channels > 0 && req->channel >= lim->channels) {
    lb_errf(err, errlen, "request field channel is %u: the scenario has %u clients", req->channel,
            lim->channels);
    return -ERANGE;
  }
  return 0;
}

static int check_stat(const Lb__Stat *st, const char *name, char *err, size_t errlen) {
  if (!st || !st->valid)
    return 0; /* an empty window: its numbers are not read */
  const double v[3] = {st->latest, st->mean, st->ewma};
  static const char *const part[3] = {"latest", "mean", "ewma"};
  for (int i = 0; i < 3; i++)
    if (lb_wire_check_real(v[i], false) < 0) {
      char field[64];
      lb_errf(field, sizeof(field), "%s.%s", name, part[i]);
      return bad_real(field, v[i], false, err, errlen);
    }
  return 0;
}

int lb_wire_check_report(const Lb__ServerReport *rep, const struct lb_wire_limits *lim, char *err,
                         size_t errlen) {
  const Lb__Stat *stats[5] = {rep->utilization, rep->queries_per_tick, rep->requests_in_flight,
                              rep->queued_requests, rep->latency};
  static const char *const names[5] = {"utilization", "queries_per_tick", "requests_in_flight",
                                       "queued_requests", "latency"};
  for (int i = 0; i < 5; i++)
    if (check_stat(stats[i], names[i], err, errlen) < 0)
      return -ERANGE;
  struct {
    const char *name;
    double v;
    bool may_be_negative;
  } reals[] = {
      {"expected_latency", rep->has_expected_latency ? rep->expected_latency : 0, false},
      {"pid_weight", rep->pid_weight, true}, /* a sum of signed PID adjustments */
      {"orca_utilization", rep->orca_utilization, false},
      {"orca_qps", rep->orca_qps, false},
      {"orca_eps", rep->orca_eps, false},
  };
  for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
    if (lb_wire_check_real(reals[i].v, reals[i].may_be_negative) < 0)
      return bad_real(reals[i].name, reals[i].v, reals[i].may_be_negative, err, errlen);
  if (lim->servers > 0 && rep->server >= lim->servers) {
    lb_errf(err, errlen, "report field server is %u: the scenario has %u servers", rep->server,
            lim->servers);
    return -ERANGE;
  }
  if (rep->threads > LB_WIRE_MAX_THREADS) {
    lb_errf(err, errlen, "report field threads is %u: expected at most %u", rep->threads,
            LB_WIRE_MAX_THREADS);
    return -ERANGE;
  }
  return 0;
}

int lb_wire_check_response(const Lb__Response *resp, const struct lb_wire_limits *lim, char *err,
                           size_t errlen) {
  const uint64_t v[3] = {resp->queue_ns, resp->processing_ns, resp->hold_ns};
  static const char *const names[3] = {"queue_ns", "processing_ns", "hold_ns"};
  for (int i = 0; i < 3; i++)
    if (lb_wire_check_ns(v[i], LB_WIRE_MAX_NS) < 0)
      return bad_ns("response", names[i], v[i], LB_WIRE_MAX_NS, err, errlen);
  return resp->report ? lb_wire_check_report(resp->report, lim, err, errlen) : 0;
}
