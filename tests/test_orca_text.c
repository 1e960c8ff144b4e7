/* orca_text: a report survives format -> parse bit for bit; Envoy's own
 * example header parses; malformed, hostile (NaN, inf, huge, hex, negative)
 * and oversized values are refused with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "orca_text.h"

static struct lb_server_report sample(void) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.utilization = (struct lb_stat){true, 75, 62.5, 0.1 + 0.2};
  r.queries_per_tick = (struct lb_stat){true, 3, 2.75, 1e-300};
  r.requests_in_flight = (struct lb_stat){true, 7, 5.5, 4.123456789012345};
  r.queued_requests = (struct lb_stat){false, 0, 0, 0};
  r.latency = (struct lb_stat){true, 12, 1e12, 11.0 / 3};
  r.has_expected_latency = true;
  r.expected_latency = 14.25;
  r.pid_weight = -0.375;
  r.orca_utilization = 0.42;
  r.orca_qps = 12.5;
  r.orca_eps = 0;
  r.has_probe_answer = true;
  r.probe_rif = 6;
  r.probe_latency = -1;
  r.resets = 4294967295u;
  r.server = 17;
  r.threads = 8;
  return r;
}

static void assert_stat_equal(const struct lb_stat *a, const struct lb_stat *b) {
  assert_int_equal(a->valid, b->valid);
  assert_memory_equal(&a->latest, &b->latest, sizeof(double));
  assert_memory_equal(&a->mean, &b->mean, sizeof(double));
  assert_memory_equal(&a->ewma, &b->ewma, sizeof(double));
}

static void assert_report_equal(const struct lb_server_report *a,
                                const struct lb_server_report *b) {
  assert_stat_equal(&a->utilization, &b->utilization);
  assert_stat_equal(&a->queries_per_tick, &b->queries_per_tick);
  assert_stat_equal(&a->requests_in_flight, &b->requests_in_flight);
  assert_stat_equal(&a->queued_requests, &b->queued_requests);
  assert_stat_equal(&a->latency, &b->latency);
  assert_int_equal(a->has_expected_latency, b->has_expected_latency);
  const double da[] = {a->expected_latency, a->pid_weight, a->orca_utilization, a->orca_qps,
                       a->orca_eps,         a->probe_rif,  a->probe_latency};
  const double db[] = {b->expected_latency, b->pid_weight, b->orca_utilization, b->orca_qps,
                       b->orca_eps,         b->probe_rif,  b->probe_latency};
  assert_memory_equal(da, db, sizeof(da));
  assert_int_equal(a->has_probe_answer, b->has_probe_answer);
  assert_int_equal(a->resets, b->resets);
  assert_int_equal(a->server, b->server);
  assert_int_equal(a->threads, b->threads);
}

static void test_round_trip(void **state) {
  (void)state;
  struct lb_server_report r = sample(), back;
  char buf[LB_ORCA_TEXT_MAX], err[256] = "";
  int n = lb_orca_text_format(&r, buf, sizeof(buf));
  assert_true(n > 0);
  assert_int_equal((size_t)n, strlen(buf));
  /* The standard fields first, shortest digits. */
  assert_non_null(strstr(buf, "TEXT cpu_utilization:0.42, rps_fractional:12.5, eps:0, "));
  assert_non_null(strstr(buf, "named_metrics.requests_in_flight.latest:7"));
  assert_non_null(strstr(buf, "named_metrics.queued_requests.valid:0"));
  assert_non_null(strstr(buf, "named_metrics.pid_weight:-0.375"));
  assert_non_null(strstr(buf, "named_metrics.resets:4294967295"));
  assert_int_equal(lb_orca_text_parse(buf, (size_t)n, &back, err, sizeof(err)), 0);
  assert_report_equal(&r, &back);
  /* An all-zero report too. */
  memset(&r, 0, sizeof(r));
  n = lb_orca_text_format(&r, buf, sizeof(buf));
  assert_true(n > 0);
  assert_int_equal(lb_orca_text_parse(buf, (size_t)n, &back, err, sizeof(err)), 0);
  assert_report_equal(&r, &back);
}

