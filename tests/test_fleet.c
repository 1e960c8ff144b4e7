/* fleet: the seed's fleet draws from per-entity streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <math.h>

#include "fleet.h"

static struct lb_rng *stream(uint64_t seed, enum lb_stream kind, uint64_t index) {
  struct lb_rng *r = NULL;
  assert_int_equal(lb_rng_new(lb_seed_derive(seed, kind, index), &r), 0);
  return r;
}

static void test_server_draws(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  sc.seed = 5;
  assert_true(lb_fleet_run_seed(&sc, 2) == 7);
  struct lb_server_params a, b;
  long threads = 0;
  for (int i = 0; i < 200; i++) {
    struct lb_rng *r1 = stream(7, LB_STREAM_SERVER, (uint64_t)i);
    struct lb_rng *r2 = stream(7, LB_STREAM_SERVER, (uint64_t)i);
    lb_fleet_draw_server(&sc, r1, &a);
    lb_fleet_draw_server(&sc, r2, &b);
    assert_int_equal(a.threads, b.threads);
    assert_int_equal(a.mean_processing_time, b.mean_processing_time);
    assert_int_equal(a.mean_rtt, b.mean_rtt);
    assert_true(a.threads >= 1 && a.mean_processing_time >= 1 && a.mean_rtt >= 1);
    threads += a.threads;
    lb_rng_free(r1);
    lb_rng_free(r2);
  }
  /* randGamma(100): mean just under 100. */
  assert_true(threads / 200 > 95 && threads / 200 < 101);
}

static void test_subsets(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  sc.servers = 5;
  sc.subset_size = 12; /* with replacement, as the seed: bigger than servers is fine */
  assert_int_equal(lb_fleet_subset_len(&sc), 12);
  int out[12], again[12];
  struct lb_rng *r1 = stream(1, LB_STREAM_CLIENT, 3), *r2 = stream(1, LB_STREAM_CLIENT, 3);
  lb_fleet_draw_subset(&sc, r1, out);
  lb_fleet_draw_subset(&sc, r2, again);
  for (int i = 0; i < 12; i++) {
    assert_true(out[i] >= 0 && out[i] < 5);
    assert_int_equal(out[i], again[i]);
  }
  sc.subset_size = 0;
  assert_int_equal(lb_fleet_subset_len(&sc), 5);
  lb_fleet_draw_subset(&sc, r1, out);
  for (int i = 0; i < 5; i++)
    assert_int_equal(out[i], i);
  assert_true(lb_fleet_channel_stream(&sc, 2, 3) == 13);
  lb_rng_free(r1);
  lb_rng_free(r2);
}

/* mean_ticks = (server rtt + randGamma(mean_channel_rtt, variance)) / 2. */
static void test_channel_mean(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  struct lb_rng *r = NULL;
  assert_int_equal(lb_fleet_channel_rng(&sc, 1, 0, 0, &r), 0);
  for (int i = 0; i < 100; i++) {
    double m = lb_fleet_draw_channel_mean(&sc, r, 4);
    assert_true(m >= 2.5);
    assert_true(m * 2 == (double)(int)(m * 2)); /* a half-integer */
  }
  sc.mean_channel_rtt = 0; /* shape <= 0: randGamma gives min = 1 */
  assert_true(lb_fleet_draw_channel_mean(&sc, r, 3) == 2.0);
  lb_rng_free(r);
}

/* A reset clock's resets are the seed's per-tick Bernoulli(p) draws: the
 * first reset falls on tick 0 with probability p, and the ticks between
 * resets are geometric (chi-square over the gap lengths, 0..19 and 20+);
 * a clock of the wrong p fails the same test. */
#define CLOCKS 3000
#define GAP_BINS 21
static double gap_fit(double p_true, double p_claimed, int *first_at_zero) {
  long counts[GAP_BINS] = {0}, n = 0;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  *first_at_zero = 0;
  for (uint64_t k = 0; k < CLOCKS; k++) {
    struct lb_reset_clock c;
    lb_reset_clock_init(&c, lb_seed_derive(3, LB_STREAM_NETWORK_RESET, k), p_true);
    *first_at_zero += c.next == 0;
    for (int i = 0; i < 20; i++) {
      long prev = c.next;
      struct lb_server_params sp;
      assert_int_equal(lb_fleet_server_reset(&sc, &c, &sp), 0);
      long gap = c.next - prev - 1;
      counts[gap < GAP_BINS - 1 ? gap : GAP_BINS - 1]++;
      n++;
    }
    lb_reset_clock_close(&c);
  }
  double chi = 0, q = 1 - p_claimed;
  for (int g = 0; g < GAP_BINS; g++) {
    double prob = g < GAP_BINS - 1 ? pow(q, g) * p_claimed : pow(q, GAP_BINS - 1);
    double want = prob * (double)n;
    chi += (counts[g] - want) * (counts[g] - want) / want;
  }
  return gsl_cdf_chisq_Q(chi, GAP_BINS - 1);
}

static void test_reset_clock_law(void **state) {
  (void)state;
  int at_zero = 0;
  assert_true(gap_fit(0.1, 0.1, &at_zero) > 1e-4);
  /* P(reset at tick 0) = 0.1: 300 of 3000, sd ~16 */
  assert_true(at_zero > 300 - 70 && at_zero < 300 + 70);
  assert_true(gap_fit(0.1, 0.11, &at_zero) < 1e-6); /* it can tell */
}

static void test_reset_clock_edges(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  struct lb_server_params sp;
  struct lb_reset_clock never, always, a, b;
  lb_reset_clock_init(&never, 1, 0);
  assert_false(lb_reset_clock_due(&never, 1000000));
  lb_reset_clock_init(&always, 1, 1);
  for (long t = 0; t < 5; t++) {
    assert_true(lb_reset_clock_due(&always, t));
    assert_int_equal(lb_fleet_server_reset(&sc, &always, &sp), 0);
    assert_false(lb_reset_clock_due(&always, t)); /* once a tick */
  }
  /* The same key, the same resets and the same new parameters. */
  lb_reset_clock_init(&a, 77, 0.2);
  lb_reset_clock_init(&b, 77, 0.2);
  for (int i = 0; i < 50; i++) {
    struct lb_server_params pa, pb;
    assert_true(a.next == b.next);
    assert_int_equal(lb_fleet_server_reset(&sc, &a, &pa), 0);
    assert_int_equal(lb_fleet_server_reset(&sc, &b, &pb), 0);
    assert_int_equal(pa.threads, pb.threads);
    assert_int_equal(pa.mean_processing_time, pb.mean_processing_time);
  }
  lb_reset_clock_close(&never);
  lb_reset_clock_close(&always);
  lb_reset_clock_close(&a);
  lb_reset_clock_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_draws),
      cmocka_unit_test(test_subsets),
      cmocka_unit_test(test_channel_mean),
      cmocka_unit_test(test_reset_clock_law),
      cmocka_unit_test(test_reset_clock_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
