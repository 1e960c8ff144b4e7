/* hcl: the seed's Hcl - hot/cold lexicographic selection as described for
 * Prequal, driven by two costs:
 *   hcl(rank=server.expected_latency, health=server.rif, cutoff=80,
 *       history=100)
 * Per pick, as the seed:
 *   1. health of every channel; the mean of the truthy ones (None and 0
 *      dropped); none -> random.choice, nothing recorded.
 *   2. each channel's health, when not None, is appended to its history
 *      (LastN(client_requests_buffer), keyed by channel *name*, i.e. by
 *      server); the cutoff is np.percentile(all histories, cutoff) with
 *      linear interpolation. The seed concatenates each listed channel's
 *      history right after appending to it, so a server listed twice
 *      contributes its history twice (once before, once after the second
 *      append): we reproduce that.
 *   3. rank of every channel (None -> mean of truthy ranks; none at all ->
 *      random.choice); a channel is healthy when its health (None -> the mean
 *      health) is <= the cutoff; the first healthy channel of least rank, or
 *      when none is healthy the first channel of least health.
 * The percentile is taken without sorting the histories on each pick.
 * While every health seen is a small integer (server.rif, the default,
 * always is) the picker keeps one histogram of the whole list's histories:
 * each append changes two counts, a server listed again is corrected for
 * the appends after its earlier listings, and the percentile is a walk up
 * the counts; the histories are kept as 16-bit integers meanwhile, and
 * become doubles only when counting stops. Otherwise each server keeps a
 * sorted copy of its history beside the ring (binary search and a memmove
 * of at most `history` values per append), a server listed again snapshots
 * that sorted copy, and the two order statistics the percentile
 * interpolates are selected from the union of those sorted runs (binary
 * searches around weighted-median pivots, never a merge or a sort).
 * The cutoff is only compared with `<=`, so the order of equal values (0.0
 * and -0.0) cannot change a pick. A NaN health makes np.percentile NaN: NaNs
 * are counted apart and give a NaN cutoff. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picker_impl.h"

/* A server's history. Counting mode keeps it as 16-bit integers (every
 * value is < COUNT_LIMIT), a quarter of the doubles' cache footprint; v and
 * sorted exist only from stop_counting on. */
struct ring {
  uint16_t *counted; /* counting mode: arrival order, oldest at head */
  double *v;         /* arrival order, oldest at head */
  double *sorted;    /* the same non-NaN values, ascending */
  int len, head, nsorted, nnan;
};

/* A sorted run of the union: a slot's sorted history, or a snapshot of it in
 * `extra` (an offset, since `extra` may grow). */
struct run {
  const double *v;
  size_t off, n;
};

/* Scratch for kth_of_runs, m entries each. */
struct sel {
  size_t lo[LB_PICK_MAX_CHANNELS], hi[LB_PICK_MAX_CHANNELS], after[LB_PICK_MAX_CHANNELS];
  size_t lt[LB_PICK_MAX_CHANNELS];
  size_t wt[LB_PICK_MAX_CHANNELS];
  double piv[LB_PICK_MAX_CHANNELS];
};

#define COUNT_LIMIT 8192 /* fits a uint16_t */
#define BLOCK_SHIFT 5    /* blocks of 32 values */

