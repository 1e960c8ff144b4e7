#include "harness_collect.h"
#include "harness_faults.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reqlog.h"
#include "statsfile.h"

void lb_harness_log_tail(const char *path, char *buf, size_t len) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  char tmp[4096];
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  long from = size > (long)sizeof(tmp) - 1 ? size - (long)sizeof(tmp) + 1 : 0;
  fseek(f, from, SEEK_SET);
  size_t got = fread(tmp, 1, sizeof(tmp) - 1, f);
  fclose(f);
  tmp[got] = '\0';
  while (got > 0 && tmp[got - 1] == '\n')
    tmp[--got] = '\0';
  const char *start = tmp;
  int lines = 0;
  for (size_t i = got; i > 0; i--)
    if (tmp[i - 1] == '\n' && ++lines == 3) {
      start = tmp + i;
      break;
    }
  size_t n = strlen(start);
  if (n >= len) {
    start += n - len + 1; /* keep the end */
    n = len - 1;
  }
  memcpy(buf, start, n + 1);
}

int lb_harness_collect_logs(const struct lb_scenario *sc, int run, char *const *csvs, size_t n,
                            struct lb_harness_run_result *res, char *err, size_t errlen) {
  struct lb_summary_acc *acc = NULL;
  FILE *out = NULL;
  char tmp[LB_HARNESS_PATH_MAX + 8];
  /* Written aside and renamed: a source may be the destination itself. */
  snprintf(tmp, sizeof(tmp), "%s.tmp", res->requests_csv);
  int rc = lb_summary_acc_new(&acc);
  if (rc < 0)
    return rc;
  out = fopen(tmp, "w");
  if (!out) {
    rc = -errno;
    snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  lb_reqlog_write_header(out);
  for (size_t k = 0; k < n; k++) {
    struct lb_reqlog_reader *r = NULL;
    if ((rc = lb_reqlog_reader_open(csvs[k], &r, err, errlen)) < 0)
      goto done;
    struct lb_request_record rec;
    while ((rc = lb_reqlog_reader_next(r, &rec, err, errlen)) == 1) {
      lb_reqlog_write(out, &rec);
      if ((rc = lb_summary_acc_add(acc, &rec)) < 0)
        break;
    }
    lb_reqlog_reader_close(r);
    if (rc < 0)
      goto done;
  }
  if ((rc = lb_summary_compute(acc, &res->summary)) < 0)
    goto done;
  FILE *o = out;
  out = NULL;
  if (fclose(o) != 0 || rename(tmp, res->requests_csv) != 0) {
    rc = -EIO;
    snprintf(err, errlen, "cannot write %s", res->requests_csv);
    goto done;
  }
  char path[LB_HARNESS_PATH_MAX + 16];
  snprintf(path, sizeof(path), "%s/summary.csv", res->dir);
  FILE *s = fopen(path, "w");
  if (!s) {
    rc = -errno;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    goto done;
  }
  lb_summary_write_header(s);
  lb_summary_write_row(s, sc->name, run, res->seed, &res->summary);
  fclose(s);
  rc = 0;
done:
  if (out) {
    fclose(out);
    unlink(tmp);
  }
  lb_summary_acc_free(acc);
  return rc;
}

void lb_harness_health_from_stats(double tick_ms, char *const *client_stats, size_t nclient,
                                  char *const *server_stats, size_t nserver,
                                  const struct lb_summary *summary,
                                  struct lb_harness_health_input *in) {
  memset(in, 0, sizeof(*in));
  in->tick_ms = tick_ms;
  in->timer_p99_us = -1;
  in->send_p99_us = -1;
  in->server_p99_us = -1;
  in->load_average = -1;
  bool have_counts = nclient > 0;
  struct lb_statsfile kv;
  double v;
  for (size_t k = 0; k < nclient; k++) {
    if (lb_statsfile_load(client_stats[k], &kv) < 0) {
      have_counts = false;
      continue;
    }
    if (lb_statsfile_get(&kv, "timer_lateness_p99_us", &v) && v > in->timer_p99_us)
      in->timer_p99_us = v;
    if (lb_statsfile_get(&kv, "send_lateness_p99_us", &v) && v > in->send_p99_us)
      in->send_p99_us = v;
    double max_us, at;
    if (lb_statsfile_get(&kv, "timer_lateness_max_us", &max_us)) {
      char who[48];
      snprintf(who, sizeof(who), "client process %zu", k);
      lb_harness_stall_note(in, who, max_us / 1000.0,
                            lb_statsfile_get(&kv, "timer_lateness_max_tick", &at) ? (long)at : -1,
                            0);
    }
    if (lb_statsfile_get(&kv, "log_errors", &v))
      in->log_errors += (long)v;
    const char *const keys[] = {"sent", "completed", "failed", "timed_out"};
    long *dst[] = {&in->sent, &in->completed, &in->failed, &in->timed_out};
    for (int j = 0; j < 4; j++) {
      if (lb_statsfile_get(&kv, keys[j], &v))
        *dst[j] += (long)v;
      else
        have_counts = false;
    }
  }
  for (size_t i = 0; i < nserver; i++) {
    if (lb_statsfile_load(server_stats[i], &kv) < 0)
      continue;
    const char *const keys[] = {"tick_late_p99_ns", "hold_late_p99_ns"};
    for (int j = 0; j < 2; j++)
      if (lb_statsfile_get(&kv, keys[j], &v) && v / 1000.0 > in->server_p99_us)
        in->server_p99_us = v / 1000.0;
    double max_ns, at, skipped;
    if (lb_statsfile_get(&kv, "tick_late_max_ns", &max_ns)) {
      char who[48];
      snprintf(who, sizeof(who), "server %zu", i);
      lb_harness_stall_note(
          in, who, max_ns / 1e6, lb_statsfile_get(&kv, "tick_late_max_tick", &at) ? (long)at : -1,
          lb_statsfile_get(&kv, "ticks_skipped", &skipped) ? (long)skipped : 0);
    }
  }
  if (!have_counts) { /* fall back on the logs' own accounting */
    in->sent = summary->requests;
    in->completed = summary->completed;
    in->failed = summary->failed;
    in->timed_out = summary->timed_out;
  } else { /* every request sent has its record */
    in->have_logged = true;
    in->logged = summary->requests;
  }
}

void lb_harness_assess(const struct lb_scenario *sc, int nclients, int nservers, double wall_s,
                       double fleet_cpu_s, long expected_timed_out,
                       struct lb_harness_run_result *res) {
  size_t n = (size_t)nclients + (size_t)nservers;
  char(*paths)[LB_HARNESS_PATH_MAX + 48] = calloc(n, sizeof(*paths));
  char **ptrs = calloc(n + 1, sizeof(char *));
  if (paths && ptrs) {
    for (size_t k = 0; k < n; k++) {
      if (k < (size_t)nclients)
        snprintf(paths[k], sizeof(paths[k]), "%s/client-%zu.stats", res->dir, k);
      else if (lb_harness_faults_stop(sc, (int)(k - (size_t)nclients)))
        paths[k][0] = '\0'; /* stopped on purpose: its timing says nothing of the machine */
      else
        snprintf(paths[k], sizeof(paths[k]), "%s/server-%zu.stats", res->dir, k - (size_t)nclients);
      ptrs[k] = paths[k];
    }
    lb_harness_health_from_stats((double)sc->tick_ns / 1e6, ptrs, (size_t)nclients, ptrs + nclients,
                                 (size_t)nservers, &res->summary, &res->health_in);
    if (fleet_cpu_s < 0) { /* the daemons' own: cpu_seconds in their stats */
      fleet_cpu_s = 0;
      struct lb_statsfile kv;
      double v;
      for (size_t k = 0; k < n; k++)
        if (lb_statsfile_load(paths[k], &kv) == 0 && lb_statsfile_get(&kv, "cpu_seconds", &v))
          fleet_cpu_s += v;
    }
  } else {
    lb_harness_health_from_stats((double)sc->tick_ns / 1e6, NULL, 0, NULL, 0, &res->summary,
                                 &res->health_in);
  }
  free(paths);
  free(ptrs);
  struct lb_harness_health_input *in = &res->health_in;
  in->wall_s = wall_s;
  in->expected_timed_out = expected_timed_out;
  in->fleet_cpu_s = fleet_cpu_s > 0 ? fleet_cpu_s : 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  in->cores = cores > 0 ? (int)cores : 1;
  double load[1];
  in->load_average = getloadavg(load, 1) == 1 ? load[0] : -1;
  lb_harness_health_check(in, &res->health);
}

void lb_harness_print_runs(FILE *f, const struct lb_scenario *sc,
                           const struct lb_harness_run_result *res, int n) {
  double ms = (double)sc->tick_ns / 1e6;
  fprintf(f, "\n%s (tick %g ms)\n", sc->name, ms);
  fprintf(f, "%4s %9s %9s %7s %9s %9s %9s %9s %9s %9s %9s %8s %6s  %s\n", "run", "requests",
          "completed", "failed", "timed_out", "mean_tk", "p50_tk", "p99_tk", "mean_ms", "p50_ms",
          "p99_ms", "late_ms", "cores", "valid");
  for (int i = 0; i < n; i++) {
    const struct lb_summary *s = &res[i].summary;
    const struct lb_harness_health_input *h = &res[i].health_in;
    /* The worst p99 timer lateness of the fleet, and the cores it used. */
    double late = lb_harness_health_worst_late_us(h);
    char late_text[32];
    if (late < 0)
      snprintf(late_text, sizeof(late_text), "-");
    else
      snprintf(late_text, sizeof(late_text), "%.2f", late / 1000.0);
    fprintf(f, "%4d %9ld %9ld %7ld %9ld %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %8s %6.2f  %s\n",
            res[i].run, h->sent, h->completed, h->failed, h->timed_out, s->mean_latency,
            s->latency_q[0], s->latency_q[2], s->mean_latency * ms, s->latency_q[0] * ms,
            s->latency_q[2] * ms, late_text, res[i].health.cpu_cores_used,
            res[i].health.valid ? "yes" : "NO");
  }
  for (int i = 0; i < n; i++)
    if (!res[i].health.valid)
      fprintf(f, "run %d is not valid for comparison: %s (suggestion: %s)\n", res[i].run,
              res[i].health.reason, res[i].health.suggestion);
}
