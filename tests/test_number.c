/* number: whole numbers, decimals and durations from text, range-checked. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "number.h"

static void test_int64(void **state) {
  (void)state;
  int64_t v = 7;
  assert_int_equal(lb_number_int64("42", 0, 100, &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(lb_number_int64("-3", -5, 5, &v), 0);
  assert_int_equal(v, -3);
  assert_int_equal(lb_number_int64("9223372036854775807", 0, INT64_MAX, &v), 0);
  assert_true(v == INT64_MAX);
  v = 7;
  assert_int_equal(lb_number_int64("101", 0, 100, &v), -ERANGE);
  assert_int_equal(lb_number_int64("-1", 0, 100, &v), -ERANGE);
  assert_int_equal(lb_number_int64("99999999999999999999", 0, INT64_MAX, &v), -ERANGE);
  assert_int_equal(lb_number_int64("", 0, 100, &v), -EINVAL);
  assert_int_equal(lb_number_int64("1.5", 0, 100, &v), -EINVAL);
  assert_int_equal(lb_number_int64("12x", 0, 100, &v), -EINVAL);
  assert_int_equal(lb_number_int64("x", 0, 100, &v), -EINVAL);
  assert_int_equal(v, 7); /* untouched on error */
}

static void test_uint64(void **state) {
  (void)state;
  uint64_t v = 0;
  assert_int_equal(lb_number_uint64("18446744073709551615", &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(lb_number_uint64("18446744073709551616", &v), -ERANGE);
  assert_int_equal(lb_number_uint64("-1", &v), -EINVAL);
  assert_int_equal(lb_number_uint64(" -1", &v), -EINVAL);
  assert_int_equal(lb_number_uint64("", &v), -EINVAL);
}

static void test_double(void **state) {
  (void)state;
  double v = 0;
  assert_int_equal(lb_number_double("2.5", 0, 10, &v), 0);
  assert_true(v == 2.5);
  assert_int_equal(lb_number_double("1e3", 0, 1e6, &v), 0);
  assert_true(v == 1000);
  assert_int_equal(lb_number_double("-0.1", 0, 10, &v), -ERANGE);
  assert_int_equal(lb_number_double("inf", 0, HUGE_VAL, &v), -ERANGE);
  assert_int_equal(lb_number_double("nan", 0, 10, &v), -EINVAL);
  assert_int_equal(lb_number_double("2.5s", 0, 10, &v), -EINVAL);
  assert_int_equal(lb_number_double("", 0, 10, &v), -EINVAL);
}

static void test_duration(void **state) {
  (void)state;
  double s = 0;
  assert_int_equal(lb_number_duration("1.5", 0, 10, &s), 0);
  assert_true(s == 1.5);
  assert_int_equal(lb_number_duration("250ms", 0, 10, &s), 0);
  assert_true(s == 0.25);
  assert_int_equal(lb_number_duration("2m", 0, 1000, &s), 0);
  assert_true(s == 120);
  assert_int_equal(lb_number_duration("500us", 0, 10, &s), 0);
  assert_true(s == 500e-6);
  assert_int_equal(lb_number_duration("1h", 0, 10, &s), -ERANGE);
  assert_int_equal(lb_number_duration("3 weeks", 0, 10, &s), -EINVAL);
  assert_int_equal(lb_number_duration("ms", 0, 10, &s), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_int64),
      cmocka_unit_test(test_uint64),
      cmocka_unit_test(test_double),
      cmocka_unit_test(test_duration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
