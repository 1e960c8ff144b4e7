/* harness_sweep: the load sweep's loop, its CSV and its command line. */
#include "harness_sweep.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "csv.h"
#include "errbuf.h"
#include "expr.h"
#include "harness_compare.h"
#include "harness_proc.h"
#include "harness_stats.h"
#include "number.h"
#include "summary.h"

#define SIM_TIME_LIMIT_MS (600 * 1000)
#define MAX_SETS 64

static struct lb_sweep_cell *cell(const struct lb_sweep *s, int load, int picker, int side) {
  return &s->cells[((size_t)load * (size_t)s->npickers + (size_t)picker) * 2 + (size_t)side];
}

int lb_sweep_parse_loads(struct lb_sweep *s, const char *text, char *err, size_t errlen) {
  double from, to, step;
  char tail;
  if (sscanf(text, "%lf:%lf:%lf%c", &from, &to, &step, &tail) != 3 || !(from > 0) ||
      !(step > 0) || !(to >= from) || to > 10) {
    snprintf(err, errlen,
             "--loads: expected FROM:TO:STEP with 0 < FROM <= TO <= 10 and STEP > 0 "
             "(multiples of capacity), got '%s'",
             text);
    return -EINVAL;
  }
  double k = floor((to - from) / step + 1e-9);
  if (k + 1 > LB_SWEEP_MAX_LOADS) {
    snprintf(err, errlen, "--loads '%s': %.0f loads, at most %d", text, k + 1,
             LB_SWEEP_MAX_LOADS);
    return -EINVAL;
  }
  s->nloads = (int)k + 1;
  for (int i = 0; i < s->nloads; i++)
    s->loads[i] = round((from + step * i) * 1e9) / 1e9; /* 0.1 * 3 prints as 0.3 */
  return 0;
}

double lb_sweep_cell_mean(const struct lb_sweep_cell *c, enum lb_sweep_metric m) {
  if (c->n == 0)
    return NAN;
  double sum = 0;
  for (int r = 0; r < c->n; r++)
    sum += c->v[r][m];
  return sum / c->n;
}

double lb_sweep_spearman(const struct lb_sweep *s, int load) {
  double x[LB_SWEEP_MAX_PICKERS], y[LB_SWEEP_MAX_PICKERS];
  size_t n = 0;
  for (int p = 0; p < s->npickers; p++) {
    double a = lb_sweep_cell_mean(cell(s, load, p, 0), LB_SW_P99);
    double b = lb_sweep_cell_mean(cell(s, load, p, 1), LB_SW_P99);
    if (isnan(a) || isnan(b))
      continue;
    x[n] = a;
    y[n++] = b;
  }
  return n < 2 ? NAN : lb_harness_spearman(x, y, n);
}

static void add_run(struct lb_sweep_cell *c, const double *m5) {
  if (c->n >= (int)(sizeof(c->v) / sizeof(c->v[0])))
    return;
  memcpy(c->v[c->n++], m5, LB_SW_COUNT * sizeof(double));
}

