/* sim_cli: lbsim's options, scenario loading, the run queue and output. */
#include "sim_cli.h"

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "expr.h"
#include "number.h"
#include "reqlog.h"
#include "scenario.h"
#include "sim_engine.h"
#include "pick_plan.h"
#include "sim_score.h"
#include "summary.h"

#define MAX_JOBS_THREADS 256

/* snprintf without -Wformat-truncation's guesses: every caller's text may
 * be cut at len, which is what we want for messages and is checked for
 * paths. */
__attribute__((format(printf, 3, 4))) static int fmt(char *buf, size_t len, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = vsnprintf(buf, len, f, ap);
  va_end(ap);
  return n;
}

#define CLI_OF(dest, field) ((struct sim_cli *)((char *)(dest) - offsetof(struct sim_cli, field)))

static int parse_seed(const char *text, void *dest, char *err, size_t errlen) {
  struct sim_cli *cli = CLI_OF(dest, seed);
  if (lb_number_uint64(text, &cli->seed) < 0) {
    fmt(err, errlen, "--seed %s: expected a non-negative integer", text);
    return -EINVAL;
  }
  cli->have_seed = true;
  return 0;
}

static int parse_set(const char *text, void *dest, char *err, size_t errlen) {
  struct sim_cli *cli = CLI_OF(dest, sets);
  if (strchr(text, '=') == NULL || text[0] == '=') {
    fmt(err, errlen, "--set %s: expected FIELD=VALUE", text);
    return -EINVAL;
  }
  if (cli->nsets == SIM_CLI_MAX_SETS) {
    fmt(err, errlen, "--set: at most %d of them", SIM_CLI_MAX_SETS);
    return -EINVAL;
  }
  cli->sets[cli->nsets++] = text;
  return 0;
}

#define AT(f) offsetof(struct sim_cli, f)
static const struct lb_cli_option options[] = {
    {.name = "runs", .kind = LB_CLI_INT, .off = AT(runs), .metavar = "R", .min = 1,
     .max = 1000000, .help = "runs per scenario (default: the scenario's `runs`)"},
    {.name = "seed", .kind = LB_CLI_CUSTOM, .off = AT(seed), .metavar = "S", .parse = parse_seed,
     .help = "run r is seeded with S + r (default: the scenario's `seed`)"},
    {.name = "jobs", .kind = LB_CLI_INT, .off = AT(jobs), .metavar = "J", .min = 1,
     .max = MAX_JOBS_THREADS,
     .help = "runs on J threads; output is the same whatever J (default 1)"},
    {.name = "set", .kind = LB_CLI_CUSTOM, .off = AT(sets), .metavar = "FIELD=VALUE",
     .parse = parse_set, .help = "override a scenario field (repeatable, applied in order)"},
    {.name = "summary-csv", .kind = LB_CLI_STRING, .off = AT(summary_csv), .metavar = "FILE",
     .help = "summary rows to FILE ('-' = stdout, the default)"},
    {.name = "requests-csv", .kind = LB_CLI_STRING, .off = AT(requests_csv), .metavar = "PAT",
     .help = "per-request records (seed columns) to PAT, where %s is the\n"
             "scenario name, %r the run and %% a '%'"},
    {.name = "arrivals-out", .kind = LB_CLI_STRING, .off = AT(arrivals_out), .metavar = "PAT",
     .help = "each run's arrival trace (tick,client) to PAT, as above"},
    {.name = "fleet", .kind = LB_CLI_STRING, .off = AT(fleet), .metavar = "FILE",
     .help = "run on the fleets of FILE instead of drawing them: run r\n"
             "takes fleet r mod F of its F (servers' parameters, subsets,\n"
             "channel means; format in common/fleet_file.h)"},
    {.name = "fleet-out", .kind = LB_CLI_STRING, .off = AT(fleet_out), .metavar = "PAT",
     .help = "each run's fleet as made, in that format, to PAT (as above)"},
    {.name = "all", .kind = LB_CLI_FLAG, .off = AT(all),
     .help = "run every scenario of the catalog (scenarios/*.yaml)"},
    {.name = "catalog", .kind = LB_CLI_STRING, .off = AT(catalog), .metavar = "DIR",
     .help = "the catalog (default: $LB_SOURCE_DIR/scenarios, else the\n"
             "source tree lbsim was built from)"},
    {.name = "score", .kind = LB_CLI_FLAG, .off = AT(score),
     .help = "print the seed's quintile scoring table across the\n"
             "scenarios (summary rows then only with --summary-csv)"},
    {.name = "list-pickers", .kind = LB_CLI_FLAG, .off = AT(list_pickers),
     .help = "print every picker and cost expression, then exit"},
    {.name = "no-send-time-probes", .kind = LB_CLI_FLAG, .off = AT(no_split),
     .help = "run a top-level probing() inside the picker at the\n"
             "client's tick, not at send time as the seed's WithProbes"},
    {.name = "quiet", .short_flag = 'q', .kind = LB_CLI_FLAG, .off = AT(quiet),
     .help = "no progress lines on stderr"},
    {.name = "help", .short_flag = 'h', .kind = LB_CLI_FLAG, .off = AT(help), .help = "this text"},
    {.name = NULL},
};

