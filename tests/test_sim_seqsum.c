/* sim_seqsum: every read equals, bit for bit, the left-to-right loop over the
 * entries as they stand, under the engine's pattern (entry i may be dropped
 * before its read and is set after it), for values that tie often, values of
 * every magnitude, zeros, and values the fast path refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "sim_seqsum.h"

static uint64_t rnd_state;
static uint64_t rnd(void) {
  uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double unit(void) {
  return (double)(rnd() >> 11) / 9007199254740992.0;
}

enum kind { UTILIZATION, DYADIC, WIDE, SPARSE, NEGATIVE, ODD };

/* A value as the engine's servers have them (kind UTILIZATION: a window
 * mean of 100 * processed / threads), or harder ones. */
static double draw(enum kind k) {
  switch (k) {
  case UTILIZATION: {
    int threads = 1 + (int)(rnd() % 150), window = 1 + (int)(rnd() % 10);
    double sum = 0;
    for (int w = 0; w < window; w++)
      sum += 100.0 * (double)(rnd() % (unsigned)(threads + 1)) / threads;
    return sum / window;
  }
  case DYADIC: /* ties at almost every binade */
    return (double)(rnd() % 1024) / 8;
  case WIDE:
    return ldexp(unit(), (int)(rnd() % 80) - 40);
  case SPARSE:
    return rnd() % 4 == 0 ? 100 * unit() : 0;
  case NEGATIVE: /* a window mean's rounding: -1e-15 where 0 was meant */
    return rnd() % 8 == 0 ? -1e-15 * unit() : rnd() % 4 == 0 ? -unit() : 100 * unit();
  case ODD: /* subnormal values, and a NaN: the slow paths */
    return rnd() % 500 == 0 ? NAN : rnd() % 8 == 0 ? 4.9e-324 * (double)(rnd() % 5) : unit();
  }
  return 0;
}

static void same_bits(double got, double want) {
  if (memcmp(&got, &want, sizeof(got)) != 0 && !(isnan(got) && isnan(want)))
    fail_msg("read %.17g, the loop %.17g", got, want);
}

static void run_passes(int n, enum kind k, int passes) {
  struct sim_seqsum s;
  assert_int_equal(sim_seqsum_init(&s, n), 0);
  for (int i = 0; i < n; i++)
    sim_seqsum_set(&s, i, rnd() % 16 != 0, draw(k));
  for (int p = 0; p < passes; p++) {
    sim_seqsum_begin(&s);
    for (int i = 0; i < n; i++) {
      if (rnd() % 32 == 0) /* a reset: not counted for its own read */
        sim_seqsum_set(&s, i, false, s.v[i]);
      int want_n = 0;
      for (int j = 0; j < n; j++)
        want_n += s.has[j];
      double got = -1;
      int got_n = -1;
      assert_int_equal(sim_seqsum_read(&s, i, &got, &got_n), 0);
      same_bits(got, sim_seqsum_loop(&s, 0, 0));
      assert_int_equal(got_n, want_n);
      sim_seqsum_set(&s, i, rnd() % 64 != 0, draw(k));
    }
  }
  sim_seqsum_close(&s);
}

static void test_utilization(void **state) {
  (void)state;
  rnd_state = 1;
  run_passes(1, UTILIZATION, 5);
  run_passes(2, UTILIZATION, 5);
  run_passes(400, UTILIZATION, 4);
  run_passes(3000, UTILIZATION, 1);
}

static void test_ties(void **state) {
  (void)state;
  rnd_state = 2;
  run_passes(7, DYADIC, 20);
  run_passes(1000, DYADIC, 3);
}

static void test_wide(void **state) {
  (void)state;
  rnd_state = 3;
  run_passes(500, WIDE, 3);
  run_passes(500, SPARSE, 3);
}

static void test_refused(void **state) {
  (void)state;
  rnd_state = 4;
  run_passes(300, NEGATIVE, 3);
  run_passes(300, ODD, 3);
}

/* All zeros, then one value: the zero run is skipped, not summed. */
static void test_zeros(void **state) {
  (void)state;
  struct sim_seqsum s;
  assert_int_equal(sim_seqsum_init(&s, 1000), 0);
  for (int i = 0; i < 1000; i++)
    sim_seqsum_set(&s, i, true, 0);
  sim_seqsum_set(&s, 999, true, 0.1);
  sim_seqsum_begin(&s);
  double sum;
  int count;
  assert_int_equal(sim_seqsum_read(&s, 0, &sum, &count), 0);
  same_bits(sum, 0.1);
  assert_int_equal(count, 1000);
  /* Reads out of order start again and stay right. */
  sim_seqsum_set(&s, 500, true, 0.2);
  assert_int_equal(sim_seqsum_read(&s, 600, &sum, &count), 0);
  same_bits(sum, 0.2 + 0.1);
  assert_int_equal(sim_seqsum_read(&s, 10, &sum, &count), 0);
  same_bits(sum, 0.2 + 0.1);
  sim_seqsum_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utilization), cmocka_unit_test(test_ties),  cmocka_unit_test(test_wide),
      cmocka_unit_test(test_refused),     cmocka_unit_test(test_zeros),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
