#include "harness_reallogs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness_paths.h"

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Appends a copy of text to a string array. */
static int push(char ***items, size_t *n, const char *text) {
  char **p = realloc(*items, (*n + 1) * sizeof(char *));
  if (!p)
    return -ENOMEM;
  *items = p;
  if (!(p[*n] = strdup(text)))
    return -ENOMEM;
  (*n)++;
  return 0;
}

static void free_strings(char **items, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(items[i]);
  free(items);
}

void lb_harness_real_logs_free(struct lb_harness_real_logs *l) {
  for (size_t i = 0; i < l->n; i++) {
    free_strings(l->runs[i].csvs, l->runs[i].ncsvs);
    free_strings(l->runs[i].client_stats, l->runs[i].nclient_stats);
    free_strings(l->runs[i].server_stats, l->runs[i].nserver_stats);
  }
  free(l->runs);
  memset(l, 0, sizeof(*l));
}

/* The entry for run number `run`, made when missing (runs kept sorted). */
static struct lb_harness_real_run *run_entry(struct lb_harness_real_logs *l, int run) {
  size_t at = 0;
  while (at < l->n && l->runs[at].run < run)
    at++;
  if (at < l->n && l->runs[at].run == run)
    return &l->runs[at];
  struct lb_harness_real_run *p = realloc(l->runs, (l->n + 1) * sizeof(*p));
  if (!p)
    return NULL;
  l->runs = p;
  memmove(p + at + 1, p + at, (l->n - at) * sizeof(*p));
  memset(&p[at], 0, sizeof(p[at]));
  p[at].run = run;
  l->n++;
  return &p[at];
}

/* F.csv -> F.stats, when that exists. */
static int push_stats_beside(char ***items, size_t *n, const char *csv) {
  size_t len = strlen(csv);
  if (len < 4 || strcmp(csv + len - 4, ".csv") != 0)
    return 0;
  char *stats = malloc(len + 3);
  if (!stats)
    return -ENOMEM;
  memcpy(stats, csv, len - 4);
  strcpy(stats + len - 4, ".stats");
  int rc = is_file(stats) ? push(items, n, stats) : 0;
  free(stats);
  return rc;
}

int lb_harness_real_logs_from_list(const char *list, struct lb_harness_real_logs *out, char *err,
                                   size_t errlen) {
  memset(out, 0, sizeof(*out));
  char *copy = strdup(list);
  if (!copy)
    return -ENOMEM;
  int rc = 0, run = 0;
  char *p = copy;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    if (!*p) {
      snprintf(err, errlen, "--real-csv '%s': entry %d is empty (expected FILE[,FILE...])", list,
               run + 1);
      rc = -EINVAL;
      break;
    }
    if (!is_file(p)) {
      snprintf(err, errlen, "--real-csv: %s: %s", p,
               access(p, F_OK) == 0 ? "not a regular file" : "no such file");
      rc = -ENOENT;
      break;
    }
    struct lb_harness_real_run *r = run_entry(out, run);
    if (!r || (rc = push(&r->csvs, &r->ncsvs, p)) < 0 ||
        (rc = push_stats_beside(&r->client_stats, &r->nclient_stats, p)) < 0) {
      rc = -ENOMEM;
      break;
    }
    if (run == 0)
      snprintf(out->where, sizeof(out->where), "%s", p);
    run++;
    if (!comma)
      break;
    p = comma + 1;
  }
  free(copy);
  if (rc < 0)
    lb_harness_real_logs_free(out);
  return rc;
}

/* name is exactly PREFIX<int>SUFFIX (or PREFIX<int>-client-<int>SUFFIX). */
static bool match_num(const char *name, const char *prefix, const char *suffix, int *num) {
  size_t pl = strlen(prefix), sl = strlen(suffix), nl = strlen(name);
  if (nl <= pl + sl || strncmp(name, prefix, pl) != 0 || strcmp(name + nl - sl, suffix) != 0)
    return false;
  const char *d = name + pl;
  int v = 0;
  size_t digits = 0;
  while (d + digits < name + nl - sl) {
    char ch = d[digits];
    if (ch < '0' || ch > '9' || v > 100000000)
      return false;
    v = v * 10 + (ch - '0');
    digits++;
  }
  *num = v;
  return digits > 0 && (digits == 1 || d[0] != '0'); /* "07" is not run 7 */
}

/* "run<R>-<kind>-<J><suffix>" */
static bool match_proc(const char *name, const char *kind, const char *suffix, int *run, int *j) {
  char prefix[32];
  if (strncmp(name, "run", 3) != 0)
    return false;
  const char *p = name + 3;
  int r = 0;
  size_t digits = 0;
  while (p[digits] >= '0' && p[digits] <= '9' && digits < 9)
    r = r * 10 + (p[digits++] - '0');
  if (!digits || (digits > 1 && p[0] == '0'))
    return false;
  snprintf(prefix, sizeof(prefix), "-%s-", kind);
  if (!match_num(p + digits, prefix, suffix, j))
    return false;
  *run = r;
  return true;
}