struct hcl {
  struct lb_picker base;
  struct lb_cost rank, health;
  double cutoff;
  int history;
  struct lb__server_keys keys;
  struct ring *rings; /* per slot */
  uint16_t *counted;  /* every ring's counted values, one block */
  double *values;     /* every ring's v and sorted, one block (sorted mode) */
  double *extra;      /* this pick's snapshots of repeated servers' histories */
  size_t nextra, extra_cap;
  unsigned long gen;
  unsigned long *last_gen; /* per slot: listed in this pick */
  int *remaining;          /* per slot: occurrences left in this pick */
  int slot[LB_PICK_MAX_CHANNELS];
  double h[LB_PICK_MAX_CHANNELS], r[LB_PICK_MAX_CHANNELS];
  bool has_h[LB_PICK_MAX_CHANNELS], has_r[LB_PICK_MAX_CHANNELS];
  struct run runs[LB_PICK_MAX_CHANNELS];
  struct sel sel;
  double last_kth; /* the previous pick's lower order statistic: a first pivot */
  /* Counting mode, while every health seen is an integer in [0, COUNT_LIMIT):
   * cnt[v] is how often v is in the histories of the last pick's list, each
   * server's counted as often as it is listed (mult), blk[] the same per
   * block of values; the percentile is a walk up the values. */
  bool counting;
  int nbins, top; /* bins; the largest value counted */
  int *cnt, *blk;
  int *mult;                                 /* per slot: times listed in `listed` */
  int listed[LB_PICK_MAX_CHANNELS], nlisted; /* the list cnt follows */
  int added[LB_PICK_MAX_CHANNELS], evicted[LB_PICK_MAX_CHANNELS]; /* this pick's, or -1 */
  int earlier[LB_PICK_MAX_CHANNELS];           /* per listing: earlier listings of its server */
  int repeats[LB_PICK_MAX_CHANNELS], nrepeats; /* the listings with earlier > 0 */
};

/* First index whose value is not < x (a sorted array), without branches on
 * the data: each step keeps the half that holds it. */
static size_t lower_bound(const double *a, size_t n, double x) {
  if (n == 0)
    return 0;
  const double *b = a;
  while (n > 1) {
    size_t half = n / 2;
    b += b[half - 1] < x ? half : 0;
    n -= half;
  }
  return (size_t)(b - a) + (*b < x);
}

static void sorted_insert(struct ring *rg, double x) {
  if (x != x) {
    rg->nnan++;
    return;
  }
  size_t n = (size_t)rg->nsorted, at = lower_bound(rg->sorted, n, x);
  memmove(rg->sorted + at + 1, rg->sorted + at, (n - at) * sizeof(double));
  rg->sorted[at] = x;
  rg->nsorted++;
}

static void sorted_remove(struct ring *rg, double x) {
  if (x != x) {
    rg->nnan--;
    return;
  }
  size_t n = (size_t)rg->nsorted, at = lower_bound(rg->sorted, n, x);
  if (at < n && rg->sorted[at] == x) {
    memmove(rg->sorted + at, rg->sorted + at + 1, (n - at - 1) * sizeof(double));
    rg->nsorted--;
  }
}

/* The sorted copy with one old value replaced by x: one shift of the values
 * between the two places (nothing at all when they are equal). */
static void sorted_replace(struct ring *rg, double old, double x) {
  if (old != old || x != x) {
    sorted_remove(rg, old);
    sorted_insert(rg, x);
    return;
  }
  if (old == x)
    return;
  double *a = rg->sorted;
  size_t n = (size_t)rg->nsorted, at = lower_bound(a, n, old);
  if (at >= n || a[at] != old) { /* not held: cannot happen */
    sorted_insert(rg, x);
    return;
  }
  size_t to = lower_bound(a, n, x);
  if (x > old) {
    memmove(a + at, a + at + 1, (to - 1 - at) * sizeof(double));
    a[to - 1] = x;
  } else {
    memmove(a + to + 1, a + to, (at - to) * sizeof(double));
    a[to] = x;
  }
}

/* LastN.insert in counting mode: the value it pushed out, or -1. */
static int history_push(struct hcl *h, struct ring *rg, int x) {
  int old = -1;
  if (rg->len == h->history) {
    old = rg->counted[rg->head];
    rg->counted[rg->head] = (uint16_t)x;
    rg->head = rg->head + 1 == h->history ? 0 : rg->head + 1;
  } else {
    int idx = rg->head + rg->len;
    rg->counted[idx >= h->history ? idx - h->history : idx] = (uint16_t)x;
    rg->len++;
  }
  return old;
}

