/* The oracle board: POSIX shm slots, write/read, fleet mean utilization,
 * open rules, and the seqlock under a concurrent writer. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "board.h"

static void board_name(char *buf, size_t cap, const char *what) {
  snprintf(buf, cap, "lbtest_board_%s_%d", what, (int)getpid());
}

static struct lb_server_report report_with(double v) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.utilization = (struct lb_stat){.valid = true, .latest = v, .mean = v, .ewma = v};
  r.queries_per_tick = (struct lb_stat){.valid = true, .latest = v, .mean = v, .ewma = v};
  r.requests_in_flight = (struct lb_stat){.valid = true, .latest = v, .mean = v, .ewma = v};
  r.queued_requests = (struct lb_stat){.valid = true, .latest = v, .mean = v, .ewma = v};
  r.latency = (struct lb_stat){.valid = true, .latest = v, .mean = v, .ewma = v};
  r.has_expected_latency = true;
  r.expected_latency = v;
  r.pid_weight = v;
  r.orca_utilization = v;
  r.orca_qps = v;
  r.orca_eps = v;
  r.server = (uint32_t)v;
  r.threads = (uint32_t)v;
  return r;
}

static void assert_stat_equal(const struct lb_stat *a, const struct lb_stat *b) {
  assert_int_equal(a->valid, b->valid);
  assert_true(a->latest == b->latest && a->mean == b->mean && a->ewma == b->ewma);
}

static void assert_report_equal(const struct lb_server_report *a,
                                const struct lb_server_report *b) {
  assert_stat_equal(&a->utilization, &b->utilization);
  assert_stat_equal(&a->queries_per_tick, &b->queries_per_tick);
  assert_stat_equal(&a->requests_in_flight, &b->requests_in_flight);
  assert_stat_equal(&a->queued_requests, &b->queued_requests);
  assert_stat_equal(&a->latency, &b->latency);
  assert_int_equal(a->has_expected_latency, b->has_expected_latency);
  assert_true(a->expected_latency == b->expected_latency);
  assert_true(a->pid_weight == b->pid_weight);
  assert_true(a->orca_utilization == b->orca_utilization);
  assert_true(a->orca_qps == b->orca_qps);
  assert_true(a->orca_eps == b->orca_eps);
  assert_int_equal(a->server, b->server);
  assert_int_equal(a->threads, b->threads);
}

static void test_write_read_mean(void **state) {
  (void)state;
  char name[128];
  struct lb_board *b = NULL, *b2 = NULL;
  struct lb_server_report r, got;
  double mean = 0;
  board_name(name, sizeof(name), "wr");
  lb_board_unlink(name);
  assert_int_equal(lb_board_open(name, 4, true, &b), 0);
  assert_int_equal(lb_board_servers(b), 4);
  assert_int_equal(lb_board_read(b, 1, &got), -ENODATA);
  assert_int_equal(lb_board_fleet_mean_utilization(b, &mean), -ENODATA);

  r = report_with(30);
  assert_int_equal(lb_board_write(b, 0, &r, 30), 0);
  r = report_with(70);
  assert_int_equal(lb_board_write(b, 2, &r, 70), 0);
  r = report_with(5);
  assert_int_equal(lb_board_write(b, 3, &r, NAN), 0); /* empty window */
  assert_int_equal(lb_board_write(b, 4, &r, 1), -EINVAL);
  assert_int_equal(lb_board_write(b, -1, &r, 1), -EINVAL);

  assert_int_equal(lb_board_read(b, 2, &got), 0);
  r = report_with(70);
  assert_report_equal(&got, &r);
  assert_int_equal(lb_board_read(b, 1, &got), -ENODATA);
  assert_int_equal(lb_board_read(b, 9, &got), -EINVAL);
  assert_int_equal(lb_board_fleet_mean_utilization(b, &mean), 0);
  assert_true(fabs(mean - 50.0) < 1e-12); /* (30 + 70) / 2: slot 3 has none */

  /* Another process's view: the same segment, without creating. */
  assert_int_equal(lb_board_open(name, 4, false, &b2), 0);
  assert_int_equal(lb_board_read(b2, 0, &got), 0);
  assert_true(got.utilization.mean == 30);
  r = report_with(10);
  assert_int_equal(lb_board_write(b2, 1, &r, 10), 0);
  assert_int_equal(lb_board_fleet_mean_utilization(b, &mean), 0);
  assert_true(fabs(mean - 110.0 / 3) < 1e-12);
  /* Rewriting a slot replaces it. */
  r = report_with(40);
  assert_int_equal(lb_board_write(b, 0, &r, 40), 0);
  assert_int_equal(lb_board_read(b2, 0, &got), 0);
  assert_true(got.pid_weight == 40);
  lb_board_close(b2);
  lb_board_close(b);
  assert_int_equal(lb_board_unlink(name), 0);
}