struct found {
  int run, j;
  char path[LB_HARNESS_PATH_MAX + 300];
};

static int cmp_found(const void *a, const void *b) {
  const struct found *x = a, *y = b;
  if (x->run != y->run)
    return x->run < y->run ? -1 : 1;
  return x->j < y->j ? -1 : x->j > y->j;
}

/* Names under dir matching a layout, sorted by (run, j). */
enum layout { L_RUN_DIR, L_REQUESTS, L_CLIENT_CSV, L_CLIENT_STATS, L_SERVER_STATS, L_COUNT };

static int list_dir(const char *dir, struct found **out, size_t *nout, enum layout which) {
  DIR *d = opendir(dir);
  if (!d)
    return -errno;
  struct found *items = NULL;
  size_t n = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct found f = {0};
    bool ok = false;
    switch (which) {
    case L_RUN_DIR:
      ok = match_num(e->d_name, "run-", "", &f.run);
      break;
    case L_REQUESTS:
      ok = match_num(e->d_name, "requests-", ".csv", &f.run);
      break;
    case L_CLIENT_CSV:
      ok = match_proc(e->d_name, "client", ".csv", &f.run, &f.j);
      break;
    case L_CLIENT_STATS:
      ok = match_proc(e->d_name, "client", ".stats", &f.run, &f.j);
      break;
    case L_SERVER_STATS:
      ok = match_proc(e->d_name, "server", ".stats", &f.run, &f.j);
      break;
    default:
      break;
    }
    if (!ok)
      continue;
    snprintf(f.path, sizeof(f.path), "%s/%s", dir, e->d_name);
    struct found *p = realloc(items, (n + 1) * sizeof(*p));
    if (!p) {
      rc = -ENOMEM;
      break;
    }
    items = p;
    items[n++] = f;
  }
  closedir(d);
  if (rc < 0) {
    free(items);
    return rc;
  }
  if (n)
    qsort(items, n, sizeof(*items), cmp_found);
  *out = items;
  *nout = n;
  return 0;
}

/* lbharness run's own run folder: client-J.stats, server-I.stats inside. */
static int add_run_dir_stats(struct lb_harness_real_run *r, const char *rundir) {
  for (int kind = 0; kind < 2; kind++) {
    for (int j = 0;; j++) {
      char path[LB_HARNESS_PATH_MAX + 400];
      snprintf(path, sizeof(path), "%s/%s-%d.stats", rundir, kind ? "server" : "client", j);
      if (!is_file(path))
        break;
      int rc = kind ? push(&r->server_stats, &r->nserver_stats, path)
                    : push(&r->client_stats, &r->nclient_stats, path);
      if (rc < 0)
        return rc;
    }
  }
  return 0;
}

int lb_harness_real_logs_scan(const char *dir, struct lb_harness_real_logs *out, char *err,
                              size_t errlen) {
  memset(out, 0, sizeof(*out));
  snprintf(out->where, sizeof(out->where), "%s", dir);
  struct found *lists[L_COUNT] = {0};
  size_t counts[L_COUNT] = {0};
  int rc = 0;
  for (int k = 0; k < L_COUNT && rc == 0; k++)
    if ((rc = list_dir(dir, &lists[k], &counts[k], (enum layout)k)) < 0)
      snprintf(err, errlen, "--real-dir %s: %s", dir, strerror(-rc));
  /* Which layout each run came from, to refuse a run found twice. */
  const char *layout_name[] = {"run-R/requests.csv", "requests-R.csv", "runR-client-J.csv"};
  for (int k = 0; k <= L_CLIENT_CSV && rc == 0; k++) {
    for (size_t i = 0; i < counts[k] && rc == 0; i++) {
      struct found *f = &lists[k][i];
      char csv[LB_HARNESS_PATH_MAX + 400];
      if (k == L_RUN_DIR) {
        snprintf(csv, sizeof(csv), "%s/requests.csv", f->path);
        if (!is_dir(f->path) || !is_file(csv))
          continue;
      } else {
        snprintf(csv, sizeof(csv), "%s", f->path);
      }
      struct lb_harness_real_run *r = run_entry(out, f->run);
      if (!r) {
        rc = -ENOMEM;
        break;
      }
      /* A run already filled by another layout (k's own client CSVs add up). */
      if (r->layout && r->layout != k + 1) {
        snprintf(err, errlen,
                 "--real-dir %s: run %d is there twice (as %s and as %s): keep one of them", dir,
                 f->run, layout_name[r->layout - 1], layout_name[k]);
        rc = -EINVAL;
        break;
      }
      r->layout = k + 1;
      if ((rc = push(&r->csvs, &r->ncsvs, csv)) < 0)
        break;
      if (k == L_RUN_DIR) {
        rc = add_run_dir_stats(r, f->path);
        r->stats_whole_run = true;
      }
    }
  }
  /* Compose and Kubernetes stats: runR-client-J.stats, runR-server-I.stats. */
  for (int k = L_CLIENT_STATS; k <= L_SERVER_STATS && rc == 0; k++)
    for (size_t i = 0; i < counts[k] && rc == 0; i++) {
      struct found *f = &lists[k][i];
      for (size_t q = 0; q < out->n; q++)
        if (out->runs[q].run == f->run && out->runs[q].ncsvs) {
          struct lb_harness_real_run *r = &out->runs[q];
          rc = k == L_CLIENT_STATS ? push(&r->client_stats, &r->nclient_stats, f->path)
                                   : push(&r->server_stats, &r->nserver_stats, f->path);
        }
    }
  for (int k = 0; k < L_COUNT; k++)
    free(lists[k]);
  if (rc < 0) {
    if (rc == -ENOMEM)
      snprintf(err, errlen, "out of memory");
    lb_harness_real_logs_free(out);
    return rc;
  }
  /* Run folders without requests.csv made empty entries: drop them. */
  size_t kept = 0;
  for (size_t i = 0; i < out->n; i++) {
    if (out->runs[i].ncsvs)
      out->runs[kept++] = out->runs[i];
    else {
      free_strings(out->runs[i].client_stats, out->runs[i].nclient_stats);
      free_strings(out->runs[i].server_stats, out->runs[i].nserver_stats);
    }
  }
  out->n = kept;
  return (int)kept;
}