/* LastN.insert, and the same change to the sorted copy. */
static void history_append(struct hcl *h, struct ring *rg, double x) {
  if (rg->len == h->history) {
    double old = rg->v[rg->head];
    rg->v[rg->head] = x;
    rg->head = rg->head + 1 == h->history ? 0 : rg->head + 1;
    sorted_replace(rg, old, x);
    return;
  }
  int idx = rg->head + rg->len;
  rg->v[idx >= h->history ? idx - h->history : idx] = x;
  rg->len++;
  sorted_insert(rg, x);
}

static int reserve(double **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t ncap = *cap ? *cap : 256;
  while (ncap < need)
    ncap *= 2;
  double *nb = realloc(*buf, ncap * sizeof(double));
  if (!nb)
    return -ENOMEM;
  *buf = nb;
  *cap = ncap;
  return 0;
}

/* First index whose value is > x. */
static size_t upper_bound(const double *a, size_t n, double x) {
  if (n == 0)
    return 0;
  const double *b = a;
  while (n > 1) {
    size_t half = n / 2;
    b += b[half - 1] <= x ? half : 0;
    n -= half;
  }
  return (size_t)(b - a) + (*b <= x);
}

/* The weighted median of the windows' middle values (weights: window
 * sizes), at least one window being non-empty. */
static double pivot_of(const struct run *runs, int m, const size_t *lo, const size_t *hi,
                       double *piv, size_t *wt) {
  int np = 0;
  size_t active = 0;
  for (int i = 0; i < m; i++) {
    size_t w = hi[i] - lo[i];
    if (w == 0)
      continue;
    double v = runs[i].v[lo[i] + w / 2];
    int j = np++;
    for (; j > 0 && piv[j - 1] > v; j--)
      piv[j] = piv[j - 1], wt[j] = wt[j - 1];
    piv[j] = v, wt[j] = w;
    active += w;
  }
  size_t acc = 0;
  for (int j = 0; j < np; j++) {
    acc += wt[j];
    if (2 * acc >= active)
      return piv[j];
  }
  return piv[np - 1];
}

/* The k-th smallest (0-based) of the union of m sorted runs, by selection
 * in value space: each run keeps a window [lo, hi) that still may hold it;
 * the pivot is the weighted median of the windows' middles, so each round
 * drops at least a quarter of what is left (the first round tries *hint, a
 * likely answer, when given). On return, *le is how many values are <= the
 * result, and sc->after[i] indexes run i's first value above it. */
static double kth_of_runs(const struct run *runs, int m, size_t k, struct sel *sc,
                          const double *hint, size_t *le) {
  size_t base = 0;
  for (int i = 0; i < m; i++)
    sc->lo[i] = 0, sc->hi[i] = runs[i].n;
  for (bool first = true;; first = false) {
    double x = first && hint && *hint == *hint ? *hint
                                               : pivot_of(runs, m, sc->lo, sc->hi, sc->piv, sc->wt);
    size_t below = base, upto = base;
    for (int i = 0; i < m; i++) {
      const double *v = runs[i].v + sc->lo[i];
      size_t w = sc->hi[i] - sc->lo[i];
      size_t lt = lower_bound(v, w, x);
      size_t leq = lt + upper_bound(v + lt, w - lt, x);
      below += lt;
      upto += leq;
      sc->lt[i] = sc->lo[i] + lt;
      sc->after[i] = sc->lo[i] + leq;
    }
    if (k < below) {
      memcpy(sc->hi, sc->lt, (size_t)m * sizeof(size_t));
    } else if (k >= upto) {
      memcpy(sc->lo, sc->after, (size_t)m * sizeof(size_t));
      base = upto;
    } else {
      *le = upto;
      return x;
    }
  }
}

/* np.percentile(values, q) (linear) of the union of m sorted runs; *hint,
 * when given, is tried first for the lower statistic and set to it. */
/* np.percentile's (linear) ranks of a q-th percentile over n > 0 values:
 * it lies t of the way from the prev-th to the next-th smallest. */
