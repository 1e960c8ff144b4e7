/* rng: mt19937 (GSL's, value for value) behind the seed's random draws. */
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

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

/* What a draw reads first (the gamma constants, the cursor mt.mti) shares
 * the first cache line (56 + 4 bytes). */
struct lb_rng {
  double seed_mean, seed_variance, seed_min;     /* the last randGamma's */
  double gamma_a, gamma_d, gamma_c, gamma_inv_a; /* its shape, and constants */
  struct mt mt;
  gsl_rng gr; /* .state = &mt, .type = &mt_type */
  /* lb_rng_below's divisor for the last n seen, and its reciprocal */
  uint64_t below_n, below_scale, below_recip;
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

/* gsl_rng_uniform_pos: (0, 1). */
static inline double mt_uniform_pos(struct mt *m) {
  double x;
  do
    x = mt_uniform(m);
  while (x == 0);
  return x;
}

/* mt_seed of SEED_LANES generators at once: the seeding is one long chain
 * of dependent multiplies per generator, so side by side they overlap (each
 * lane's state and row in a register of its own). */
#define SEED_LANES 4
#define SEED_STEP(x, i) (1812433253U * ((x) ^ ((x) >> 30)) + (i))
static void mt_seed_lanes(struct mt *m[SEED_LANES], const uint32_t seed[SEED_LANES]) {
  uint32_t *v0 = m[0]->v, *v1 = m[1]->v, *v2 = m[2]->v, *v3 = m[3]->v;
  /* GSL's default seed stands in for 0 */
  uint32_t x0 = seed[0] ? seed[0] : 4357, x1 = seed[1] ? seed[1] : 4357;
  uint32_t x2 = seed[2] ? seed[2] : 4357, x3 = seed[3] ? seed[3] : 4357;
  v0[0] = x0, v1[0] = x1, v2[0] = x2, v3[0] = x3;
  for (uint32_t i = 1; i < MT_N; i++) {
    x0 = SEED_STEP(x0, i), x1 = SEED_STEP(x1, i), x2 = SEED_STEP(x2, i), x3 = SEED_STEP(x3, i);
    v0[i] = x0, v1[i] = x1, v2[i] = x2, v3[i] = x3;
  }
  for (int k = 0; k < SEED_LANES; k++)
    m[k]->mti = MT_N;
}

static void mt_seed(struct mt *m, uint32_t s) {
  uint32_t x = s ? s : 4357;
  m->v[0] = x;
  for (uint32_t i = 1; i < MT_N; i++)
    m->v[i] = x = SEED_STEP(x, i);
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

static uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* An unseeded generator. */
static struct lb_rng *rng_alloc(void) {
  struct lb_rng *r = aligned_alloc(64, (sizeof(*r) + 63) / 64 * 64);
  if (r == NULL)
    return NULL;
  r->gr.type = &mt_type;
  r->gr.state = &r->mt;
  r->gamma_a = r->seed_mean = NAN;
  r->below_n = 0;
  return r;
}

/* mt19937 takes a 32-bit seed: fold the high half in so every bit counts. */
static uint32_t fold_seed(uint64_t seed) {
  return (uint32_t)((seed ^ (seed >> 32)) & 0xffffffffULL);
}

int lb_rng_new(uint64_t seed, struct lb_rng **out) {
  struct lb_rng *r = rng_alloc();
  if (r == NULL)
    return -ENOMEM;
  lb_rng_seed(r, seed);
  *out = r;
  return 0;
}

int lb_rng_new_many(const uint64_t *seeds, size_t n, struct lb_rng **out) {
  for (size_t i = 0; i < n; i++) {
    if ((out[i] = rng_alloc()) == NULL) {
      while (i > 0)
        lb_rng_free(out[--i]);
      return -ENOMEM;
    }
  }
  struct mt spare;
  for (size_t i = 0; i < n; i += SEED_LANES) {
    struct mt *m[SEED_LANES];
    uint32_t s[SEED_LANES];
    for (size_t k = 0; k < SEED_LANES; k++) {
      m[k] = i + k < n ? &out[i + k]->mt : &spare;
      s[k] = i + k < n ? fold_seed(seeds[i + k]) : 0;
    }
    mt_seed_lanes(m, s);
  }
  return 0;
}

void lb_rng_free(struct lb_rng *r) {
  free(r);
}

void lb_rng_seed(struct lb_rng *r, uint64_t seed) {
  mt_seed(&r->mt, fold_seed(seed));
}

double lb_rng_uniform(struct lb_rng *r) {
  return mt_uniform(&r->mt);
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
      uint64_t draw = mt_next(&r->mt);
      k = r->below_recip ? (uint64_t)(((unsigned __int128)r->below_recip * draw) >> 64) : draw;
    } while (k >= n);
    return (size_t)k;
  }
  size_t v = (size_t)(mt_uniform(&r->mt) * (double)n);
  return v < n ? v : n - 1;
}

double lb_rng_exponential(struct lb_rng *r, double mean) {
  return gsl_ran_exponential(&r->gr, mean);
}

/* gsl_ran_gamma(r, a, 1.0), the same arithmetic in the same order and the
 * same draws (GSL's own ziggurat for the gaussian), so the same values:
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
    scale = mt_uniform_pos(&r->mt);
  double d = r->gamma_d, c = r->gamma_c, x, v;
  for (;;) {
    do {
      x = gsl_ran_gaussian_ziggurat(&r->gr, 1.0);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = mt_uniform_pos(&r->mt);
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

int lb_rng_gamma_seed(struct lb_rng *r, double mean, double variance, double min) {
  if (mean != r->seed_mean || variance != r->seed_variance || min != r->seed_min) {
    r->seed_mean = mean, r->seed_variance = variance, r->seed_min = min;
    gamma_shape(r, (variance * mean - min) / variance);
  }
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
  return (double)(splitmix64(key + n * 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53;
}