void sim_cli_usage(FILE *f) {
  fputs("usage: lbsim SCENARIO... [options]\n"
        "Runs the seed's tick simulator on scenario files (or names from the catalog)\n"
        "and prints the seed's runTest summary, one CSV row per run.\n"
        "\n",
        f);
  lb_cli_usage(options, f);
}

int sim_cli_parse(int argc, char **argv, struct sim_cli *cli, char *err, size_t errlen) {
  memset(cli, 0, sizeof(*cli));
  cli->jobs = 1;
  int first = argc;
  int rc = lb_cli_parse(options, argc, argv, cli, &first, err, errlen);
  if (rc < 0)
    return rc;
  /* getopt_long moved the operands (scenarios) to the end. */
  cli->scenarios = calloc((size_t)argc + 1, sizeof(char *));
  if (cli->scenarios == NULL)
    return -ENOMEM;
  while (first < argc)
    cli->scenarios[cli->nscenarios++] = argv[first++];
  return 0;
}

int sim_cli_expand(const char *pattern, const char *scenario, int run, char *out, size_t outlen) {
  size_t n = 0;
  char num[32];
  for (const char *p = pattern; *p; p++) {
    const char *piece = NULL;
    char one[2] = {*p, '\0'};
    if (*p == '%' && p[1] == 's') {
      piece = scenario;
      p++;
    } else if (*p == '%' && p[1] == 'r') {
      fmt(num, sizeof(num), "%d", run);
      piece = num;
      p++;
    } else if (*p == '%' && p[1] == '%') {
      piece = "%";
      p++;
    } else {
      piece = one;
    }
    size_t k = strlen(piece);
    if (n + k >= outlen)
      return -ENAMETOOLONG;
    memcpy(out + n, piece, k);
    n += k;
  }
  out[n] = '\0';
  return 0;
}

/* ---- scenarios ---- */

struct loaded {
  struct lb_scenario sc;
  struct lb_pick_plan plan;
  bool plan_ready;
  int runs;
  const struct lb_fleet_file *fleets; /* --fleet, or NULL */
};

