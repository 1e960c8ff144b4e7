/* accounting: the seed's ServerState.update and the Record part of
 * Server.tick, values worked out by hand from the seed's code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "accounting.h"
#include "alloc_count.h"

/* The seed's interpolate() asserts, on d = {1: 1.0, 2: 2.0, 4: 4.0, 8: 8.0}. */
static void test_interpolate_seed_asserts(void **state) {
  (void)state;
  const double keys[] = {1, 2, 4, 8}, values[] = {1.0, 2.0, 4.0, 8.0};
  double out = -1;
  assert_false(lb_interpolate(keys, values, 0, 0, &out));
  assert_false(lb_interpolate(keys, values, 0, 1, &out));
  const double xs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 90};
  const double want[] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 8.0, 8.0};
  for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
    assert_true(lb_interpolate(keys, values, 4, xs[i], &out));
    assert_true(out == want[i]);
  }
  /* below every key: the lowest key's value */
  assert_true(lb_interpolate(keys, values, 4, 0.5, &out));
  assert_true(out == 1.0);
  /* between unevenly spaced values */
  const double k2[] = {2, 6}, v2[] = {10, 30};
  assert_true(lb_interpolate(k2, v2, 2, 3.5, &out));
  assert_true(out == 10 + 20 * 1.5 / 4);
}

static struct lb_tick_observation obs(double util, int rif, int queued, double latency) {
  struct lb_tick_observation o = {.utilization = util,
                                  .requests_in_flight = rif,
                                  .queued_requests = queued,
                                  .has_latency = latency >= 0,
                                  .latency = latency >= 0 ? latency : 0};
  return o;
}

static void test_windows_and_report(void **state) {
  (void)state;
  struct lb_accounting a;
  assert_int_equal(lb_accounting_init(&a, 3, 0.5), 0);
  const struct lb_server_report *r = lb_accounting_report(&a);
  assert_false(r->utilization.valid);
  assert_false(r->has_expected_latency);

  for (int i = 0; i < 4; i++)
    lb_accounting_on_enqueue(&a);
  struct lb_tick_observation o = obs(20, 2, 1, 4);
  o.errors = 2;
  o.completions = 3;
  assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
  assert_int_equal(a.queries_in_tick, 0);
  assert_true(r->utilization.valid && r->utilization.latest == 20);
  assert_true(r->queries_per_tick.latest == 4);
  assert_true(r->requests_in_flight.latest == 2);
  assert_true(r->queued_requests.latest == 1);
  assert_true(r->latency.latest == 4);
  /* {2: 4}, mean rif 2 */
  assert_true(r->has_expected_latency && r->expected_latency == 4);
  assert_true(r->orca_utilization == 0.2);
  assert_true(r->orca_qps == 3); /* served, not offered (gRFC A58) */
  assert_true(r->orca_eps == 2);

  o = obs(40, 4, 0, 8);
  assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
  /* {2: 4, 4: 8}, mean rif 3 -> 6 */
  assert_true(r->expected_latency == 6);
  assert_true(r->utilization.mean == 30);
  assert_true(r->utilization.ewma == 0.5 * 40 + 0.5 * 20);
  assert_true(r->queries_per_tick.latest == 0 && r->queries_per_tick.mean == 2);
  assert_true(r->orca_qps == 1.5); /* served: mean of 3 and 0 */
  assert_true(r->orca_eps == 1);

  /* latency 0 is falsy: neither the window nor the table takes it */
  o = obs(60, 6, 3, 0);
  assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
  assert_int_equal(lb_window_len(&a.latency), 2);
  assert_false(a.has_latency_at_rif[6]);
  assert_true(r->latency.latest == 8);
  /* mean rif 4 is a key: 8 */
  assert_true(r->expected_latency == 8);

  /* no latency this tick; the window of 3 drops the first values */
  o = obs(80, 9, 5, -1);
  assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
  assert_true(r->utilization.mean == 60);              /* 40, 60, 80 */
  assert_true(r->requests_in_flight.mean == 19.0 / 3); /* 4, 6, 9 */
  /* above every key: the highest key's value (8) */
  assert_true(r->expected_latency == 8);
  assert_true(r->pid_weight == 0); /* no fleet mean: no adjustment */
  lb_accounting_close(&a);
}

