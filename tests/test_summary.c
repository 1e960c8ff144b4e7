/* summary: the seed's runTest figures on small hand-worked inputs. pandas'
 * quantile is numpy's linear method: with n values sorted, index
 * h = (n - 1) * q, value v[floor h] + frac(h) * (v[floor h + 1] - v[floor h]). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "summary.h"

static void close_to(double a, double b, int line) {
  if (!(fabs(a - b) < 1e-9 * (1 + fabs(b))))
    fail_msg("line %d: %.17g, expected %.17g", line, a, b);
}
#define CLOSE(a, b) close_to((a), (b), __LINE__)

static struct lb_request_record rec(enum lb_stage stage, int server, double total_ticks,
                                    bool is_probe) {
  struct lb_request_record r;
  memset(&r, 0, sizeof(r));
  r.stage = stage;
  r.server = server;
  r.total_ticks = total_ticks;
  r.is_probe = is_probe;
  r.outcome = LB_OUTCOME_COMPLETED;
  return r;
}

static struct lb_request_record util(enum lb_stage stage, int server, double u, bool is_probe) {
  struct lb_request_record r = rec(stage, server, 5, is_probe);
  r.has_report = true;
  r.report.utilization.valid = true;
  r.report.utilization.latest = u;
  return r;
}

static struct lb_summary_acc *acc_new(void) {
  struct lb_summary_acc *acc = NULL;
  assert_int_equal(lb_summary_acc_new(&acc), 0);
  return acc;
}

static void add(struct lb_summary_acc *acc, struct lb_request_record r) {
  assert_int_equal(lb_summary_acc_add(acc, &r), 0);
}

/* Latencies 1..10: mean 5.5; stdev sqrt(82.5 / 9) = 3.0276503540974917;
 * p50: h = 4.5 -> 5.5; p90: h = 8.1 -> 9.1; p99: h = 8.91 -> 9.91;
 * p99.9: h = 8.991 -> 9.991. Probes, WARMING and failed requests are
 * counted but are not latencies; COOLING ones are. */
static void test_latency_one_to_ten(void **state) {
  (void)state;
  struct lb_summary_acc *acc = acc_new();
  for (int i = 1; i <= 10; i++)
    add(acc, rec(i <= 7 ? LB_STAGE_RUNNING : LB_STAGE_COOLING, i % 3, i, false));
  add(acc, rec(LB_STAGE_RUNNING, 0, 1000, true));  /* probe */
  add(acc, rec(LB_STAGE_WARMING, 0, 1000, false)); /* warming */
  struct lb_request_record failed = rec(LB_STAGE_RUNNING, 0, 1000, false);
  failed.outcome = LB_OUTCOME_FAILED;
  add(acc, failed);
  struct lb_request_record late = rec(LB_STAGE_COOLING, -1, NAN, false);
  late.outcome = LB_OUTCOME_TIMED_OUT;
  add(acc, late);
  lb_summary_acc_count(acc, LB_OUTCOME_COMPLETED, 1); /* not recorded (data_frequency) */
  struct lb_summary s;
  assert_int_equal(lb_summary_compute(acc, &s), 0);
  CLOSE(s.mean_latency, 5.5);
  CLOSE(s.stdev_latency, 3.0276503540974917);
  CLOSE(s.latency_q[0], 5.5);
  CLOSE(s.latency_q[1], 9.1);
  CLOSE(s.latency_q[2], 9.91);
  CLOSE(s.latency_q[3], 9.991);
  assert_int_equal(s.latency_samples, 10);
  assert_int_equal(s.requests, 15);
  assert_int_equal(s.completed, 13);
  assert_int_equal(s.failed, 1);
  assert_int_equal(s.timed_out, 1);
  assert_int_equal(s.probes, 2);
  /* No utilization reported: NaN, as pandas gives on an empty series. */
  assert_true(isnan(s.mean_utilization) && isnan(s.stdev_utilization));
  assert_true(isnan(s.mean_stdev_utilization) && isnan(s.utilization_ratio_q[0]));
  assert_true(isnan(s.mean_utilization_per_request));
  lb_summary_acc_free(acc);
}

/* Repeated values {1, 1, 1, 2, 10}: mean 3, stdev sqrt(62 / 4) =
 * 3.937003937005906; p50: h = 2 -> 1; p90: h = 3.6 -> 2 + 0.6 * 8 = 6.8;
 * p99: h = 3.96 -> 9.68; p99.9: h = 3.996 -> 9.968. */
static void test_latency_repeats(void **state) {
  (void)state;
  struct lb_summary_acc *acc = acc_new();
  const double v[5] = {10, 1, 2, 1, 1};
  for (int i = 0; i < 5; i++)
    add(acc, rec(LB_STAGE_RUNNING, 0, v[i], false));
  struct lb_summary s;
  assert_int_equal(lb_summary_compute(acc, &s), 0);
  CLOSE(s.mean_latency, 3);
  CLOSE(s.stdev_latency, 3.937003937005906);
  CLOSE(s.latency_q[0], 1);
  CLOSE(s.latency_q[1], 6.8);
  CLOSE(s.latency_q[2], 9.68);
  CLOSE(s.latency_q[3], 9.968);
  lb_summary_acc_free(acc);
  /* One latency: stdev NaN (ddof 1), every quantile that value. */
  acc = acc_new();
  add(acc, rec(LB_STAGE_RUNNING, 0, 4, false));
  assert_int_equal(lb_summary_compute(acc, &s), 0);
  CLOSE(s.mean_latency, 4);
  assert_true(isnan(s.stdev_latency));
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    CLOSE(s.latency_q[i], 4);
  lb_summary_acc_free(acc);
}