static double percentile_ranks(size_t n, double q, size_t *prev, size_t *next) {
  double vi = (double)(n - 1) * (q / 100.0);
  if (vi >= (double)(n - 1)) {
    *prev = *next = n - 1;
  } else if (vi < 0) {
    *prev = *next = 0;
  } else {
    *prev = (size_t)floor(vi);
    *next = *prev + 1;
  }
  return vi - (double)*prev;
}

/* numpy's lerp: from above when t >= 0.5. */
static double percentile_lerp(double lo, double hi, double t) {
  double diff = hi - lo;
  if (t >= 0.5)
    return hi - diff * (1 - t);
  return lo + diff * t;
}

static double percentile_of_runs(const struct run *runs, int m, struct sel *sc, double *hint,
                                 double q) {
  size_t n = 0, prev, next;
  for (int i = 0; i < m; i++)
    n += runs[i].n;
  double t = percentile_ranks(n, q, &prev, &next);
  size_t le;
  double lo = kth_of_runs(runs, m, prev, sc, hint, &le);
  if (hint)
    *hint = lo;
  double hi = lo;
  if (next >= le) { /* the least value above lo */
    bool any = false;
    for (int i = 0; i < m; i++) {
      if (sc->after[i] < runs[i].n && (!any || runs[i].v[sc->after[i]] < hi)) {
        hi = runs[i].v[sc->after[i]];
        any = true;
      }
    }
  }
  return percentile_lerp(lo, hi, t);
}

/* The r-th smallest (0-based) of a histogram of the values 0..top, walking
 * up from value v with *le values below v: to the end of v's block value by
 * value, then block by block, then value by value inside the block. *le
 * becomes the count of values <= the result. */
static int kth_of_counts(const int *cnt, const int *blk, int top, size_t r, int v, size_t *le) {
  for (; v < top && (v & ((1 << BLOCK_SHIFT) - 1)) != 0; v++) {
    *le += (size_t)cnt[v];
    if (*le > r)
      return v;
  }
  int b = v >> BLOCK_SHIFT, nb = (top >> BLOCK_SHIFT) + 1;
  for (; b < nb - 1; b++) {
    if (*le + (size_t)blk[b] > r)
      break;
    *le += (size_t)blk[b];
  }
  for (v = v > b << BLOCK_SHIFT ? v : b << BLOCK_SHIFT; v < top; v++) {
    *le += (size_t)cnt[v];
    if (*le > r)
      return v;
  }
  *le += (size_t)cnt[top];
  return top;
}

/* The same over the histogram (with block counts) of n values; the upper
 * statistic, when not the lower one's value, is walked to from there. */
static double percentile_of_counts(const int *cnt, const int *blk, size_t n, int top, double q) {
  size_t prev, next, le = 0;
  double t = percentile_ranks(n, q, &prev, &next);
  int lo = kth_of_counts(cnt, blk, top, prev, 0, &le);
  int hi = next < le ? lo : kth_of_counts(cnt, blk, top, next, lo + 1, &le);
  return percentile_lerp(lo, hi, t);
}

double lb__hcl_percentile(const double *a, size_t na, const double *b, size_t nb, double q) {
  struct run runs[2] = {{a, 0, na}, {b, 0, nb}};
  struct sel sc;
  return percentile_of_runs(runs, 2, &sc, NULL, q);
}

/* Leaves counting mode for good: the rings as doubles (exactly the
 * integers counted), their sorted copies, and room for the snapshots. On
 * -ENOMEM nothing has changed. */