/* Server PID: kp 1, ki 1/50, kd 5; target = mean + 10 below 80, else mean.
 * The seed's sample run shows 60.2 after the first tick (utilization 0,
 * fleet mean 0): error 10 -> 10 + 10/50 + 5*10. */
static void test_pid_weight(void **state) {
  (void)state;
  struct lb_accounting a;
  assert_int_equal(lb_accounting_init(&a, 100, 0.2), 0);
  double fleet = 0;
  struct lb_tick_observation o = obs(0, 0, 0, -1);
  assert_int_equal(lb_accounting_tick(&a, &o, &fleet), 0);
  assert_true(fabs(a.pid_weight - 60.2) < 1e-12);
  assert_true(fabs(lb_accounting_report(&a)->pid_weight - 60.2) < 1e-12);
  /* fleet mean 85 (>= 80): target 85; utilization 95: error -10,
   * integral 0, derivative -20: -10 + 0 - 100 */
  fleet = 85;
  o = obs(95, 0, 0, -1);
  assert_int_equal(lb_accounting_tick(&a, &o, &fleet), 0);
  assert_true(fabs(a.pid_weight - (60.2 - 110)) < 1e-12);
  /* NULL: left alone */
  assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
  assert_true(fabs(a.pid_weight - (60.2 - 110)) < 1e-12);
  lb_accounting_close(&a);
}

static void test_reset_and_growth(void **state) {
  (void)state;
  struct lb_accounting a;
  assert_int_equal(lb_accounting_init(&a, 10, 0.2), 0);
  double fleet = 50;
  struct lb_tick_observation o = obs(10, 5000, 4000, 30);
  assert_int_equal(lb_accounting_tick(&a, &o, &fleet), 0); /* table grows */
  assert_true(a.rif_cap > 5000);
  assert_true(a.has_latency_at_rif[5000]);
  o = obs(10, 3, 0, 6);
  assert_int_equal(lb_accounting_tick(&a, &o, &fleet), 0);
  double el;
  /* {3: 6, 5000: 30} at mean rif 2501.5 */
  assert_true(lb_accounting_expected_latency(&a, &el));
  assert_true(fabs(el - (6 + 24 * (2501.5 - 3) / (5000 - 3))) < 1e-12);

  lb_accounting_on_enqueue(&a);
  lb_accounting_reset(&a);
  const struct lb_server_report *r = lb_accounting_report(&a);
  assert_false(r->utilization.valid);
  assert_false(r->has_expected_latency);
  assert_true(r->pid_weight == 0 && a.pid_weight == 0);
  assert_int_equal(a.rif_keys, 0);
  assert_int_equal(a.queries_in_tick, 1); /* the server's count survives */
  o = obs(50, 1, 0, 2);
  assert_int_equal(lb_accounting_tick(&a, &o, &fleet), 0);
  /* fresh controller: error 10 -> 60.2 */
  assert_true(fabs(a.pid_weight - 60.2) < 1e-12);
  assert_true(r->queries_per_tick.latest == 1);
  assert_true(r->has_expected_latency && r->expected_latency == 2);
  lb_accounting_close(&a);
  lb_accounting_close(NULL);
}

/* The seed's interpolate(), as written (a scan of the dict in insertion
 * order), against the accounting's rif-indexed table, over random tables. */
static bool seed_interpolate(const int *keys, const double *values, int n, double x, double *out) {
  int below = -1, above = -1; /* indices into keys */
  for (int i = 0; i < n; i++) {
    if (keys[i] <= x && (below < 0 || keys[i] > keys[below]))
      below = i;
    if (keys[i] >= x && (above < 0 || keys[i] < keys[above]))
      above = i;
    if (below >= 0 && above >= 0 && keys[below] == keys[above]) {
      *out = values[below];
      return true;
    }
  }
  if (below < 0 && above < 0)
    return false;
  if (below < 0)
    *out = values[above];
  else if (above < 0)
    *out = values[below];
  else
    *out = values[below] +
           (values[above] - values[below]) * (x - keys[below]) / (keys[above] - keys[below]);
  return true;
}

