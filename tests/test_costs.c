/* costs: each of the seed's cost functions on hand-built channels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "cost.h"

static struct lb_stat stat3(double latest, double mean, double ewma) {
  return (struct lb_stat){.valid = true, .latest = latest, .mean = mean, .ewma = ewma};
}

static bool eval(enum lb_cost_source s, enum lb_cost_metric m, enum lb_agg a, enum lb_agg b,
                 const struct lb_channel *ch, double *out) {
  struct lb_cost c = {.source = s, .metric = m, .agg = a, .agg2 = b};
  return lb_cost_eval(&c, ch, out);
}

static void test_client_costs(void **state) {
  (void)state;
  struct lb_channel ch;
  assert_int_equal(lb_channel_init(&ch, 0, 3, 100), 0);
  double v = -1;
  /* ClientRequestsInFlightCost: 0 is a value, not None */
  assert_true(eval(LB_COST_CLIENT, LB_COST_RIF, 0, 0, &ch, &v));
  assert_true(v == 0);
  lb_channel_on_sent(&ch);
  lb_channel_on_sent(&ch);
  assert_true(eval(LB_COST_CLIENT, LB_COST_RIF, 0, 0, &ch, &v) && v == 2);
  /* ClientLatencyCost: None until a request completed */
  assert_false(eval(LB_COST_CLIENT, LB_COST_LATENCY, LB_AGG_MEAN, 0, &ch, &v));
  lb_channel_on_received(&ch);
  lb_channel_on_completed(&ch, 5, NULL);
  lb_channel_on_received(&ch);
  lb_channel_on_completed(&ch, 10, NULL);
  assert_int_equal(ch.requests_in_flight, 0);
  assert_int_equal(ch.completed_count, 2);
  assert_false(ch.has_report);
  assert_true(eval(LB_COST_CLIENT, LB_COST_LATENCY, LB_AGG_LATEST, 0, &ch, &v) && v == 10);
  assert_true(eval(LB_COST_CLIENT, LB_COST_LATENCY, LB_AGG_MEAN, 0, &ch, &v) && v == 7.5);
  /* LastN.ewma's default weight 0.2: 0.2*10 + 0.8*5 */
  assert_true(eval(LB_COST_CLIENT, LB_COST_LATENCY, LB_AGG_EWMA, 0, &ch, &v) && v == 6);
  lb_channel_close(&ch);
}

static void test_server_reported(void **state) {
  (void)state;
  struct lb_channel ch;
  assert_int_equal(lb_channel_init(&ch, 0, 3, 100), 0);
  double v;
  /* ServerReportedCost: None before any response */
  for (int m = 0; m < LB_COST_METRIC_COUNT; m++)
    assert_false(eval(LB_COST_SERVER, (enum lb_cost_metric)m, LB_AGG_MEAN, LB_AGG_MEAN, &ch, &v));
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.requests_in_flight = stat3(7, 5, 6);
  r.queries_per_tick = stat3(12, 10, 11);
  r.utilization = stat3(40, 50, 45);
  r.latency = stat3(9, 8, 8.5);
  r.has_expected_latency = true;
  r.expected_latency = 13;
  r.pid_weight = 2;
  lb_channel_on_completed(&ch, 20, &r);
  assert_true(ch.has_report);
  assert_true(eval(LB_COST_SERVER, LB_COST_RIF, 0, 0, &ch, &v) && v == 7);
  assert_true(eval(LB_COST_SERVER, LB_COST_EXPECTED_LATENCY, 0, 0, &ch, &v) && v == 13);
  assert_true(eval(LB_COST_SERVER, LB_COST_REQUEST_RATE, LB_AGG_LATEST, 0, &ch, &v) && v == 12);
  assert_true(eval(LB_COST_SERVER, LB_COST_REQUEST_RATE, LB_AGG_MEAN, 0, &ch, &v) && v == 10);
  assert_true(eval(LB_COST_SERVER, LB_COST_REQUEST_RATE, LB_AGG_EWMA, 0, &ch, &v) && v == 11);
  assert_true(eval(LB_COST_SERVER, LB_COST_UTILIZATION, LB_AGG_MEAN, 0, &ch, &v) && v == 50);
  assert_true(eval(LB_COST_SERVER, LB_COST_UTILIZATION, LB_AGG_EWMA, 0, &ch, &v) && v == 45);
  assert_true(eval(LB_COST_SERVER, LB_COST_LATENCY, LB_AGG_LATEST, 0, &ch, &v) && v == 9);
  /* capacity = rate/(util/100) = 10/0.5 = 20 -> 1/20; available 20-10 -> 1/10 */
  assert_true(eval(LB_COST_SERVER, LB_COST_CAPACITY, LB_AGG_MEAN, LB_AGG_MEAN, &ch, &v));
  assert_true(v == 1.0 / 20);
  assert_true(eval(LB_COST_SERVER, LB_COST_AVAILABLE_CAPACITY, LB_AGG_MEAN, LB_AGG_MEAN, &ch, &v));
  assert_true(v == 1.0 / 10);
  /* (latest rate 12, ewma util 45): capacity 12/0.45 */
  assert_true(eval(LB_COST_SERVER, LB_COST_CAPACITY, LB_AGG_LATEST, LB_AGG_EWMA, &ch, &v));
  assert_true(fabs(v - 0.45 / 12) < 1e-15);
  assert_true(eval(LB_COST_SERVER, LB_COST_PID, 0, 0, &ch, &v) && v == 0.5);
  /* expectedLatency None */
  ch.report.has_expected_latency = false;
  assert_false(eval(LB_COST_SERVER, LB_COST_EXPECTED_LATENCY, 0, 0, &ch, &v));
  /* an empty window in the report is None */
  ch.report.requests_in_flight.valid = false;
  assert_false(eval(LB_COST_SERVER, LB_COST_RIF, 0, 0, &ch, &v));
  lb_channel_close(&ch);
}

