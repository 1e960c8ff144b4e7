/* client_samples: bounded sample lists and quantiles. */
#include "client_samples.h"

#include <stdlib.h>

void lb_samples_init(struct lb_samples *s, size_t max) {
  s->v = NULL;
  s->len = s->cap = 0;
  s->max = max ? max : 1;
  s->seen = 0;
  s->rand_state = 0x9e3779b97f4a7c15ull;
  s->sorted = 1;
}

void lb_samples_close(struct lb_samples *s) {
  free(s->v);
  s->v = NULL;
  s->len = s->cap = 0;
}

static uint64_t next_rand(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

void lb_samples_add(struct lb_samples *s, int64_t x) {
  s->seen++;
  s->sorted = 0;
  if (s->len < s->max) {
    if (s->len == s->cap) {
      size_t cap = s->cap ? s->cap * 2 : 1024;
      if (cap > s->max)
        cap = s->max;
      int64_t *v = realloc(s->v, cap * sizeof(*v));
      if (!v)
        return; /* a lost sample is better than a failed run */
      s->v = v;
      s->cap = cap;
    }
    s->v[s->len++] = x;
    return;
  }
  uint64_t j = next_rand(&s->rand_state) % s->seen;
  if (j < s->len)
    s->v[j] = x;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

double lb_samples_quantile(struct lb_samples *s, double q) {
  if (!s->len)
    return 0;
  if (!s->sorted) {
    qsort(s->v, s->len, sizeof(*s->v), cmp);
    s->sorted = 1;
  }
  double pos = q * (double)(s->len - 1);
  size_t lo = (size_t)pos;
  if (lo + 1 >= s->len)
    return (double)s->v[s->len - 1];
  double frac = pos - (double)lo;
  return (double)s->v[lo] + ((double)s->v[lo + 1] - (double)s->v[lo]) * frac;
}
