/* summary: the seed's runTest summary (In[202]) in bounded memory, and its
 * CSV (writer and reader). Latencies are kept as value -> count,
 * utilization as its distinct values plus one Welford accumulator per
 * server and one over every record. */
#include "summary.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "errbuf.h"

const double lb_summary_quantiles[LB_SUMMARY_QUANTILES] = {0.5, 0.9, 0.99, 0.999};

/* Open-addressing map from a double (never NaN) to a count; NaN marks an
 * empty slot. */
struct valmap {
  double *keys;
  long *counts;
  size_t cap, n;
};

struct welford {
  long n;
  double mean, m2;
};

struct lb_summary_acc {
  struct valmap latency;     /* total_ticks -> requests */
  struct valmap utilization; /* distinct server_utilization_latest */
  struct welford *per_server;
  size_t servers;
  struct welford all_utilization;
  long requests, completed, failed, timed_out, probes;
};

static uint64_t hash_double(double v) {
  uint64_t z;
  if (v == 0)
    v = 0; /* -0.0 and 0.0 are one group, as in pandas */
  memcpy(&z, &v, sizeof(z));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static size_t valmap_slot(const struct valmap *m, double v) {
  size_t mask = m->cap - 1;
  size_t i = (size_t)hash_double(v) & mask;
  while (!isnan(m->keys[i]) && m->keys[i] != v)
    i = (i + 1) & mask;
  return i;
}

static int valmap_grow(struct valmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  if (cap > SIZE_MAX / sizeof(double))
    return -ENOMEM;
  struct valmap bigger = {malloc(cap * sizeof(double)), malloc(cap * sizeof(long)), cap, m->n};
  if (bigger.keys == NULL || bigger.counts == NULL) {
    free(bigger.keys);
    free(bigger.counts);
    return -ENOMEM;
  }
  for (size_t i = 0; i < cap; i++)
    bigger.keys[i] = NAN;
  for (size_t i = 0; i < m->cap; i++) {
    if (isnan(m->keys[i]))
      continue;
    size_t s = valmap_slot(&bigger, m->keys[i]);
    bigger.keys[s] = m->keys[i];
    bigger.counts[s] = m->counts[i];
  }
  free(m->keys);
  free(m->counts);
  *m = bigger;
  return 0;
}

static int valmap_add(struct valmap *m, double v) {
  if (v == 0)
    v = 0;
  if ((m->n + 1) * 4 > m->cap * 3) {
    int rc = valmap_grow(m);
    if (rc != 0)
      return rc;
  }
  size_t s = valmap_slot(m, v);
  if (isnan(m->keys[s])) {
    m->keys[s] = v;
    m->counts[s] = 0;
    m->n++;
  }
  m->counts[s]++;
  return 0;
}

static void valmap_free(struct valmap *m) {
  free(m->keys);
  free(m->counts);
  memset(m, 0, sizeof(*m));
}

struct entry {
  double v;
  long count;
};

static int cmp_entry(const void *a, const void *b) {
  double x = ((const struct entry *)a)->v, y = ((const struct entry *)b)->v;
  return (x > y) - (x < y);
}

/* The map's entries sorted by value; *n of them. NULL with *n = 0 if empty. */
static int valmap_sorted(const struct valmap *m, struct entry **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (m->n == 0)
    return 0;
  struct entry *e = malloc(m->n * sizeof(*e));
  if (e == NULL)
    return -ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < m->cap; i++)
    if (!isnan(m->keys[i]))
      e[k++] = (struct entry){m->keys[i], m->counts[i]};
  qsort(e, k, sizeof(*e), cmp_entry);
  *out = e;
  *n = k;
  return 0;
}

static void welford_add(struct welford *w, double v) {
  w->n++;
  double d = v - w->mean;
  w->mean += d / (double)w->n;
  w->m2 += d * (v - w->mean);
}