static void test_capacity_none(void **state) {
  (void)state;
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  struct lb_cost cap = {LB_COST_SERVER, LB_COST_CAPACITY, LB_AGG_MEAN, LB_AGG_MEAN};
  struct lb_cost avail = {LB_COST_SERVER, LB_COST_AVAILABLE_CAPACITY, LB_AGG_MEAN, LB_AGG_MEAN};
  double v;
  /* `if not request_rate or not utilization: return None` */
  r.queries_per_tick = stat3(0, 0, 0);
  r.utilization = stat3(50, 50, 50);
  assert_false(lb_cost_server(&cap, &r, &v));
  r.queries_per_tick = stat3(10, 10, 10);
  r.utilization = stat3(0, 0, 0);
  assert_false(lb_cost_server(&cap, &r, &v));
  r.utilization.valid = false;
  assert_false(lb_cost_server(&cap, &r, &v));
  /* utilization 200%: capacity 5 < rate 10 -> no available capacity */
  r.utilization = stat3(200, 200, 200);
  assert_true(lb_cost_server(&cap, &r, &v) && v == 0.2);
  assert_false(lb_cost_server(&avail, &r, &v));
  /* capacity exactly the rate: available 0 -> None */
  r.utilization = stat3(100, 100, 100);
  assert_false(lb_cost_server(&avail, &r, &v));
  /* negative utilization (not from a real server): capacity <= 0 -> None */
  r.utilization = stat3(-50, -50, -50);
  assert_false(lb_cost_server(&cap, &r, &v));
}

static void test_pid_epsilon(void **state) {
  (void)state;
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  struct lb_cost pid = {LB_COST_SERVER, LB_COST_PID, 0, 0};
  double v;
  const double w[] = {0, 0.00005, -0.00005, -0.0001, 0.0001, 2, -4};
  const double want[] = {10000, 10000, -10000, -10000, 10000, 0.5, -0.25};
  for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
    r.pid_weight = w[i];
    assert_true(lb_cost_server(&pid, &r, &v));
    assert_true(fabs(v - want[i]) < 1e-9);
  }
}

static void test_oracle(void **state) {
  (void)state;
  struct lb_channel ch;
  assert_int_equal(lb_channel_init(&ch, 0, 3, 100), 0);
  double v;
  /* no oracle: None */
  assert_false(eval(LB_COST_ORACLE, LB_COST_RIF, 0, 0, &ch, &v));
  struct lb_server_report now, old;
  memset(&now, 0, sizeof(now));
  memset(&old, 0, sizeof(old));
  now.requests_in_flight = stat3(3, 3, 3);
  old.requests_in_flight = stat3(9, 9, 9);
  lb_channel_on_completed(&ch, 4, &old);
  ch.oracle = &now;
  assert_true(eval(LB_COST_ORACLE, LB_COST_RIF, 0, 0, &ch, &v) && v == 3);
  assert_true(eval(LB_COST_SERVER, LB_COST_RIF, 0, 0, &ch, &v) && v == 9);
  /* the oracle's pid is never None, even on a fresh server */
  assert_true(eval(LB_COST_ORACLE, LB_COST_PID, 0, 0, &ch, &v) && v == 10000);
  lb_channel_close(&ch);
}

static void test_names(void **state) {
  (void)state;
  char buf[64];
  struct lb_cost c = {LB_COST_ORACLE, LB_COST_AVAILABLE_CAPACITY, LB_AGG_EWMA, LB_AGG_LATEST};
  assert_true(lb_cost_format(&c, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "oracle.available_capacity(ewma, latest)");
  c = (struct lb_cost){LB_COST_CLIENT, LB_COST_LATENCY, LB_AGG_MEAN, 0};
  lb_cost_format(&c, buf, sizeof(buf));
  assert_string_equal(buf, "client.latency.mean");
  c = (struct lb_cost){LB_COST_SERVER, LB_COST_EXPECTED_LATENCY, 0, 0};
  lb_cost_format(&c, buf, sizeof(buf));
  assert_string_equal(buf, "server.expected_latency");
  c = (struct lb_cost){LB_COST_CLIENT, LB_COST_PID, 0, 0};
  assert_int_equal(lb_cost_format(&c, buf, sizeof(buf)), -EINVAL);
  assert_false(lb_cost_metric_valid(LB_COST_CLIENT, LB_COST_UTILIZATION));
  assert_true(lb_cost_metric_valid(LB_COST_ORACLE, LB_COST_UTILIZATION));
  /* equality ignores aggregates a metric does not take */
  struct lb_cost a = {LB_COST_SERVER, LB_COST_RIF, LB_AGG_EWMA, LB_AGG_MEAN};
  struct lb_cost b = {LB_COST_SERVER, LB_COST_RIF, LB_AGG_LATEST, LB_AGG_LATEST};
  assert_true(lb_cost_equal(&a, &b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_costs),  cmocka_unit_test(test_server_reported),
      cmocka_unit_test(test_capacity_none), cmocka_unit_test(test_pid_epsilon),
      cmocka_unit_test(test_oracle),        cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
