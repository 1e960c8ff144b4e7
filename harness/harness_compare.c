#define _XOPEN_SOURCE 700 /* nftw */
#include "harness_compare.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness_proc.h"
#include "harness_reallogs.h"
#include "harness_report.h"
#include "harness_run.h"
#include "summary.h"

#define SIM_TIME_LIMIT_MS (600 * 1000)
/* dir with every '%' doubled, for lbsim's file patterns. */
static void pattern_escape(const char *dir, char *out, size_t len) {
  size_t n = 0;
  for (const char *p = dir; *p && n + 2 < len; p++) {
    if (*p == '%')
      out[n++] = '%';
    out[n++] = *p;
  }
  out[n] = '\0';
}

/* lbsim SCENARIO --runs R --seed S --set data_frequency=1 ... (bounded):
 * runs first..first+runs-1 of the scenario (run r seeded with seed + r),
 * into dir/requests-<r>.csv, and their summary into summary_csv. */
static int run_sim(const struct lb_harness_opts *o, const struct lb_scenario *sc,
                   const char *scenario_file, int first, int runs, const char *dir,
                   const char *summary_csv, char *err, size_t errlen) {
  char bin[LB_HARNESS_PATH_MAX], r[16], seed[32], pattern[2 * LB_HARNESS_PATH_MAX + 256];
  char summary[LB_HARNESS_PATH_MAX + 256], log[LB_HARNESS_PATH_MAX + 256];
  char escaped[2 * LB_HARNESS_PATH_MAX + 200];
  int rc = lb_harness_find_binary(o->bin_dir, "lbsim", bin, sizeof(bin), err, errlen);
  if (rc < 0)
    return rc;
  snprintf(r, sizeof(r), "%d", runs);
  snprintf(seed, sizeof(seed), "%llu", (unsigned long long)sc->seed + (unsigned long long)first);
  pattern_escape(dir, escaped, sizeof(escaped));
  if (first == 0)
    snprintf(pattern, sizeof(pattern), "%s/requests-%%r.csv", escaped);
  else /* one run at a time: its own number */
    snprintf(pattern, sizeof(pattern), "%s/requests-%d.csv", escaped, first);
  snprintf(summary, sizeof(summary), "%s", summary_csv);
  snprintf(log, sizeof(log), "%s/lbsim.log", dir);
  char *argv[] = {
      bin,       (char *)scenario_file,       "--runs",         r,       "--seed",         seed,
      "--set",   "data_frequency=1",          "--summary-csv",  summary, "--requests-csv", pattern,
      "--quiet", o->fleet ? "--fleet" : NULL, (char *)o->fleet, NULL};
  char what[LB_HARNESS_PATH_MAX + 16];
  snprintf(what, sizeof(what), "lbsim on %s", scenario_file);
  return lb_harness_run_to_end(argv, log, what, SIM_TIME_LIMIT_MS, err, errlen);
}

/* The simulated side: lbsim on the runs the real side has (run_ids, or
 * 0..runs-1), or the --sim-csv rows. */
static int sim_side(struct lb_harness_compare *cmp, struct lb_harness_scenario_cmp *c,
                    const char *scenario_file, const char *simdir, const int *run_ids, int runs,
                    char *err, size_t errlen) {
  const struct lb_harness_opts *o = &cmp->opts;
  char csv[LB_HARNESS_PATH_MAX + 224], summary[LB_HARNESS_PATH_MAX + 224];
  int rc;
  if (cmp->sim_csv[0]) {
    rc = lb_harness_side_add_summary_csv(&c->sim, cmp->sim_csv, c->sc.name, err, errlen);
    if (rc < 0)
      return rc;
    if (rc == 0) {
      snprintf(err, errlen, "--sim-csv %s: no row with algorithm '%s'", cmp->sim_csv, c->sc.name);
      return -ENOENT;
    }
    return 0;
  }
  bool contiguous = true; /* runs 0..runs-1: one lbsim */
  for (int k = 0; k < runs; k++)
    if (run_ids[k] != k)
      contiguous = false;
  if (o->progress && o->log)
    fprintf(o->log, "%s: simulating %d run(s) with lbsim\n", c->sc.name, runs);
  for (int k = 0; k < runs; k++) {
    if (!contiguous || k == 0) {
      if (contiguous)
        snprintf(summary, sizeof(summary), "%s/summary.csv", simdir);
      else
        snprintf(summary, sizeof(summary), "%s/summary-%d.csv", simdir, run_ids[k]);
      if ((rc = run_sim(o, &c->sc, scenario_file, run_ids[k], contiguous ? runs : 1, simdir,
                        summary, err, errlen)) < 0)
        return rc;
    }
    snprintf(csv, sizeof(csv), "%s/requests-%d.csv", simdir, run_ids[k]);
    if ((rc = lb_harness_side_add_requests(&c->sim, csv, err, errlen)) < 0)
      return rc;
    if (!contiguous)
      lb_harness_side_counts_from_summary(&c->sim, summary, k);
  }
  if (contiguous)
    lb_harness_side_counts_from_summary(&c->sim, summary, 0);
  return 0;
}

