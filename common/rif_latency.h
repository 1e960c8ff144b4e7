/* rif_latency: Prequal's server-side latency estimate (Wydrowski et al.,
 * NSDI 2024, section 4): the server keeps the latencies of its recently
 * completed queries bucketed by the requests in flight (RIF) it had when
 * each arrived, and answers a probe at RIF r with the median of the recent
 * samples of buckets r-1, r and r+1. Each bucket holds its latest
 * `per_bucket` samples; RIFs past the largest bucket share it. */
#ifndef LB_RIF_LATENCY_H
#define LB_RIF_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_RIF_LATENCY_PER_BUCKET 16 /* recent samples kept per RIF */
#define LB_RIF_LATENCY_MAX_RIF 4096  /* RIFs at or above share one bucket */

struct lb_rif_latency {
  size_t nbuckets;  /* allocated: RIF 0..nbuckets-1 */
  double *samples;  /* nbuckets * LB_RIF_LATENCY_PER_BUCKET, each a ring */
  uint32_t *count;  /* samples ever inserted into each bucket */
  size_t nonempty;  /* buckets with a sample */
  size_t lo, hi;    /* the lowest and highest of them (nonempty > 0) */
};

void lb_rif_latency_init(struct lb_rif_latency *e);
void lb_rif_latency_close(struct lb_rif_latency *e);
/* Forgets every sample (a server reset). */
void lb_rif_latency_clear(struct lb_rif_latency *e);
/* A query that arrived at RIF rif completed after latency ticks. */
int lb_rif_latency_add(struct lb_rif_latency *e, int rif, double latency);
/* The median of the samples of buckets rif-1..rif+1; where those are all
 * empty, of the nearest non-empty bucket (the lower of two as near). False
 * when the server has no sample at all. */
bool lb_rif_latency_estimate(const struct lb_rif_latency *e, int rif, double *out);

#endif
