/* faults: windows [at, at + for), who a fault targets, the per-kind
 * helpers, the checks and the written form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"

static struct lb_fault make(enum lb_fault_kind kind, int at, int for_ticks, int server,
                            int client) {
  struct lb_fault f;
  lb_fault_init(&f, kind);
  f.at = at;
  f.for_ticks = for_ticks;
  f.server = server;
  f.client = client;
  return f;
}

static void test_kinds(void **state) {
  (void)state;
  enum lb_fault_kind k;
  const char *names[] = {"kill", "pause", "slow", "delay", "partition"};
  for (int i = 0; i < LB_FAULT_KINDS; i++) {
    assert_int_equal(lb_fault_kind_parse(names[i], &k), 0);
    assert_int_equal((int)k, i);
    assert_string_equal(lb_fault_kind_name(k), names[i]);
  }
  assert_int_equal(lb_fault_kind_parse("Kill", &k), -EINVAL);
  assert_int_equal(lb_fault_kind_parse("", &k), -EINVAL);
  assert_string_equal(lb_fault_kind_name((enum lb_fault_kind)9), "?");
  struct lb_fault f;
  lb_fault_init(&f, LB_FAULT_SLOW);
  assert_true(f.factor == 2);
  assert_int_equal(f.client, -1);
  lb_fault_init(&f, LB_FAULT_DELAY);
  assert_true(f.factor == 1);
  assert_true(f.ticks == 0);
}

/* [at, at + for): the first tick in, the last in, the next out. */
static void test_window(void **state) {
  (void)state;
  struct lb_fault f = make(LB_FAULT_PAUSE, 10, 3, 0, -1);
  assert_false(lb_fault_holds(&f, 9));
  assert_true(lb_fault_holds(&f, 10));
  assert_true(lb_fault_holds(&f, 12));
  assert_false(lb_fault_holds(&f, 13));
  /* At the top of the int range, no overflow. */
  f = make(LB_FAULT_PAUSE, INT_MAX - 1, 1, 0, -1);
  assert_true(lb_fault_holds(&f, INT_MAX - 1));
  assert_false(lb_fault_holds(&f, INT_MAX));
  assert_false(lb_fault_holds(&f, INT_MIN));
}

/* kill/pause/slow target a server whatever the client; delay and partition
 * a channel, client -1 being every client's. */
static void test_active_targets(void **state) {
  (void)state;
  struct lb_fault f[4];
  f[0] = make(LB_FAULT_KILL, 5, 5, 2, -1);
  f[1] = make(LB_FAULT_PARTITION, 0, 100, 1, 3);
  f[2] = make(LB_FAULT_PARTITION, 50, 10, 0, -1);
  f[3] = make(LB_FAULT_SLOW, 20, 10, 2, -1);
  f[3].factor = 3.5;
  const struct lb_fault *hit = NULL;
  assert_true(lb_faults_active(f, 4, LB_FAULT_KILL, 2, 7, 5, &hit));
  assert_ptr_equal(hit, &f[0]);
  assert_false(lb_faults_active(f, 4, LB_FAULT_KILL, 1, 7, 5, NULL));
  assert_false(lb_faults_active(f, 4, LB_FAULT_PAUSE, 2, 7, 5, NULL));
  assert_true(lb_faults_dead(f, 4, 2, 9));
  assert_false(lb_faults_dead(f, 4, 2, 10));
  assert_false(lb_faults_paused(f, 4, 2, 6));
  /* A channel: only client 3's. */
  assert_true(lb_faults_partitioned(f, 4, 1, 3, 0));
  assert_false(lb_faults_partitioned(f, 4, 1, 2, 0));
  assert_false(lb_faults_partitioned(f, 4, 0, 3, 0));
  /* Every client's channel to server 0. */
  for (int c = 0; c < 5; c++) {
    assert_true(lb_faults_partitioned(f, 4, 0, c, 55));
    assert_false(lb_faults_partitioned(f, 4, 0, c, 60));
  }
  /* Slow: the factor in the window, 1 outside. */
  assert_true(lb_faults_slow_factor(f, 4, 2, 19) == 1);
  assert_true(lb_faults_slow_factor(f, 4, 2, 20) == 3.5);
  assert_true(lb_faults_slow_factor(f, 4, 2, 29) == 3.5);
  assert_true(lb_faults_slow_factor(f, 4, 1, 25) == 1);
  /* No faults at all. */
  assert_false(lb_faults_active(NULL, 0, LB_FAULT_KILL, 0, 0, 0, NULL));
  assert_true(lb_faults_slow_factor(NULL, 0, 0, 0) == 1);
}

static void test_delay_and_starting(void **state) {
  (void)state;
  struct lb_fault f[2];
  f[0] = make(LB_FAULT_DELAY, 50, 20, 2, 0);
  f[0].ticks = 5;
  f[1] = make(LB_FAULT_DELAY, 60, 5, 2, 1);
  f[1].ticks = 0.25;
  assert_true(lb_faults_delay_ticks(f, 2, 2, 0, 49) == 0);
  assert_true(lb_faults_delay_ticks(f, 2, 2, 0, 50) == 5);
  assert_true(lb_faults_delay_ticks(f, 2, 2, 0, 62) == 5);
  assert_true(lb_faults_delay_ticks(f, 2, 2, 1, 62) == 0.25);
  assert_true(lb_faults_delay_ticks(f, 2, 2, 1, 65) == 0);
  assert_true(lb_faults_delay_ticks(f, 2, 1, 0, 55) == 0);
  assert_ptr_equal(lb_faults_starting(f, 2, LB_FAULT_DELAY, 2, 1, 60), &f[1]);
  assert_null(lb_faults_starting(f, 2, LB_FAULT_DELAY, 2, 1, 61));
  assert_null(lb_faults_starting(f, 2, LB_FAULT_DELAY, 2, 0, 60));
}

