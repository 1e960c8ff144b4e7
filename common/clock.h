/* clock: the drivers' readings of time, in one place. The monotonic clock
 * for everything timed; CLOCK_REALTIME only to agree on a fleet's tick 0
 * across processes (--start-at-realtime-ns). The model itself never reads
 * a clock: lbsim counts ticks, the daemons convert. */
#ifndef LB_CLOCK_H
#define LB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t lb_clock_now_ns(void);
/* CLOCK_MONOTONIC in seconds (and milliseconds), for wall-time reports. */
double lb_clock_now_s(void);
double lb_clock_now_ms(void);
/* CLOCK_REALTIME in nanoseconds since the epoch. */
int64_t lb_clock_realtime_ns(void);
/* The monotonic time of realtime_ns (nanoseconds since the epoch), read
 * once now: lb_clock_now_ns() + (realtime_ns - lb_clock_realtime_ns()).
 * *past_ns (may be NULL): how far realtime_ns lies in the past, 0 when it
 * is still ahead. */
int64_t lb_clock_monotonic_of_realtime(int64_t realtime_ns, int64_t *past_ns);

#endif