static void quote_csv(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* lbsim SCENARIO --runs N --set picker=P --set target_utilization=L ...
 * into csv (summary rows), bounded in time. */
static int run_lbsim(const struct lb_sweep *s, const char *picker, double load, const char *csv,
                     const char *log, char *err, size_t errlen) {
  char bin[LB_HARNESS_PATH_MAX];
  int rc = lb_harness_find_binary(s->opts.bin_dir, "lbsim", bin, sizeof(bin), err, errlen);
  if (rc < 0)
    return rc;
  char runs[16], jobs[16], pick[LB_PICKER_EXPR_MAX + 16], util[64];
  snprintf(runs, sizeof(runs), "%d", s->runs);
  snprintf(jobs, sizeof(jobs), "%d", s->jobs);
  snprintf(pick, sizeof(pick), "picker=%s", picker);
  snprintf(util, sizeof(util), "target_utilization=%.9g", load);
  char *argv[16 + 2 * MAX_SETS];
  int k = 0;
  argv[k++] = bin;
  argv[k++] = (char *)s->scenario;
  argv[k++] = "--runs";
  argv[k++] = runs;
  argv[k++] = "--jobs";
  argv[k++] = jobs;
  for (int i = 0; i < s->opts.nsets && i < MAX_SETS; i++) {
    argv[k++] = "--set";
    argv[k++] = s->opts.sets[i];
  }
  argv[k++] = "--set";
  argv[k++] = pick;
  argv[k++] = "--set";
  argv[k++] = "rate_probes_per_request=0"; /* one request rate for every picker */
  argv[k++] = "--set";
  argv[k++] = util;
  argv[k++] = "--summary-csv";
  argv[k++] = (char *)csv;
  argv[k++] = "--quiet";
  argv[k] = NULL;
  char what[160];
  snprintf(what, sizeof(what), "lbsim with picker '%.100s' at load %g", picker, load);
  return lb_harness_run_to_end(argv, log, what, SIM_TIME_LIMIT_MS, err, errlen);
}

/* The simulated side of one cell: lbsim, then its summary rows into the
 * cell and into sweep.csv. */
static int sim_cell(struct lb_sweep *s, int l, int p, FILE *out, char *err, size_t errlen) {
  char csv[LB_HARNESS_PATH_MAX + 64], log[LB_HARNESS_PATH_MAX + 64];
  snprintf(csv, sizeof(csv), "%s/sim/load%d-picker%d.csv", s->opts.out_dir, l, p);
  snprintf(log, sizeof(log), "%s/sim/load%d-picker%d.log", s->opts.out_dir, l, p);
  int rc = run_lbsim(s, s->pickers[p], s->loads[l], csv, log, err, errlen);
  if (rc < 0)
    return rc;
  struct lb_harness_side side;
  memset(&side, 0, sizeof(side));
  rc = lb_harness_side_add_summary_csv(&side, csv, s->name, err, errlen);
  if (rc < 0) {
    lb_harness_side_close(&side);
    return rc;
  }
  struct lb_sweep_cell *c = cell(s, l, p, 0);
  for (int r = 0; r < side.nruns; r++) {
    double m[LB_SW_COUNT] = {side.runs[r][LB_HM_MEAN_LATENCY], side.runs[r][LB_HM_P50_LATENCY],
                             side.runs[r][LB_HM_P99_LATENCY], side.runs[r][LB_HM_P999_LATENCY],
                             NAN};
    add_run(c, m);
  }
  lb_harness_side_close(&side);
  /* the rows as lbsim wrote them, after load, picker, side; the error
   * fraction from their counts */
  FILE *in = fopen(csv, "r");
  if (!in) {
    snprintf(err, errlen, "%s: %s", csv, strerror(errno));
    return -errno;
  }
  char line[8192];
  int row = -1, col_req = -1, col_failed = -1, col_timed = -1;
  while (fgets(line, sizeof(line), in)) {
    /* split a copy: the row goes out as lbsim wrote it */
    char copy[sizeof(line)], *cells[64];
    memcpy(copy, line, sizeof(copy));
    size_t got = lb_csv_split(copy, cells, 64);
    int ncols = got < 64 ? (int)got : 64;
    double v[64];
    for (int k = 0; k < ncols; k++) {
      if (row < 0) {
        col_req = strcmp(cells[k], "requests") == 0 ? k : col_req;
        col_failed = strcmp(cells[k], "failed") == 0 ? k : col_failed;
        col_timed = strcmp(cells[k], "timed_out") == 0 ? k : col_timed;
      } else {
        /* lbsim's summary: a cell that is not a finite number is NaN, and
         * the error rate below is then not computed */
        if (lb_number_double(cells[k], -HUGE_VAL, HUGE_VAL, &v[k]) < 0)
          v[k] = NAN;
      }
    }
    if (row >= 0) {
      if (row < c->n && col_req >= 0 && col_failed >= 0 && col_timed >= 0 &&
          col_req < ncols && col_failed < ncols && col_timed < ncols && v[col_req] > 0 &&
          isfinite(v[col_failed]) && isfinite(v[col_timed]))
        c->v[row][LB_SW_ERRORS] = (v[col_failed] + v[col_timed]) / v[col_req];
      fprintf(out, "%.9g,", s->loads[l]);
      quote_csv(out, s->pickers[p]);
      fprintf(out, ",sim,%s", line);
    }
    row++;
  }
  fclose(in);
  return 0;
}

/* The real side of one cell: N runs of the fleet on the same seeds. */
static int real_cell(struct lb_sweep *s, int l, int p, FILE *out, char *err, size_t errlen) {
  struct lb_scenario sc;
  int rc = lb_harness_scenario_load_opts(s->scenario, &s->opts, false, &sc, err, errlen);
  if (rc < 0)
    return rc;
  snprintf(sc.picker, sizeof(sc.picker), "%s", s->pickers[p]);
  sc.rate_probes_per_request = 0;
  sc.target_utilization = s->loads[l];
  if ((rc = lb_scenario_finish(&sc, err, errlen)) < 0)
    return rc;
  struct lb_sweep_cell *c = cell(s, l, p, 1);
  for (int r = 0; r < s->runs && !lb_harness_stop_signal; r++) {
    char dir[LB_HARNESS_PATH_MAX + 96];
    snprintf(dir, sizeof(dir), "%s/real/load%d-picker%d/run-%d", s->opts.out_dir, l, p, r);
    struct lb_harness_run_result res;
    memset(&res, 0, sizeof(res));
    if ((rc = lb_harness_run_one(&s->opts, &sc, r, dir, &res, err, errlen)) < 0)
      return rc;
    const struct lb_summary *sm = &res.summary;
    double m[LB_SW_COUNT] = {sm->mean_latency, sm->latency_q[0], sm->latency_q[2],
                             sm->latency_q[3],
                             sm->requests > 0
                                 ? (double)(sm->failed + sm->timed_out) / sm->requests
                                 : NAN};
    add_run(c, m);
    if (!res.health.valid)
      c->invalid++;
    fprintf(out, "%.9g,", s->loads[l]);
    quote_csv(out, s->pickers[p]);
    fputs(",real,", out);
    lb_summary_write_row(out, sc.name, res.run, res.seed, sm);
  }
  return lb_harness_stop_signal ? -EINTR : 0;
}

int lb_sweep_run(struct lb_sweep *s, char *err, size_t errlen) {
  char path[LB_HARNESS_PATH_MAX + 64];
  int rc;
  s->cells = calloc((size_t)s->nloads * (size_t)s->npickers * 2, sizeof(*s->cells));
  if (!s->cells)
    return -ENOMEM;
  snprintf(path, sizeof(path), "%s/sim", s->opts.out_dir);
  if ((rc = lb_harness_mkdirs(path)) < 0) {
    snprintf(err, errlen, "--out: cannot create %s: %s", path, strerror(-rc));
    return rc;
  }
  snprintf(path, sizeof(path), "%s/sweep.csv", s->opts.out_dir);
  FILE *out = fopen(path, "w");
  if (!out) {
    rc = -errno;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return rc;
  }
  fputs("load,picker,side,", out);
  lb_summary_write_header(out);
  int total = s->nloads * s->npickers, done = 0;
  double t0 = lb_harness_now();
  for (int l = 0; l < s->nloads && rc >= 0; l++) {
    for (int p = 0; p < s->npickers && rc >= 0; p++) {
      double t = lb_harness_now();
      rc = sim_cell(s, l, p, out, err, errlen);
      if (rc >= 0 && s->real)
        rc = real_cell(s, l, p, out, err, errlen);
      done++;
      if (rc >= 0 && s->opts.progress && s->opts.log) {
        const struct lb_sweep_cell *c = cell(s, l, p, 0);
        fprintf(s->opts.log,
                "sweep: [%d/%d] load %.2f %-28.28s sim p99 %7.1f%s (%.1f s, %.0f s in all)\n", done,
                total, s->loads[l], s->pickers[p], lb_sweep_cell_mean(c, LB_SW_P99),
                s->real ? " +real" : "", lb_harness_now() - t, lb_harness_now() - t0);
      }
    }
  }
  if (fclose(out) != 0 && rc >= 0) {
    rc = -EIO;
    snprintf(err, errlen, "%s: write failed", path);
  }
  if (rc < 0)
    return rc;
  snprintf(path, sizeof(path), "%s/report.html", s->opts.out_dir);
  return lb_sweep_report_write(s, path, err, errlen);
}

void lb_sweep_close(struct lb_sweep *s) {
  free(s->cells);
  s->cells = NULL;
}

/* ---- command line ---- */

static const char usage_sweep[] =
    "usage:\n"
    "  lbharness sweep SCENARIO --pickers EXPR [--pickers EXPR ...] --loads FROM:TO:STEP\n"
    "                  [--runs N] [--real] [--out DIR] [--jobs J] [--set FIELD=VALUE]...\n"
    "                  [--bin-dir D] [--hosts local|netns] [--client-procs N] [--quiet]\n"
    "\n"
    "For each load (target_utilization: a multiple of the fleet's capacity, 1 = every\n"
    "thread busy; the same request rate for every picker, probes not counted) and each\n"
    "picker, N lbsim runs and, with --real, N real runs on the same seeds. Writes\n"
    "DIR/sweep.csv (one row per load x picker x side x run: load, picker, side, then the\n"
    "seed's summary columns) and DIR/report.html (latency and errors against load, the\n"
    "pickers' ranking at each load on both sides and its Spearman rho).\n"
    "\n"
    "  --pickers EXPR      a picker expression (repeatable, at most 16)\n"
    "  --loads F:T:S       loads from F to T (inclusive) by S, e.g. 0.5:1.5:0.1\n"
    "  --runs N            runs per load, picker and side (default: the scenario's)\n"
    "  --real              also run the real fleet (lbserver, lbclient) on each cell\n"
    "  --out DIR           where everything goes (default: out)\n"
    "  --jobs J            lbsim's threads (default 2)\n"
    "  --set FIELD=VALUE   override a scenario field (repeatable)\n"
    "  --bin-dir D         where lbsim, lbserver and lbclient are\n"
    "  --hosts, --client-procs  as lbharness run's, for --real\n"
    "  --quiet             no progress lines on stderr\n"
    "  -h, --help          this text\n";

/* What the command line fills: the sweep, and what is checked after. */
struct sweep_cli {
  struct lb_sweep *s;
  char **sets;
  int runs, jobs, client_procs;
  bool loads, real, quiet, help;
};

static int opt_pickers(const char *text, void *dest, char *err, size_t errlen) {
  struct sweep_cli *c = dest;
  char why[1024];
  if (c->s->npickers == LB_SWEEP_MAX_PICKERS) {
    lb_errf(err, errlen, "--pickers: at most %d", LB_SWEEP_MAX_PICKERS);
    return -EINVAL;
  }
  struct lb_picker_spec *spec = NULL;
  if (strlen(text) >= LB_PICKER_EXPR_MAX ||
      lb_picker_spec_parse(text, &spec, why, sizeof(why)) < 0) {
    lb_errf(err, errlen, "--pickers '%s': %s", text,
            strlen(text) >= LB_PICKER_EXPR_MAX ? "too long" : why);
    return -EINVAL;
  }
  lb_picker_spec_free(spec);
  c->s->pickers[c->s->npickers++] = text;
  return 0;
}

static int opt_loads(const char *text, void *dest, char *err, size_t errlen) {
  struct sweep_cli *c = dest;
  if (lb_sweep_parse_loads(c->s, text, err, errlen) < 0)
    return -EINVAL;
  c->loads = true;
  return 0;
}

static int opt_out(const char *text, void *dest, char *err, size_t errlen) {
  struct sweep_cli *c = dest;
  if (!*text || strlen(text) >= sizeof(c->s->opts.out_dir) - 256) {
    lb_errf(err, errlen, "--out: expected a folder name");
    return -EINVAL;
  }
  snprintf(c->s->opts.out_dir, sizeof(c->s->opts.out_dir), "%s", text);
  return 0;
}

static int opt_set(const char *text, void *dest, char *err, size_t errlen) {
  struct sweep_cli *c = dest;
  if (!strchr(text, '=') || text[0] == '=' || c->s->opts.nsets == MAX_SETS) {
    lb_errf(err, errlen, "--set '%s': expected FIELD=VALUE (at most %d)", text, MAX_SETS);
    return -EINVAL;
  }
  c->sets[c->s->opts.nsets++] = (char *)text;
  return 0;
}

static int opt_bin_dir(const char *text, void *dest, char *err, size_t errlen) {
  struct sweep_cli *c = dest;
  (void)err;
  (void)errlen;
  snprintf(c->s->opts.bin_dir, sizeof(c->s->opts.bin_dir), "%s", text);
  return 0;
}

static int opt_hosts(const char *text, void *dest, char *err, size_t errlen) {
  struct sweep_cli *c = dest;
  if (strcmp(text, "local") && strcmp(text, "netns")) {
    lb_errf(err, errlen, "--hosts: expected local or netns, got '%s'", text);
    return -EINVAL;
  }
  c->s->opts.netns = strcmp(text, "netns") == 0;
  return 0;
}

#define SW_INT(NAME, MEMBER, MAX)                                                                  \
  {                                                                                                \
    .name = NAME, .kind = LB_CLI_INT, .off = offsetof(struct sweep_cli, MEMBER), .min = 1,         \
    .max = MAX                                                                                     \
  }
#define SW_FLAG(NAME, MEMBER, SHORT)                                                               \
  {                                                                                                \
    .name = NAME, .short_flag = SHORT, .kind = LB_CLI_FLAG,                                        \
    .off = offsetof(struct sweep_cli, MEMBER)                                                      \
  }
#define SW_CUSTOM(NAME, FN)                                                                        \
  { .name = NAME, .kind = LB_CLI_CUSTOM, .off = 0, .parse = FN }

/* sweep's options (--help: usage_sweep). */
static const struct lb_cli_option sweep_options[] = {
    SW_CUSTOM("pickers", opt_pickers),
    SW_CUSTOM("loads", opt_loads),
    SW_INT("runs", runs, 64),
    SW_FLAG("real", real, 0),
    SW_CUSTOM("out", opt_out),
    SW_INT("jobs", jobs, 256),
    SW_CUSTOM("set", opt_set),
    SW_CUSTOM("bin-dir", opt_bin_dir),
    SW_CUSTOM("hosts", opt_hosts),
    SW_INT("client-procs", client_procs, 1024),
    SW_FLAG("quiet", quiet, 0),
    SW_FLAG("help", help, 'h'),
    {.name = NULL},
};

/* 0, 1 after --help (printed), or -EINVAL with err the reason. */
static int parse(int argc, char **argv, struct lb_sweep *s, char **sets, char *err, size_t errlen) {
  struct sweep_cli c = {.s = s,
                        .sets = sets,
                        .runs = s->opts.runs,
                        .jobs = s->jobs,
                        .client_procs = s->opts.client_procs};
  int first = 0;
  if (lb_cli_parse(sweep_options, argc, argv, &c, &first, err, errlen) < 0)
    return -EINVAL;
  if (c.help) {
    fputs(usage_sweep, stdout);
    return 1;
  }
  s->opts.runs = c.runs;
  s->jobs = c.jobs;
  s->opts.client_procs = c.client_procs;
  s->real = s->real || c.real;
  if (c.quiet)
    s->opts.progress = false;
  s->opts.sets = sets;
  if (first != argc - 1) {
    lb_errf(err, errlen, "expected one scenario file, got %d (lbharness sweep --help)",
            argc - first);
    return -EINVAL;
  }
  if (s->npickers == 0 || !c.loads) {
    lb_errf(err, errlen,
            "expected --pickers EXPR and --loads FROM:TO:STEP (lbharness sweep --help)");
    return -EINVAL;
  }
  snprintf(s->scenario, sizeof(s->scenario), "%s", argv[first]);
  return 0;
}

int lb_harness_sweep_main(int argc, char **argv) {
  static char *sets[MAX_SETS];
  struct lb_sweep s;
  memset(&s, 0, sizeof(s));
  lb_harness_opts_defaults(&s.opts);
  s.opts.log = stderr;
  s.jobs = 2;
  char err[2048] = "";
  int prc = parse(argc, argv, &s, sets, err, sizeof(err));
  if (prc < 0)
    fprintf(stderr, "lbharness sweep: %s\n", err);
  if (prc != 0)
    return prc > 0 ? 0 : 2;
  struct lb_scenario sc;
  if (lb_harness_scenario_load_opts(s.scenario, &s.opts, false, &sc, err, sizeof(err)) < 0) {
    fprintf(stderr, "lbharness sweep: %s\n", err);
    return 1;
  }
  snprintf(s.name, sizeof(s.name), "%s", sc.name);
  s.runs = sc.runs > 0 ? sc.runs : 1;
  if (s.runs > 64) {
    fprintf(stderr, "lbharness sweep: %d runs: at most 64\n", s.runs);
    return 2;
  }
  if (s.real) {
    char warn[1024];
    if (lb_harness_delay_check(&s.opts, &sc, warn, sizeof(warn), err, sizeof(err)) < 0) {
      fprintf(stderr, "lbharness sweep: %s\n", err);
      return 1;
    }
  }
  if (lb_harness_signals_install() < 0) {
    perror("lbharness sweep: sigaction");
    return 1;
  }
  int rc = lb_sweep_run(&s, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "lbharness sweep: %s\n", err[0] ? err : strerror(-rc));
  else
    printf("sweep: %s/sweep.csv and %s/report.html\n", s.opts.out_dir, s.opts.out_dir);
  lb_sweep_close(&s);
  if (lb_harness_stop_signal)
    return 128 + lb_harness_stop_signal;
  return rc < 0 ? 1 : 0;
}
