/* sim_seqsum: the sum a left-to-right loop gives,
 *
 *   double s = 0; for (j = 0; j < n; j++) if (has[j]) s += v[j];
 *
 * bit for bit, read by every entry in index order while the entries change
 * in that order: the seed's PID target (TestManager.tick, each server reads
 * the fleet's mean utilization, then records its own). The loop costs n per
 * read, n * n per tick; this costs about log n per read and a few passes
 * over the entries per tick.
 *
 * How: a double sum in one binade [2^e, 2^(e+1)) is a whole number of its
 * ulps u = 2^(e-52), and adding x >= 0 to it, as long as the result stays
 * in the binade, adds round(x / u) ulps exactly, unless x / u ends in
 * exactly one half (ties to even then depend on the sum). So while the sum
 * stays in a binade, the loop is an integer prefix sum over round(x / u),
 * and a binary search finds where it leaves; that step, every tie and
 * every negative entry (a window mean's rounding leaves -1e-15 where it
 * should be 0) are taken as the loop takes them, as is a sum below the
 * smallest normal double. An entry not finite (never in the seed's model)
 * makes the pass fall back to the loop.
 *
 * Use: sim_seqsum_begin at the start of a pass; sim_seqsum_read(i) for
 * i = 0, 1, ... in order; sim_seqsum_set(i) changes entry i only between
 * read(i - 1) and read(i + 1) of the pass (before or after read(i)). */
#ifndef SIM_SEQSUM_H
#define SIM_SEQSUM_H

#include <stdbool.h>
#include <stddef.h>

struct sim_seqsum_binade;

struct sim_seqsum {
  int n;
  double *v;
  bool *has;
  int count; /* entries with has */
  /* this pass */
  int pos; /* prefix = the loop over [0, pos) */
  double prefix;
  int base;          /* the suffix structures cover [base, n); -1: none yet */
  bool plain;        /* an entry at or after base is negative or not finite */
  int *next_nonzero; /* [j - base]: the first k >= j with has and v != 0 */
  struct sim_seqsum_binade *binades;
  int nbinades, capbinades;
  short *binade_of; /* [e - SIM_SEQSUM_EMIN]: index into binades, -1 none */
};

int sim_seqsum_init(struct sim_seqsum *s, int n);
void sim_seqsum_close(struct sim_seqsum *s);
/* Entry i: counted (has) with value v, or not. */
void sim_seqsum_set(struct sim_seqsum *s, int i, bool has, double v);
/* A new pass: reads start again from entry 0. */
void sim_seqsum_begin(struct sim_seqsum *s);
/* The loop's sum over every entry as they stand now; *count: the entries
 * with has. -ENOMEM (a lazily built structure) leaves *sum unset. */
int sim_seqsum_read(struct sim_seqsum *s, int i, double *sum, int *count);
/* The loop itself, over entries [from, n) starting at `start`. */
double sim_seqsum_loop(const struct sim_seqsum *s, int from, double start);

#endif