static double welford_stdev(const struct welford *w) {
  return w->n < 2 ? NAN : sqrt(w->m2 / (double)(w->n - 1));
}

int lb_summary_acc_new(struct lb_summary_acc **out) {
  *out = calloc(1, sizeof(**out));
  return *out ? 0 : -ENOMEM;
}

void lb_summary_acc_free(struct lb_summary_acc *acc) {
  if (acc == NULL)
    return;
  valmap_free(&acc->latency);
  valmap_free(&acc->utilization);
  free(acc->per_server);
  free(acc);
}

void lb_summary_acc_count(struct lb_summary_acc *acc, enum lb_outcome o, int is_probe) {
  acc->requests++;
  acc->probes += is_probe != 0;
  acc->completed += o == LB_OUTCOME_COMPLETED;
  acc->failed += o == LB_OUTCOME_FAILED;
  acc->timed_out += o == LB_OUTCOME_TIMED_OUT;
}

static int server_add(struct lb_summary_acc *acc, int server, double v) {
  if (server < 0)
    return 0; /* pandas' groupby drops a missing key */
  if ((size_t)server >= acc->servers) {
    size_t n = acc->servers ? acc->servers : 16;
    while (n <= (size_t)server)
      n *= 2;
    struct welford *p = realloc(acc->per_server, n * sizeof(*p));
    if (p == NULL)
      return -ENOMEM;
    memset(p + acc->servers, 0, (n - acc->servers) * sizeof(*p));
    acc->per_server = p;
    acc->servers = n;
  }
  welford_add(&acc->per_server[server], v);
  return 0;
}

int lb_summary_acc_add(struct lb_summary_acc *acc, const struct lb_request_record *rec) {
  lb_summary_acc_count(acc, rec->outcome, rec->is_probe);
  /* latency: df[(~df['is_probe']) & (df['test_stage'] != 'WARMING')]['total_ticks'] */
  if (!rec->is_probe && rec->stage != LB_STAGE_WARMING && rec->outcome == LB_OUTCOME_COMPLETED &&
      !isnan(rec->total_ticks)) {
    int rc = valmap_add(&acc->latency, rec->total_ticks);
    if (rc != 0)
      return rc;
  }
  /* utilization: RUNNING records' server_utilization_latest (NaN dropped). */
  if (rec->stage == LB_STAGE_RUNNING && rec->has_report && rec->report.utilization.valid &&
      !isnan(rec->report.utilization.latest)) {
    double u = rec->report.utilization.latest;
    int rc = valmap_add(&acc->utilization, u);
    if (rc == 0)
      rc = server_add(acc, rec->server, u);
    if (rc != 0)
      return rc;
    welford_add(&acc->all_utilization, u);
  }
  return 0;
}

/* numpy's _lerp, as pandas' linear quantile uses it. */
static double lerp(double a, double b, double t) {
  double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/* pandas' Series.quantile(q): np.percentile(values, q * 100) with numpy's
 * linear method, arithmetic in numpy's order: q = (q * 100) / 100, virtual
 * index n*q + (1 - q) - 1, clipped to the ends. Sets *lo, and *t (the
 * fraction towards lo + 1); false when the answer is the last value. */
static bool virtual_index(size_t n, double q, size_t *lo, double *t) {
  q = q * 100.0 / 100.0;
  double vi = (double)n * q + (1 - q) - 1;
  if (vi >= (double)(n - 1))
    return false;
  if (vi < 0)
    vi = 0;
  double fl = floor(vi);
  *lo = (size_t)fl;
  *t = vi - fl;
  return true;
}

/* Value at 0-based rank k of the multiset; cum[i] = counts of e[0..i]. */
static double at_rank(const struct entry *e, const long *cum, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((size_t)cum[mid] > k)
      hi = mid;
    else
      lo = mid + 1;
  }
  return e[lo].v;
}

