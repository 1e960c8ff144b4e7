/* arrivals: the run's open-loop arrival trace (seed, Poisson, or a file). */
#include "arrivals.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "reqlog.h"
#include "rng.h"

/* Grows a->items to hold at least want items. */
static int reserve(struct lb_arrivals *a, size_t *cap, size_t want) {
  if (want <= *cap)
    return 0;
  size_t n = *cap ? *cap : 1024;
  while (n < want) {
    if (n > SIZE_MAX / 2 / sizeof(*a->items))
      return -ENOMEM;
    n *= 2;
  }
  struct lb_arrival *p = realloc(a->items, n * sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  a->items = p;
  *cap = n;
  return 0;
}

/* The seed: request_tick = [randrange(0, total_ticks) for _ in range(round(
 * rate * servers * total_ticks))]; tick by tick, each of that tick's requests
 * goes to random.choice(clients). Ticks are drawn first (at open: a count
 * per tick), then clients in tick order, one per arrival as it is taken.
 * Poisson: exponential gaps at rate * servers per tick, over [0, ticks),
 * each gap drawn after the client of the arrival before it. */
int lb_arrival_stream_open(const struct lb_scenario *sc, int run, struct lb_arrival_stream *st,
                           char *err, size_t errlen) {
  memset(st, 0, sizeof(*st));
  if (sc->arrivals == LB_ARRIVALS_TRACE) {
    lb_errf(err, errlen, "arrivals: a trace file is loaded (lb_arrivals_load), not drawn");
    return -EINVAL;
  }
  if (sc->servers < 1 || sc->clients < 1 || sc->total_ticks < 1) {
    lb_errf(err, errlen, "arrivals: expected servers, clients and total_ticks >= 1, got %d, %d, %d",
            sc->servers, sc->clients, sc->total_ticks);
    return -EINVAL;
  }
  st->poisson = sc->arrivals == LB_ARRIVALS_POISSON;
  st->clients = (size_t)sc->clients;
  st->ticks = (size_t)sc->total_ticks;
  double rate = sc->mean_requests_per_server_per_tick * sc->servers;
  double want = st->poisson ? rate * sc->total_ticks : rint(rate * sc->total_ticks);
  int rc = 0;
  if (st->poisson ? rate > 0 && want > 1e9 : !(want >= 0) || want > 1e9) {
    lb_errf(err, errlen,
            "field 'mean_requests_per_server_per_tick': expected at most 1e9 requests "
            "in a run, got rate %g * %d servers * %d ticks",
            sc->mean_requests_per_server_per_tick, sc->servers, sc->total_ticks);
    return -E2BIG;
  }
  rc = lb_rng_new(lb_seed_derive(sc->seed + (uint64_t)(int64_t)run, LB_STREAM_ARRIVALS, 0),
                  &st->rng);
  if (rc != 0)
    goto fail;
  if (st->poisson) {
    st->mean_gap = rate > 0 ? 1.0 / rate : 0;
    st->next_tick = rate > 0 ? lb_rng_exponential(st->rng, st->mean_gap) : (double)st->ticks;
    return 0;
  }
  st->total = (size_t)want;
  st->per_tick = calloc(st->ticks + 1, sizeof(*st->per_tick));
  if (st->per_tick == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < st->total; i++)
    st->per_tick[lb_rng_below(st->rng, st->ticks) + 1]++;
  return 0;
fail:
  lb_errf(err, errlen, "arrivals: %s", strerror(-rc));
  lb_arrival_stream_close(st);
  return rc;
}

bool lb_arrival_stream_next(struct lb_arrival_stream *st, struct lb_arrival *out) {
  if (st->poisson) {
    if (!(st->next_tick < (double)st->ticks))
      return false;
    out->tick = st->next_tick;
    out->client = (int)lb_rng_below(st->rng, st->clients);
    st->next_tick += lb_rng_exponential(st->rng, st->mean_gap);
    return true;
  }
  while (st->tick < st->ticks && st->per_tick[st->tick + 1] == 0)
    st->tick++;
  if (st->tick >= st->ticks)
    return false;
  st->per_tick[st->tick + 1]--;
  out->tick = (double)st->tick;
  out->client = (int)lb_rng_below(st->rng, st->clients);
  return true;
}

void lb_arrival_stream_close(struct lb_arrival_stream *st) {
  lb_rng_free(st->rng);
  free(st->per_tick);
  memset(st, 0, sizeof(*st));
}

int lb_arrivals_build(const struct lb_scenario *sc, int run, struct lb_arrivals *out, char *err,
                      size_t errlen) {
  out->items = NULL;
  out->n = 0;
  if (sc->arrivals == LB_ARRIVALS_TRACE)
    return lb_arrivals_load(sc->trace, sc->clients, out, err, errlen);
  struct lb_arrival_stream st;
  int rc = lb_arrival_stream_open(sc, run, &st, err, errlen);
  if (rc != 0)
    return rc;
  size_t cap = 0;
  if (!st.poisson && st.total > 0) { /* known: exactly */
    if ((out->items = malloc(st.total * sizeof(*out->items))) == NULL)
      rc = -ENOMEM;
    cap = st.total;
  }
  struct lb_arrival a;
  while (rc == 0 && lb_arrival_stream_next(&st, &a)) {
    if ((rc = reserve(out, &cap, out->n + 1)) != 0)
      break;
    out->items[out->n++] = a;
  }
  lb_arrival_stream_close(&st);
  if (rc != 0) {
    lb_errf(err, errlen, "arrivals: %s", strerror(-rc));
    lb_arrivals_close(out);
  }
  return rc;
}

/* Stable merge sort by tick, so equal ticks keep the file's order. */
static void merge_sort(struct lb_arrival *a, struct lb_arrival *tmp, size_t n) {
  if (n < 2)
    return;
  size_t h = n / 2;
  merge_sort(a, tmp, h);
  merge_sort(a + h, tmp, n - h);
  if (a[h - 1].tick <= a[h].tick)
    return;
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = a[j].tick < a[i].tick ? a[j++] : a[i++];
  while (i < h)
    tmp[k++] = a[i++];
  while (j < n)
    tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof(*a));
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

/* "tick,client": client as N or "Client N"; false on anything else. */
static bool parse_line(char *s, int clients, struct lb_arrival *out) {
  char *comma = strchr(s, ',');
  if (comma == NULL)
    return false;
  *comma = '\0';
  char *tick = trim(s), *client = trim(comma + 1);
  char *end = NULL;
  double t = strtod(tick, &end);
  if (end == tick || *end != '\0' || !isfinite(t) || t < 0)
    return false;
  if (strncmp(client, "Client ", 7) == 0)
    client += 7;
  errno = 0;
  long c = strtol(client, &end, 10);
  if (end == client || *end != '\0' || errno != 0 || c < 0 || c >= clients)
    return false;
  out->tick = t;
  out->client = (int)c;
  return true;
}

int lb_arrivals_load(const char *path, int clients, struct lb_arrivals *out, char *err,
                     size_t errlen) {
  out->items = NULL;
  out->n = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "%s: cannot open arrival trace: %s", path, strerror(e));
    return -e;
  }
  char *line = NULL, *copy = NULL;
  size_t linecap = 0, cap = 0, lineno = 0;
  ssize_t got;
  int rc = 0;
  bool first = true;
  while ((got = getline(&line, &linecap, f)) >= 0) {
    lineno++;
    char *s = trim(line);
    if (s[0] == '\0' || s[0] == '#')
      continue;
    if (first && strcmp(s, "tick,client") == 0) {
      first = false;
      continue;
    }
    first = false;
    free(copy);
    copy = strdup(s);
    if (copy == NULL) {
      rc = -ENOMEM;
      break;
    }
    struct lb_arrival a;
    if (!parse_line(s, clients, &a)) {
      char seen[LB_EXCERPT_BUF];
      lb_errf(err, errlen,
              "%s:%zu: expected 'tick,client' with tick >= 0 and client from 0 to %d, "
              "got '%s'",
              path, lineno, clients - 1, lb_excerpt(seen, sizeof(seen), copy));
      rc = -EINVAL;
      break;
    }
    if ((rc = reserve(out, &cap, out->n + 1)) != 0)
      break;
    out->items[out->n++] = a;
  }
  if (rc == 0 && ferror(f)) {
    lb_errf(err, errlen, "%s: read error", path);
    rc = -EIO;
  }
  free(line);
  free(copy);
  fclose(f);
  if (rc == 0 && out->n > 1) {
    struct lb_arrival *tmp = malloc(out->n * sizeof(*tmp));
    if (tmp == NULL)
      rc = -ENOMEM;
    else
      merge_sort(out->items, tmp, out->n);
    free(tmp);
  }
  if (rc == -ENOMEM)
    lb_errf(err, errlen, "%s: out of memory", path);
  if (rc != 0)
    lb_arrivals_close(out);
  return rc;
}

int lb_arrivals_write(const struct lb_arrivals *a, FILE *f) {
  char tick[32];
  fputs("tick,client\n", f);
  for (size_t i = 0; i < a->n; i++) {
    lb_reqlog_format_double(tick, sizeof(tick), a->items[i].tick);
    fprintf(f, "%s,%d\n", tick, a->items[i].client);
  }
  return ferror(f) ? -EIO : 0;
}

void lb_arrivals_close(struct lb_arrivals *a) {
  free(a->items);
  a->items = NULL;
  a->n = 0;
}
