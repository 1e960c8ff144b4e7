/* server_lateness: how late the server's timed wake-ups were (ticks, held
 * responses, processing waits): the latest samples in a ring, summarized
 * as p50/p99/max. Not thread-safe: the owner's lock guards it. */
#ifndef LB_SERVER_LATENESS_H
#define LB_SERVER_LATENESS_H

#include <stdint.h>

#define LB_LATENESS_SAMPLES 65536

struct lb_server_lateness {
  uint64_t count;
  int64_t p50_ns, p99_ns, max_ns;
  int64_t max_at_ns; /* the deadline the worst wake-up was for */
};

struct lb_server_late_ring {
  int64_t *v; /* LB_LATENESS_SAMPLES */
  uint64_t n; /* recorded in all */
  int64_t max, max_at;
};

int lb_server_late_ring_init(struct lb_server_late_ring *r);
void lb_server_late_ring_close(struct lb_server_late_ring *r);
/* A wake-up for deadline_ns came late_ns late. */
void lb_server_late_ring_record(struct lb_server_late_ring *r, int64_t deadline_ns,
                                int64_t late_ns);
void lb_server_late_ring_summary(const struct lb_server_late_ring *r,
                                 struct lb_server_lateness *out);

#endif
