/* fleet: the seed's fleet draws from per-entity streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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
  struct lb_rng *r = stream(1, LB_STREAM_CHANNEL, 0);
  for (int i = 0; i < 100; i++) {
    double m = lb_fleet_draw_channel_mean(&sc, r, 4);
    assert_true(m >= 2.5);
    assert_true(m * 2 == (double)(int)(m * 2)); /* a half-integer */
  }
  sc.mean_channel_rtt = 0; /* shape <= 0: randGamma gives min = 1 */
  assert_true(lb_fleet_draw_channel_mean(&sc, r, 3) == 2.0);
  lb_rng_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_draws),
      cmocka_unit_test(test_subsets),
      cmocka_unit_test(test_channel_mean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
