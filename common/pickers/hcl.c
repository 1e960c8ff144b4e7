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
 * The percentile is taken without sorting the history on each pick: a
 * sorted multiset of every history value is kept up to date (binary search
 * and memmove per appended value), plus a small sorted list of the extra
 * copies a repeated server adds in that pick. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "picker_impl.h"

struct ring {
  double *v;
  int len, head;
};

struct hcl {
  struct lb_picker base;
  struct lb_cost rank, health;
  double cutoff;
  int history;
  struct lb__server_keys keys;
  struct ring *rings; /* per slot */
  double *all;        /* sorted multiset of every ring's values */
  size_t nall;
  double *extra; /* this pick's extra copies (repeated servers) */
  size_t nextra, extra_cap;
  double *scratch; /* fallback: values of the listed servers only */
  size_t scratch_cap;
  unsigned long gen;
  unsigned long *last_gen; /* per slot: listed in this pick */
  int *remaining;          /* per slot: occurrences left in this pick */
  int slot[LB_PICK_MAX_CHANNELS];
  double h[LB_PICK_MAX_CHANNELS], r[LB_PICK_MAX_CHANNELS];
  bool has_h[LB_PICK_MAX_CHANNELS], has_r[LB_PICK_MAX_CHANNELS];
};

static size_t lower_bound(const double *a, size_t n, double x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void multiset_insert(double *a, size_t *n, double x) {
  size_t at = lower_bound(a, *n, x);
  memmove(a + at + 1, a + at, (*n - at) * sizeof(*a));
  a[at] = x;
  (*n)++;
}

static void multiset_remove(double *a, size_t *n, double x) {
  size_t at = lower_bound(a, *n, x);
  if (at < *n && (a[at] == x || (x != x && a[at] != a[at]))) {
    memmove(a + at, a + at + 1, (*n - at - 1) * sizeof(*a));
    (*n)--;
  }
}

/* LastN.insert, and the same change to the sorted multiset. */
static void history_append(struct hcl *h, struct ring *rg, double x) {
  if (rg->len == h->history) {
    multiset_remove(h->all, &h->nall, rg->v[rg->head]);
    rg->v[rg->head] = x;
    rg->head = (rg->head + 1) % h->history;
  } else {
    rg->v[(rg->head + rg->len) % h->history] = x;
    rg->len++;
  }
  multiset_insert(h->all, &h->nall, x);
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

static int append_ring(double **buf, size_t *n, size_t *cap, const struct ring *rg, int hist) {
  int rc = reserve(buf, cap, *n + (size_t)rg->len);
  if (rc < 0)
    return rc;
  for (int j = 0; j < rg->len; j++)
    (*buf)[(*n)++] = rg->v[(rg->head + j) % hist];
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* k-th smallest (0-based) of the union of two sorted arrays. */
static double kth_of_two(const double *a, size_t na, const double *b, size_t nb, size_t k) {
  for (;;) {
    if (na == 0)
      return b[k];
    if (nb == 0)
      return a[k];
    if (k == 0)
      return a[0] <= b[0] ? a[0] : b[0];
    size_t half = (k + 1) / 2;
    size_t ia = half < na ? half : na;
    size_t ib = half < nb ? half : nb;
    if (a[ia - 1] <= b[ib - 1]) {
      a += ia, na -= ia, k -= ia;
    } else {
      b += ib, nb -= ib, k -= ib;
    }
  }
}

double lb__hcl_percentile(const double *a, size_t na, const double *b, size_t nb, double q) {
  size_t n = na + nb;
  double vi = (double)(n - 1) * (q / 100.0);
  size_t prev, next;
  if (vi >= (double)(n - 1)) {
    prev = next = n - 1;
  } else if (vi < 0) {
    prev = next = 0;
  } else {
    prev = (size_t)floor(vi);
    next = prev + 1;
  }
  double t = vi - (double)prev;
  double lo = kth_of_two(a, na, b, nb, prev);
  double hi = next == prev ? lo : kth_of_two(a, na, b, nb, next);
  double diff = hi - lo;
  if (t >= 0.5)
    return hi - diff * (1 - t);
  return lo + diff * t;
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

  /* Slots, and how often each is listed. */
  unsigned long gen = ++h->gen;
  int distinct = 0;
  for (int i = 0; i < n; i++) {
    int s = lb__server_keys_slot(&h->keys, chs[i]);
    if (s < 0)
      return -EINVAL;
    h->slot[i] = s;
    if (h->last_gen[s] != gen) {
      h->last_gen[s] = gen;
      h->remaining[s] = 0;
      distinct++;
    }
    h->remaining[s]++;
  }
  /* Append, and snapshot a history that is listed again later. */
  h->nextra = 0;
  for (int i = 0; i < n; i++) {
    int s = h->slot[i];
    if (h->has_h[i])
      history_append(h, &h->rings[s], h->h[i]);
    if (--h->remaining[s] > 0) {
      int rc = append_ring(&h->extra, &h->nextra, &h->extra_cap, &h->rings[s], h->history);
      if (rc < 0)
        return rc;
    }
  }
  if (h->nextra > 1)
    qsort(h->extra, h->nextra, sizeof(double), cmp_double);

  double cutoff;
  if (distinct == h->keys.nslots) {
    /* Every server ever seen is listed: the multiset is exactly right. */
    if (h->nall + h->nextra == 0) {
      *out = lb__picker_random_choice(env, chs, n);
      return LB_PICK_DONE;
    }
    cutoff = lb__hcl_percentile(h->all, h->nall, h->extra, h->nextra, h->cutoff);
  } else {
    /* A sub-list (e.g. under subset): only the listed servers' histories. */
    size_t ns = 0;
    ++gen, ++h->gen;
    for (int i = 0; i < n; i++) {
      int s = h->slot[i];
      if (h->last_gen[s] == gen)
        continue;
      h->last_gen[s] = gen;
      int rc = append_ring(&h->scratch, &ns, &h->scratch_cap, &h->rings[s], h->history);
      if (rc < 0)
        return rc;
    }
    if (ns + h->nextra == 0) {
      *out = lb__picker_random_choice(env, chs, n);
      return LB_PICK_DONE;
    }
    if (ns > 1)
      qsort(h->scratch, ns, sizeof(double), cmp_double);
    cutoff = lb__hcl_percentile(h->scratch, ns, h->extra, h->nextra, h->cutoff);
  }

  for (int i = 0; i < n; i++)
    h->has_r[i] = lb_cost_eval(&h->rank, chs[i], &h->r[i]);
  double average_rank;
  if (!lb__average_truthy(h->r, h->has_r, n, &average_rank)) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  int best = -1, healthiest = -1;
  for (int i = 0; i < n; i++) {
    double health = h->has_h[i] ? h->h[i] : average_health;
    double rank = h->has_r[i] ? h->r[i] : average_rank;
    h->h[i] = health;
    h->r[i] = rank;
    if (health <= cutoff && (best < 0 || rank < h->r[best]))
      best = i;
    if (healthiest < 0 || health < h->h[healthiest])
      healthiest = i;
  }
  *out = chs[best >= 0 ? best : healthiest];
  return LB_PICK_DONE;
}

static void hcl_free(struct lb_picker *self) {
  struct hcl *h = (struct hcl *)self;
  if (h->rings) {
    for (int s = 0; s < h->base.nchannels; s++)
      free(h->rings[s].v);
  }
  free(h->rings);
  free(h->all);
  free(h->extra);
  free(h->scratch);
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
  size_t nc = (size_t)nchannels, hist = (size_t)h->history;
  rc = lb__server_keys_init(&h->keys, nchannels);
  h->rings = calloc(nc, sizeof(*h->rings));
  h->all = malloc(nc * hist * sizeof(double));
  h->last_gen = calloc(nc, sizeof(unsigned long));
  h->remaining = calloc(nc, sizeof(int));
  if (rc < 0 || !h->rings || !h->all || !h->last_gen || !h->remaining)
    goto nomem;
  for (size_t s = 0; s < nc; s++) {
    h->rings[s].v = malloc(hist * sizeof(double));
    if (!h->rings[s].v)
      goto nomem;
  }
  /* Extra copies come from servers listed more than once: at most
   * (nchannels - 1) histories on a client's own list, so no pick of the
   * whole list allocates. */
  if (reserve(&h->extra, &h->extra_cap, nc * hist) < 0)
    goto nomem;
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
