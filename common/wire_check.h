/* wire_check: range checks on the numbers a peer sends, made before the
 * model, the timers or a picker see them. A time field near 2^63 overflows
 * the arithmetic it enters; a NaN in a load report makes a picker's
 * comparisons false forever. Each check names the offending field. */
#ifndef LB_WIRE_CHECK_H
#define LB_WIRE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb.pb-c.h"

struct lb_scenario;

/* No time field on the wire is longer than this, whatever the scenario. */
#define LB_WIRE_MAX_NS (INT64_C(3600) * 1000000000)
/* |x| of any real in a load report (utilization in percent, rates, ticks). */
#define LB_WIRE_MAX_REAL 1e12
#define LB_WIRE_MAX_THREADS (1u << 20)

struct lb_wire_limits {
  int64_t max_ns;    /* time fields lie in [0, max_ns] */
  uint32_t channels; /* a request's channel (the client index) < channels */
  uint32_t servers;  /* a report's server index < servers */
};

/* The run's bounds: no delay outlasts the run and its cooldown (capped at
 * LB_WIRE_MAX_NS); channels and servers from the scenario's counts. */
void lb_wire_limits_from_scenario(const struct lb_scenario *sc, struct lb_wire_limits *lim);

/* 0 when v lies in [0, max_ns]; -ERANGE otherwise. */
int lb_wire_check_ns(uint64_t v, int64_t max_ns);
/* 0 when v is finite, |v| <= LB_WIRE_MAX_REAL and (unless may_be_negative)
 * v >= 0; -ERANGE otherwise (NaN, inf, negative, huge). */
int lb_wire_check_real(double v, bool may_be_negative);

/* A request as received: 0, or -ERANGE with the field and value in err. */
int lb_wire_check_request(const Lb__Request *req, const struct lb_wire_limits *lim, char *err,
                          size_t errlen);
/* A response as received: its time fields and its report. */
int lb_wire_check_response(const Lb__Response *resp, const struct lb_wire_limits *lim, char *err,
                           size_t errlen);
int lb_wire_check_report(const Lb__ServerReport *rep, const struct lb_wire_limits *lim, char *err,
                         size_t errlen);

#endif
