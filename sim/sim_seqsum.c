/* sim_seqsum: a left-to-right double sum, re-read cheaply (sim_seqsum.h). */
#include "sim_seqsum.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMIN (-1022) /* ilogb of normal doubles: EMIN .. EMAX */
#define EMAX 1023
#define NEXP (EMAX - EMIN + 1)
/* Whole ulps in a binade: [2^52, 2^53). A term of more than 2^53 ulps
 * leaves it on its own; counting it as BIG keeps prefix sums small. */
#define TOP ((uint64_t)1 << 53)
#define BIG (TOP + 1)
#define NAIVE 32                /* entries the loop's own steps take before a binade is built */
#define ONE ((uint64_t)1 << 52) /* a normal double's implicit bit */
#define FRAC (ONE - 1)

static uint64_t bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof(b));
  return b;
}

static double from_bits(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof(x));
  return x;
}

__extension__ typedef unsigned __int128 u128;

/* One binade's view of the entries [base, n): cum[k] = the ulps (rounded to
 * nearest) of entries base .. base + k - 1; next_stop[k]: the first entry at
 * or after base + k that the loop's own step must add (ulps). */
struct sim_seqsum_binade {
  int e;
  u128 *cum;
  int *next_stop;
};

int sim_seqsum_init(struct sim_seqsum *s, int n) {
  memset(s, 0, sizeof(*s));
  s->n = n;
  s->v = calloc((size_t)n + 1, sizeof(*s->v));
  s->has = calloc((size_t)n + 1, sizeof(*s->has));
  s->next_nonzero = calloc((size_t)n + 1, sizeof(*s->next_nonzero));
  s->binade_of = malloc(NEXP * sizeof(*s->binade_of));
  if (s->v == NULL || s->has == NULL || s->next_nonzero == NULL || s->binade_of == NULL) {
    sim_seqsum_close(s);
    return -ENOMEM;
  }
  for (int e = 0; e < NEXP; e++)
    s->binade_of[e] = -1;
  sim_seqsum_begin(s);
  return 0;
}

void sim_seqsum_close(struct sim_seqsum *s) {
  for (int b = 0; b < s->capbinades; b++) {
    free(s->binades[b].cum);
    free(s->binades[b].next_stop);
  }
  free(s->binades);
  free(s->v);
  free(s->has);
  free(s->next_nonzero);
  free(s->binade_of);
  memset(s, 0, sizeof(*s));
}

void sim_seqsum_set(struct sim_seqsum *s, int i, bool has, double v) {
  s->count += (int)has - (int)s->has[i];
  s->has[i] = has;
  s->v[i] = v;
}

static void drop_binades(struct sim_seqsum *s) {
  for (int b = 0; b < s->nbinades; b++)
    s->binade_of[s->binades[b].e - EMIN] = -1;
  s->nbinades = 0;
}

void sim_seqsum_begin(struct sim_seqsum *s) {
  drop_binades(s);
  s->pos = 0;
  s->prefix = 0;
  s->base = -1;
}

double sim_seqsum_loop(const struct sim_seqsum *s, int from, double start) {
  double sum = start;
  for (int j = from; j < s->n; j++)
    if (s->has[j])
      sum += s->v[j];
  return sum;
}

/* x finite, in ulps of binade e: rounded to nearest (at most BIG); *stop
 * when the loop's own step is needed: x / 2^(e-52) ends in exactly one half
 * (a tie), or x is negative beyond a quarter ulp (the sum may go down a
 * binade). */
static uint64_t ulps(double x, int e, double quarter, bool *stop) {
  *stop = false;
  if (x < 0) {
    /* Within a quarter ulp (the idle servers' -1e-15) it leaves any sum in
     * the binade as it is: the nearest double is the sum itself, even at
     * 2^e where the spacing below is half an ulp. A larger one may take
     * the sum down a binade. */
    *stop = !(-x < quarter);
    return 0;
  }
  if (x == 0)
    return 0;
  uint64_t b = bits(x);
  int be = (int)(b >> 52); /* x = m * 2^(max(be, 1) - 1075) */
  uint64_t m = (b & FRAC) | (be > 0 ? ONE : 0);
  int k = (e - 52) - ((be > 0 ? be : 1) - 1075); /* x / ulp = m / 2^k */
  if (k <= 0)
    return -k > 1 || (m << -k) > TOP ? BIG : m << -k;
  if (k > 54)
    return 0; /* m < 2^53: below a half */
  uint64_t half = (uint64_t)1 << (k - 1);
  uint64_t rem = m & ((half << 1) - 1);
  *stop = rem == half;
  return (m >> k) + (rem > half);
}

/* Entries at or after base: next_nonzero, and whether all are plain. */
static void build_suffix(struct sim_seqsum *s, int base) {
  drop_binades(s);
  s->base = base;
  s->plain = false;
  int next = s->n;
  s->next_nonzero[s->n - base] = next;
  for (int j = s->n - 1; j >= base; j--) {
    double x = s->v[j];
    if (s->has[j]) {
      if (!isfinite(x))
        s->plain = true;
      if (x != 0)
        next = j;
    }
    s->next_nonzero[j - base] = next;
  }
}