/* RUNNING utilization: server 0 {50, 50, 60}, server 1 {50, 80 (a probe)},
 * server 2 {70}; a WARMING 10 and a None are left out.
 * The seed groups by the value itself: distinct {50, 60, 70, 80}: mean 65,
 * stdev sqrt(500 / 3) = 12.909944487358056; p50: h = 1.5 -> 65, ratio 1;
 * p90: h = 2.7 -> 77, ratio 77/65; p99: h = 2.97 -> 79.7; p99.9: 79.97.
 * Per server stdev: server 0 sqrt(66.67 / 2) = 5.773502691896258, server 1
 * sqrt(450) = 21.213203435596427, server 2 none (one value, NaN, skipped):
 * mean 13.493353063746343. Per request: mean 60, stdev sqrt(800 / 5). */
static void test_utilization(void **state) {
  (void)state;
  struct lb_summary_acc *acc = acc_new();
  add(acc, util(LB_STAGE_RUNNING, 0, 50, false));
  add(acc, util(LB_STAGE_RUNNING, 0, 50, false));
  add(acc, util(LB_STAGE_RUNNING, 0, 60, false));
  add(acc, util(LB_STAGE_RUNNING, 1, 50, false));
  add(acc, util(LB_STAGE_RUNNING, 1, 80, true));
  add(acc, util(LB_STAGE_RUNNING, 2, 70, false));
  add(acc, util(LB_STAGE_WARMING, 2, 10, false));
  add(acc, util(LB_STAGE_COOLING, 2, 20, false));
  struct lb_request_record none = util(LB_STAGE_RUNNING, 2, 0, false);
  none.report.utilization.valid = false;
  add(acc, none);
  struct lb_request_record nan = util(LB_STAGE_RUNNING, 2, NAN, false);
  add(acc, nan);
  struct lb_summary s;
  assert_int_equal(lb_summary_compute(acc, &s), 0);
  CLOSE(s.mean_utilization, 65);
  CLOSE(s.stdev_utilization, 12.909944487358056);
  CLOSE(s.utilization_ratio_q[0], 1);
  CLOSE(s.utilization_ratio_q[1], 77.0 / 65);
  CLOSE(s.utilization_ratio_q[2], 79.7 / 65);
  CLOSE(s.utilization_ratio_q[3], 79.97 / 65);
  CLOSE(s.mean_stdev_utilization, 13.493353063746343);
  CLOSE(s.mean_utilization_per_request, 60);
  CLOSE(s.stdev_utilization_per_request, sqrt(160));
  lb_summary_acc_free(acc);
}

/* -0.0 and 0.0 are one group, as in pandas. */
static void test_utilization_signed_zero(void **state) {
  (void)state;
  struct lb_summary_acc *acc = acc_new();
  add(acc, util(LB_STAGE_RUNNING, 0, 0.0, false));
  add(acc, util(LB_STAGE_RUNNING, 0, -0.0, false));
  add(acc, util(LB_STAGE_RUNNING, 0, 100, false));
  struct lb_summary s;
  assert_int_equal(lb_summary_compute(acc, &s), 0);
  CLOSE(s.mean_utilization, 50); /* distinct {0, 100} */
  lb_summary_acc_free(acc);
}