static void test_open_rules(void **state) {
  (void)state;
  char name[128];
  struct lb_board *b = NULL, *other = NULL;
  board_name(name, sizeof(name), "rules");
  lb_board_unlink(name);
  assert_int_equal(lb_board_open(name, 3, false, &b), -ENOENT);
  assert_null(b);
  assert_int_equal(lb_board_open(name, 3, true, &b), 0);
  assert_int_equal(lb_board_open(name, 5, true, &other), -EINVAL); /* other fleet size */
  assert_null(other);
  assert_int_equal(lb_board_open(name, 3, true, &other), 0); /* a second server */
  lb_board_close(other);
  assert_int_equal(lb_board_open("a/b", 3, true, &other), -EINVAL);
  assert_int_equal(lb_board_open("", 3, true, &other), -EINVAL);
  assert_int_equal(lb_board_open(name, 0, true, &other), -EINVAL);
  lb_board_close(b);
  lb_board_close(NULL);
  assert_int_equal(lb_board_unlink(name), 0);
  assert_int_equal(lb_board_unlink(name), -ENOENT);
  assert_int_equal(lb_board_open(name, 3, false, &b), -ENOENT);
}

/* A reader never sees a half-written report: every field of a report
 * written by the writer carries the same value. */
struct race {
  struct lb_board *b;
  int writes;
};

static void *writer(void *arg) {
  struct race *rc = arg;
  for (int i = 1; i <= rc->writes; i++) {
    struct lb_server_report r = report_with(i);
    lb_board_write(rc->b, 0, &r, i);
    if (i % 16 == 0) /* servers write once a tick, not back to back */
      sched_yield();
  }
  return NULL;
}

static void test_seqlock(void **state) {
  (void)state;
  char name[128];
  struct race rc = {.writes = 100000};
  board_name(name, sizeof(name), "seq");
  lb_board_unlink(name);
  assert_int_equal(lb_board_open(name, 1, true, &rc.b), 0);
  struct lb_server_report first = report_with(0);
  lb_board_write(rc.b, 0, &first, 0);
  pthread_t tid;
  assert_int_equal(pthread_create(&tid, NULL, writer, &rc), 0);
  double last = 0;
  for (int i = 0; i < 100000; i++) {
    struct lb_server_report got;
    double mean;
    assert_int_equal(lb_board_read(rc.b, 0, &got), 0);
    double v = got.utilization.latest;
    struct lb_server_report want = report_with(v);
    assert_report_equal(&got, &want);
    assert_true(v >= last); /* one writer: never goes back */
    last = v;
    assert_int_equal(lb_board_fleet_mean_utilization(rc.b, &mean), 0);
    assert_true(mean >= v);
  }
  pthread_join(tid, NULL);
  lb_board_close(rc.b);
  lb_board_unlink(name);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_read_mean),
      cmocka_unit_test(test_open_rules),
      cmocka_unit_test(test_seqlock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