int lb_harness_real_logs_from_dir(const char *dir, const char *name, bool any_dir,
                                  struct lb_harness_real_logs *out, char *err, size_t errlen) {
  char cand[3][LB_HARNESS_PATH_MAX + 200];
  snprintf(cand[0], sizeof(cand[0]), "%s/%s/real", dir, name);
  snprintf(cand[1], sizeof(cand[1]), "%s/%s", dir, name);
  snprintf(cand[2], sizeof(cand[2]), "%s", dir);
  if (!is_dir(dir)) {
    snprintf(err, errlen, "--real-dir %s: %s", dir,
             access(dir, F_OK) == 0 ? "not a folder" : "no such folder");
    return -ENOENT;
  }
  for (int k = 0; k < (any_dir ? 3 : 2); k++) {
    if (!is_dir(cand[k]))
      continue;
    int rc = lb_harness_real_logs_scan(cand[k], out, err, errlen);
    if (rc < 0)
      return rc;
    if (rc > 0)
      return 0;
    lb_harness_real_logs_free(out);
  }
  snprintf(err, errlen,
           "--real-dir %s: no per-request logs for scenario '%s' (looked in %s/%s/real, %s/%s%s%s "
           "for run-R/requests.csv, requests-R.csv or runR-client-J.csv%s)",
           dir, name, dir, name, dir, name, any_dir ? " and " : "", any_dir ? dir : "",
           any_dir ? "" : "; with several scenarios each has a folder DIR/<scenario>");
  return -ENOENT;
}

int lb_harness_real_logs_load_run(const struct lb_scenario *sc, const struct lb_harness_real_run *r,
                                  const char *run_dir, long expected_timed_out,
                                  struct lb_harness_run_result *res, char *err, size_t errlen) {
  memset(res, 0, sizeof(*res));
  res->run = r->run;
  res->seed = (unsigned long long)sc->seed + (unsigned long long)r->run;
  snprintf(res->dir, sizeof(res->dir), "%s", run_dir);
  if (snprintf(res->requests_csv, sizeof(res->requests_csv), "%s/requests.csv", run_dir) >=
      (int)sizeof(res->requests_csv))
    return -ENAMETOOLONG;
  int rc = lb_harness_mkdirs(run_dir);
  if (rc < 0) {
    snprintf(err, errlen, "cannot create %s: %s", run_dir, strerror(-rc));
    return rc;
  }
  if ((rc = lb_harness_collect_logs(sc, r->run, r->csvs, r->ncsvs, res, err, errlen)) < 0)
    return rc;
  /* Counts from the stats only when every client process has them. */
  size_t nclient = r->stats_whole_run || r->nclient_stats == r->ncsvs ? r->nclient_stats : 0;
  lb_harness_health_from_stats((double)sc->tick_ns / 1e6, r->client_stats, nclient, r->server_stats,
                               r->nserver_stats, &res->summary, &res->health_in);
  if (nclient == 0 && r->nclient_stats > 0) {
    /* Some stats but not one per CSV (e.g. run-R/requests.csv merged from
     * several processes): lateness from them, counts from the log. */
    struct lb_harness_health_input lat;
    lb_harness_health_from_stats((double)sc->tick_ns / 1e6, r->client_stats, r->nclient_stats, NULL,
                                 0, &res->summary, &lat);
    res->health_in.timer_p99_us = lat.timer_p99_us;
    res->health_in.send_p99_us = lat.send_p99_us;
    res->health_in.log_errors = lat.log_errors;
  }
  res->health_in.expected_timed_out = expected_timed_out;
  lb_harness_health_check(&res->health_in, &res->health);
  return 0;
}
