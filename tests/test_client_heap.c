/* client_heap and client_samples: the client's timer heap and lateness
 * quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "client_heap.h"
#include "client_samples.h"

static void test_empty(void **state) {
  (void)state;
  struct lb_timer_heap h;
  struct lb_timer_entry e;
  lb_timer_heap_init(&h);
  assert_null(lb_timer_heap_peek(&h));
  assert_int_equal(lb_timer_heap_pop(&h, &e), 0);
  assert_int_equal(lb_timer_heap_pop_due(&h, INT64_MAX, &e), 0);
  lb_timer_heap_close(&h);
}

static void test_order_random(void **state) {
  (void)state;
  struct lb_timer_heap h;
  lb_timer_heap_init(&h);
  srand(12345);
  enum { N = 5000 };
  for (int i = 0; i < N; i++)
    assert_int_equal(lb_timer_heap_push(&h, rand() % 1000, i % 7, (uint32_t)i, 0), 0);
  struct lb_timer_entry e, prev = {0};
  int n = 0;
  while (lb_timer_heap_pop(&h, &e)) {
    if (n > 0) {
      assert_true(e.deadline_ns >= prev.deadline_ns);
      if (e.deadline_ns == prev.deadline_ns)
        assert_true(e.seq > prev.seq); /* ties fire in push order */
    }
    prev = e;
    n++;
  }
  assert_int_equal(n, N);
  lb_timer_heap_close(&h);
}

static void test_ties_in_push_order(void **state) {
  (void)state;
  struct lb_timer_heap h;
  lb_timer_heap_init(&h);
  for (uint32_t i = 0; i < 100; i++)
    lb_timer_heap_push(&h, 42, 0, i, 0);
  struct lb_timer_entry e;
  for (uint32_t i = 0; i < 100; i++) {
    assert_int_equal(lb_timer_heap_pop(&h, &e), 1);
    assert_int_equal(e.slot, i);
  }
  lb_timer_heap_close(&h);
}

static void test_pop_due(void **state) {
  (void)state;
  struct lb_timer_heap h;
  lb_timer_heap_init(&h);
  lb_timer_heap_push(&h, 300, 1, 3, 9);
  lb_timer_heap_push(&h, 100, 2, 1, 8);
  lb_timer_heap_push(&h, 200, 3, 2, 7);
  struct lb_timer_entry e;
  assert_int_equal(lb_timer_heap_pop_due(&h, 99, &e), 0);
  assert_int_equal(lb_timer_heap_peek(&h)->deadline_ns, 100);
  assert_int_equal(lb_timer_heap_pop_due(&h, 200, &e), 1);
  assert_int_equal(e.deadline_ns, 100);
  assert_int_equal(e.kind, 2);
  assert_int_equal(e.slot, 1);
  assert_int_equal(e.gen, 8);
  assert_int_equal(lb_timer_heap_pop_due(&h, 200, &e), 1);
  assert_int_equal(e.deadline_ns, 200);
  assert_int_equal(lb_timer_heap_pop_due(&h, 200, &e), 0);
  /* interleaved pushes keep the order */
  lb_timer_heap_push(&h, 250, 0, 0, 0);
  assert_int_equal(lb_timer_heap_pop(&h, &e), 1);
  assert_int_equal(e.deadline_ns, 250);
  assert_int_equal(lb_timer_heap_pop(&h, &e), 1);
  assert_int_equal(e.deadline_ns, 300);
  lb_timer_heap_close(&h);
}

static void test_samples_quantiles(void **state) {
  (void)state;
  struct lb_samples s;
  lb_samples_init(&s, 1000);
  assert_true(lb_samples_quantile(&s, 0.5) == 0);
  for (int i = 100; i >= 1; i--) /* 1..100, added out of order */
    lb_samples_add(&s, i);
  /* pandas linear: q * (n - 1) */
  assert_true(lb_samples_quantile(&s, 0.0) == 1);
  assert_true(lb_samples_quantile(&s, 1.0) == 100);
  assert_true(lb_samples_quantile(&s, 0.5) == 50.5);
  double p99 = lb_samples_quantile(&s, 0.99);
  assert_true(p99 > 99.0 && p99 < 99.02); /* 99 + 0.01 */
  lb_samples_close(&s);
}

static void test_samples_reservoir_bounded(void **state) {
  (void)state;
  struct lb_samples s;
  lb_samples_init(&s, 64);
  for (int i = 0; i < 100000; i++)
    lb_samples_add(&s, 7);
  assert_int_equal(s.len, 64);
  assert_true(s.seen == 100000);
  assert_true(lb_samples_quantile(&s, 0.99) == 7);
  lb_samples_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_order_random),
      cmocka_unit_test(test_ties_in_push_order),
      cmocka_unit_test(test_pop_due),
      cmocka_unit_test(test_samples_quantiles),
      cmocka_unit_test(test_samples_reservoir_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
