/* rng: mt19937 (GSL's, value for value) behind the seed's random draws. */
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>

/* mt19937 exactly as GSL's (same seeding, same outputs), but ours: draws are
 * inlined instead of called through gsl_rng_type's pointers, and the state
 * is 32-bit words (2.5 KiB instead of 5), which matters with one generator
 * per channel. GSL's samplers we keep (the ziggurat gaussian, exponential)
 * reach it through a gsl_rng_type of our own with the same max and min. */
#define MT_N 624
#define MT_M 397

struct mt {
  int mti;
  uint32_t v[MT_N];
};

struct gamma_table;

/* What a table draw reads (the last randGamma's arguments, its table, a
 * light generator's state) shares the first cache line (57 bytes). The
 * mt19937 state comes last: a light generator is made without it. */
struct lb_rng {
  double seed_mean, seed_variance, seed_min; /* the last randGamma's */
  const struct gamma_table *seed_table;      /* its table, or NULL */
  struct gamma_table *own_table;             /* seed_table when the memo was full */
  double gamma_a;                            /* its shape */
  uint64_t light_state;                      /* SplitMix64's, when light */
  bool light;
  double gamma_d, gamma_c, gamma_inv_a; /* the exact sampler's constants */
  bool untabled;                        /* lb__rng_gamma_untabled */
  gsl_rng gr; /* .state = &mt or &light_state, .type = mt_type or light_type */
  /* lb_rng_below's divisor for the last n seen, and its reciprocal */
  uint64_t below_n, below_scale, below_recip;
  struct mt mt; /* last: not allocated for a light generator */
};

static void mt_twist(struct mt *m) {
  uint32_t *v = m->v;
  int k = 0;
  for (; k < MT_N - MT_M; k++) {
    uint32_t y = (v[k] & 0x80000000U) | (v[k + 1] & 0x7fffffffU);
    v[k] = v[k + MT_M] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
  }
  for (; k < MT_N - 1; k++) {
    uint32_t y = (v[k] & 0x80000000U) | (v[k + 1] & 0x7fffffffU);
    v[k] = v[k + MT_M - MT_N] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
  }
  uint32_t y = (v[MT_N - 1] & 0x80000000U) | (v[0] & 0x7fffffffU);
  v[MT_N - 1] = v[MT_M - 1] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
  m->mti = 0;
}

static inline uint32_t mt_next(struct mt *m) {
  if (m->mti >= MT_N)
    mt_twist(m);
  uint32_t k = m->v[m->mti++];
  k ^= k >> 11;
  k ^= (k << 7) & 0x9d2c5680U;
  k ^= (k << 15) & 0xefc60000U;
  return k ^ (k >> 18);
}

/* gsl_rng_uniform: the 32 bits over 2^32. */
static inline double mt_uniform(struct mt *m) {
  return mt_next(m) / 4294967296.0;
}

static void mt_seed(struct mt *m, uint32_t s) {
  uint32_t x = s ? s : 4357;
  m->v[0] = x;
  for (uint32_t i = 1; i < MT_N; i++)
    m->v[i] = x = 1812433253U * (x ^ (x >> 30)) + i;
  m->mti = MT_N;
}

static unsigned long mt_type_get(void *state) {
  return mt_next(state);
}

static double mt_type_get_double(void *state) {
  return mt_uniform(state);
}

static void mt_type_set(void *state, unsigned long seed) {
  mt_seed(state, (uint32_t)seed);
}

static const gsl_rng_type mt_type = {
    "lb_mt19937", 0xffffffffUL, 0, sizeof(struct mt), mt_type_set, mt_type_get, mt_type_get_double};

/* SplitMix64's step: its state advances by this between outputs. */
#define SPLITMIX_STEP 0x9e3779b97f4a7c15ULL

