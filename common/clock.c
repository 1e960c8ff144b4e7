/* clock: monotonic and real-time readings, and the conversion between. */
#include "clock.h"

#include <time.h>

int64_t lb_clock_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double lb_clock_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double lb_clock_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int64_t lb_clock_realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t lb_clock_monotonic_of_realtime(int64_t realtime_ns, int64_t *past_ns) {
  int64_t real_now = lb_clock_realtime_ns();
  int64_t mono = lb_clock_now_ns() + (realtime_ns - real_now);
  if (past_ns)
    *past_ns = realtime_ns < real_now ? real_now - realtime_ns : 0;
  return mono;
}