static void catalog_dir(const struct sim_cli *cli, char *buf, size_t len) {
  if (cli->catalog != NULL) {
    fmt(buf, len, "%s", cli->catalog);
    return;
  }
  const char *env = getenv("LB_SOURCE_DIR");
  if (env != NULL && env[0] != '\0') {
    fmt(buf, len, "%s/scenarios", env);
    return;
  }
#ifdef LB_SIM_SOURCE_DIR
  fmt(buf, len, "%s/scenarios", LB_SIM_SOURCE_DIR);
#else
  fmt(buf, len, "scenarios");
#endif
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A path as given, else NAME or NAME.yaml in the catalog; false (with a
 * message in err) when it is none of them. */
static bool resolve(const struct sim_cli *cli, const char *arg, char *path, size_t len,
                    char *err, size_t errlen) {
  if (is_file(arg) || strchr(arg, '/') != NULL) {
    fmt(path, len, "%s", arg);
    return true;
  }
  char dir[PATH_MAX];
  catalog_dir(cli, dir, sizeof(dir));
  fmt(path, len, "%s/%s", dir, arg);
  if (is_file(path))
    return true;
  fmt(path, len, "%s/%s.yaml", dir, arg);
  if (is_file(path))
    return true;
  fmt(err, errlen, "%s: no such scenario file, nor %s.yaml in the catalog %s (--catalog DIR)",
      arg, arg, dir);
  return false;
}

static int load_one(const struct sim_cli *cli, const char *path, struct loaded *l, char *err,
                    size_t errlen) {
  lb_scenario_defaults(&l->sc);
  int rc = lb_scenario_load(path, &l->sc, err, errlen);
  if (rc < 0)
    return rc;
  for (int i = 0; i < cli->nsets; i++) {
    char field[128];
    const char *eq = strchr(cli->sets[i], '=');
    size_t fl = (size_t)(eq - cli->sets[i]);
    if (fl >= sizeof(field)) {
      fmt(err, errlen, "--set %s: no such field", cli->sets[i]);
      return -EINVAL;
    }
    memcpy(field, cli->sets[i], fl);
    field[fl] = '\0';
    char msg[1024];
    if ((rc = lb_scenario_set(&l->sc, field, eq + 1, msg, sizeof(msg))) < 0) {
      fmt(err, errlen, "%s: --set %s: %s", path, cli->sets[i], msg);
      return rc;
    }
  }
  if ((rc = lb_scenario_finish(&l->sc, err, errlen)) < 0)
    return rc;
  if (cli->have_seed)
    l->sc.seed = cli->seed;
  l->runs = cli->runs > 0 ? cli->runs : (l->sc.runs > 0 ? l->sc.runs : 1);
  char origin[LB_PICKER_EXPR_MAX + LB_SCENARIO_PATH_MAX + 32], warning[512];
  lb_scenario_picker_origin(&l->sc, origin, sizeof(origin));
  if ((rc = lb_pick_plan_init(&l->plan, l->sc.picker, !cli->no_split, origin, err, errlen)) < 0)
    return rc;
  if (!cli->quiet && lb_scenario_warning(&l->sc, warning, sizeof(warning)))
    fprintf(stderr, "lbsim: warning: %s\n", warning);
  l->plan_ready = true;
  return 0;
}

static int load_all(const struct sim_cli *cli, struct loaded **out, int *nout, char *err,
                    size_t errlen) {
  int rc = 0;
  glob_t g;
  memset(&g, 0, sizeof(g));
  char dir[PATH_MAX];
  if (cli->all) {
    char pat[PATH_MAX + 16];
    catalog_dir(cli, dir, sizeof(dir));
    fmt(pat, sizeof(pat), "%s/*.yaml", dir);
    int grc = glob(pat, 0, NULL, &g);
    if (grc != 0 && grc != GLOB_NOMATCH) {
      fmt(err, errlen, "--all: cannot list %s", pat);
      return -EIO;
    }
    if (grc == GLOB_NOMATCH || g.gl_pathc == 0) {
      fmt(err, errlen, "--all: no scenarios in %s (set --catalog DIR or LB_SOURCE_DIR)",
               dir);
      globfree(&g);
      return -ENOENT;
    }
  }
  int n = cli->nscenarios + (cli->all ? (int)g.gl_pathc : 0);
  struct loaded *ls = calloc((size_t)(n > 0 ? n : 1), sizeof(*ls));
  if (ls == NULL) {
    globfree(&g);
    return -ENOMEM;
  }
  int k = 0;
  for (int i = 0; i < cli->nscenarios && rc == 0; i++, k++) {
    char path[PATH_MAX];
    if (!resolve(cli, cli->scenarios[i], path, sizeof(path), err, errlen))
      rc = -ENOENT;
    else
      rc = load_one(cli, path, &ls[k], err, errlen);
  }
  for (size_t i = 0; cli->all && i < g.gl_pathc && rc == 0; i++, k++)
    rc = load_one(cli, g.gl_pathv[i], &ls[k], err, errlen);
  globfree(&g);
  *out = ls;
  *nout = k;
  return rc;
}

static void free_loaded(struct loaded *ls, int n) {
  for (int i = 0; ls != NULL && i < n; i++)
    if (ls[i].plan_ready)
      lb_pick_plan_close(&ls[i].plan);
  free(ls);
}

/* ---- the run queue ---- */

struct job {
  int scenario, run;
  bool done;
  int rc;
  char err[1024];
  struct lb_summary summary;
  long requests, dropped;
  int ticks;
  bool cooldown_failed;
  double ms;
};

struct queue {
  const struct sim_cli *cli;
  struct loaded *ls;
  struct job *jobs;
  int njobs;
  int next;
  bool stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

static FILE *open_pattern(const char *pattern, const char *name, int run, char *err,
                          size_t errlen) {
  char path[PATH_MAX];
  if (sim_cli_expand(pattern, name, run, path, sizeof(path)) < 0) {
    fmt(err, errlen, "%s: file name too long", pattern);
    return NULL;
  }
  FILE *f = fopen(path, "w");
  if (f == NULL)
    fmt(err, errlen, "%s: cannot write: %s", path, strerror(errno));
  return f;
}

static int write_fleet(const char *pattern, const struct loaded *l, struct job *j,
                       const struct sim_run *r) {
  struct lb_fleet_spec f;
  int rc = sim_run_fleet(r, &f);
  if (rc < 0) {
    fmt(j->err, sizeof(j->err), "%s run %d: %s", l->sc.name, j->run, strerror(-rc));
    return rc;
  }
  FILE *out = open_pattern(pattern, l->sc.name, j->run, j->err, sizeof(j->err));
  if (out != NULL) /* what the lines are, for whoever opens the file */
    fprintf(out, "# lbsim --fleet-out: the fleet of one run (read back with lbsim --fleet FILE)\n"
                 "# server THREADS MEAN_PROCESSING_TIME MEAN_RTT; client SERVER:MEAN_TICKS per "
                 "channel slot\n");
  rc = out == NULL ? -EIO : lb_fleet_spec_write(&f, out);
  if (out != NULL && fclose(out) != 0)
    rc = -EIO;
  if (rc < 0 && out != NULL)
    fmt(j->err, sizeof(j->err), "%s: write failed", pattern);
  lb_fleet_spec_free(&f);
  return rc;
}

int sim_cli_format_progress(char *buf, size_t len, const struct sim_progress *p) {
  double rate = p->elapsed_s > 0 ? (double)p->requests / p->elapsed_s : 0;
  const char *unit = rate >= 1e6 ? "M" : rate >= 1e3 ? "k" : "";
  double shown = rate >= 1e6 ? rate / 1e6 : rate >= 1e3 ? rate / 1e3 : rate;
  char left[48];
  if (p->tick >= p->total_ticks)
    snprintf(left, sizeof(left), "cooling down");
  else if (p->tick > 0)
    snprintf(left, sizeof(left), "%.0f s left",
             ceil(p->elapsed_s * (p->total_ticks - p->tick) / p->tick));
  else
    snprintf(left, sizeof(left), "time left unknown");
  return snprintf(buf, len, "lbsim: %s run %d: tick %d/%d, %ld requests, %.1f%s requests/s, %s",
                  p->scenario, p->run, p->tick, p->total_ticks, p->requests, shown, unit, left);
}

/* The run's ticks, with a progress line on `progress` (a terminal) at most
 * once a second, erased at the end. */
static int execute(struct sim_run *r, const struct loaded *l, int run, FILE *progress,
                   char *err, size_t errlen) {
  if (progress == NULL)
    return sim_run_execute(r, err, errlen);
  double t0 = lb_clock_now_ms(), shown = t0;
  bool done = false, any = false;
  int rc = 0;
  while (!done && rc == 0) {
    rc = sim_run_step(r, &done, err, errlen);
    double t = lb_clock_now_ms();
    if (t - shown < 1000)
      continue;
    shown = t;
    char line[256];
    struct sim_progress p = {l->sc.name, run, sim_run_tick(r), l->sc.total_ticks,
                             sim_run_requests(r), (t - t0) / 1000};
    sim_cli_format_progress(line, sizeof(line), &p);
    fprintf(progress, "\r%s\033[K", line);
    fflush(progress);
    any = true;
  }
  if (any)
    fprintf(progress, "\r\033[K");
  return rc;
}

static void run_job(const struct sim_cli *cli, const struct loaded *l, struct job *j,
                    FILE *progress) {
  struct sim_run *r = NULL;
  FILE *rf = NULL, *af = NULL;
  double t0 = lb_clock_now_ms();
  /* Only a written trace needs the whole of it at once. */
  struct sim_options opt = {.plan = &l->plan, .stream_arrivals = cli->arrivals_out == NULL};
  if (l->fleets != NULL)
    opt.fleet = &l->fleets->fleets[(size_t)j->run % l->fleets->n];
  j->rc = 0;
  if (cli->requests_csv != NULL) {
    rf = open_pattern(cli->requests_csv, l->sc.name, j->run, j->err, sizeof(j->err));
    if (rf == NULL) {
      j->rc = -EIO;
      goto out;
    }
    lb_reqlog_write_header(rf);
    opt.requests_csv = rf;
  }
  if ((j->rc = sim_run_new(&l->sc, j->run, &opt, &r, j->err, sizeof(j->err))) < 0)
    goto out;
  if (cli->arrivals_out != NULL) {
    af = open_pattern(cli->arrivals_out, l->sc.name, j->run, j->err, sizeof(j->err));
    if (af == NULL || lb_arrivals_write(sim_run_arrivals(r), af) < 0) {
      if (af != NULL)
        fmt(j->err, sizeof(j->err), "%s: cannot write the arrival trace", cli->arrivals_out);
      j->rc = -EIO;
      goto out;
    }
  }
  if (cli->fleet_out != NULL && (j->rc = write_fleet(cli->fleet_out, l, j, r)) < 0)
    goto out;
  if ((j->rc = execute(r, l, j->run, progress, j->err, sizeof(j->err))) < 0)
    goto out;
  if ((j->rc = sim_run_summary(r, &j->summary)) < 0) {
    fmt(j->err, sizeof(j->err), "%s run %d: cannot summarize: %s", l->sc.name, j->run,
             strerror(-j->rc));
    goto out;
  }
  j->requests = sim_run_requests(r);
  j->ticks = sim_run_tick(r);
  j->dropped = sim_run_dropped_arrivals(r);
  j->cooldown_failed = sim_run_cooldown_failed(r);
out:
  sim_run_free(r);
  if (rf != NULL && fclose(rf) != 0 && j->rc == 0) {
    fmt(j->err, sizeof(j->err), "%s: write failed", cli->requests_csv);
    j->rc = -EIO;
  }
  if (af != NULL && fclose(af) != 0 && j->rc == 0) {
    fmt(j->err, sizeof(j->err), "%s: write failed", cli->arrivals_out);
    j->rc = -EIO;
  }
  j->ms = lb_clock_now_ms() - t0;
}

static void *worker(void *arg) {
  struct queue *q = arg;
  for (;;) {
    pthread_mutex_lock(&q->mu);
    if (q->stop || q->next >= q->njobs) {
      pthread_mutex_unlock(&q->mu);
      return NULL;
    }
    struct job *j = &q->jobs[q->next++];
    pthread_mutex_unlock(&q->mu);
    run_job(q->cli, &q->ls[j->scenario], j, NULL);
    pthread_mutex_lock(&q->mu);
    j->done = true;
    if (j->rc < 0)
      q->stop = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
  }
}

/* Pattern outputs must not collide between runs. */
static int check_pattern(const char *opt, const char *pattern, int nscen, int maxruns, char *err,
                         size_t errlen) {
  if (pattern == NULL)
    return 0;
  if ((nscen > 1 && strstr(pattern, "%s") == NULL) ||
      (maxruns > 1 && strstr(pattern, "%r") == NULL)) {
    fmt(err, errlen, "%s %s: with %d scenarios and up to %d runs the name needs %s", opt,
             pattern, nscen, maxruns, nscen > 1 && maxruns > 1 ? "%s and %r" : nscen > 1 ? "%s" : "%r");
    return -EINVAL;
  }
  return 0;
}

static int score(const struct loaded *ls, int n, const struct job *jobs, FILE *out, FILE *errf) {
  struct sim_score_row *rows = calloc((size_t)n, sizeof(*rows));
  const struct lb_summary **runs = calloc((size_t)n, sizeof(*runs));
  struct lb_summary *flat = NULL;
  int *nruns = calloc((size_t)n, sizeof(*nruns));
  int total = 0, single = 0;
  for (int i = 0; i < n; i++)
    total += ls[i].runs;
  flat = calloc((size_t)total, sizeof(*flat));
  if (rows == NULL || runs == NULL || nruns == NULL || flat == NULL) {
    free(rows);
    free(runs);
    free(nruns);
    free(flat);
    return -ENOMEM;
  }
  /* Jobs are scenario-major: scenario k's runs are consecutive. */
  for (int j = 0; j < total; j++)
    flat[j] = jobs[j].summary;
  for (int k = 0, at = 0; k < n; k++) {
    runs[k] = &flat[at];
    rows[k].algorithm = ls[k].sc.name;
    nruns[k] = ls[k].runs;
    at += ls[k].runs;
    single += ls[k].runs < 2;
  }
  if (single > 0)
    fprintf(errf, "lbsim: --score: %d scenario(s) with one run: their stdev across runs is "
                  "taken as 0 (the seed used 6 runs)\n", single);
  sim_score_compute(rows, runs, nruns, n);
  sim_score_print(out, rows, n);
  free(rows);
  free(runs);
  free(nruns);
  free(flat);
  return 0;
}

int sim_cli_run(const struct sim_cli *cli, FILE *out, FILE *errf) {
  char err[2048] = "";
  int status = 0;
  struct loaded *ls = NULL;
  int n = 0;
  struct job *jobs = NULL;
  FILE *sf = NULL;
  pthread_t threads[MAX_JOBS_THREADS];
  int nthreads = 0;
  struct lb_fleet_file fleets = {0};

  if (cli->help) {
    sim_cli_usage(out);
    return 0;
  }
  if (cli->list_pickers) {
    lb_picker_registry_print(out);
    return 0;
  }
  if (cli->nscenarios == 0 && !cli->all) {
    fprintf(errf, "lbsim: name at least one scenario file, or --all (try --help)\n");
    return 2;
  }
  if (load_all(cli, &ls, &n, err, sizeof(err)) < 0) {
    fprintf(errf, "lbsim: %s\n", err);
    free_loaded(ls, n);
    return 1;
  }
  if (cli->fleet != NULL) {
    if (lb_fleet_file_load(cli->fleet, &fleets, err, sizeof(err)) < 0) {
      fprintf(errf, "lbsim: %s\n", err);
      status = 1;
      goto done;
    }
    for (int i = 0; i < n; i++) {
      for (size_t f = 0; f < fleets.n; f++)
        if (lb_fleet_spec_check(&fleets.fleets[f], &ls[i].sc, err, sizeof(err)) < 0) {
          fprintf(errf, "lbsim: %s:%zu: %s\n", cli->fleet, fleets.fleets[f].line, err);
          status = 1;
          goto done;
        }
      ls[i].fleets = &fleets;
    }
  }
  int njobs = 0, maxruns = 0;
  for (int i = 0; i < n; i++) {
    njobs += ls[i].runs;
    if (ls[i].runs > maxruns)
      maxruns = ls[i].runs;
  }
  if (check_pattern("--requests-csv", cli->requests_csv, n, maxruns, err, sizeof(err)) < 0 ||
      check_pattern("--arrivals-out", cli->arrivals_out, n, maxruns, err, sizeof(err)) < 0 ||
      check_pattern("--fleet-out", cli->fleet_out, n, maxruns, err, sizeof(err)) < 0) {
    fprintf(errf, "lbsim: %s\n", err);
    status = 2;
    goto done;
  }
  jobs = calloc((size_t)njobs, sizeof(*jobs));
  if (jobs == NULL) {
    status = 1;
    goto done;
  }
  for (int i = 0, k = 0; i < n; i++)
    for (int r = 0; r < ls[i].runs; r++, k++) {
      jobs[k].scenario = i;
      jobs[k].run = r;
    }
  const char *spath = cli->summary_csv;
  if (spath == NULL && !cli->score)
    spath = "-";
  if (spath != NULL) {
    if (strcmp(spath, "-") == 0) {
      sf = out;
    } else if ((sf = fopen(spath, "w")) == NULL) {
      fprintf(errf, "lbsim: %s: cannot write: %s\n", spath, strerror(errno));
      status = 1;
      goto done;
    }
    lb_summary_write_header(sf);
  }

  struct queue q = {.cli = cli, .ls = ls, .jobs = jobs, .njobs = njobs};
  pthread_mutex_init(&q.mu, NULL);
  pthread_cond_init(&q.cv, NULL);
  int want = cli->jobs < njobs ? cli->jobs : njobs;
  if (want > 1) {
    for (int t = 0; t < want; t++) {
      if (pthread_create(&threads[nthreads], NULL, worker, &q) != 0)
        break;
      nthreads++;
    }
  }
  bool progress = !cli->quiet && njobs > 1;
  /* A run's own progress: one at a time, on a terminal. */
  FILE *ticking = !cli->quiet && nthreads == 0 && isatty(fileno(errf)) ? errf : NULL;
  for (int k = 0; k < njobs; k++) {
    struct job *j = &jobs[k];
    if (nthreads == 0) {
      if (q.stop)
        break;
      run_job(cli, &ls[j->scenario], j, ticking);
      j->done = true;
      q.stop = j->rc < 0;
    } else {
      pthread_mutex_lock(&q.mu);
      while (!j->done && !(q.stop && q.next <= k))
        pthread_cond_wait(&q.cv, &q.mu);
      bool done = j->done;
      pthread_mutex_unlock(&q.mu);
      if (!done)
        break;
    }
    const struct loaded *l = &ls[j->scenario];
    if (j->rc < 0) {
      fprintf(errf, "lbsim: %s\n", j->err);
      status = 1;
      break;
    }
    uint64_t seed = l->sc.seed + (uint64_t)j->run;
    if (sf != NULL) {
      lb_summary_write_row(sf, l->sc.name, j->run, (unsigned long long)seed, &j->summary);
      fflush(sf);
    }
    if (l->fleets != NULL && !cli->quiet) {
      const struct lb_fleet_spec *f = &l->fleets->fleets[(size_t)j->run % l->fleets->n];
      fprintf(errf, "lbsim: %s run %d: fleet %zu of %zu in %s (line %zu%s%s)\n", l->sc.name,
              j->run, (size_t)j->run % l->fleets->n + 1, l->fleets->n, cli->fleet, f->line,
              f->label[0] ? ": " : "", f->label);
    }
    if (j->cooldown_failed)
      fprintf(errf, "lbsim: %s run %d: cooldown failed, there are still requests in flight\n",
              l->sc.name, j->run);
    if (j->dropped > 0)
      fprintf(errf, "lbsim: %s run %d: %ld arrivals outside the run's ticks or clients were "
                    "not sent\n", l->sc.name, j->run, j->dropped);
    if (progress)
      fprintf(errf,
              "lbsim: [%d/%d] %s run %d (seed %" PRIu64 "): %ld requests, %d ticks, %.1f ms\n",
              k + 1, njobs, l->sc.name, j->run, seed, j->requests, j->ticks, j->ms);
  }
  for (int t = 0; t < nthreads; t++)
    pthread_join(threads[t], NULL);
  pthread_mutex_destroy(&q.mu);
  pthread_cond_destroy(&q.cv);
  if (status == 0 && cli->score && score(ls, n, jobs, out, errf) < 0)
    status = 1;
done:
  if (sf != NULL && sf != out && fclose(sf) != 0 && status == 0) {
    fprintf(errf, "lbsim: %s: write failed\n", cli->summary_csv);
    status = 1;
  }
  free(jobs);
  free_loaded(ls, n);
  lb_fleet_file_close(&fleets);
  return status;
}

int sim_cli_main(int argc, char **argv) {
  struct sim_cli cli;
  char err[1024];
  if (sim_cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
    fprintf(stderr, "lbsim: %s\n", err);
    free(cli.scenarios);
    return 2;
  }
  int status = sim_cli_run(&cli, stdout, stderr);
  free(cli.scenarios);
  if (fflush(stdout) != 0 && status == 0)
    status = 1;
  return status;
}