static void expect_bad(const struct lb_fault *f, int n, int i, const char *field,
                       const char *needle) {
  const char *got = NULL;
  char why[512] = "";
  assert_int_equal(lb_faults_check(f, n, i, 4, 3, 100, &got, why, sizeof(why)), -EINVAL);
  assert_non_null(got);
  if (strcmp(got, field) != 0 || strstr(why, needle) == NULL)
    fail_msg("field '%s' (expected '%s'): %s", got, field, why);
}

/* Sizes: 4 servers, 3 clients, 100 ticks. */
static void test_check(void **state) {
  (void)state;
  const char *field = NULL;
  char why[512];
  struct lb_fault f[3];
  f[0] = make(LB_FAULT_KILL, 99, 1000, 3, -1);
  assert_int_equal(lb_faults_check(f, 1, 0, 4, 3, 100, &field, why, sizeof(why)), 0);
  f[0] = make(LB_FAULT_KILL, 100, 1, 0, -1);
  expect_bad(f, 1, 0, "at", "from 0 to 99");
  f[0] = make(LB_FAULT_KILL, -1, 1, 0, -1);
  expect_bad(f, 1, 0, "at", "got '-1'");
  f[0] = make(LB_FAULT_KILL, 1, 0, 0, -1);
  expect_bad(f, 1, 0, "for", "got '0'");
  f[0] = make(LB_FAULT_KILL, 1, INT_MAX, 0, -1);
  expect_bad(f, 1, 0, "for", "from 1 to");
  f[0] = make(LB_FAULT_KILL, 1, 1, 4, -1);
  expect_bad(f, 1, 0, "server", "from 0 to 3 (servers: 4)");
  f[0] = make(LB_FAULT_SLOW, 1, 1, 0, 1);
  expect_bad(f, 1, 0, "client", "no client with kind slow");
  f[0] = make(LB_FAULT_PARTITION, 1, 1, 0, 3);
  expect_bad(f, 1, 0, "client", "from 0 to 2 (clients: 3)");
  f[0] = make(LB_FAULT_SLOW, 1, 1, 0, -1);
  f[0].factor = INFINITY;
  expect_bad(f, 1, 0, "factor", "finite number > 0");
  f[0] = make(LB_FAULT_KILL, 1, 1, 0, -1);
  f[0].factor = 2;
  expect_bad(f, 1, 0, "factor", "slow only");
  f[0] = make(LB_FAULT_DELAY, 1, 1, 0, -1);
  f[0].ticks = NAN;
  expect_bad(f, 1, 0, "ticks", "finite number of ticks");
  f[0] = make(LB_FAULT_PARTITION, 1, 1, 0, -1);
  f[0].ticks = 1;
  expect_bad(f, 1, 0, "ticks", "delay only");
  f[0] = make(LB_FAULT_KILL, 1, 1, 0, -1);
  f[0].kind = (enum lb_fault_kind)7;
  expect_bad(f, 1, 0, "kind", "got 7");
  /* Overlaps: the same kind on a target, or kill and pause of a server. */
  f[0] = make(LB_FAULT_PAUSE, 10, 5, 1, -1);
  f[1] = make(LB_FAULT_KILL, 14, 5, 1, -1);
  expect_bad(f, 2, 1, "at", "no overlap with faults[0] (pause of server 1, ticks 10 to 14)");
  f[1] = make(LB_FAULT_KILL, 15, 5, 1, -1); /* right after: fine */
  assert_int_equal(lb_faults_check(f, 2, 1, 4, 3, 100, &field, why, sizeof(why)), 0);
  f[1] = make(LB_FAULT_SLOW, 10, 5, 1, -1); /* another kind: fine */
  assert_int_equal(lb_faults_check(f, 2, 1, 4, 3, 100, &field, why, sizeof(why)), 0);
  f[0] = make(LB_FAULT_PARTITION, 10, 5, 1, 0);
  f[1] = make(LB_FAULT_PARTITION, 12, 5, 1, 1); /* other channel: fine */
  assert_int_equal(lb_faults_check(f, 2, 1, 4, 3, 100, &field, why, sizeof(why)), 0);
  f[2] = make(LB_FAULT_PARTITION, 14, 1, 1, -1); /* every channel: overlaps both */
  expect_bad(f, 3, 2, "at", "no overlap with faults[0]");
}

static void test_write(void **state) {
  (void)state;
  char buf[512] = "";
  FILE *out = fmemopen(buf, sizeof(buf) - 1, "w");
  assert_non_null(out);
  struct lb_fault f = make(LB_FAULT_SLOW, 100, 30, 2, -1);
  f.factor = 2.5;
  assert_int_equal(lb_fault_write(&f, out), 0);
  fputc('\n', out);
  f = make(LB_FAULT_DELAY, 50, 20, 2, 0);
  f.ticks = 0.1;
  assert_int_equal(lb_fault_write(&f, out), 0);
  fputc('\n', out);
  f = make(LB_FAULT_KILL, 60, 20, 3, -1);
  assert_int_equal(lb_fault_write(&f, out), 0);
  fclose(out);
  assert_string_equal(buf, "{kind: slow, at: 100, for: 30, server: 2, factor: 2.5}\n"
                           "{kind: delay, at: 50, for: 20, server: 2, client: 0, ticks: 0.1}\n"
                           "{kind: kill, at: 60, for: 20, server: 3}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),          cmocka_unit_test(test_window),
      cmocka_unit_test(test_active_targets), cmocka_unit_test(test_delay_and_starting),
      cmocka_unit_test(test_check),          cmocka_unit_test(test_write),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
