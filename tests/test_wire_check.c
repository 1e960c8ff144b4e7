/* wire_check: each class of hostile number (a time near INT64_MAX, NaN,
 * inf, negative, huge, an index past the scenario's counts) is refused with
 * the field named; values in range pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "scenario.h"
#include "wire_check.h"

static struct lb_wire_limits limits(void) {
  struct lb_wire_limits lim = {.max_ns = 8000000000, .channels = 40, .servers = 4};
  return lim;
}

static void test_limits_from_scenario(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  sc.tick_ns = 10000000; /* 10 ms */
  sc.total_ticks = 500;
  sc.max_cooldown = 300;
  sc.clients = 40;
  sc.servers = 4;
  struct lb_wire_limits lim;
  lb_wire_limits_from_scenario(&sc, &lim);
  assert_int_equal(lim.max_ns, 800 * 10000000LL);
  assert_int_equal(lim.channels, 40);
  assert_int_equal(lim.servers, 4);
  sc.total_ticks = 2147483647; /* the run would outlast the cap: capped */
  lb_wire_limits_from_scenario(&sc, &lim);
  assert_int_equal(lim.max_ns, LB_WIRE_MAX_NS);
}

static void test_request_time_near_int64_max(void **state) {
  (void)state;
  struct lb_wire_limits lim = limits();
  Lb__Request req = LB__REQUEST__INIT;
  char err[200] = "";
  req.channel = 3;
  req.response_delay_ns = 5000000;
  assert_int_equal(lb_wire_check_request(&req, &lim, err, sizeof(err)), 0);
  req.response_delay_ns = (uint64_t)lim.max_ns;
  assert_int_equal(lb_wire_check_request(&req, &lim, err, sizeof(err)), 0);
  const uint64_t bad[] = {(uint64_t)lim.max_ns + 1, (uint64_t)INT64_MAX - 1, (uint64_t)INT64_MAX,
                          (uint64_t)INT64_MAX + 1, UINT64_MAX};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    req.response_delay_ns = bad[i];
    err[0] = '\0';
    assert_int_equal(lb_wire_check_request(&req, &lim, err, sizeof(err)), -ERANGE);
    assert_non_null(strstr(err, "response_delay_ns"));
  }
}

static void test_request_channel_bounded(void **state) {
  (void)state;
  struct lb_wire_limits lim = limits();
  Lb__Request req = LB__REQUEST__INIT;
  char err[200] = "";
  req.channel = 39;
  assert_int_equal(lb_wire_check_request(&req, &lim, err, sizeof(err)), 0);
  req.channel = 40;
  assert_int_equal(lb_wire_check_request(&req, &lim, err, sizeof(err)), -ERANGE);
  assert_non_null(strstr(err, "channel"));
  req.channel = UINT32_MAX;
  assert_int_equal(lb_wire_check_request(&req, &lim, err, sizeof(err)), -ERANGE);
}

static void test_response_times(void **state) {
  (void)state;
  struct lb_wire_limits lim = limits();
  Lb__Response resp = LB__RESPONSE__INIT;
  char err[200] = "";
  resp.queue_ns = 1000;
  resp.processing_ns = 2000;
  resp.hold_ns = 3000;
  assert_int_equal(lb_wire_check_response(&resp, &lim, err, sizeof(err)), 0);
  resp.hold_ns = (uint64_t)1 << 63; /* near 2^63: the sanitizer client aborted */
  assert_int_equal(lb_wire_check_response(&resp, &lim, err, sizeof(err)), -ERANGE);
  assert_non_null(strstr(err, "hold_ns"));
  resp.hold_ns = 0;
  resp.queue_ns = (uint64_t)INT64_MAX;
  assert_int_equal(lb_wire_check_response(&resp, &lim, err, sizeof(err)), -ERANGE);
  assert_non_null(strstr(err, "queue_ns"));
  resp.queue_ns = 0;
  resp.processing_ns = (uint64_t)LB_WIRE_MAX_NS + 1;
  assert_int_equal(lb_wire_check_response(&resp, &lim, err, sizeof(err)), -ERANGE);
  assert_non_null(strstr(err, "processing_ns"));
}

/* A response whose report has one field set to v. */
struct reported {
  Lb__Response resp;
  Lb__ServerReport rep;
  Lb__Stat stats[5];
};