static void test_expected_latency_against_seed(void **state) {
  (void)state;
  unsigned seed = 7;
  for (int trial = 0; trial < 200; trial++) {
    struct lb_accounting a;
    assert_int_equal(lb_accounting_init(&a, 1 + trial % 10, 0.2), 0);
    /* the seed's dict: latest latency per rif, in first-insertion order */
    int keys[400];
    double values[400];
    int n = 0;
    for (int t = 0; t < 1 + trial % 40; t++) {
      seed = seed * 1103515245 + 12345;
      int rif = (int)((seed >> 8) % (trial % 3 ? 30 : 300));
      double latency = (seed >> 20) % 4 ? (double)((seed >> 4) % 50) : 0;
      struct lb_tick_observation o = obs(50, rif, 0, latency);
      assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
      if (latency != 0) {
        int k = 0;
        while (k < n && keys[k] != rif)
          k++;
        if (k == n)
          keys[n++] = rif;
        values[k] = latency;
      }
      double mean, want = 0, got = 0;
      assert_true(lb_window_mean(&a.requests_in_flight, &mean));
      bool has_want = seed_interpolate(keys, values, n, mean, &want);
      bool has_got = lb_accounting_expected_latency(&a, &got);
      assert_int_equal(has_got, has_want);
      if (has_want && fabs(got - want) > 1e-9 * (1 + fabs(want)))
        fail_msg("trial %d tick %d: %.17g, the seed's interpolate %.17g", trial, t, got, want);
    }
    lb_accounting_close(&a);
  }
}

/* No allocation per tick while the rif table is big enough. */
/* The report's stats, kept up to date one step per tick while a window
 * fills, are bit for bit the ones taken from the windows afresh: over fills,
 * evictions, ticks without a latency and resets, with uneven utilizations. */
static void same_stat(const struct lb_stat *got, const struct lb_window *w, double weight,
                      int tick) {
  struct lb_stat want;
  lb_stat_from_window(&want, w, weight);
  if (got->valid != want.valid || got->latest != want.latest || got->mean != want.mean ||
      got->ewma != want.ewma)
    fail_msg("tick %d: valid %d/%d latest %.17g/%.17g mean %.17g/%.17g ewma %.17g/%.17g", tick,
             got->valid, want.valid, got->latest, want.latest, got->mean, want.mean, got->ewma,
             want.ewma);
}

static void test_report_stats_exact(void **state) {
  (void)state;
  const double weight = 0.2;
  struct lb_accounting a;
  assert_int_equal(lb_accounting_init(&a, 7, weight), 0);
  uint64_t x = 12345;
  for (int t = 0; t < 400; t++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned r = (unsigned)(x >> 33);
    if (r % 61 == 0) {
      lb_accounting_reset(&a);
    } else {
      double util = (double)(r % 1000) / 7.0;
      double latency = r % 3 ? (double)(r % 97) / 3.0 : -1;
      struct lb_tick_observation o = obs(util, (int)(r % 13), (int)(r % 5), latency);
      for (unsigned q = 0; q < r % 4; q++)
        lb_accounting_on_enqueue(&a);
      assert_int_equal(lb_accounting_tick(&a, &o, NULL), 0);
    }
    const struct lb_server_report *rep = lb_accounting_report(&a);
    same_stat(&rep->utilization, &a.utilization, weight, t);
    same_stat(&rep->queries_per_tick, &a.queries_per_tick, weight, t);
    same_stat(&rep->requests_in_flight, &a.requests_in_flight, weight, t);
    same_stat(&rep->queued_requests, &a.queued_requests, weight, t);
    same_stat(&rep->latency, &a.latency, weight, t);
  }
  lb_accounting_close(&a);
}

