/* rng: the one source of randomness of the model, GSL-backed, explicitly
 * seeded. Holds the seed's randGamma and RandomRound, and the handful of
 * Python `random` calls the seed makes (randrange, choice, sample, choices),
 * so a driver never needs another generator. */
#ifndef LB_RNG_H
#define LB_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lb_rng; /* opaque: GSL's mt19937, draw for draw, or a light SplitMix64 */

int lb_rng_new(uint64_t seed, struct lb_rng **out);
void lb_rng_free(struct lb_rng *r);
/* A light generator: SplitMix64, 8 bytes of state instead of mt19937's
 * 2.5 KiB, the same interface and laws, other values. For the fleet's many
 * small streams (a channel's delays, a reset's new parameters): a run holds
 * hundreds, and mt19937's state would crowd the cache. */
int lb_rng_new_light(uint64_t seed, struct lb_rng **out);
/* Re-seed in place: the same seed gives the same sequence. */
void lb_rng_seed(struct lb_rng *r, uint64_t seed);

/* Uniform in [0, 1). */
double lb_rng_uniform(struct lb_rng *r);
/* Uniform integer in [0, n), n > 0 (Python's randrange(n), choice). */
size_t lb_rng_below(struct lb_rng *r, size_t n);
/* Exponential with the given mean (Poisson arrivals). */
double lb_rng_exponential(struct lb_rng *r, double mean);

/* The seed's randGamma(mean, variance=1.5, min=1):
 *   int(gamma.rvs(a=(variance*mean - min)/variance, scale=variance)/variance + min)
 * Exact in distribution: inverse CDF over the integer outcomes, from GSL's
 * incomplete gamma (tables shared by all generators, built on a shape's
 * first use, kept until exit; thread-safe; what a draw gives never depends
 * on which tables exist). Not GSL's sampler's values draw
 * for draw. Where the shape a is <= 0 (mean at or below min/variance) the
 * seed's scipy call has no distribution; we return (int)min, and say so in
 * the docs. */
int lb_rng_gamma_seed(struct lb_rng *r, double mean, double variance, double min);
/* gsl_ran_gamma(rng, a, 1.0) itself, a > 0, draw for draw: what
 * lb_rng_gamma_seed draws from where a shape has no table (too long). */
double lb__rng_gamma(struct lb_rng *r, double a);
/* For tests: r's randGamma draws always take lb__rng_gamma's sampler. */
void lb__rng_gamma_untabled(struct lb_rng *r);
/* For tests: the shared tables' memo holds as many as it may. */
bool lb__rng_gamma_memo_full(void);
#define LB_GAMMA_VARIANCE 1.5
#define LB_GAMMA_MIN 1.0

/* The seed's RandomRound: ceil(x) with probability frac(x), else floor(x). */
long lb_rng_random_round(struct lb_rng *r, double x);

/* random.sample(range(n), k): k distinct indices in random order into out. */
void lb_rng_sample(struct lb_rng *r, size_t n, size_t k, size_t *out);
/* random.choices(range(n), k): k indices with replacement into out. */
void lb_rng_choices(struct lb_rng *r, size_t n, size_t k, size_t *out);
/* random.choices(range(n), weights): one index drawn with probability
 * weights[i]/sum(weights); weights are >= 0 with a positive sum. */
size_t lb_rng_weighted(struct lb_rng *r, const double *weights, size_t n);

/* Independent streams derived from one scenario seed, so that lbsim and a
 * real fleet draw the same fleet (server parameters, client subsets,
 * channel delays, arrivals) from the same seed + run: entity `index` of
 * stream `kind` gets lb_seed_derive(seed + run, kind, index) (a splitmix64
 * hash of the three). */
enum lb_stream {
  LB_STREAM_ARRIVALS = 1, /* index 0: the arrival trace */
  LB_STREAM_SERVER = 2,   /* index: server; threads, processing time, rtt,
                             processing draws */
  LB_STREAM_CLIENT = 3,   /* index: client; subset, then its picker's draws */
  LB_STREAM_CHANNEL = 4,  /* index: client * servers + server slot; delays */
  LB_STREAM_SERVER_RESET = 5, /* index: server; the key of its reset clock
                                 (fleet.h: which ticks reset, and the new
                                 parameters); the initial parameters stay
                                 on LB_STREAM_SERVER */
  LB_STREAM_NETWORK_RESET = 6, /* index: the channel's stream index; the key
                                  of its reset clock (which ticks reset, and
                                  the new mean) */
};
uint64_t lb_seed_derive(uint64_t seed, enum lb_stream kind, uint64_t index);

/* The n-th (from 0) uniform in [0, 1) of SplitMix64 started at key: a draw
 * that needs no generator to be made or kept (reset clocks, fleet.h). */
double lb_rng_keyed_uniform(uint64_t key, uint64_t n);

#endif