static void test_format_small_buffer(void **state) {
  (void)state;
  struct lb_server_report r = sample();
  char buf[LB_ORCA_TEXT_MAX];
  int n = lb_orca_text_format(&r, buf, sizeof(buf));
  assert_true(n > 0);
  for (size_t cap = 0; cap <= (size_t)n; cap += (cap < 40 ? 1 : 37))
    assert_int_equal(lb_orca_text_format(&r, buf, cap), -EMSGSIZE);
  assert_int_equal(lb_orca_text_format(&r, buf, (size_t)n + 1), n);
}

static void test_envoy_example(void **state) {
  (void)state;
  /* Envoy's test header, with the TEXT prefix and some spaces. */
  const char *h = "TEXT cpu_utilization:0.7,application_utilization:0.8, mem_utilization:0.9,"
                  "rps_fractional:1000,eps:2,\tnamed_metrics.foo:123,named_metrics.bar:0.2 ";
  struct lb_server_report r;
  char err[256] = "";
  assert_int_equal(lb_orca_text_parse(h, strlen(h), &r, err, sizeof(err)), 0);
  assert_true(r.orca_utilization == 0.7);
  assert_true(r.orca_qps == 1000);
  assert_true(r.orca_eps == 2);
  assert_false(r.utilization.valid);
  assert_int_equal(r.threads, 0);
}

static void test_stat_validity(void **state) {
  (void)state;
  struct lb_server_report r;
  char err[256] = "";
  const char *h = "TEXT named_metrics.latency.mean:4, named_metrics.utilization.valid:0, "
                  "named_metrics.utilization.latest:3";
  assert_int_equal(lb_orca_text_parse(h, strlen(h), &r, err, sizeof(err)), 0);
  assert_true(r.latency.valid); /* a number given, no .valid: valid */
  assert_true(r.latency.mean == 4);
  assert_false(r.utilization.valid); /* .valid:0 wins */
  assert_false(r.requests_in_flight.valid);
  /* A named metric of someone else's is skipped, not taken for a stat. */
  const char *other = "TEXT named_metrics.latency.median:4";
  assert_int_equal(lb_orca_text_parse(other, strlen(other), &r, err, sizeof(err)), 0);
  assert_false(r.latency.valid);
}

static void expect_refused(const char *h, int code, const char *needle) {
  struct lb_server_report r;
  char err[256] = "";
  int rc = lb_orca_text_parse(h, strlen(h), &r, err, sizeof(err));
  if (rc != code || !strstr(err, needle))
    fail_msg("\"%s\": rc %d err \"%s\", expected %d with \"%s\"", h, rc, err, code, needle);
  assert_true(r.orca_utilization == 0 && r.threads == 0); /* nothing half-filled */
}

static void test_malformed(void **state) {
  (void)state;
  expect_refused("", -EINVAL, "TEXT form");
  expect_refused("TEXT", -EINVAL, "TEXT form");
  expect_refused("JSON {\"cpu_utilization\":0.1}", -EINVAL, "TEXT form");
  expect_refused("text cpu_utilization:0.1", -EINVAL, "TEXT form");
  expect_refused("TEXT ", -EINVAL, "empty metric");
  expect_refused("TEXT cpu_utilization:0.1,", -EINVAL, "empty metric");
  expect_refused("TEXT cpu_utilization:0.1,, eps:1", -EINVAL, "empty metric");
  expect_refused("TEXT cpu_utilization=0.1", -EINVAL, "not name:value");
  expect_refused("TEXT :0.1", -EINVAL, "empty name");
  expect_refused("TEXT eps:", -EINVAL, "empty value");
  expect_refused("TEXT threads:3", -EINVAL, "unknown metric threads");
  expect_refused("TEXT named_metrics.:3", -EINVAL, "unknown metric");
  expect_refused("TEXT eps:1, threads:3", -EINVAL, "unknown metric");
  expect_refused("TEXT eps:1, eps:2", -EINVAL, "duplicate metric eps");
  expect_refused("TEXT named_metrics.server:1, named_metrics.server:1", -EINVAL, "duplicate");
  expect_refused("TEXT eps:\"1\"", -EINVAL, "expected a decimal number");
  expect_refused("TEXT eps:1 2", -EINVAL, "expected a decimal number");
  expect_refused("TEXT eps:0x10", -EINVAL, "expected a decimal number");
  expect_refused("TEXT eps:1e", -EINVAL, "expected a decimal number");
  expect_refused("TEXT eps:--1", -EINVAL, "expected a decimal number");
  expect_refused("TEXT named_metrics.x:abc", -EINVAL, "named_metrics.x");
}

