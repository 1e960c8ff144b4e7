/* clock: the readings' units and the --start-at-realtime-ns conversion
 * (what lies in the past, what lies ahead), without timing anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"

#define S 1000000000LL

static void test_monotonic(void **state) {
  (void)state;
  int64_t a = lb_clock_now_ns(), b = lb_clock_now_ns();
  assert_true(a > 0);
  assert_true(b >= a);
  double s = lb_clock_now_s(), ms = lb_clock_now_ms();
  /* the same clock in other units: within a minute of each other */
  assert_true(ms / 1e3 >= s && ms / 1e3 - s < 60);
  assert_true(s >= (double)a / 1e9 - 1);
}

static void test_realtime(void **state) {
  (void)state;
  /* after 2020-01-01 */
  assert_true(lb_clock_realtime_ns() > 1577836800LL * S);
}

static void test_monotonic_of_realtime(void **state) {
  (void)state;
  int64_t past = -1;
  int64_t ahead = lb_clock_realtime_ns() + 3600 * S;
  int64_t t = lb_clock_monotonic_of_realtime(ahead, &past);
  assert_int_equal(past, 0);
  /* an hour from now on the monotonic clock, give or take a minute */
  int64_t in = t - lb_clock_now_ns();
  assert_true(in > 3540 * S && in <= 3600 * S);

  int64_t gone = lb_clock_realtime_ns() - 10 * S;
  t = lb_clock_monotonic_of_realtime(gone, &past);
  assert_true(past >= 10 * S && past < 70 * S);
  assert_true(t < lb_clock_now_ns());
  (void)lb_clock_monotonic_of_realtime(gone, NULL); /* past_ns may be NULL */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_monotonic),
      cmocka_unit_test(test_realtime),
      cmocka_unit_test(test_monotonic_of_realtime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