/* SplitMix64's output from state z: a step, then the mix. */
static uint64_t splitmix64(uint64_t z) {
  z += SPLITMIX_STEP;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* The light generator: SplitMix64 (Steele, Lea, Flood 2014; Java's
 * SplittableRandom), 8 bytes of state. Its 32-bit draws are the high half
 * of each output. */
static inline uint64_t light_next(uint64_t *state) {
  uint64_t x = splitmix64(*state);
  *state += SPLITMIX_STEP;
  return x;
}

static unsigned long light_type_get(void *state) {
  return (unsigned long)(light_next(state) >> 32);
}

static double light_type_get_double(void *state) {
  return (double)(light_next(state) >> 32) / 4294967296.0;
}

static void light_type_set(void *state, unsigned long seed) {
  *(uint64_t *)state = seed;
}

static const gsl_rng_type light_type = {"lb_splitmix64",      0xffffffffUL,   0,
                                        sizeof(uint64_t),     light_type_set, light_type_get,
                                        light_type_get_double};

/* 32 and 53 random bits from either generator (53: numpy's and Python's
 * random() from mt19937's next two outputs; SplitMix64's top 53 bits). */
static inline uint32_t next32(struct lb_rng *r) {
  return r->light ? (uint32_t)(light_next(&r->light_state) >> 32) : mt_next(&r->mt);
}

static inline uint64_t next53(struct lb_rng *r) {
  if (r->light)
    return light_next(&r->light_state) >> 11;
  uint64_t hi = mt_next(&r->mt) >> 5;
  uint64_t lo = mt_next(&r->mt) >> 6;
  return hi << 26 | lo;
}

/* gsl_rng_uniform_pos: (0, 1). */
static inline double uniform_pos(struct lb_rng *r) {
  double x;
  do
    x = next32(r) / 4294967296.0;
  while (x == 0);
  return x;
}

/* An unseeded generator; a light one without the mt19937 state. */
static struct lb_rng *rng_alloc(bool light) {
  size_t size = light ? offsetof(struct lb_rng, mt) : sizeof(struct lb_rng);
  struct lb_rng *r = aligned_alloc(64, (size + 63) / 64 * 64);
  if (r == NULL)
    return NULL;
  r->light = light;
  r->gr.type = light ? &light_type : &mt_type;
  r->gr.state = light ? (void *)&r->light_state : (void *)&r->mt;
  r->gamma_a = r->seed_mean = NAN;
  r->seed_table = NULL;
  r->own_table = NULL;
  r->untabled = false;
  r->below_n = 0;
  return r;
}

/* mt19937 takes a 32-bit seed: fold the high half in so every bit counts. */
static uint32_t fold_seed(uint64_t seed) {
  return (uint32_t)((seed ^ (seed >> 32)) & 0xffffffffULL);
}

static int rng_new(uint64_t seed, bool light, struct lb_rng **out) {
  struct lb_rng *r = rng_alloc(light);
  if (r == NULL)
    return -ENOMEM;
  lb_rng_seed(r, seed);
  *out = r;
  return 0;
}

int lb_rng_new(uint64_t seed, struct lb_rng **out) {
  return rng_new(seed, false, out);
}

int lb_rng_new_light(uint64_t seed, struct lb_rng **out) {
  return rng_new(seed, true, out);
}

void lb_rng_free(struct lb_rng *r) {
  if (r != NULL)
    free(r->own_table);
  free(r);
}

void lb_rng_seed(struct lb_rng *r, uint64_t seed) {
  if (r->light)
    r->light_state = seed;
  else
    mt_seed(&r->mt, fold_seed(seed));
}

double lb_rng_uniform(struct lb_rng *r) {
  return next32(r) / 4294967296.0;
}

/* gsl_rng_uniform_int's rejection: k = draw / (range / n) until k < n.
 * The division by scale is a multiplication by ceil(2^64 / scale), exact
 * for every 32-bit draw (Lemire, Kaser, Kurz 2019), kept for the last n. */
size_t lb_rng_below(struct lb_rng *r, size_t n) {
  if (n <= 1)
    return 0;
  if (n <= 0xffffffffUL) {
    if (r->below_n != n) {
      r->below_n = n;
      r->below_scale = 0xffffffffUL / n; /* >= 1 */
      r->below_recip = r->below_scale > 1 ? UINT64_MAX / r->below_scale + 1 : 0;
    }
    uint64_t k;
    do {
      uint64_t draw = next32(r);
      k = r->below_recip ? (uint64_t)(((unsigned __int128)r->below_recip * draw) >> 64) : draw;
    } while (k >= n);
    return (size_t)k;
  }
  size_t v = (size_t)(lb_rng_uniform(r) * (double)n);
  return v < n ? v : n - 1;
}

double lb_rng_exponential(struct lb_rng *r, double mean) {
  return gsl_ran_exponential(&r->gr, mean);
}

/* gsl_ran_gamma(r, a, 1.0), the same arithmetic in the same order and the
 * same draws (GSL's own ziggurat for the gaussian), so the same values
 * (randGamma's fallback where it has no table):
 * Marsaglia and Tsang's method, for a < 1 boosted to 1 + a and scaled by
 * u^(1/a). tests/test_rng.c checks it against gsl_ran_gamma. */
static void gamma_shape(struct lb_rng *r, double a) {
  double boosted = a < 1 ? 1.0 + a : a;
  r->gamma_a = a;
  r->gamma_d = boosted - 1.0 / 3.0;
  r->gamma_c = (1.0 / 3.0) / sqrt(r->gamma_d);
  r->gamma_inv_a = 1.0 / a;
}

/* A draw for the shape set (gamma_shape). */
static double gamma_draw(struct lb_rng *r) {
  double a = r->gamma_a, scale = 0;
  if (a < 1)
    scale = uniform_pos(r);
  double d = r->gamma_d, c = r->gamma_c, x, v;
  for (;;) {
    do {
      x = gsl_ran_gaussian_ziggurat(&r->gr, 1.0);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = uniform_pos(r);
    if (u < 1 - 0.0331 * x * x * x * x)
      break;
    if (log(u) < 0.5 * x * x + d * (1 - v + log(v)))
      break;
  }
  double g = 1.0 * d * v; /* GSL's b * d * v with b = 1 */
  return a < 1 ? g * pow(scale, r->gamma_inv_a) : g;
}

double lb__rng_gamma(struct lb_rng *r, double a) {
  if (a != r->gamma_a) {
    gamma_shape(r, a);
    r->seed_mean = NAN; /* no longer the last randGamma's shape */
  }
  return gamma_draw(r);
}

/* ---- randGamma by inverse CDF ----
 * Only K = (int)(G + min), G ~ Gamma(a, 1), is ever used, so K is drawn from
 * its own distribution: a table of P(K <= k) from GSL's regularized
 * incomplete gamma, searched with a 53-bit uniform through a guide table
 * (Chen's index table: one or two comparisons a draw). Exact in distribution
 * to the uniform's 2^-53; not GSL's sampler's values draw for draw.
 * Tables are process-wide, immutable once built, and live until exit (kept
 * reachable from table_slot, so LeakSanitizer does not report them). This
 * memo is the one piece of process-wide state in common/ (STYLE.md asks for
 * none): a table is a pure function of its shape, so no result depends on
 * what the memo holds, and building ~30 per run instead (~1 ms) would cost
 * lbsim 5 % of a run. */
#define TABLE_MAX_LEN 4096   /* about 16.6 sqrt(a) long: a up to ~6e4 */
#define TABLE_MAX_SHAPE 6e4  /* beyond, too long anyway: not tried (ms each) */
#define TABLE_MAX_MIN 0x1p30 /* so every outcome of a table fits an int */
#define TABLE_TAIL 0x1p-54   /* what each end bin may take in from its tail */
#define TABLE_CACHE_MAX 4096
#define TABLE_SLOTS 8192  /* open addressing, at most half full */
#define GUIDE_PER_ENTRY 4 /* guide cells an entry: most walks take no step */

struct gamma_table {
  double a, min;         /* the key */
  int k0;                /* the outcome of cdf[0] */
  uint32_t n;            /* entries; 0: no table, the exact sampler draws */
  unsigned guide_shift;  /* a uniform's 53 bits >> guide_shift: its guide */
  const uint16_t *guide; /* guide[j]: the first i with cdf[i] > j/2^(53-shift) */
  double cdf[];          /* P(K <= k0 + i), non-decreasing; cdf[n - 1] == 1 */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gamma_table *table_slot[TABLE_SLOTS];
static size_t table_count;

/* (int) truncates toward zero: K <= k iff G + min < k + 1 for k >= 0, and
 * iff G + min <= k below 0, so P(K <= k) = P(G < table_x(k, min)). */
static double table_x(int k, double min) {
  return (k >= 0 ? k + 1.0 : (double)k) - min;
}

static double inc_P(double a, double x) {
  return x > 0 ? gsl_sf_gamma_inc_P(a, x) : 0;
}

static double inc_Q(double a, double x) {
  return x > 0 ? gsl_sf_gamma_inc_Q(a, x) : 1;
}

/* The first k with P(K <= k) >= TABLE_TAIL: what lies below folds into the
 * first bin. Bisection, so that a large shape costs no long walk. */
static int table_start(double a, double min) {
  int lo = (int)floor(min) - 1;
  while (table_x(lo, min) <= 0)
    lo++; /* the first k with any probability */
  if (inc_P(a, table_x(lo, min)) >= TABLE_TAIL)
    return lo;
  int hi = lo + (int)ceil(a) + 2; /* x > a + 1: past the median */
  while (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    if (inc_P(a, table_x(mid, min)) >= TABLE_TAIL)
      hi = mid;
    else
      lo = mid;
  }
  return hi;
}

/* cdf[i] = P(K <= start + i) until the rest is below TABLE_TAIL; that rest
 * folds into the last entry, made exactly 1. Returns the length, or 0 when
 * it would pass max. Each entry comes from the smaller of P and Q, so that
 * neither tail loses its digits to cancellation. */
static uint32_t table_fill(double a, double min, int start, double *cdf, uint32_t max) {
  for (uint32_t i = 0; i < max; i++) {
    double x = table_x(start + (int)i, min), q = inc_Q(a, x);
    if (q < TABLE_TAIL) {
      cdf[i] = 1.0;
      return i + 1;
    }
    double p = q > 0.5 ? inc_P(a, x) : 1 - q;
    cdf[i] = i > 0 && p < cdf[i - 1] ? cdf[i - 1] : p; /* P, 1 - Q may cross by an ulp */
  }
  return 0;
}

/* guide[j] for j/len, len a power of two (GUIDE_PER_ENTRY * n or more):
 * j/len is exact in binary, and the 53 bits' top log2(len) bits are the j
 * at or below the uniform. */
static void table_guide(struct gamma_table *t, uint16_t *guide, unsigned log2_len) {
  uint32_t i = 0;
  for (uint32_t j = 0; j < 1U << log2_len; j++) {
    while (t->cdf[i] <= ldexp(j, -(int)log2_len))
      i++;
    guide[j] = (uint16_t)i;
  }
  t->guide_shift = 53 - log2_len;
  t->guide = guide;
}

/* The table of shape a and min; one of length 0 where the exact sampler is
 * to draw (too long, or out of range); NULL when out of memory. */
static struct gamma_table *table_build(double a, double min) {
  struct gamma_table *t = NULL;
  double *cdf = NULL;
  uint32_t n = 0;
  int start = 0;
  if (a <= TABLE_MAX_SHAPE && fabs(min) <= TABLE_MAX_MIN) {
    if ((cdf = malloc(TABLE_MAX_LEN * sizeof(*cdf))) == NULL)
      goto out;
    start = table_start(a, min);
    n = table_fill(a, min, start, cdf, TABLE_MAX_LEN);
  }
  unsigned log2_len = 0;
  while (n > 0 && (1U << log2_len) < GUIDE_PER_ENTRY * n)
    log2_len++;
  size_t guide_len = n > 0 ? (size_t)1 << log2_len : 0;
  t = malloc(sizeof(*t) + n * sizeof(double) + guide_len * sizeof(uint16_t));
  if (t == NULL)
    goto out;
  *t = (struct gamma_table){.a = a, .min = min, .k0 = start, .n = n};
  if (n > 0) {
    memcpy(t->cdf, cdf, n * sizeof(double));
    table_guide(t, (uint16_t *)(t->cdf + n), log2_len);
  }
out:
  free(cdf);
  return t;
}

static uint64_t double_bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof(b));
  return b;
}

/* The shared table for (a, min), built on first use; NULL where the exact
 * sampler draws (too long a table; out of memory). Takes the lock: called
 * when an rng's shape changes, not per draw. With the memo full, a table of
 * the caller's own into *own: a draw never depends on what the memo holds
 * (lbsim's output is the same whatever ran before in the process). */
static const struct gamma_table *table_for(double a, double min, struct gamma_table **own) {
  min += 0.0; /* -0.0 and 0.0: one key */
  size_t i = splitmix64(double_bits(a) ^ splitmix64(double_bits(min))) & (TABLE_SLOTS - 1);
  if (pthread_mutex_lock(&table_lock) != 0)
    return NULL;
  struct gamma_table *t;
  while ((t = table_slot[i]) != NULL && !(t->a == a && t->min == min))
    i = (i + 1) & (TABLE_SLOTS - 1);
  bool full = t == NULL && table_count >= TABLE_CACHE_MAX;
  if (t == NULL && !full && (t = table_build(a, min)) != NULL) {
    table_slot[i] = t;
    table_count++;
  }
  pthread_mutex_unlock(&table_lock);
  if (full)
    t = *own = table_build(a, min);
  return t != NULL && t->n > 0 ? t : NULL;
}

static inline int table_draw(const struct gamma_table *t, struct lb_rng *r) {
  uint64_t bits = next53(r);
  double u = (double)bits * 0x1p-53;
  uint32_t i = t->guide[bits >> t->guide_shift];
  while (u >= t->cdf[i])
    i++;
  return t->k0 + (int)i;
}

/* The shape of randGamma(mean, variance, min), and its table if it has one. */
static void seed_shape(struct lb_rng *r, double mean, double variance, double min) {
  r->seed_mean = mean, r->seed_variance = variance, r->seed_min = min;
  gamma_shape(r, (variance * mean - min) / variance);
  bool drawable = r->gamma_a > 0 && variance > 0;
  free(r->own_table);
  r->own_table = NULL;
  r->seed_table = drawable && !r->untabled ? table_for(r->gamma_a, min, &r->own_table) : NULL;
}

bool lb__rng_gamma_memo_full(void) {
  pthread_mutex_lock(&table_lock);
  bool full = table_count >= TABLE_CACHE_MAX;
  pthread_mutex_unlock(&table_lock);
  return full;
}

void lb__rng_gamma_untabled(struct lb_rng *r) {
  r->untabled = true;
  r->seed_mean = NAN;
}

int lb_rng_gamma_seed(struct lb_rng *r, double mean, double variance, double min) {
  if (mean != r->seed_mean || variance != r->seed_variance || min != r->seed_min)
    seed_shape(r, mean, variance, min);
  if (r->seed_table != NULL)
    return table_draw(r->seed_table, r);
  if (!(r->gamma_a > 0) || !(variance > 0))
    return (int)min;
  /* gamma(a, scale=variance) / variance == gamma(a, scale=1) */
  double v = gamma_draw(r) + min;
  if (v >= (double)INT32_MAX)
    return INT32_MAX;
  return (int)v;
}

long lb_rng_random_round(struct lb_rng *r, double x) {
  double fl = floor(x);
  if (lb_rng_uniform(r) < x - fl)
    return (long)ceil(x);
  return (long)fl;
}

/* Floyd's algorithm picks the set, a shuffle gives the order. */
void lb_rng_sample(struct lb_rng *r, size_t n, size_t k, size_t *out) {
  if (k > n)
    k = n;
  size_t m = 0;
  for (size_t j = n - k; j < n; j++) {
    size_t t = lb_rng_below(r, j + 1);
    bool seen = false;
    for (size_t i = 0; i < m; i++) {
      if (out[i] == t) {
        seen = true;
        break;
      }
    }
    out[m++] = seen ? j : t;
  }
  for (size_t i = m; i > 1; i--) {
    size_t j = lb_rng_below(r, i);
    size_t tmp = out[i - 1];
    out[i - 1] = out[j];
    out[j] = tmp;
  }
}

void lb_rng_choices(struct lb_rng *r, size_t n, size_t k, size_t *out) {
  for (size_t i = 0; i < k; i++)
    out[i] = lb_rng_below(r, n);
}

/* The running sum skips weights that are not > 0 (NaN too); the total is its
 * last value, summed in the same order. The first index whose running sum
 * exceeds u has a positive weight (the sum rose there), so a binary search
 * over the running sums finds what a scan of the positive weights would. */
#define WEIGHTED_STACK 256
size_t lb_rng_weighted(struct lb_rng *r, const double *weights, size_t n) {
  double cums[WEIGHTED_STACK];
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    total += weights[i] > 0 ? weights[i] : 0;
    if (i < WEIGHTED_STACK)
      cums[i] = total;
  }
  if (!(total > 0))
    return lb_rng_below(r, n);
  double u = lb_rng_uniform(r) * total;
  if (n <= WEIGHTED_STACK) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (u < cums[mid])
        hi = mid;
      else
        lo = mid + 1;
    }
    if (lo < n)
      return lo;
  }
  double cum = 0;
  size_t last = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(weights[i] > 0))
      continue;
    cum += weights[i];
    last = i;
    if (u < cum)
      return i;
  }
  return last;
}

uint64_t lb_seed_derive(uint64_t seed, enum lb_stream kind, uint64_t index) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ (uint64_t)kind);
  return splitmix64(h ^ index);
}

double lb_rng_keyed_uniform(uint64_t key, uint64_t n) {
  /* SplitMix64's state after n steps is key + n * its increment */
  return (double)(splitmix64(key + n * SPLITMIX_STEP) >> 11) * 0x1.0p-53;
}