static void test_hostile_numbers(void **state) {
  (void)state;
  expect_refused("TEXT cpu_utilization:nan", -EINVAL, "cpu_utilization");
  expect_refused("TEXT cpu_utilization:NaN", -EINVAL, "cpu_utilization");
  expect_refused("TEXT rps_fractional:inf", -EINVAL, "rps_fractional");
  expect_refused("TEXT rps_fractional:-Infinity", -EINVAL, "rps_fractional");
  expect_refused("TEXT rps_fractional:1e400", -ERANGE, "rps_fractional");
  expect_refused("TEXT rps_fractional:1e13", -ERANGE, "at most");
  expect_refused("TEXT cpu_utilization:-0.5", -ERANGE, "non-negative");
  expect_refused("TEXT named_metrics.latency.ewma:-1", -ERANGE, "latency.ewma");
  expect_refused("TEXT named_metrics.pid_weight:-1e13", -ERANGE, "pid_weight");
  expect_refused("TEXT named_metrics.has_probe_answer:2", -ERANGE, "0 or 1");
  expect_refused("TEXT named_metrics.threads:1.5", -ERANGE, "whole number");
  expect_refused("TEXT named_metrics.threads:2e6", -ERANGE, "threads");
  expect_refused("TEXT named_metrics.server:4294967296", -ERANGE, "server");
  expect_refused("TEXT named_metrics.someone_elses:1e300", -ERANGE, "someone_elses");
  expect_refused("TEXT eps:1234567890123456789012345678901234567890123456789012345678901234567",
                 -EINVAL, "decimal number");
  /* In range: accepted. */
  struct lb_server_report r;
  char err[256] = "";
  const char *ok = "TEXT named_metrics.pid_weight:-1e12, named_metrics.probe_latency:-1, "
                   "named_metrics.threads:1048576, rps_fractional:1e12";
  assert_int_equal(lb_orca_text_parse(ok, strlen(ok), &r, err, sizeof(err)), 0);
  assert_true(r.pid_weight == -1e12 && r.probe_latency == -1 && r.threads == 1048576);
}

static void test_oversize_and_unterminated(void **state) {
  (void)state;
  static char big[LB_ORCA_TEXT_MAX + 2];
  memset(big, ' ', sizeof(big));
  memcpy(big, "TEXT eps:1", 10);
  struct lb_server_report r;
  char err[256] = "";
  assert_int_equal(lb_orca_text_parse(big, LB_ORCA_TEXT_MAX + 1, &r, err, sizeof(err)), -EMSGSIZE);
  assert_non_null(strstr(err, "at most"));
  assert_int_equal(lb_orca_text_parse(big, LB_ORCA_TEXT_MAX, &r, err, sizeof(err)), 0);
  assert_true(r.orca_eps == 1);
  /* The value is read to len only: what follows it is not looked at. */
  const char buf[] = "TEXT eps:12345";
  assert_int_equal(lb_orca_text_parse(buf, 10, &r, err, sizeof(err)), 0);
  assert_true(r.orca_eps == 1);
  /* A NULL error buffer is fine. */
  assert_int_equal(lb_orca_text_parse("TEXT x", 6, &r, NULL, 0), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_format_small_buffer),
      cmocka_unit_test(test_envoy_example),
      cmocka_unit_test(test_stat_validity),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_hostile_numbers),
      cmocka_unit_test(test_oversize_and_unterminated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