/* One scenario: both sides, in out/<name>/. */
static int compare_one(struct lb_harness_compare *cmp, const char *path, bool one_scenario,
                       struct lb_harness_scenario_cmp *c, char *err, size_t errlen) {
  const struct lb_harness_opts *o = &cmp->opts;
  char dir[LB_HARNESS_PATH_MAX + 160], simdir[LB_HARNESS_PATH_MAX + 176];
  char file[LB_HARNESS_PATH_MAX + 192], serr[512];
  struct lb_harness_real_logs logs;
  int *run_ids = NULL, rc;
  memset(&logs, 0, sizeof(logs));
  if ((rc = lb_harness_scenario_load_opts(path, o, true, &c->sc, err, errlen)) < 0)
    return rc;
  int runs = c->sc.runs > 0 ? c->sc.runs : 1;
  /* Logs collected elsewhere: the runs are what they hold. */
  if (cmp->real_csv || cmp->real_dir) {
    rc = cmp->real_csv ? lb_harness_real_logs_from_list(cmp->real_csv, &logs, err, errlen)
                       : lb_harness_real_logs_from_dir(cmp->real_dir, c->sc.name, one_scenario,
                                                       &logs, err, errlen);
    if (rc < 0)
      return rc;
    runs = (int)logs.n;
    c->real_from_logs = true;
    snprintf(c->real_source, sizeof(c->real_source), "%s", logs.where);
  }
  run_ids = calloc((size_t)runs + 1, sizeof(int));
  if (!run_ids) {
    rc = -ENOMEM;
    goto done;
  }
  for (int k = 0; k < runs; k++)
    run_ids[k] = c->real_from_logs ? logs.runs[k].run : k;
  snprintf(dir, sizeof(dir), "%s/%s", o->out_dir, c->sc.name);
  snprintf(simdir, sizeof(simdir), "%s/sim", dir);
  if ((rc = lb_harness_mkdirs(simdir)) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", simdir, strerror(-rc));
    goto done;
  }
  snprintf(file, sizeof(file), "%s/scenario.yaml", dir);
  FILE *f = fopen(file, "w");
  if (!f || lb_scenario_write(&c->sc, f) < 0 || fclose(f) != 0) {
    snprintf(err, errlen, "cannot write %s", file);
    rc = -EIO;
    goto done;
  }
  if ((rc = sim_side(cmp, c, file, simdir, run_ids, runs, err, errlen)) < 0)
    goto done;
  /* The real side: logs given, or a fleet per run. */
  c->real.seed_picking = cmp->seed_picking;
  for (int k = 0; k < runs; k++) {
    char rundir[LB_HARNESS_PATH_MAX + 224];
    struct lb_harness_run_result res;
    snprintf(rundir, sizeof(rundir), "%s/%s/run-%d", dir, c->real_from_logs ? "real-logs" : "real",
             run_ids[k]);
    /* The model's own timeouts (a partition, a kill, a bounded timeout)
     * do not make the real run unfit to compare with it. */
    long expected =
        c->sim.timed_out && k < c->sim.nruns && c->sim.timed_out[k] > 0 ? c->sim.timed_out[k] : 0;
    if (c->real_from_logs)
      rc = lb_harness_real_logs_load_run(&c->sc, &logs.runs[k], rundir, expected, &res, err,
                                         errlen);
    else {
      struct lb_harness_opts ro = *o;
      ro.expected_timed_out = expected;
      rc = lb_harness_run_one(&ro, &c->sc, k, rundir, &res, err, errlen);
    }
    if (rc < 0)
      goto done;
    if ((rc = lb_harness_side_add_requests(&c->real, res.requests_csv, serr, sizeof(serr))) < 0) {
      snprintf(err, errlen, "%s", serr);
      goto done;
    }
    lb_harness_side_set_health(&c->real, c->real.nruns - 1, &res);
  }
  if (c->real_from_logs) { /* run numbers as the logs have them */
    for (int s = 0; s < 2; s++) {
      struct lb_harness_side *side = s ? &c->real : &c->sim;
      if (side->nruns != runs || (s == 0 && cmp->sim_csv[0]))
        continue;
      side->run_ids = malloc((size_t)runs * sizeof(int));
      if (side->run_ids)
        memcpy(side->run_ids, run_ids, (size_t)runs * sizeof(int));
    }
  }
  lb_harness_side_finish(&c->sim);
  lb_harness_side_finish(&c->real);
  lb_harness_compare_decide(&cmp->tol, c);
  rc = 0;
done:
  free(run_ids);
  lb_harness_real_logs_free(&logs);
  return rc;
}