static double quantile_counts(const struct entry *e, const long *cum, size_t n, double q) {
  if (n == 0)
    return NAN;
  size_t total = (size_t)cum[n - 1], lo = 0;
  double t = 0;
  if (!virtual_index(total, q, &lo, &t))
    return e[n - 1].v;
  return lerp(at_rank(e, cum, n, lo), at_rank(e, cum, n, lo + 1), t);
}

double lb_quantile_sorted(const double *sorted, size_t n, double q) {
  if (n == 0)
    return NAN;
  size_t lo = 0;
  double t = 0;
  if (!virtual_index(n, q, &lo, &t))
    return sorted[n - 1];
  return lerp(sorted[lo], sorted[lo + 1], t);
}

/* Mean and sample stdev of a weighted multiset, and its quantiles. */
static int describe(const struct valmap *m, int distinct, double *mean, double *stdev,
                    double q[LB_SUMMARY_QUANTILES]) {
  struct entry *e = NULL;
  size_t n = 0;
  int rc = valmap_sorted(m, &e, &n);
  if (rc != 0)
    return rc;
  long *cum = n ? malloc(n * sizeof(*cum)) : NULL;
  if (n && cum == NULL) {
    free(e);
    return -ENOMEM;
  }
  long total = 0;
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (distinct)
      e[i].count = 1;
    total += e[i].count;
    cum[i] = total;
    sum += e[i].v * (double)e[i].count;
  }
  *mean = total ? sum / (double)total : NAN;
  double ss = 0;
  for (size_t i = 0; i < n; i++)
    ss += (double)e[i].count * (e[i].v - *mean) * (e[i].v - *mean);
  *stdev = total >= 2 ? sqrt(ss / (double)(total - 1)) : NAN;
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    q[i] = quantile_counts(e, cum, n, lb_summary_quantiles[i]);
  free(cum);
  free(e);
  return 0;
}

int lb_summary_compute(const struct lb_summary_acc *acc, struct lb_summary *out) {
  memset(out, 0, sizeof(*out));
  int rc = describe(&acc->latency, 0, &out->mean_latency, &out->stdev_latency, out->latency_q);
  if (rc != 0)
    return rc;
  double uq[LB_SUMMARY_QUANTILES];
  rc = describe(&acc->utilization, 1, &out->mean_utilization, &out->stdev_utilization, uq);
  if (rc != 0)
    return rc;
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    out->utilization_ratio_q[i] = uq[i] / out->mean_utilization;
  /* stddev_utilization_per_server.mean(): servers without a stdev skipped. */
  double sum = 0;
  long servers = 0;
  for (size_t s = 0; s < acc->servers; s++) {
    double sd = welford_stdev(&acc->per_server[s]);
    if (!isnan(sd)) {
      sum += sd;
      servers++;
    }
  }
  out->mean_stdev_utilization = servers ? sum / (double)servers : NAN;
  out->mean_utilization_per_request = acc->all_utilization.n ? acc->all_utilization.mean : NAN;
  out->stdev_utilization_per_request = welford_stdev(&acc->all_utilization);
  out->requests = acc->requests;
  out->completed = acc->completed;
  out->failed = acc->failed;
  out->timed_out = acc->timed_out;
  out->probes = acc->probes;
  long samples = 0;
  for (size_t i = 0; i < acc->latency.cap; i++)
    if (!isnan(acc->latency.keys[i]))
      samples += acc->latency.counts[i];
  out->latency_samples = samples;
  return 0;
}

static const char *const quantile_names[LB_SUMMARY_QUANTILES] = {"50.0", "90.0", "99.0", "99.9"};

void lb_summary_write_header(FILE *f) {
  fputs("algorithm,mean_latency,stdev_latency", f);
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    fprintf(f, ",p%s_latency", quantile_names[i]);
  fputs(",mean_utilization,stdev_utilization,mean_stdev_utilization", f);
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    fprintf(f, ",p%s_utilization_ratio", quantile_names[i]);
  fputs(",run,seed,requests,completed,failed,timed_out,probes,mean_utilization_per_request,"
        "stdev_utilization_per_request\n",
        f);
}