static int stop_counting(struct hcl *h) {
  size_t nc = (size_t)h->base.nchannels, hist = (size_t)h->history;
  h->values = malloc(2 * nc * hist * sizeof(double));
  /* Extra copies come from servers listed more than once: at most
   * (nchannels - 1) histories on a client's own list, so no pick of the
   * whole list allocates. */
  if (!h->values || reserve(&h->extra, &h->extra_cap, nc * hist) < 0) {
    free(h->values);
    h->values = NULL;
    return -ENOMEM;
  }
  for (size_t s = 0; s < nc; s++) {
    struct ring *rg = &h->rings[s];
    rg->v = h->values + 2 * s * hist;
    rg->sorted = rg->v + hist;
    rg->nsorted = rg->nnan = 0;
    for (int j = 0; j < rg->len; j++) { /* the same places: head and len hold */
      rg->v[j] = rg->counted[j];
      sorted_insert(rg, rg->v[j]);
    }
    rg->counted = NULL;
  }
  free(h->counted);
  h->counted = NULL;
  h->counting = false;
  return 0;
}

/* Bins for the values 0..v (v >= nbins), zeroed. */
static int grow_bins(struct hcl *h, int v) {
  int nb = h->nbins;
  while (nb <= v)
    nb *= 2;
  int *c = realloc(h->cnt, (size_t)nb * sizeof(int));
  if (!c)
    return -ENOMEM;
  h->cnt = c;
  int *bk = realloc(h->blk, (size_t)(nb >> BLOCK_SHIFT) * sizeof(int));
  if (!bk)
    return -ENOMEM;
  memset(c + h->nbins, 0, (size_t)(nb - h->nbins) * sizeof(int));
  memset(bk + (h->nbins >> BLOCK_SHIFT), 0, (size_t)((nb - h->nbins) >> BLOCK_SHIFT) * sizeof(int));
  h->blk = bk;
  h->nbins = nb;
  return 0;
}

/* Keeps counting while this pick's healths allow (growing the bins), else
 * stops; the rings' values are unchanged either way. */
static int check_counting(struct hcl *h, int n) {
  for (int i = 0; i < n; i++) {
    double x = h->h[i];
    if (!h->has_h[i])
      continue;
    if (!(x >= 0 && x < COUNT_LIMIT && x == (double)(int)x))
      return stop_counting(h);
    if ((int)x >= h->nbins && grow_bins(h, (int)x) < 0)
      return stop_counting(h);
    if ((int)x > h->top)
      h->top = (int)x; /* before any append: snapshots copy bins 0..top */
  }
  return 0;
}

static inline void count(struct hcl *h, int v, int by) {
  h->cnt[v] += by;
  h->blk[v >> BLOCK_SHIFT] += by;
}

/* Points the histogram at this pick's list (h->slot, n), from the
 * histories as they are, when the list is not the last pick's. */
static void follow_list(struct hcl *h, int n) {
  if (n == h->nlisted && memcmp(h->slot, h->listed, (size_t)n * sizeof(int)) == 0)
    return;
  for (int i = 0; i < h->nlisted; i++)
    h->mult[h->listed[i]] = 0;
  memset(h->cnt, 0, (size_t)h->nbins * sizeof(int));
  memset(h->blk, 0, (size_t)(h->nbins >> BLOCK_SHIFT) * sizeof(int));
  h->nrepeats = 0;
  for (int i = 0; i < n; i++) {
    h->earlier[i] = h->mult[h->slot[i]]++;
    if (h->earlier[i] > 0)
      h->repeats[h->nrepeats++] = i;
  }
  for (int i = 0; i < n; i++) {
    struct ring *rg = &h->rings[h->slot[i]];
    for (int j = 0; j < rg->len; j++)
      count(h, rg->counted[j], 1); /* once per listing */
  }
  memcpy(h->listed, h->slot, (size_t)n * sizeof(int));
  h->nlisted = n;
}

/* After the percentile: a repeated listing's append counted for the earlier
 * listings too, as it does from the next pick on. */
static void settle_repeats(struct hcl *h) {
  for (int r = 0; r < h->nrepeats; r++) {
    int i = h->repeats[r];
    if (h->added[i] < 0)
      continue;
    count(h, h->added[i], h->earlier[i]);
    if (h->evicted[i] >= 0)
      count(h, h->evicted[i], -h->earlier[i]);
  }
}

