/* prom: a histogram's buckets are cumulative with le bounds inclusive,
 * +Inf equals _count and _sum is in seconds; HELP/TYPE lines and samples
 * come out in the text exposition format; the text grows past its first
 * buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static void test_histogram(void **state) {
  (void)state;
  struct lb_prom_hist h;
  lb_prom_hist_init(&h);
  lb_prom_hist_observe_ns(&h, 500000);      /* 0.5 ms: in le="0.0005" (inclusive) */
  lb_prom_hist_observe_ns(&h, 500001);      /* just over: le="0.001" */
  lb_prom_hist_observe_ns(&h, 30000000);    /* 30 ms: le="0.05" */
  lb_prom_hist_observe_ns(&h, 20000000000); /* 20 s: +Inf only */
  lb_prom_hist_observe_ns(&h, -5);          /* counts as 0 */
  struct lb_prom_text t = {0};
  lb_prom_hist_write(&t, "x_seconds", "help text", &h);
  assert_int_equal(t.err, 0);
  assert_non_null(strstr(t.buf, "# HELP x_seconds help text\n# TYPE x_seconds histogram\n"));
  assert_non_null(strstr(t.buf, "x_seconds_bucket{le=\"0.0005\"} 2\n"));
  assert_non_null(strstr(t.buf, "x_seconds_bucket{le=\"0.001\"} 3\n"));
  assert_non_null(strstr(t.buf, "x_seconds_bucket{le=\"0.025\"} 3\n"));
  assert_non_null(strstr(t.buf, "x_seconds_bucket{le=\"0.05\"} 4\n"));
  assert_non_null(strstr(t.buf, "x_seconds_bucket{le=\"10\"} 4\n"));
  assert_non_null(strstr(t.buf, "x_seconds_bucket{le=\"+Inf\"} 5\n"));
  assert_non_null(strstr(t.buf, "x_seconds_sum 20.031000001\n"));
  assert_non_null(strstr(t.buf, "x_seconds_count 5\n"));
  free(t.buf);
}

static void test_samples_and_growth(void **state) {
  (void)state;
  struct lb_prom_text t = {0};
  lb_prom_family(&t, "a_total", "counter", "As.");
  lb_prom_sample_u64(&t, "a_total", "kind=\"x\"", UINT64_MAX);
  lb_prom_sample(&t, "g", NULL, 0.25);
  assert_string_equal(t.buf, "# HELP a_total As.\n# TYPE a_total counter\n"
                             "a_total{kind=\"x\"} 18446744073709551615\ng 0.25\n");
  for (int i = 0; i < 2000; i++)
    lb_prom_sample(&t, "g", "i=\"many\"", i);
  assert_int_equal(t.err, 0);
  assert_true(t.len > 4096);
  assert_int_equal(t.len, strlen(t.buf));
  assert_non_null(strstr(t.buf, "g{i=\"many\"} 1999\n"));
  free(t.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_histogram),
      cmocka_unit_test(test_samples_and_growth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
