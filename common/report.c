/* report: window aggregates into a plain snapshot. */
#include "report.h"

#include "window.h"

void lb_stat_from_window(struct lb_stat *st, const struct lb_window *w, double ewma_weight) {
  st->valid = lb_window_latest(w, &st->latest);
  if (!st->valid) {
    st->latest = st->mean = st->ewma = 0;
    return;
  }
  lb_window_mean(w, &st->mean);
  lb_window_ewma(w, ewma_weight, &st->ewma);
}
