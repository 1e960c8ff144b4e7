/* window: the seed's LastN over floats: the last n values, with latest,
 * mean and ewma exactly as the seed computes them. Caller owns the struct;
 * _init allocates the ring, _close frees it. */
#ifndef LB_WINDOW_H
#define LB_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

struct lb_window {
  double *ring;
  size_t cap;  /* n */
  size_t len;  /* values held, <= cap */
  size_t head; /* index of the oldest value */
  double sum;  /* running sum, refreshed exactly every cap inserts */
  size_t since_refresh;
};

int lb_window_init(struct lb_window *w, size_t n);
void lb_window_close(struct lb_window *w);
void lb_window_clear(struct lb_window *w);
/* Appends v, dropping the oldest value when full. Never allocates. */
void lb_window_insert(struct lb_window *w, double v);
/* Copies src's values into dst (same n). Never allocates. */
void lb_window_copy(struct lb_window *dst, const struct lb_window *src);

bool lb_window_empty(const struct lb_window *w);
size_t lb_window_len(const struct lb_window *w);
/* i-th value, 0 = oldest. */
double lb_window_at(const struct lb_window *w, size_t i);
/* Each returns false (the seed's None) on an empty window. */
bool lb_window_latest(const struct lb_window *w, double *out);
bool lb_window_mean(const struct lb_window *w, double *out);
/* Seed order: av = first; av = weight*x + (1-weight)*av for the rest. */
bool lb_window_ewma(const struct lb_window *w, double weight, double *out);

#endif
