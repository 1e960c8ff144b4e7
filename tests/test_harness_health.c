/* Fleet-health rules of lbharness: validity verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "harness_health.h"

static struct lb_harness_health_input healthy(void) {
  struct lb_harness_health_input in = {.tick_ms = 10,
                                       .timer_p99_us = 300,
                                       .send_p99_us = 400,
                                       .server_p99_us = 200,
                                       .fleet_cpu_s = 1.0,
                                       .wall_s = 4.0,
                                       .cores = 2,
                                       .sent = 100,
                                       .completed = 99,
                                       .failed = 1,
                                       .timed_out = 0};
  return in;
}

static void test_valid_run(void **state) {
  (void)state;
  struct lb_harness_health_input in = healthy();
  struct lb_harness_health h;
  lb_harness_health_check(&in, &h);
  assert_true(h.valid);
  assert_string_equal(h.reason, "");
  assert_float_equal(h.cpu_cores_used, 0.25, 1e-12);
}

static void test_late_timers(void **state) {
  (void)state;
  struct lb_harness_health_input in = healthy();
  struct lb_harness_health h;
  in.timer_p99_us = 4100; /* 4.1 ms > 1 ms = 10% of 10 ms */
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "client timer p99 lateness 4.10 ms > 10% of tick 10 ms"));
  assert_non_null(strstr(h.suggestion, "longer tick"));
  assert_null(strstr(h.suggestion, "busy"));
  /* Late timers while other work loads the machine: say so. */
  in.load_average = 5.9;
  lb_harness_health_check(&in, &h);
  assert_non_null(strstr(h.suggestion, "busy with other work (load average 5.9 on 2 cores"));
  in.load_average = 0;
  in.timer_p99_us = 1000; /* exactly 10%: still valid */
  lb_harness_health_check(&in, &h);
  assert_true(h.valid);
  in.server_p99_us = 2500; /* a server's tick or response hold */
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "server timer p99 lateness 2.50 ms"));
}

static void test_busy_fleet_and_accounting(void **state) {
  (void)state;
  struct lb_harness_health_input in = healthy();
  struct lb_harness_health h;
  in.fleet_cpu_s = 7.0; /* 1.75 cores of 2 > 80% */
  in.completed = 90;    /* 90 + 1 + 0 != 100 */
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "fleet CPU 1.75 of 2 cores > 80%"));
  assert_non_null(strstr(h.reason, "100 requests sent but 91 accounted for"));
  assert_non_null(strstr(h.suggestion, "smaller fleet"));
  in = healthy();
  in.completed = 97;
  in.timed_out = 2; /* 2% > 1% */
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "2 of 100 requests timed out"));
  /* Timeouts the model predicts (lbsim's run, same seed) are not held
   * against the run; only those beyond them. */
  in.expected_timed_out = 2;
  lb_harness_health_check(&in, &h);
  assert_true(h.valid);
  in.completed = 88;
  in.timed_out = 11; /* 9 more than the model's 2: 9% */
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "11 of 100 requests timed out, 9 more than lbsim's run"));
  in = healthy();
  in.log_errors = 3;
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "3 request records could not be logged"));
  /* A request sent without its record in the logs. */
  in = healthy();
  in.have_logged = true;
  in.logged = in.sent;
  lb_harness_health_check(&in, &h);
  assert_true(h.valid);
  in.logged = in.sent - 1;
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "100 requests sent but 99 in the per-request logs"));
}

/* A stall is a wake-up a whole tick or more late, or a skipped tick: the
 * worst is named with its tick, however good the p99s look. */
static void test_stalls(void **state) {
  (void)state;
  struct lb_harness_health_input in = healthy(); /* 10 ms ticks */
  struct lb_harness_health h;
  lb_harness_stall_note(&in, "server 1", 9.9, 40, 0); /* under a tick: not a stall */
  lb_harness_stall_note(&in, "client process 0", 2.0, -1, 0);
  assert_int_equal(in.stalled, 0);
  lb_harness_health_check(&in, &h);
  assert_true(h.valid);
  lb_harness_stall_note(&in, "server 2", 0.5, 17, 1); /* a skipped tick is a stall */
  lb_harness_stall_note(&in, "server 3", 3012.0, 85, 300);
  lb_harness_stall_note(&in, "client process 1", 12.0, 86, 0);
  assert_int_equal(in.stalled, 3);
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "3 daemons stalled, worst: server 3 woke 3012.0 ms late at "
                                   "tick 85, 300 ticks skipped"));
  assert_non_null(strstr(h.suggestion, "stopped for a tick or more"));
  in = healthy();
  lb_harness_stall_note(&in, "client process 2", 10.0, -1, 0); /* exactly a tick */
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "1 daemon stalled, worst: client process 2 woke 10.0 ms late"));
  assert_null(strstr(h.reason, "at tick")); /* tick unknown: not made up */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_run),
      cmocka_unit_test(test_late_timers),
      cmocka_unit_test(test_busy_fleet_and_accounting),
      cmocka_unit_test(test_stalls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