static struct sim_seqsum_binade *binade(struct sim_seqsum *s, int e) {
  int b = s->binade_of[e - EMIN];
  if (b >= 0)
    return &s->binades[b];
  if (s->nbinades == s->capbinades) {
    int cap = s->capbinades ? s->capbinades * 2 : 8;
    struct sim_seqsum_binade *p = realloc(s->binades, (size_t)cap * sizeof(*p));
    if (p == NULL)
      return NULL;
    memset(p + s->capbinades, 0, (size_t)(cap - s->capbinades) * sizeof(*p));
    s->binades = p;
    s->capbinades = cap;
  }
  struct sim_seqsum_binade *B = &s->binades[s->nbinades];
  size_t len = (size_t)s->n + 1; /* room for any base */
  if (B->cum == NULL)
    B->cum = malloc(len * sizeof(*B->cum));
  if (B->next_stop == NULL)
    B->next_stop = malloc(len * sizeof(*B->next_stop));
  if (B->cum == NULL || B->next_stop == NULL)
    return NULL; /* freed at close: capbinades counts it */
  B->e = e;
  int base = s->base, n = s->n;
  B->cum[0] = 0;
  double quarter = ldexp(1, e - 54);
  for (int j = base; j < n; j++) {
    bool stop = false;
    uint64_t r = s->has[j] ? ulps(s->v[j], e, quarter, &stop) : 0;
    B->cum[j - base + 1] = B->cum[j - base] + r;
    B->next_stop[j - base] = stop ? j : -1;
  }
  int next = n;
  B->next_stop[n - base] = n;
  for (int j = n - 1; j >= base; j--) {
    if (B->next_stop[j - base] >= 0)
      next = j;
    B->next_stop[j - base] = next;
  }
  s->binade_of[e - EMIN] = s->nbinades++;
  return B;
}

/* The loop over [j, n) from sum, using the suffix structures (j >= base). */
static int fold(struct sim_seqsum *s, int j, double sum, double *out) {
  int n = s->n, base = s->base;
  while (j < n) {
    if (sum == 0) { /* 0 + zeros stays 0; 0 + x is x */
      j = s->next_nonzero[j - base];
      if (j < n)
        sum = s->v[j++];
      continue;
    }
    if (!(sum >= DBL_MIN && sum <= DBL_MAX)) { /* subnormal: the loop's step */
      if (s->has[j])
        sum += s->v[j];
      j++;
      continue;
    }
    uint64_t b = bits(sum);
    int be = (int)(b >> 52); /* sum = have * 2^(be - 1075): binade be - 1023 */
    if (s->binade_of[be - 1023 - EMIN] < 0) {
      /* Not built: a sum low in the fleet leaves its binade within a few
       * entries; only one that stays pays for the structure. */
      int k = 0;
      for (; k < NAIVE && j < n && (int)(bits(sum) >> 52) == be; k++, j++)
        if (s->has[j])
          sum += s->v[j];
      if (j >= n || (int)(bits(sum) >> 52) != be)
        continue; /* at the end, or (mostly) in another binade now */
      b = bits(sum);
    }
    struct sim_seqsum_binade *B = binade(s, be - 1023);
    if (B == NULL)
      return -ENOMEM;
    uint64_t have = (b & FRAC) | ONE; /* in [2^52, 2^53) */
    u128 room = (u128)(TOP - 1 - have) + B->cum[j - base];
    /* the last k in [j, stop] with cum[k] <= room: entries j .. k-1 add
     * exactly, with no stop among them. */
    int lo = j, hi = B->next_stop[j - base];
    if (B->cum[hi - base] <= room) /* mostly: it stays to the stop */
      lo = hi;
    for (int step = 1; lo < hi; step *= 2) {
      int probe = hi - lo > step ? lo + step : hi;
      if (B->cum[probe - base] > room) {
        hi = probe - 1;
        break;
      }
      lo = probe;
    }
    while (lo < hi) {
      int mid = lo + (hi - lo + 1) / 2;
      if (B->cum[mid - base] <= room)
        lo = mid;
      else
        hi = mid - 1;
    }
    have += (uint64_t)(B->cum[lo - base] - B->cum[j - base]); /* still < 2^53 */
    sum = from_bits(((uint64_t)be << 52) | (have & FRAC));
    j = lo;
    if (j < n) { /* it leaves the binade, or stops: the loop's step */
      if (s->has[j])
        sum += s->v[j];
      j++;
    }
  }
  *out = sum;
  return 0;
}

int sim_seqsum_read(struct sim_seqsum *s, int i, double *sum, int *count) {
  if (i < s->pos) { /* out of order: start again */
    s->pos = 0;
    s->prefix = 0;
    s->base = -1;
  }
  for (; s->pos < i; s->pos++)
    if (s->has[s->pos])
      s->prefix += s->v[s->pos];
  *count = s->count;
  double acc = s->prefix;
  if (i < s->n && s->has[i])
    acc += s->v[i];
  if (i + 1 >= s->n) {
    *sum = acc;
    return 0;
  }
  if (s->base < 0 || s->base > i + 1)
    build_suffix(s, i + 1);
  if (s->plain) {
    *sum = sim_seqsum_loop(s, i + 1, acc);
    return 0;
  }
  return fold(s, i + 1, acc, sum);
}
