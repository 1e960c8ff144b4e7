/* rng: the seed's randGamma asserts and its law (chi-square against GSL's
 * incomplete gamma), determinism, and the frequencies of the Python-style
 * draws with a fixed seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>

#include "rng.h"

static struct lb_rng *new_rng(uint64_t seed) {
  struct lb_rng *r = NULL;
  assert_int_equal(lb_rng_new(seed, &r), 0);
  assert_non_null(r);
  return r;
}

/* Seed cell: one = [randGamma(1) for _ in range(1000)]; round(mean) == 1,
 * min == 1, max > 1; two: round(mean) == 2 (and the seed's min/max asserts,
 * which it makes on `one` again; we make them on `two`). */
static void test_gamma_seed_asserts(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(42);
  for (int mean = 1; mean <= 2; mean++) {
    long sum = 0;
    int lo = 1 << 30, hi = 0;
    for (int i = 0; i < 1000; i++) {
      int v = lb_rng_gamma_seed(r, mean, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
      sum += v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    assert_int_equal(lround((double)sum / 1000), mean);
    assert_int_equal(lo, 1);
    assert_true(hi > mean);
  }
  lb_rng_free(r);
}

/* The mean of int(gamma(a, 1) + 1) is close to the requested mean for
 * larger means (the truncation costs about half a unit). */
static void test_gamma_large_mean(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(7);
  double sum = 0;
  for (int i = 0; i < 20000; i++)
    sum += lb_rng_gamma_seed(r, 100, LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
  double m = sum / 20000;
  assert_true(m > 99.0 && m < 100.0);
  lb_rng_free(r);
}

/* Shape a <= 0 (mean <= min/variance): the seed has no distribution; min. */
static void test_gamma_degenerate(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(1);
  assert_int_equal(lb_rng_gamma_seed(r, 0.5, 1.5, 1), 1);
  assert_int_equal(lb_rng_gamma_seed(r, 0, 1.5, 1), 1);
  lb_rng_free(r);
}

/* P(x_lo <= G < x_hi), G ~ Gamma(a, 1), either end possibly infinite: from
 * P or from Q, whichever keeps the digits. */
static double law_cdf(double a, double x) {
  return x <= 0 ? 0 : isinf(x) ? 1 : gsl_sf_gamma_inc_P(a, x);
}

static double law_sf(double a, double x) {
  return x <= 0 ? 1 : isinf(x) ? 0 : gsl_sf_gamma_inc_Q(a, x);
}

static double law_between(double a, double x_lo, double x_hi) {
  if (law_cdf(a, x_lo) < 0.5)
    return law_cdf(a, x_hi) - law_cdf(a, x_lo);
  return law_sf(a, x_lo) - law_sf(a, x_hi);
}

/* The chi-square p-value of n draws (values in [lo, hi], counts[k - lo])
 * against randGamma(mean, variance, min)'s law; the end bins take the
 * tails, and neighbours are pooled until each expects 5 or more. */
static double law_p_value(const long *counts, int lo, int hi, long n, double mean, double variance,
                          double min) {
  double a = (variance * mean - min) / variance;
  double stat = 0, e = 0, o = 0, last_e = 0, last_o = 0;
  int bins = 0;
  for (int k = lo; k <= hi; k++) {
    /* K = k iff k - min <= G < k + 1 - min (min >= 0, k >= 0) */
    e += n * law_between(a, k == lo ? -INFINITY : k - min, k == hi ? INFINITY : k + 1 - min);
    o += (double)counts[k - lo];
    if (e >= 5 || k == hi) {
      if (e < 5 && bins > 0) { /* the short end: into the bin before it */
        stat -= (last_o - last_e) * (last_o - last_e) / last_e;
        e += last_e, o += last_o;
        bins--;
      }
      stat += (o - e) * (o - e) / e;
      bins++;
      last_e = e, last_o = o;
      e = o = 0;
    }
  }
  return bins > 1 ? gsl_cdf_chisq_Q(stat, bins - 1) : 1;
}

/* randGamma(mean, variance, 1)'s law against its own draws' histogram, and
 * against the law of mean + shift, which the same histogram must reject. */
static void check_gamma_law(struct lb_rng *r, double mean, double variance, double shift) {
  enum { N = 200000 };
  int *draws = malloc(N * sizeof(*draws));
  assert_non_null(draws);
  int lo = INT32_MAX, hi = 0;
  for (int i = 0; i < N; i++) {
    draws[i] = lb_rng_gamma_seed(r, mean, variance, 1);
    lo = draws[i] < lo ? draws[i] : lo;
    hi = draws[i] > hi ? draws[i] : hi;
  }
  assert_true(lo >= 1);
  long *counts = calloc((size_t)(hi - lo + 1), sizeof(*counts));
  assert_non_null(counts);
  for (int i = 0; i < N; i++)
    counts[draws[i] - lo]++;
  double p = law_p_value(counts, lo, hi, N, mean, variance, 1);
  double p_wrong = law_p_value(counts, lo, hi, N, mean + shift, variance, 1);
  if (!(p > 1e-4) || !(p_wrong < 1e-4))
    fail_msg("mean %g variance %g: p %g, for mean + %g %g", mean, variance, p, shift, p_wrong);
  free(counts);
  free(draws);
}

static const struct {
  double mean, variance;
} gamma_laws[] = {{1, 1.5},   {1.5, 1.5}, {2, 1.5},   {2.5, 1.5},
                  {3.5, 1.5}, {6, 1.5},   {100, 1.5}, {2, 3}};

/* The table draws: exact in distribution for the seed's means. */
static void test_gamma_law(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(2024);
  for (size_t i = 0; i < sizeof(gamma_laws) / sizeof(gamma_laws[0]); i++)
    check_gamma_law(r, gamma_laws[i].mean, gamma_laws[i].variance, 0.5);
  lb_rng_free(r);
}

/* The exact sampler (no tables, and a shape too large for one) draws the
 * same law. */
static void test_gamma_law_untabled(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(2025);
  lb__rng_gamma_untabled(r);
  for (size_t i = 0; i < sizeof(gamma_laws) / sizeof(gamma_laws[0]); i++)
    check_gamma_law(r, gamma_laws[i].mean, gamma_laws[i].variance, 0.5);
  lb_rng_free(r);
  r = new_rng(2026);
  check_gamma_law(r, 1e5, 1.5, 50); /* shape 66666 (sd 258): no table */
  lb_rng_free(r);
}

/* Same seed, same randGamma draws, through shape changes (table to table,
 * to the exact sampler and back) and other draws in between. */
static void test_gamma_same_seed(void **state) {
  (void)state;
  struct lb_rng *a = new_rng(77), *b = new_rng(77);
  const double means[] = {1, 6, 100, 1e5, 2.5, 0.5};
  for (int i = 0; i < 20000; i++) {
    double mean = means[(size_t)i / 7 % (sizeof(means) / sizeof(means[0]))];
    assert_int_equal(lb_rng_gamma_seed(a, mean, 1.5, 1), lb_rng_gamma_seed(b, mean, 1.5, 1));
    if (i % 5 == 0)
      assert_true(lb_rng_uniform(a) == lb_rng_uniform(b));
    if (i % 13 == 0)
      assert_true(lb__rng_gamma(a, 2.5) == lb__rng_gamma(b, 2.5));
  }
  lb_rng_free(a);
  lb_rng_free(b);
}

/* Threads that draw new shapes at once (so that they race to build and look
 * up the same tables) draw what one thread alone draws from the same seed. */
struct gamma_worker {
  uint64_t seed, hash;
};

static void *gamma_worker_run(void *arg) {
  struct gamma_worker *w = arg;
  struct lb_rng *r = NULL;
  if (lb_rng_new(w->seed, &r) != 0)
    return NULL;
  w->hash = 0;
  for (int i = 0; i < 40000; i++) {
    double mean = 300 + (i % 97) * 0.125; /* shapes no other test uses */
    w->hash = w->hash * 1099511628211ULL + (uint64_t)lb_rng_gamma_seed(r, mean, 1.5, 1);
  }
  lb_rng_free(r);
  return w;
}

static void test_gamma_threads(void **state) {
  (void)state;
  enum { THREADS = 4 };
  pthread_t th[THREADS];
  struct gamma_worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct gamma_worker){.seed = (uint64_t)i % 2};
    assert_int_equal(pthread_create(&th[i], NULL, gamma_worker_run, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    void *ret = NULL;
    assert_int_equal(pthread_join(th[i], &ret), 0);
    assert_ptr_equal(ret, &w[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    struct gamma_worker alone = {.seed = w[i].seed};
    assert_non_null(gamma_worker_run(&alone));
    assert_true(alone.hash == w[i].hash);
  }
  assert_true(w[0].hash != w[1].hash);
}

static void test_same_seed_same_sequence(void **state) {
  (void)state;
  struct lb_rng *a = new_rng(123), *b = new_rng(123), *c = new_rng(124);
  int differ = 0;
  double first[100];
  for (int i = 0; i < 100; i++) {
    first[i] = lb_rng_uniform(a);
    assert_true(first[i] >= 0 && first[i] < 1);
    assert_true(first[i] == lb_rng_uniform(b));
    differ += first[i] != lb_rng_uniform(c);
  }
  assert_true(differ > 90);
  lb_rng_seed(a, 123);
  for (int i = 0; i < 100; i++)
    assert_true(first[i] == lb_rng_uniform(a));
  /* Seeds that differ only in the high 32 bits give different streams. */
  struct lb_rng *hi = new_rng(123ULL + (1ULL << 40));
  lb_rng_seed(a, 123);
  differ = 0;
  for (int i = 0; i < 100; i++)
    differ += lb_rng_uniform(a) != lb_rng_uniform(hi);
  assert_true(differ > 90);
  lb_rng_free(a);
  lb_rng_free(b);
  lb_rng_free(c);
  lb_rng_free(hi);
}

static void test_below(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(5);
  int counts[7] = {0};
  for (int i = 0; i < 7000; i++) {
    size_t v = lb_rng_below(r, 7);
    assert_true(v < 7);
    counts[v]++;
  }
  for (int i = 0; i < 7; i++) /* 1000 +- 4 sigma (sigma ~ 29) */
    assert_true(counts[i] > 880 && counts[i] < 1120);
  assert_int_equal(lb_rng_below(r, 1), 0);
  lb_rng_free(r);
}

/* RandomRound(2.3): 3 with probability 0.3. 10000 draws, sigma ~ 46. */
static void test_random_round(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(9);
  int ups = 0;
  for (int i = 0; i < 10000; i++) {
    long v = lb_rng_random_round(r, 2.3);
    assert_true(v == 2 || v == 3);
    ups += v == 3;
  }
  assert_true(ups > 2800 && ups < 3200);
  for (int i = 0; i < 100; i++)
    assert_int_equal(lb_rng_random_round(r, 4.0), 4);
  /* Python: -1.25 % 1 == 0.75, so ceil (-1) with probability 0.75. */
  int minus_one = 0;
  for (int i = 0; i < 10000; i++) {
    long v = lb_rng_random_round(r, -1.25);
    assert_true(v == -1 || v == -2);
    minus_one += v == -1;
  }
  assert_true(minus_one > 7300 && minus_one < 7700);
  lb_rng_free(r);
}

static void test_sample_distinct(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(11);
  size_t out[10];
  int first_pos[10] = {0};
  for (int t = 0; t < 5000; t++) {
    lb_rng_sample(r, 10, 5, out);
    for (int i = 0; i < 5; i++) {
      assert_true(out[i] < 10);
      for (int j = 0; j < i; j++)
        assert_true(out[i] != out[j]);
    }
    first_pos[out[0]]++;
  }
  /* Every index is first about 500 times out of 5000 (sigma ~ 21). */
  for (int i = 0; i < 10; i++)
    assert_true(first_pos[i] > 400 && first_pos[i] < 600);
  /* k == n: a permutation. */
  lb_rng_sample(r, 10, 10, out);
  int seen[10] = {0};
  for (int i = 0; i < 10; i++)
    seen[out[i]]++;
  for (int i = 0; i < 10; i++)
    assert_int_equal(seen[i], 1);
  lb_rng_free(r);
}

static void test_choices(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(13);
  size_t out[1000];
  lb_rng_choices(r, 3, 1000, out);
  int counts[3] = {0};
  for (int i = 0; i < 1000; i++) {
    assert_true(out[i] < 3);
    counts[out[i]]++;
  }
  for (int i = 0; i < 3; i++) /* 333 +- 4 sigma (sigma ~ 15) */
    assert_true(counts[i] > 270 && counts[i] < 400);
  lb_rng_free(r);
}

/* weights {1, 2, 0, 7}: 10%, 20%, never, 70%; 10000 draws, within 4 sigma. */
static void test_weighted(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(17);
  const double w[4] = {1, 2, 0, 7};
  int counts[4] = {0};
  for (int i = 0; i < 10000; i++) {
    size_t v = lb_rng_weighted(r, w, 4);
    assert_true(v < 4);
    counts[v]++;
  }
  assert_true(counts[0] > 880 && counts[0] < 1120);
  assert_true(counts[1] > 1840 && counts[1] < 2160);
  assert_int_equal(counts[2], 0);
  assert_true(counts[3] > 6820 && counts[3] < 7180);
  lb_rng_free(r);
}

/* random.choices with weights, as a scan of the positive weights: the same
 * index from the same draw, for short lists and long ones (over 256), with
 * zero, negative and NaN weights. */
static size_t weighted_by_scan(struct lb_rng *r, const double *w, size_t n) {
  double total = 0;
  for (size_t i = 0; i < n; i++)
    total += w[i] > 0 ? w[i] : 0;
  if (!(total > 0))
    return lb_rng_below(r, n);
  double u = lb_rng_uniform(r) * total, cum = 0;
  size_t last = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(w[i] > 0))
      continue;
    cum += w[i];
    last = i;
    if (u < cum)
      return i;
  }
  return last;
}

static void test_weighted_against_scan(void **state) {
  (void)state;
  struct lb_rng *gen = NULL, *a = NULL, *b = NULL;
  assert_int_equal(lb_rng_new(3, &gen), 0);
  assert_int_equal(lb_rng_new(4, &a), 0);
  assert_int_equal(lb_rng_new(4, &b), 0);
  static double w[300];
  for (int round = 0; round < 2000; round++) {
    size_t n = 1 + lb_rng_below(gen, round % 5 == 0 ? 300 : 40);
    for (size_t i = 0; i < n; i++) {
      size_t kind = lb_rng_below(gen, 8);
      w[i] = kind == 0                     ? 0
             : kind == 1                   ? -1
             : kind == 2 && round % 3 == 0 ? NAN
                                           : lb_rng_uniform(gen) * 5;
    }
    size_t want = weighted_by_scan(a, w, n), got = lb_rng_weighted(b, w, n);
    if (got != want)
      fail_msg("round %d (n %zu): %zu, by scan %zu", round, n, got, want);
  }
  lb_rng_free(gen);
  lb_rng_free(a);
  lb_rng_free(b);
}

static void test_exponential(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(19);
  double sum = 0;
  for (int i = 0; i < 10000; i++) {
    double v = lb_rng_exponential(r, 4.0);
    assert_true(v >= 0);
    sum += v;
  }
  assert_true(fabs(sum / 10000 - 4.0) < 0.2); /* sigma of the mean: 0.04 */
  lb_rng_free(r);
}

static void test_seed_derive(void **state) {
  (void)state;
  uint64_t a = lb_seed_derive(1, LB_STREAM_SERVER, 0);
  assert_true(a == lb_seed_derive(1, LB_STREAM_SERVER, 0));
  assert_true(a != lb_seed_derive(2, LB_STREAM_SERVER, 0));
  assert_true(a != lb_seed_derive(1, LB_STREAM_CLIENT, 0));
  assert_true(a != lb_seed_derive(1, LB_STREAM_SERVER, 1));
  assert_true(lb_seed_derive(1, LB_STREAM_SERVER, 2) != lb_seed_derive(1, LB_STREAM_CLIENT, 1));
}

/* Our mt19937 and gamma are GSL's, value for value: the same seed gives the
 * same uniforms, integers, exponentials and gammas (shapes below 1, near 1,
 * large), bit for bit, interleaved so that any extra or missing draw shows.
 * randGamma is not GSL's gamma: its draw is the inverse CDF of a uniform
 * made of GSL's next two outputs (high first, numpy's random()). */
static void test_same_values_as_gsl(void **state) {
  (void)state;
  const double shapes[] = {1e-3,      0.05, 1.0 / 3.0,         0.5,  0.999, 1.0, 1.0 + 1e-9,
                           4.0 / 3.0, 2.5,  9.333333333333334, 98.5, 1e4};
  const size_t nshapes = sizeof(shapes) / sizeof(shapes[0]);
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(g);
  for (uint32_t seed = 0; seed < 40; seed++) {
    struct lb_rng *r = new_rng(seed * 2654435761U);
    gsl_rng_set(g, seed * 2654435761U);
    for (int i = 0; i < 3000; i++) {
      double a = shapes[(size_t)(i + (int)seed) % nshapes];
      double want = gsl_ran_gamma(g, a, 1.0), got = lb__rng_gamma(r, a);
      assert_memory_equal(&want, &got, sizeof(double));
      assert_true(lb_rng_uniform(r) == gsl_rng_uniform(g));
      /* small n, and large ones (scale 1, 2, odd) */
      const size_t big[] = {0xffffffffUL, 0x80000000UL, 0x80000001UL, 0x7fffffffUL, 3000000019UL};
      size_t n = i % 5 == 4 ? big[(size_t)i / 5 % 5] : (size_t)(i % 97) + 1;
      assert_int_equal(lb_rng_below(r, n), n == 1 ? 0 : gsl_rng_uniform_int(g, n));
      if (i % 7 == 0)
        assert_true(lb_rng_exponential(r, 3.0) == gsl_ran_exponential(g, 3.0));
      if (i % 11 == 0) { /* randGamma: its table's draw from GSL's next two */
        uint32_t hi = (uint32_t)gsl_rng_get(g), lo = (uint32_t)gsl_rng_get(g);
        double u = ((hi >> 5) * 67108864.0 + (lo >> 6)) / 9007199254740992.0;
        int k = lb_rng_gamma_seed(r, 6, 1.5, 1);
        double a6 = (1.5 * 6 - 1) / 1.5; /* P(K <= k) = P(G < k), min 1 */
        assert_true(k >= 1);
        assert_true(gsl_sf_gamma_inc_P(a6, k - 1) <= u + 1e-12);
        assert_true(u < gsl_sf_gamma_inc_P(a6, k) + 1e-12);
      }
    }
    lb_rng_free(r);
  }
  gsl_rng_free(g);
}

/* With the tables' memo full (4096 shapes), a new shape's draws come from a
 * table of the generator's own: still the inverse CDF of GSL's next two
 * outputs, and the same from two generators of one seed. Runs last: after
 * it the memo of this process is full. */
static void test_memo_full(void **state) {
  (void)state;
  struct lb_rng *r = new_rng(11);
  for (int i = 0; i < 4096; i++) /* distinct shapes near 1/3: short tables */
    (void)lb_rng_gamma_seed(r, 1.0 + 1e-7 * (i + 1), 1.5, 1);
  lb_rng_free(r);
  assert_true(lb__rng_gamma_memo_full());
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(g);
  struct lb_rng *a = new_rng(5), *b = new_rng(5);
  gsl_rng_set(g, 5);
  const double mean = 6.25, shape = (1.5 * mean - 1) / 1.5;
  for (int i = 0; i < 2000; i++) {
    uint32_t hi = (uint32_t)gsl_rng_get(g), lo = (uint32_t)gsl_rng_get(g);
    double u = ((hi >> 5) * 67108864.0 + (lo >> 6)) / 9007199254740992.0;
    int k = lb_rng_gamma_seed(a, mean, 1.5, 1);
    assert_int_equal(lb_rng_gamma_seed(b, mean, 1.5, 1), k);
    assert_true(k >= 1);
    assert_true(gsl_sf_gamma_inc_P(shape, k - 1) <= u + 1e-12);
    assert_true(u < gsl_sf_gamma_inc_P(shape, k) + 1e-12);
  }
  lb_rng_free(a);
  lb_rng_free(b);
  gsl_rng_free(g);
}

/* The light generator: SplitMix64's first output from the seed, worked
 * out by its definition; the same sequence from the same seed (and after
 * re-seeding); uniform 32-bit draws (chi-square over 64 cells); below; and
 * randGamma's law through it, table and exact sampler. */
static void test_light(void **state) {
  (void)state;
  struct lb_rng *a = NULL, *b = NULL, *c = NULL;
  assert_int_equal(lb_rng_new_light(77, &a), 0);
  assert_int_equal(lb_rng_new_light(77, &b), 0);
  assert_int_equal(lb_rng_new_light(78, &c), 0);
  /* SplitMix64 from state 77: z = 77 + golden, mixed; its top 32 bits */
  uint64_t z = 77 + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  assert_true(lb_rng_uniform(a) == (double)(z >> 32) / 4294967296.0);
  (void)lb_rng_uniform(b);
  long cells[64] = {0};
  int differ = 0;
  for (int i = 0; i < 64000; i++) {
    double u = lb_rng_uniform(a);
    assert_true(u == lb_rng_uniform(b));
    differ += u != lb_rng_uniform(c);
    cells[(int)(u * 64)]++;
  }
  assert_true(differ > 63000);
  double chi = 0;
  for (int k = 0; k < 64; k++)
    chi += (cells[k] - 1000.0) * (cells[k] - 1000.0) / 1000.0;
  assert_true(gsl_cdf_chisq_Q(chi, 63) > 1e-4);
  lb_rng_seed(c, 77); /* re-seeding restarts the sequence */
  lb_rng_seed(a, 77);
  for (int i = 0; i < 100; i++)
    assert_true(lb_rng_uniform(a) == lb_rng_uniform(c));
  for (size_t i = 0; i < sizeof(gamma_laws) / sizeof(gamma_laws[0]); i++)
    check_gamma_law(a, gamma_laws[i].mean, gamma_laws[i].variance, 0.5);
  lb__rng_gamma_untabled(b);
  check_gamma_law(b, 2, 1.5, 0.5);
  check_gamma_law(b, 0.9, 1.5, 0.5); /* shape below 1: the boost's pow */
  size_t below[5] = {0};
  for (int i = 0; i < 5000; i++)
    below[lb_rng_below(c, 5)]++;
  for (int k = 0; k < 5; k++) /* 1000 +- 4.5 sigma (sigma ~ 28) */
    assert_true(below[k] > 870 && below[k] < 1130);
  lb_rng_free(a);
  lb_rng_free(b);
  lb_rng_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gamma_seed_asserts),
      cmocka_unit_test(test_gamma_large_mean),
      cmocka_unit_test(test_gamma_degenerate),
      cmocka_unit_test(test_gamma_law),
      cmocka_unit_test(test_gamma_law_untabled),
      cmocka_unit_test(test_gamma_same_seed),
      cmocka_unit_test(test_gamma_threads),
      cmocka_unit_test(test_same_seed_same_sequence),
      cmocka_unit_test(test_below),
      cmocka_unit_test(test_random_round),
      cmocka_unit_test(test_sample_distinct),
      cmocka_unit_test(test_choices),
      cmocka_unit_test(test_weighted),
      cmocka_unit_test(test_weighted_against_scan),
      cmocka_unit_test(test_exponential),
      cmocka_unit_test(test_seed_derive),
      cmocka_unit_test(test_same_values_as_gsl),
      cmocka_unit_test(test_light),
      cmocka_unit_test(test_memo_full), /* last: it fills the memo */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
