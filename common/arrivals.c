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
 * goes to random.choice(clients). Ticks are drawn first, then clients in
 * tick order, from the one arrivals stream. */
static int build_seed(const struct lb_scenario *sc, struct lb_rng *r, struct lb_arrivals *out) {
  double want = rint(sc->mean_requests_per_server_per_tick * sc->servers * sc->total_ticks);
  if (!(want >= 0) || want > 1e9)
    return -E2BIG;
  size_t n = (size_t)want;
  size_t ticks = (size_t)sc->total_ticks;
  size_t *per_tick = calloc(ticks + 1, sizeof(*per_tick));
  out->items = n ? malloc(n * sizeof(*out->items)) : NULL;
  if (per_tick == NULL || (n && out->items == NULL)) {
    free(per_tick);
    free(out->items);
    out->items = NULL;
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    per_tick[lb_rng_below(r, ticks) + 1]++;
  size_t k = 0;
  for (size_t t = 0; t < ticks; t++) {
    for (size_t j = 0; j < per_tick[t + 1]; j++) {
      out->items[k].tick = (double)t;
      out->items[k].client = (int)lb_rng_below(r, (size_t)sc->clients);
      k++;
    }
  }
  free(per_tick);
  out->n = n;
  return 0;
}

/* Exponential gaps at rate * servers requests per tick, over [0, ticks). */
static int build_poisson(const struct lb_scenario *sc, struct lb_rng *r, struct lb_arrivals *out) {
  double per_tick = sc->mean_requests_per_server_per_tick * sc->servers;
  size_t cap = 0;
  out->n = 0;
  if (!(per_tick > 0))
    return 0;
  if (per_tick * sc->total_ticks > 1e9)
    return -E2BIG;
  double t = lb_rng_exponential(r, 1.0 / per_tick);
  while (t < sc->total_ticks) {
    int rc = reserve(out, &cap, out->n + 1);
    if (rc != 0)
      return rc;
    out->items[out->n].tick = t;
    out->items[out->n].client = (int)lb_rng_below(r, (size_t)sc->clients);
    out->n++;
    t += lb_rng_exponential(r, 1.0 / per_tick);
  }
  return 0;
}

int lb_arrivals_build(const struct lb_scenario *sc, int run, struct lb_arrivals *out, char *err,
                      size_t errlen) {
  out->items = NULL;
  out->n = 0;
  if (sc->arrivals == LB_ARRIVALS_TRACE)
    return lb_arrivals_load(sc->trace, sc->clients, out, err, errlen);
  if (sc->servers < 1 || sc->clients < 1 || sc->total_ticks < 1) {
    lb_errf(err, errlen, "arrivals: expected servers, clients and total_ticks >= 1, got %d, %d, %d",
            sc->servers, sc->clients, sc->total_ticks);
    return -EINVAL;
  }
  struct lb_rng *r = NULL;
  int rc = lb_rng_new(lb_seed_derive(sc->seed + (uint64_t)(int64_t)run, LB_STREAM_ARRIVALS, 0), &r);
  if (rc != 0)
    return rc;
  rc = sc->arrivals == LB_ARRIVALS_POISSON ? build_poisson(sc, r, out) : build_seed(sc, r, out);
  lb_rng_free(r);
  if (rc == -E2BIG)
    lb_errf(err, errlen,
            "field 'mean_requests_per_server_per_tick': expected at most 1e9 requests "
            "in a run, got rate %g * %d servers * %d ticks",
            sc->mean_requests_per_server_per_tick, sc->servers, sc->total_ticks);
  else if (rc != 0)
    lb_errf(err, errlen, "arrivals: %s", strerror(-rc));
  if (rc != 0)
    lb_arrivals_close(out);
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
      lb_errf(err, errlen,
              "%s:%zu: expected 'tick,client' with tick >= 0 and client from 0 to %d, "
              "got '%.80s'",
              path, lineno, clients - 1, copy);
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
