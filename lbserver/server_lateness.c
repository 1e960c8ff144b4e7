/* server_lateness: a ring of the latest lateness samples. */
#include "server_lateness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lb_server_late_ring_init(struct lb_server_late_ring *r) {
  memset(r, 0, sizeof(*r));
  r->v = calloc(LB_LATENESS_SAMPLES, sizeof(*r->v));
  return r->v ? 0 : -ENOMEM;
}

void lb_server_late_ring_close(struct lb_server_late_ring *r) {
  free(r->v);
  r->v = NULL;
}

void lb_server_late_ring_record(struct lb_server_late_ring *r, int64_t deadline_ns,
                                int64_t late_ns) {
  r->v[r->n % LB_LATENESS_SAMPLES] = late_ns;
  r->n++;
  if (late_ns > r->max) {
    r->max = late_ns;
    r->max_at = deadline_ns;
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

void lb_server_late_ring_summary(const struct lb_server_late_ring *r,
                                 struct lb_server_lateness *out) {
  memset(out, 0, sizeof(*out));
  out->count = r->n;
  size_t n = r->n < LB_LATENESS_SAMPLES ? (size_t)r->n : LB_LATENESS_SAMPLES;
  if (n == 0 || !r->v)
    return;
  int64_t *v = malloc(n * sizeof(*v));
  if (!v)
    return;
  memcpy(v, r->v, n * sizeof(*v));
  qsort(v, n, sizeof(*v), cmp_i64);
  out->p50_ns = v[(n - 1) / 2];
  out->p99_ns = v[(size_t)((double)(n - 1) * 0.99)];
  out->max_ns = r->max;
  out->max_at_ns = r->max_at;
  free(v);
}
