/* rif_latency: recent latencies by RIF at arrival, and their median. */
#include "rif_latency.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PER LB_RIF_LATENCY_PER_BUCKET

void lb_rif_latency_init(struct lb_rif_latency *e) {
  memset(e, 0, sizeof(*e));
}

void lb_rif_latency_close(struct lb_rif_latency *e) {
  if (!e)
    return;
  free(e->samples);
  free(e->count);
  memset(e, 0, sizeof(*e));
}

void lb_rif_latency_clear(struct lb_rif_latency *e) {
  if (e->count)
    memset(e->count, 0, e->nbuckets * sizeof(*e->count));
  e->nonempty = 0;
}

static int grow(struct lb_rif_latency *e, size_t need) {
  size_t n = e->nbuckets ? e->nbuckets : 32;
  while (n <= need)
    n *= 2;
  if (n > LB_RIF_LATENCY_MAX_RIF)
    n = LB_RIF_LATENCY_MAX_RIF;
  double *s = realloc(e->samples, n * PER * sizeof(*s));
  if (!s)
    return -ENOMEM;
  e->samples = s;
  uint32_t *c = realloc(e->count, n * sizeof(*c));
  if (!c)
    return -ENOMEM;
  memset(c + e->nbuckets, 0, (n - e->nbuckets) * sizeof(*c));
  e->count = c;
  e->nbuckets = n;
  return 0;
}

static size_t bucket_of(int rif) {
  if (rif < 0)
    return 0;
  return (size_t)rif >= LB_RIF_LATENCY_MAX_RIF ? LB_RIF_LATENCY_MAX_RIF - 1 : (size_t)rif;
}

int lb_rif_latency_add(struct lb_rif_latency *e, int rif, double latency) {
  size_t b = bucket_of(rif);
  if (b >= e->nbuckets) {
    int rc = grow(e, b);
    if (rc < 0)
      return rc;
  }
  uint32_t k = e->count[b];
  if (k == 0) {
    if (e->nonempty == 0 || b < e->lo)
      e->lo = b;
    if (e->nonempty == 0 || b > e->hi)
      e->hi = b;
    e->nonempty++;
  }
  e->samples[b * PER + k % PER] = latency;
  e->count[b] = k + 1 == 0 ? PER : k + 1; /* never back to empty */
  return 0;
}

static size_t take(const struct lb_rif_latency *e, size_t b, double *v, size_t n) {
  if (b >= e->nbuckets)
    return n;
  uint32_t k = e->count[b] < PER ? e->count[b] : PER;
  memcpy(v + n, e->samples + b * PER, k * sizeof(*v));
  return n + k;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

bool lb_rif_latency_estimate(const struct lb_rif_latency *e, int rif, double *out) {
  if (e->nonempty == 0)
    return false;
  double v[3 * PER];
  size_t b = bucket_of(rif), n = 0;
  if (b > 0)
    n = take(e, b - 1, v, n);
  n = take(e, b, v, n);
  n = take(e, b + 1, v, n);
  if (n == 0 && b > e->hi) /* past every sample: the highest */
    n = take(e, e->hi, v, n);
  if (n == 0 && b < e->lo) /* below every sample: the lowest */
    n = take(e, e->lo, v, n);
  for (size_t d = 2; n == 0; d++) { /* nearest non-empty bucket, lo <= b <= hi */
    if (b >= d)
      n = take(e, b - d, v, n);
    if (n == 0)
      n = take(e, b + d, v, n);
    if (b < d && b + d >= e->nbuckets && n == 0)
      return false; /* cannot happen while nonempty > 0 */
  }
  qsort(v, n, sizeof(*v), cmp_double);
  *out = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return true;
}
