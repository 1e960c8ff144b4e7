/* rules: the warm period, the stage rule and processing ticks, with values
 * worked out from the seed notebook's code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static struct lb_scenario scenario(void) {
  struct lb_scenario sc;
  memset(&sc, 0, sizeof(sc));
  sc.mean_channel_rtt = 2;
  sc.mean_server_rtt = 2;
  sc.mean_processing_time = 6;
  sc.total_ticks = 500;
  sc.cold_channel_penalty = 10;
  sc.probe_processing_time = 1;
  return sc;
}

static void test_warm_period(void **state) {
  (void)state;
  struct lb_scenario sc = scenario();
  /* int(min((2 + 2 + 6) * 3, total_ticks / 2)) */
  assert_int_equal(lb_rules_warm_period(&sc), 30);
  sc.total_ticks = 41;
  assert_int_equal(lb_rules_warm_period(&sc), 20); /* int(20.5) */
  sc.total_ticks = 500;
  sc.mean_processing_time = 6.7; /* (2 + 2 + 6.7) * 3 = 32.1 */
  assert_int_equal(lb_rules_warm_period(&sc), 32);
}

static void test_stage(void **state) {
  (void)state;
  assert_int_equal(lb_rules_stage(0, 30, 100), LB_STAGE_WARMING);
  assert_int_equal(lb_rules_stage(30, 30, 100), LB_STAGE_WARMING);
  assert_int_equal(lb_rules_stage(30.9, 30, 100), LB_STAGE_WARMING); /* i > warm_period */
  assert_int_equal(lb_rules_stage(31.0, 30, 100), LB_STAGE_RUNNING);
  assert_int_equal(lb_rules_stage(99.99, 30, 100), LB_STAGE_RUNNING);
  assert_int_equal(lb_rules_stage(100.0, 30, 100), LB_STAGE_COOLING);
  assert_int_equal(lb_rules_stage(0, -1, 100), LB_STAGE_RUNNING);
}

static void test_processing_ticks(void **state) {
  (void)state;
  struct lb_scenario sc = scenario();
  assert_float_equal(lb_rules_processing_ticks(&sc, 4.5, false, false), 4.5, 0);
  assert_float_equal(lb_rules_processing_ticks(&sc, 4.5, true, false), 14.5, 0);
  /* a probe: drawn, then overridden, cold or not */
  assert_float_equal(lb_rules_processing_ticks(&sc, 4.5, true, true), 1, 0);
  assert_float_equal(lb_rules_processing_ticks(&sc, 4.5, false, true), 1, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_warm_period),
      cmocka_unit_test(test_stage),
      cmocka_unit_test(test_processing_ticks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