/* Counting mode's append and percentile; 1: no value at all. A server
 * listed again counts, for each earlier listing, its history as it was
 * then: a listing's append is counted only for itself and the later
 * listings of its server, until settle_repeats. */
static int pick_counting(struct hcl *h, int n, double *cutoff) {
  follow_list(h, n);
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    int s = h->slot[i];
    struct ring *rg = &h->rings[s];
    h->added[i] = h->evicted[i] = -1;
    if (h->has_h[i]) {
      int x = (int)h->h[i], old = history_push(h, rg, x), seen_by = h->mult[s] - h->earlier[i];
      count(h, x, seen_by);
      if (old >= 0)
        count(h, old, -seen_by);
      h->added[i] = x;
      h->evicted[i] = old;
    }
    total += (size_t)rg->len;
  }
  if (total > 0)
    *cutoff = percentile_of_counts(h->cnt, h->blk, total, h->top, h->cutoff);
  settle_repeats(h);
  return total == 0;
}

/* How often each slot is listed in this pick (counting mode has its own
 * bookkeeping, in follow_list). */
static void count_listings(struct hcl *h, int n) {
  unsigned long gen = ++h->gen;
  for (int i = 0; i < n; i++) {
    int s = h->slot[i];
    if (h->last_gen[s] != gen) {
      h->last_gen[s] = gen;
      h->remaining[s] = 0;
    }
    h->remaining[s]++;
  }
}

static int hcl_pick(struct lb_picker *self, const struct lb_pick_env *env,
                    struct lb_channel *const *chs, int n, struct lb_pick *pick,
                    struct lb_channel **out) {
  (void)pick;
  struct hcl *h = (struct hcl *)self;
  for (int i = 0; i < n; i++)
    h->has_h[i] = lb_cost_eval(&h->health, chs[i], &h->h[i]);
  double average_health;
  if (!lb__average_truthy(h->h, h->has_h, n, &average_health)) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }

  for (int i = 0; i < n; i++) {
    h->slot[i] = lb__server_keys_slot(&h->keys, chs[i]);
    if (h->slot[i] < 0)
      return -EINVAL;
  }
  double cutoff;
  if (h->counting) {
    int rc = check_counting(h, n);
    if (rc < 0)
      return rc;
  }
  if (h->counting) {
    int rc = pick_counting(h, n, &cutoff);
    if (rc < 0)
      return rc;
    if (rc > 0) {
      *out = lb__picker_random_choice(env, chs, n);
      return LB_PICK_DONE;
    }
    goto ranked;
  }
  count_listings(h, n);
  /* Append; a server listed again later snapshots its sorted history now,
   * since the seed concatenates each listed history right after appending. */
  h->nextra = 0;
  int m = 0, nnan = 0;
  for (int i = 0; i < n; i++) {
    int s = h->slot[i];
    struct ring *rg = &h->rings[s];
    if (h->has_h[i])
      history_append(h, rg, h->h[i]);
    if (--h->remaining[s] > 0) {
      int rc = reserve(&h->extra, &h->extra_cap, h->nextra + (size_t)rg->nsorted);
      if (rc < 0)
        return rc;
      memcpy(h->extra + h->nextra, rg->sorted, (size_t)rg->nsorted * sizeof(double));
      h->runs[m++] = (struct run){NULL, h->nextra, (size_t)rg->nsorted};
      h->nextra += (size_t)rg->nsorted;
    } else {
      h->runs[m++] = (struct run){rg->sorted, 0, (size_t)rg->nsorted};
    }
    nnan += rg->nnan;
  }
  size_t total = 0;
  for (int k = 0; k < m; k++) {
    if (h->runs[k].v == NULL)
      h->runs[k].v = h->extra + h->runs[k].off;
    total += h->runs[k].n;
  }
  if (total + (size_t)nnan == 0) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  cutoff = nnan > 0 ? NAN : percentile_of_runs(h->runs, m, &h->sel, &h->last_kth, h->cutoff);