static void put(FILE *f, double v) {
  char buf[40];
  lb_reqlog_format_double(buf, sizeof(buf), v);
  fputc(',', f);
  fputs(buf, f);
}

void lb_summary_put_text(FILE *f, const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

void lb_summary_write_row(FILE *f, const char *algorithm, int run, unsigned long long seed,
                          const struct lb_summary *s) {
  lb_summary_put_text(f, algorithm);
  put(f, s->mean_latency);
  put(f, s->stdev_latency);
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    put(f, s->latency_q[i]);
  put(f, s->mean_utilization);
  put(f, s->stdev_utilization);
  put(f, s->mean_stdev_utilization);
  for (int i = 0; i < LB_SUMMARY_QUANTILES; i++)
    put(f, s->utilization_ratio_q[i]);
  fprintf(f, ",%d,%llu,%ld,%ld,%ld,%ld,%ld", run, seed, s->requests, s->completed, s->failed,
          s->timed_out, s->probes);
  put(f, s->mean_utilization_per_request);
  put(f, s->stdev_utilization_per_request);
  fputc('\n', f);
}

/* ---- reader ---- */

struct lb_summary_reader {
  FILE *f;
  char *path;
  size_t lineno;
  char *header, *line; /* the header's cells point into header */
  size_t headercap, linecap;
  char **names, **cells;
  size_t nnames, ncells, capcells;
};

int lb_summary_reader_open(const char *path, struct lb_summary_reader **out, char *err,
                           size_t errlen) {
  *out = NULL;
  struct lb_summary_reader *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return -ENOMEM;
  int rc = 0;
  r->f = fopen(path, "r");
  if (r->f == NULL) {
    rc = -errno;
    lb_errf(err, errlen, "%s: %s", path, strerror(-rc));
    goto fail;
  }
  if ((r->path = strdup(path)) == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  size_t namecap = 0;
  if ((rc = lb_csv_read_row(r->f, &r->header, &r->headercap, &r->names, &namecap, &r->nnames)) !=
      1) {
    if (rc == 0 && ferror(r->f)) {
      lb_errf(err, errlen, "%s:1: read error", path);
      rc = -EIO;
    } else if (rc == 0) {
      lb_errf(err, errlen, "%s:1: expected a header line, got an empty file", path);
      rc = -ENODATA;
    }
    goto fail;
  }
  r->lineno = 1;
  *out = r;
  return 0;
fail:
  lb_summary_reader_close(r);
  return rc;
}

int lb_summary_reader_column(const struct lb_summary_reader *r, const char *name) {
  for (size_t c = 0; c < r->nnames; c++)
    if (strcmp(r->names[c], name) == 0)
      return (int)c;
  return -1;
}

int lb_summary_reader_next(struct lb_summary_reader *r, char *err, size_t errlen) {
  r->ncells = 0;
  int rc = lb_csv_read_row(r->f, &r->line, &r->linecap, &r->cells, &r->capcells, &r->ncells);
  if (rc == 0 && ferror(r->f)) {
    lb_errf(err, errlen, "%s:%zu: read error", r->path, r->lineno + 1);
    return -EIO;
  }
  if (rc == 1)
    r->lineno++;
  return rc;
}

int lb_summary_reader_cells(const struct lb_summary_reader *r) {
  return (int)r->ncells;
}

const char *lb_summary_reader_cell(const struct lb_summary_reader *r, int col) {
  return col >= 0 && (size_t)col < r->ncells ? r->cells[col] : NULL;
}

void lb_summary_reader_close(struct lb_summary_reader *r) {
  if (r == NULL)
    return;
  if (r->f)
    fclose(r->f);
  free(r->path);
  free(r->header);
  free(r->line);
  free(r->names);
  free(r->cells);
  free(r);
}