static void test_quantile_sorted(void **state) {
  (void)state;
  const double v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CLOSE(lb_quantile_sorted(v, 10, 0.5), 5.5);
  CLOSE(lb_quantile_sorted(v, 10, 0.9), 9.1);
  CLOSE(lb_quantile_sorted(v, 10, 0.999), 9.991);
  assert_true(lb_quantile_sorted(v, 10, 0) == 1);
  assert_true(lb_quantile_sorted(v, 10, 1) == 10);
  assert_true(lb_quantile_sorted(v, 1, 0.5) == 1);
  assert_true(isnan(lb_quantile_sorted(v, 0, 0.5)));
  /* h = 0.25 * 3 = 0.75: 1 + 0.75 * (2 - 1) */
  CLOSE(lb_quantile_sorted(v, 4, 0.25), 1.75);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The value -> count map against every value sorted, for integer tick
 * latencies and fractional (real run) ones. */
static void test_against_sorted(void **state) {
  (void)state;
  struct lb_rng *r = NULL;
  assert_int_equal(lb_rng_new(3, &r), 0);
  for (int fractional = 0; fractional <= 1; fractional++) {
    enum { N = 20000 };
    double *all = malloc(N * sizeof(*all));
    assert_non_null(all);
    struct lb_summary_acc *acc = acc_new();
    double sum = 0;
    for (int i = 0; i < N; i++) {
      double v = lb_rng_gamma_seed(r, 12, 1.5, 1);
      if (fractional)
        v += lb_rng_uniform(r);
      all[i] = v;
      sum += v;
      add(acc, rec(LB_STAGE_RUNNING, i % 7, v, false));
    }
    qsort(all, N, sizeof(*all), cmp_double);
    struct lb_summary s;
    assert_int_equal(lb_summary_compute(acc, &s), 0);
    CLOSE(s.mean_latency, sum / N);
    for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
      assert_true(s.latency_q[i] == lb_quantile_sorted(all, N, lb_summary_quantiles[i]));
    lb_summary_acc_free(acc);
    free(all);
  }
  lb_rng_free(r);
}

static void test_csv(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  lb_summary_write_header(f);
  struct lb_summary s;
  memset(&s, 0, sizeof(s));
  s.mean_latency = 5.5;
  s.stdev_latency = NAN;
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++) {
    s.latency_q[i] = i + 1;
    s.utilization_ratio_q[i] = 1;
  }
  s.mean_utilization = 65;
  s.stdev_utilization = 0.1;
  s.mean_stdev_utilization = NAN;
  s.requests = 10;
  s.completed = 8;
  s.failed = 1;
  s.timed_out = 1;
  s.probes = 2;
  s.mean_utilization_per_request = 60;
  s.stdev_utilization_per_request = 2.5;
  lb_summary_write_row(f, "least(client.rif, choices=2)", 3, 42, &s);
  assert_int_equal(fclose(f), 0);
  assert_string_equal(
      buf, "algorithm,mean_latency,stdev_latency,p50.0_latency,p90.0_latency,p99.0_latency,"
           "p99.9_latency,mean_utilization,stdev_utilization,mean_stdev_utilization,"
           "p50.0_utilization_ratio,p90.0_utilization_ratio,p99.0_utilization_ratio,"
           "p99.9_utilization_ratio,run,seed,requests,completed,failed,timed_out,probes,"
           "mean_utilization_per_request,stdev_utilization_per_request\n"
           "\"least(client.rif, choices=2)\",5.5,nan,1,2,3,4,65,0.1,nan,1,1,1,1,3,42,10,8,1,1,2,60,"
           "2.5\n");
  free(buf);
}

/* The reader reads back what the writer wrote: columns by name, a quoted
 * algorithm with a comma in it as one cell; an empty file and a missing one
 * are told apart. */
static void test_csv_read(void **state) {
  (void)state;
  char path[] = "/tmp/test_summary_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  lb_summary_write_header(f);
  struct lb_summary s;
  memset(&s, 0, sizeof(s));
  s.mean_latency = 5.5;
  s.requests = 10;
  lb_summary_write_row(f, "least(client.rif, choices=2)", 3, 42, &s);
  s.mean_latency = 7;
  lb_summary_write_row(f, "random", 4, 43, &s);
  assert_int_equal(fclose(f), 0);
  struct lb_summary_reader *r = NULL;
  char err[256] = "";
  assert_int_equal(lb_summary_reader_open(path, &r, err, sizeof(err)), 0);
  int alg = lb_summary_reader_column(r, "algorithm");
  int mean = lb_summary_reader_column(r, "mean_latency");
  int req = lb_summary_reader_column(r, "requests");
  assert_int_equal(alg, 0);
  assert_int_equal(mean, 1);
  assert_true(req > mean);
  assert_int_equal(lb_summary_reader_column(r, "nope"), -1);
  assert_int_equal(lb_summary_reader_next(r, err, sizeof(err)), 1);
  assert_int_equal(lb_summary_reader_cells(r), 23);
  assert_string_equal(lb_summary_reader_cell(r, alg), "least(client.rif, choices=2)");
  assert_string_equal(lb_summary_reader_cell(r, mean), "5.5");
  assert_string_equal(lb_summary_reader_cell(r, req), "10");
  assert_null(lb_summary_reader_cell(r, 23));
  assert_int_equal(lb_summary_reader_next(r, err, sizeof(err)), 1);
  assert_string_equal(lb_summary_reader_cell(r, alg), "random");
  assert_string_equal(lb_summary_reader_cell(r, mean), "7");
  assert_int_equal(lb_summary_reader_next(r, err, sizeof(err)), 0);
  lb_summary_reader_close(r);
  f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  r = NULL;
  assert_int_equal(lb_summary_reader_open(path, &r, err, sizeof(err)), -ENODATA);
  assert_null(r);
  assert_non_null(strstr(err, ":1: expected a header line"));
  unlink(path);
  assert_int_equal(lb_summary_reader_open(path, &r, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, path));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_latency_one_to_ten),
      cmocka_unit_test(test_latency_repeats),
      cmocka_unit_test(test_utilization),
      cmocka_unit_test(test_utilization_signed_zero),
      cmocka_unit_test(test_quantile_sorted),
      cmocka_unit_test(test_against_sorted),
      cmocka_unit_test(test_csv),
      cmocka_unit_test(test_csv_read),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
