/* window: the seed's LastNFloats as a ring buffer. */
#include "window.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lb_window_init(struct lb_window *w, size_t n) {
  memset(w, 0, sizeof(*w));
  if (n == 0)
    return -EINVAL;
  w->ring = calloc(n, sizeof(*w->ring));
  if (w->ring == NULL)
    return -ENOMEM;
  w->cap = n;
  return 0;
}

void lb_window_close(struct lb_window *w) {
  free(w->ring);
  memset(w, 0, sizeof(*w));
}

void lb_window_clear(struct lb_window *w) {
  w->len = 0;
  w->head = 0;
  w->sum = 0;
  w->since_refresh = 0;
}

double lb_window_at(const struct lb_window *w, size_t i) {
  size_t idx = w->head + i;
  if (idx >= w->cap)
    idx -= w->cap;
  return w->ring[idx];
}

/* Sums oldest to newest, as the seed's sum(buffer) does. */
static double exact_sum(const struct lb_window *w) {
  double s = 0;
  for (size_t i = 0; i < w->len; i++)
    s += lb_window_at(w, i);
  return s;
}

void lb_window_insert(struct lb_window *w, double v) {
  if (w->cap == 0)
    return;
  if (w->len < w->cap) {
    size_t idx = w->head + w->len;
    if (idx >= w->cap)
      idx -= w->cap;
    w->ring[idx] = v;
    w->len++;
  } else {
    w->sum -= w->ring[w->head];
    w->ring[w->head] = v;
    w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
  }
  w->sum += v;
  if (++w->since_refresh >= w->cap) {
    w->sum = exact_sum(w);
    w->since_refresh = 0;
  }
}

void lb_window_copy(struct lb_window *dst, const struct lb_window *src) {
  if (dst == src)
    return;
  size_t n = src->len < dst->cap ? src->len : dst->cap;
  size_t skip = src->len - n;
  for (size_t i = 0; i < n; i++)
    dst->ring[i] = lb_window_at(src, skip + i);
  dst->len = n;
  dst->head = 0;
  dst->sum = skip == 0 ? src->sum : exact_sum(dst);
  dst->since_refresh = src->since_refresh % dst->cap;
}

bool lb_window_empty(const struct lb_window *w) {
  return w->len == 0;
}

size_t lb_window_len(const struct lb_window *w) {
  return w->len;
}

bool lb_window_latest(const struct lb_window *w, double *out) {
  if (w->len == 0)
    return false;
  *out = lb_window_at(w, w->len - 1);
  return true;
}

bool lb_window_mean(const struct lb_window *w, double *out) {
  if (w->len == 0)
    return false;
  *out = w->sum / (double)w->len;
  return true;
}

bool lb_window_ewma(const struct lb_window *w, double weight, double *out) {
  if (w->len == 0)
    return false;
  /* The ring as two contiguous runs, oldest first; the fold unchanged. */
  size_t first = w->cap - w->head < w->len ? w->cap - w->head : w->len;
  const double *a = w->ring + w->head, *b = w->ring;
  double av = a[0];
  for (size_t i = 1; i < first; i++)
    av = weight * a[i] + (1 - weight) * av;
  for (size_t i = 0; i < w->len - first; i++)
    av = weight * b[i] + (1 - weight) * av;
  *out = av;
  return true;
}
