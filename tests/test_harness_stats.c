/* Comparison statistics of lbharness against values worked out by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "harness_stats.h"

static void test_mean_stdev_reasonably_bad(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4};
  assert_float_equal(lb_harness_mean(x, 4), 2.5, 1e-12);
  /* sample variance: (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3 */
  assert_float_equal(lb_harness_stdev(x, 4), sqrt(5.0 / 3.0), 1e-12);
  assert_float_equal(lb_harness_reasonably_bad(x, 4), 2.5 + sqrt(5.0 / 3.0), 1e-12);
  assert_true(isnan(lb_harness_stdev(x, 1)));
  assert_float_equal(lb_harness_reasonably_bad(x, 1), 1.0, 1e-12);
  assert_true(isnan(lb_harness_mean(x, 0)));
}

static void test_ks_statistic(void **state) {
  (void)state;
  double d, p;
  /* F_a - F_b is 0.5 at x=2 (1/2 - 0) and at x=4 (1 - 1/2). */
  const double a[] = {1, 2, 3, 4}, b[] = {3, 4, 5, 6};
  assert_int_equal(lb_harness_ks_sorted(a, 4, b, 4, &d, &p), 0);
  assert_float_equal(d, 0.5, 1e-12);
  /* Disjoint samples: D = 1. ne = 1.5, lambda = (sqrt(1.5) + 0.12 + 0.11 /
   * sqrt(1.5)) = 1.434529..., Q = 2 (e^-2l^2 - e^-8l^2 + ...) = 0.032627. */
  const double c[] = {1, 2, 3}, e[] = {4, 5, 6};
  assert_int_equal(lb_harness_ks_sorted(c, 3, e, 3, &d, &p), 0);
  assert_float_equal(d, 1.0, 1e-12);
  assert_float_equal(p, 0.032627, 2e-5);
  /* Ties step both sides at once: at 1, 2/3 vs 1/3; at 2, 1 vs 1. */
  const double f[] = {1, 1, 2}, g[] = {1, 2, 2};
  assert_int_equal(lb_harness_ks_sorted(f, 3, g, 3, &d, NULL), 0);
  assert_float_equal(d, 1.0 / 3.0, 1e-12);
  /* Identical samples: D = 0, p = 1. */
  assert_int_equal(lb_harness_ks_sorted(a, 4, a, 4, &d, &p), 0);
  assert_float_equal(d, 0.0, 1e-12);
  assert_float_equal(p, 1.0, 1e-12);
  assert_int_equal(lb_harness_ks_sorted(a, 0, b, 4, &d, &p), -22);
}

static void test_kolmogorov_q(void **state) {
  (void)state;
  /* The classical critical values: Q(1.3581) = 0.05, Q(1.6276) = 0.01. */
  assert_float_equal(lb_harness_kolmogorov_q(1.3581), 0.05, 1e-4);
  assert_float_equal(lb_harness_kolmogorov_q(1.6276), 0.01, 1e-4);
  assert_float_equal(lb_harness_kolmogorov_q(0.0), 1.0, 1e-12);
}

static void test_spearman(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4, 5}, up[] = {10, 20, 30, 40, 50}, down[] = {5, 4, 3, 2, 1};
  assert_float_equal(lb_harness_spearman(x, up, 5), 1.0, 1e-12);
  assert_float_equal(lb_harness_spearman(x, down, 5), -1.0, 1e-12);
  /* y ranks 1, 2, 3.5, 5, 3.5: sum dxdy = 8, sum dx^2 = 10, sum dy^2 = 9.5. */
  const double y[] = {5, 6, 7, 8, 7};
  assert_float_equal(lb_harness_spearman(x, y, 5), 8.0 / sqrt(95.0), 1e-12);
}

static void test_quintile_scores(void **state) {
  (void)state;
  /* pd.qcut(1..10, 5): edges 1, 2.8, 4.6, 6.4, 8.2, 10; lowest fifth scores 5. */
  const double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  int s[10];
  assert_int_equal(lb_harness_quintile_scores(v, 10, s), 0);
  const int want[] = {5, 5, 4, 4, 3, 3, 2, 2, 1, 1};
  for (int i = 0; i < 10; i++)
    assert_int_equal(s[i], want[i]);
  /* Unsorted input, and a value exactly on an edge belongs to the lower bin. */
  const double w[] = {2.8, 10, 1, 4.6, 6.4, 8.2};
  int t[6];
  assert_int_equal(lb_harness_quintile_scores(w, 6, t), 0);
  /* edges of {1, 2.8, 4.6, 6.4, 8.2, 10} are the values themselves */
  const int want_t[] = {5, 1, 5, 4, 3, 2};
  for (int i = 0; i < 6; i++)
    assert_int_equal(t[i], want_t[i]);
  /* Duplicate edges: average ranks, 1s rank 2.5 -> 4, the 2 ranks 5 -> 1. */
  const double dup[] = {1, 1, 1, 1, 2};
  int u[5];
  assert_int_equal(lb_harness_quintile_scores(dup, 5, u), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(u[i], 4);
  assert_int_equal(u[4], 1);
  const double withnan[] = {1, NAN};
  int n2[2];
  assert_int_equal(lb_harness_quintile_scores(withnan, 2, n2), 0);
  assert_int_equal(n2[1], 0);
  assert_string_equal(lb_harness_score_name(5), "very good");
  assert_string_equal(lb_harness_score_name(1), "very bad");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mean_stdev_reasonably_bad),
      cmocka_unit_test(test_ks_statistic),
      cmocka_unit_test(test_kolmogorov_q),
      cmocka_unit_test(test_spearman),
      cmocka_unit_test(test_quintile_scores),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