static void test_no_allocation_per_tick(void **state) {
  (void)state;
#ifndef ALLOC_COUNTING
  skip();
#else
  struct lb_accounting a;
  assert_int_equal(lb_accounting_init(&a, 100, 0.2), 0);
  double fleet = 40;
  long before = allocations;
  for (int i = 0; i < 1000; i++) {
    lb_accounting_on_enqueue(&a);
    struct lb_tick_observation o = obs(i % 100, i % 50, i % 7, i % 3 ? i % 11 : -1);
    assert_int_equal(lb_accounting_tick(&a, &o, i % 2 ? &fleet : NULL), 0);
  }
  assert_int_equal(allocations, before);
  lb_accounting_close(&a);
#endif
}

/* Prequal's server side: the median of recent completions at RIF-1, RIF
 * and RIF+1 (by the RIF each arrived at), the nearest bucket where those
 * are empty, the latest 16 per bucket, forgotten on a reset. */
static void test_probe_answer_latency_by_rif(void **state) {
  (void)state;
  struct lb_accounting a;
  assert_int_equal(lb_accounting_init(&a, 3, 0.5), 0);
  struct lb_server_report r = {0};
  lb_accounting_probe_answer(&a, 2, &r);
  assert_true(r.has_probe_answer && r.probe_rif == 2 && r.probe_latency == -1);
  assert_int_equal(lb_accounting_on_complete(&a, 3, 10), 0);
  assert_int_equal(lb_accounting_on_complete(&a, 3, 20), 0);
  assert_int_equal(lb_accounting_on_complete(&a, 4, 30), 0);
  assert_int_equal(lb_accounting_on_complete(&a, 5, 100), 0);
  assert_int_equal(lb_accounting_on_complete(&a, 7, 1000), 0);
  lb_accounting_probe_answer(&a, 4, &r); /* [10, 20, 30, 100] */
  assert_true(r.probe_rif == 4 && r.probe_latency == 25);
  lb_accounting_probe_answer(&a, 3, &r); /* [10, 20, 30] */
  assert_true(r.probe_latency == 20);
  lb_accounting_probe_answer(&a, 6, &r); /* [100, 1000] */
  assert_true(r.probe_latency == 550);
  lb_accounting_probe_answer(&a, 0, &r); /* nearest: bucket 3 */
  assert_true(r.probe_latency == 15);
  lb_accounting_probe_answer(&a, 100, &r); /* nearest: bucket 7 */
  assert_true(r.probe_latency == 1000);
  /* the latest 16 of a bucket: 16 samples of 1 push out 10 and 20 */
  for (int i = 0; i < 16; i++)
    assert_int_equal(lb_accounting_on_complete(&a, 2, 1), 0);
  lb_accounting_probe_answer(&a, 2, &r); /* 16 ones, then [10, 20] left in 3 */
  assert_true(r.probe_latency == 1);
  for (int i = 0; i < 16; i++)
    assert_int_equal(lb_accounting_on_complete(&a, 3, 2), 0);
  lb_accounting_probe_answer(&a, 3, &r); /* 16 ones, 16 twos, 30 */
  assert_true(r.probe_latency == 2);
  /* large RIFs share the last bucket */
  assert_int_equal(lb_accounting_on_complete(&a, 1000000, 7), 0);
  lb_accounting_probe_answer(&a, 2000000, &r);
  assert_true(r.probe_latency == 7);
  uint32_t resets = a.report.resets;
  lb_accounting_reset(&a);
  assert_int_equal(a.report.resets, resets + 1);
  lb_accounting_probe_answer(&a, 4, &r);
  assert_true(r.probe_latency == -1);
  lb_accounting_close(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interpolate_seed_asserts),
      cmocka_unit_test(test_windows_and_report),
      cmocka_unit_test(test_pid_weight),
      cmocka_unit_test(test_reset_and_growth),
      cmocka_unit_test(test_expected_latency_against_seed),
      cmocka_unit_test(test_report_stats_exact),
      cmocka_unit_test(test_no_allocation_per_tick),
      cmocka_unit_test(test_probe_answer_latency_by_rif),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
