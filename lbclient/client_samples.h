/* client_samples: a growable list of nanosecond samples (timer lateness,
 * send lateness, overheads) with pandas-style linear quantiles. Above `max`
 * samples it keeps a uniform reservoir, so memory stays bounded on long
 * runs. */
#ifndef LB_CLIENT_SAMPLES_H
#define LB_CLIENT_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

struct lb_samples {
  int64_t *v;
  size_t len, cap, max;
  uint64_t seen;
  uint64_t rand_state;
  int sorted;
};

void lb_samples_init(struct lb_samples *s, size_t max);
void lb_samples_close(struct lb_samples *s);
void lb_samples_add(struct lb_samples *s, int64_t x);
/* Linear-interpolated quantile q in [0,1]; 0 when empty. Sorts in place. */
double lb_samples_quantile(struct lb_samples *s, double q);

#endif
