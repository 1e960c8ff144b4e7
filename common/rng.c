/* rng: GSL's mt19937 behind the seed's random draws. */
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* GSL's own inline bodies of gsl_rng_get, _uniform and _uniform_int (the
 * library's functions are built from the same header): no call per draw. */
#define HAVE_INLINE 1
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* One allocation: the gsl_rng and its mt19937 state after it. gsl_rng_alloc
 * would calloc the state and seed it with the default seed, only for
 * lb_rng_seed to seed it again: gsl_rng_set alone sets the whole state. */
struct lb_rng {
  gsl_rng gr;
  gsl_rng *g; /* &gr */
  max_align_t state[];
};

static uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int lb_rng_new(uint64_t seed, struct lb_rng **out) {
  const gsl_rng_type *type = gsl_rng_mt19937;
  struct lb_rng *r = malloc(sizeof(*r) + type->size);
  if (r == NULL)
    return -ENOMEM;
  r->gr.type = type;
  r->gr.state = r->state;
  r->g = &r->gr;
  lb_rng_seed(r, seed);
  *out = r;
  return 0;
}

void lb_rng_free(struct lb_rng *r) {
  free(r);
}

/* mt19937 takes a 32-bit seed: fold the high half in so every bit counts. */
void lb_rng_seed(struct lb_rng *r, uint64_t seed) {
  gsl_rng_set(r->g, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffULL));
}

double lb_rng_uniform(struct lb_rng *r) {
  return gsl_rng_uniform(r->g);
}

size_t lb_rng_below(struct lb_rng *r, size_t n) {
  if (n <= 1)
    return 0;
  if (n - 1 <= r->gr.type->max - r->gr.type->min)
    return (size_t)gsl_rng_uniform_int(r->g, (unsigned long)n);
  size_t v = (size_t)(gsl_rng_uniform(r->g) * (double)n);
  return v < n ? v : n - 1;
}

double lb_rng_exponential(struct lb_rng *r, double mean) {
  return gsl_ran_exponential(r->g, mean);
}

int lb_rng_gamma_seed(struct lb_rng *r, double mean, double variance, double min) {
  double a = (variance * mean - min) / variance;
  if (!(a > 0) || !(variance > 0))
    return (int)min;
  /* gamma(a, scale=variance) / variance == gamma(a, scale=1) */
  double v = gsl_ran_gamma(r->g, a, 1.0) + min;
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
