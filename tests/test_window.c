/* window: every assert of the seed's LastNFloats cell, then the ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "report.h"
#include "window.h"

static void assert_values(const struct lb_window *w, const double *v, size_t n) {
  assert_int_equal(lb_window_len(w), n);
  for (size_t i = 0; i < n; i++)
    assert_true(lb_window_at(w, i) == v[i]);
}

static double latest(const struct lb_window *w) {
  double v = NAN;
  assert_true(lb_window_latest(w, &v));
  return v;
}

static double mean(const struct lb_window *w) {
  double v = NAN;
  assert_true(lb_window_mean(w, &v));
  return v;
}

static double ewma(const struct lb_window *w, double weight) {
  double v = NAN;
  assert_true(lb_window_ewma(w, weight, &v));
  return v;
}

static void test_seed_cell(void **state) {
  (void)state;
  struct lb_window c, c_orig;
  double out;
  assert_int_equal(lb_window_init(&c, 3), 0);
  assert_int_equal(lb_window_init(&c_orig, 3), 0);
  assert_true(lb_window_empty(&c));
  assert_false(lb_window_latest(&c, &out));
  assert_false(lb_window_mean(&c, &out));
  assert_false(lb_window_ewma(&c, 0.2, &out));
  assert_int_equal(lb_window_len(&c), 0);
  lb_window_copy(&c_orig, &c); /* the seed's windows are immutable */
  lb_window_insert(&c, 5);
  assert_true(lb_window_empty(&c_orig));
  assert_false(lb_window_latest(&c_orig, &out));
  assert_false(lb_window_mean(&c_orig, &out));

  assert_false(lb_window_empty(&c));
  assert_true(latest(&c) == 5);
  assert_true(mean(&c) == 5);
  assert_true(ewma(&c, 0.5) == 5);
  assert_values(&c, (const double[]){5}, 1);
  lb_window_insert(&c, 10);
  assert_true(latest(&c) == 10);
  assert_true(mean(&c) == 7.5);
  assert_true(ewma(&c, 0.5) == 7.5);
  assert_true(ewma(&c, 1) == 10);
  assert_true(ewma(&c, 0) == 5);
  assert_values(&c, (const double[]){5, 10}, 2);
  lb_window_insert(&c, 15);
  assert_true(latest(&c) == 15);
  assert_true(mean(&c) == 10);
  assert_values(&c, (const double[]){5, 10, 15}, 3);
  lb_window_insert(&c, 20);
  assert_false(lb_window_empty(&c));
  assert_true(latest(&c) == 20);
  assert_true(mean(&c) == 15);
  assert_values(&c, (const double[]){10, 15, 20}, 3);
  lb_window_close(&c);
  lb_window_close(&c_orig);
}

/* ewma over {10, 15, 20} with weight 0.2: 10 -> 11 -> 12.8. */
static void test_ewma_seed_order(void **state) {
  (void)state;
  struct lb_window w;
  assert_int_equal(lb_window_init(&w, 3), 0);
  for (int v = 5; v <= 20; v += 5)
    lb_window_insert(&w, v);
  assert_true(fabs(ewma(&w, 0.2) - 12.8) < 1e-12);
  lb_window_close(&w);
}

/* Many wraps: the running sum stays equal to the sum of what is held. */
static void test_long_run(void **state) {
  (void)state;
  struct lb_window w, copy, small;
  assert_int_equal(lb_window_init(&w, 7), 0);
  assert_int_equal(lb_window_init(&copy, 7), 0);
  assert_int_equal(lb_window_init(&small, 3), 0);
  for (int i = 1; i <= 1000; i++) {
    lb_window_insert(&w, i * 0.1);
    double expect = 0;
    size_t n = i < 7 ? (size_t)i : 7;
    for (size_t k = 0; k < n; k++)
      expect += (i - (int)k) * 0.1;
    assert_true(fabs(mean(&w) - expect / (double)n) < 1e-9);
    assert_true(latest(&w) == i * 0.1);
  }
  lb_window_copy(&copy, &w);
  assert_int_equal(lb_window_len(&copy), 7);
  for (size_t i = 0; i < 7; i++)
    assert_true(lb_window_at(&copy, i) == lb_window_at(&w, i));
  assert_true(fabs(mean(&copy) - mean(&w)) < 1e-12);
  lb_window_clear(&w);
  assert_true(lb_window_empty(&w));
  lb_window_close(&w);
  lb_window_close(&copy);
  lb_window_close(&small);
}

static void test_stat_from_window(void **state) {
  (void)state;
  struct lb_window w;
  struct lb_stat st;
  assert_int_equal(lb_window_init(&w, 100), 0);
  lb_stat_from_window(&st, &w, 0.2);
  assert_false(st.valid);
  lb_window_insert(&w, 10);
  lb_window_insert(&w, 20);
  lb_stat_from_window(&st, &w, 0.5);
  assert_true(st.valid);
  assert_true(st.latest == 20);
  assert_true(st.mean == 15);
  assert_true(st.ewma == 15);
  lb_window_close(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seed_cell),
      cmocka_unit_test(test_ewma_seed_order),
      cmocka_unit_test(test_long_run),
      cmocka_unit_test(test_stat_from_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