static void reported_init(struct reported *x) {
  Lb__Response resp = LB__RESPONSE__INIT;
  Lb__ServerReport rep = LB__SERVER_REPORT__INIT;
  x->resp = resp;
  x->rep = rep;
  for (int i = 0; i < 5; i++) {
    Lb__Stat st = LB__STAT__INIT;
    st.valid = true;
    st.latest = st.mean = st.ewma = 1.5;
    x->stats[i] = st;
  }
  x->rep.utilization = &x->stats[0];
  x->rep.queries_per_tick = &x->stats[1];
  x->rep.requests_in_flight = &x->stats[2];
  x->rep.queued_requests = &x->stats[3];
  x->rep.latency = &x->stats[4];
  x->rep.has_expected_latency = true;
  x->rep.expected_latency = 3;
  x->rep.pid_weight = -2.5; /* signed: fine */
  x->rep.server = 3;
  x->rep.threads = 8;
  x->resp.report = &x->rep;
}

static void expect_refused(struct reported *x, const char *field) {
  struct lb_wire_limits lim = limits();
  char err[200] = "";
  assert_int_equal(lb_wire_check_response(&x->resp, &lim, err, sizeof(err)), -ERANGE);
  if (!strstr(err, field))
    fail_msg("expected '%s' in '%s'", field, err);
  reported_init(x);
  assert_int_equal(lb_wire_check_response(&x->resp, &lim, err, sizeof(err)), 0);
}

static void test_report_nan(void **state) {
  (void)state;
  struct reported x;
  reported_init(&x);
  x.stats[4].ewma = NAN; /* the NaN that spun prequal */
  expect_refused(&x, "latency.ewma");
  x.stats[2].latest = NAN;
  expect_refused(&x, "requests_in_flight.latest");
  x.rep.pid_weight = NAN;
  expect_refused(&x, "pid_weight");
  x.rep.expected_latency = NAN;
  expect_refused(&x, "expected_latency");
}

static void test_report_inf(void **state) {
  (void)state;
  struct reported x;
  reported_init(&x);
  x.stats[0].mean = INFINITY;
  expect_refused(&x, "utilization.mean");
  x.rep.orca_qps = INFINITY;
  expect_refused(&x, "orca_qps");
  x.rep.pid_weight = -INFINITY;
  expect_refused(&x, "pid_weight");
  x.rep.orca_eps = 1e300; /* finite but absurd */
  expect_refused(&x, "orca_eps");
}

static void test_report_negative(void **state) {
  (void)state;
  struct reported x;
  reported_init(&x);
  x.stats[3].latest = -1;
  expect_refused(&x, "queued_requests.latest");
  x.rep.orca_utilization = -0.5;
  expect_refused(&x, "orca_utilization");
  x.rep.expected_latency = -3;
  expect_refused(&x, "expected_latency");
}

static void test_report_ignored_fields_and_indices(void **state) {
  (void)state;
  struct lb_wire_limits lim = limits();
  struct reported x;
  char err[200] = "";
  reported_init(&x);
  /* An empty window's numbers and an absent expected latency are not read. */
  x.stats[1].valid = false;
  x.stats[1].mean = NAN;
  x.rep.has_expected_latency = false;
  x.rep.expected_latency = INFINITY;
  assert_int_equal(lb_wire_check_response(&x.resp, &lim, err, sizeof(err)), 0);
  x.rep.server = 4;
  expect_refused(&x, "server");
  x.rep.threads = UINT32_MAX;
  expect_refused(&x, "threads");
}

static void test_scalar_checks(void **state) {
  (void)state;
  assert_int_equal(lb_wire_check_real(0, false), 0);
  assert_int_equal(lb_wire_check_real(LB_WIRE_MAX_REAL, false), 0);
  assert_int_equal(lb_wire_check_real(-1, true), 0);
  assert_int_equal(lb_wire_check_real(-0.0, false), 0);
  assert_int_equal(lb_wire_check_real(-1e-300, false), -ERANGE);
  assert_int_equal(lb_wire_check_real(NAN, true), -ERANGE);
  assert_int_equal(lb_wire_check_real(-INFINITY, true), -ERANGE);
  assert_int_equal(lb_wire_check_ns(0, 0), 0);
  assert_int_equal(lb_wire_check_ns(1, 0), -ERANGE);
  assert_int_equal(lb_wire_check_ns(UINT64_MAX, INT64_MAX), -ERANGE);
  assert_int_equal(lb_wire_check_ns((uint64_t)INT64_MAX, INT64_MAX), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limits_from_scenario),
      cmocka_unit_test(test_request_time_near_int64_max),
      cmocka_unit_test(test_request_channel_bounded),
      cmocka_unit_test(test_response_times),
      cmocka_unit_test(test_report_nan),
      cmocka_unit_test(test_report_inf),
      cmocka_unit_test(test_report_negative),
      cmocka_unit_test(test_report_ignored_fields_and_indices),
      cmocka_unit_test(test_scalar_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