ranked:
  for (int i = 0; i < n; i++)
    h->has_r[i] = lb_cost_eval(&h->rank, chs[i], &h->r[i]);
  double average_rank;
  if (!lb__average_truthy(h->r, h->has_r, n, &average_rank)) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  /* The first healthy channel of least rank, and the first of least
   * health, without branches on the values (they mispredict). */
  int best = -1, healthiest = 0;
  double best_rank = 0, least_health = 0;
  for (int i = 0; i < n; i++) {
    double health = h->has_h[i] ? h->h[i] : average_health;
    double rank = h->has_r[i] ? h->r[i] : average_rank;
    bool better = health <= cutoff && (best < 0 || rank < best_rank);
    best = better ? i : best;
    best_rank = better ? rank : best_rank;
    bool healthier = i == 0 || health < least_health;
    healthiest = healthier ? i : healthiest;
    least_health = healthier ? health : least_health;
  }
  *out = chs[best >= 0 ? best : healthiest];
  return LB_PICK_DONE;
}

static void hcl_free(struct lb_picker *self) {
  struct hcl *h = (struct hcl *)self;
  free(h->rings);
  free(h->counted);
  free(h->values);
  free(h->extra);
  free(h->cnt);
  free(h->blk);
  free(h->mult);
  free(h->last_gen);
  free(h->remaining);
  lb__server_keys_close(&h->keys);
  free(h);
}

static const struct lb_picker_ops hcl_ops = {hcl_pick, NULL, hcl_free};

static int hcl_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct hcl), &hcl_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct hcl *h = (struct hcl *)p;
  h->rank = spec->args[0].cost;
  h->health = spec->args[1].cost;
  h->cutoff = spec->args[2].num;
  h->history = (int)spec->args[3].num;
  h->counting = true;
  h->nbins = 64;
  size_t nc = (size_t)nchannels, hist = (size_t)h->history;
  rc = lb__server_keys_init(&h->keys, nchannels);
  h->rings = calloc(nc, sizeof(*h->rings));
  h->last_gen = calloc(nc, sizeof(unsigned long));
  h->remaining = calloc(nc, sizeof(int));
  h->mult = calloc(nc, sizeof(int));
  h->cnt = calloc(64, sizeof(int));
  h->blk = calloc(64 >> BLOCK_SHIFT, sizeof(int));
  h->counted = malloc(nc * hist * sizeof(uint16_t));
  if (rc < 0 || !h->rings || !h->last_gen || !h->remaining || !h->mult || !h->cnt || !h->blk ||
      !h->counted)
    goto nomem;
  for (size_t s = 0; s < nc; s++)
    h->rings[s].counted = h->counted + s * hist;
  *out = p;
  return 0;
nomem:
  hcl_free(p);
  return -ENOMEM;
}

static const struct lb_arg_def hcl_args[] = {
    {.name = "rank",
     .kind = LB_ARG_COST,
     .def_cost = "server.expected_latency",
     .help = "cost ranking the healthy channels"},
    {.name = "health",
     .kind = LB_ARG_COST,
     .def_cost = "server.rif",
     .help = "cost whose history sets the hot/cold cutoff"},
    {.name = "cutoff",
     .kind = LB_ARG_NUM,
     .def = 80,
     .min = 0,
     .max = 100,
     .help = "percentile of the health history a healthy channel is at or below"},
    {.name = "history",
     .kind = LB_ARG_INT,
     .def = 100,
     .min = 1,
     .max = 100000,
     .help = "health values kept per server (client_requests_buffer)"},
};

const struct lb_picker_type lb__picker_hcl = {
    .name = "hcl",
    .help = "hot/cold lexicographic: least rank among channels of healthy health (Hcl)",
    .args = hcl_args,
    .nargs = 4,
    .create = hcl_create,
};