#define OUT_MARKER ".lbharness-compare"

/* Entries of dir other than ., .. and the marker; -errno when it cannot be
 * read. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return -errno;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, OUT_MARKER))
      n++;
  closedir(d);
  return n;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  if (ftw->level == 0)
    return 0; /* the folder itself stays */
  return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -errno;
}

int lb_harness_compare_prepare_out(const char *dir, bool force, char *err, size_t errlen) {
  char path[LB_HARNESS_PATH_MAX + 32];
  int rc = lb_harness_mkdirs(dir);
  if (rc < 0) {
    snprintf(err, errlen, "--out %s: %s", dir, strerror(-rc));
    return rc;
  }
  if ((rc = count_entries(dir)) < 0) {
    snprintf(err, errlen, "--out %s: %s", dir, strerror(-rc));
    return rc;
  }
  if (rc > 0) {
    if (!force) {
      snprintf(err, errlen,
               "--out %s: the folder is not empty (an earlier report?); one report per folder: "
               "give a new --out, or --force to replace what an earlier compare wrote there",
               dir);
      return -EEXIST;
    }
    char report[LB_HARNESS_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/" OUT_MARKER, dir);
    snprintf(report, sizeof(report), "%s/report.html", dir);
    if (access(path, F_OK) != 0 && access(report, F_OK) != 0) {
      snprintf(err, errlen,
               "--out %s --force: the folder holds files that lbharness compare did not write "
               "(no report.html or " OUT_MARKER " in it): remove them yourself or give another "
               "--out",
               dir);
      return -EEXIST;
    }
    if ((rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS)) != 0) {
      rc = rc < 0 ? rc : -EIO;
      snprintf(err, errlen, "--out %s --force: cannot empty the folder: %s", dir, strerror(-rc));
      return rc;
    }
  }
  snprintf(path, sizeof(path), "%s/" OUT_MARKER, dir);
  FILE *f = fopen(path, "w");
  if (!f || fputs("lbharness compare wrote this folder; --force may empty it\n", f) < 0 ||
      fclose(f) != 0) {
    snprintf(err, errlen, "--out %s: cannot write %s", dir, path);
    return -EIO;
  }
  return 0;
}

int lb_harness_compare_main(struct lb_harness_compare *cmp, char *const *scenarios, int nscenarios,
                            FILE *out, char *err, size_t errlen) {
  int rc = 0, failed = 0;
  cmp->items = calloc((size_t)nscenarios, sizeof(*cmp->items));
  if (!cmp->items)
    return -ENOMEM;
  for (int i = 0; i < nscenarios; i++) {
    struct lb_harness_scenario_cmp *c = &cmp->items[cmp->n];
    rc = compare_one(cmp, scenarios[i], nscenarios == 1, c, err, errlen);
    if (rc < 0) {
      /* A scenario that failed is left out; the others still count. */
      lb_harness_side_close(&c->sim);
      lb_harness_side_close(&c->real);
      memset(c, 0, sizeof(*c));
      if (lb_harness_stop_signal || rc == -ENOTSUP)
        return rc; /* interrupted, or netem went missing: nothing more can run */
      if (cmp->opts.log && strstr(err, scenarios[i]))
        fprintf(cmp->opts.log, "lbharness: %s (scenario left out)\n", err);
      else if (cmp->opts.log)
        fprintf(cmp->opts.log, "lbharness: %s: %s (scenario left out)\n", scenarios[i], err);
      failed++;
      continue;
    }
    cmp->n++;
    lb_harness_compare_print_scenario(out, cmp, c);
    fflush(out);
  }
  if (cmp->n == 0) {
    snprintf(err, errlen, "no scenario could be compared");
    return -ECHILD;
  }
  cmp->spearman_mean_latency = lb_harness_compare_rank_correlation(cmp);
  if ((rc = lb_harness_report_write(cmp, cmp->opts.out_dir, err, errlen)) < 0)
    return rc;
  lb_harness_compare_print_summary(out, cmp);
  fprintf(out, "\nreport: %s/report.html\n", cmp->opts.out_dir);
  if (failed) {
    snprintf(err, errlen, "%d of %d scenarios failed and are left out", failed, nscenarios);
    return -ECHILD;
  }
  return 0;
}

void lb_harness_compare_close(struct lb_harness_compare *cmp) {
  for (int i = 0; i < cmp->n; i++) {
    lb_harness_side_close(&cmp->items[i].sim);
    lb_harness_side_close(&cmp->items[i].real);
  }
  free(cmp->items);
  cmp->items = NULL;
  cmp->n = 0;
}
