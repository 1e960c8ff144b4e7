/* lbharness: runs fleets, runs the simulator, compares them. Wiring only. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_compare.h"
#include "harness_proc.h"
#include "harness_run.h"
#include "log.h"
#include "summary.h"
#if __has_include("harness_deploy.h")
#include "harness_deploy.h"
#define LB_HARNESS_HAS_DEPLOY 1
#endif

static void usage(FILE *f) {
  fputs("usage:\n"
        "  lbharness run SCENARIO... [--runs R] [--out DIR] [--hosts local|netns]\n"
        "                [--client-procs N] [--bin-dir D] [--quiet]\n"
        "  lbharness compare SCENARIO... [--runs R] [--out DIR] [--sim-csv FILE]\n"
        "                [--client-procs N] [--bin-dir D] [--mean-tol F] [--p99-tol F]\n"
        "                [--ks-tol F] [--quiet]\n"
#ifdef LB_HARNESS_HAS_DEPLOY
        "  lbharness deploy ...      (see lbharness deploy --help)\n"
#endif
        "\n"
        "run: launches the scenario's servers and clients on this machine, waits for the\n"
        "     clients to finish, collects OUT/<scenario>/real/run-R/requests.csv and the\n"
        "     seed's summary, and checks the fleet kept the schedule.\n"
        "compare: R runs of lbsim and R real runs per scenario, simulated vs real tables,\n"
        "     KS, per-phase split, verdicts, scores across scenarios, OUT/report.html.\n",
        f);
}

enum {
  OPT_RUNS = 256,
  OPT_OUT,
  OPT_HOSTS,
  OPT_CLIENT_PROCS,
  OPT_BIN_DIR,
  OPT_SIM_CSV,
  OPT_QUIET,
  OPT_MEAN_TOL,
  OPT_P99_TOL,
  OPT_KS_TOL,
  OPT_HELP
};

static int parse_positive(const char *what, const char *text, double *out) {
  char *end = NULL;
  double v = strtod(text, &end);
  if (!*text || *end || !(v > 0)) {
    fprintf(stderr, "lbharness: %s: expected a number > 0, got '%s'\n", what, text);
    return -EINVAL;
  }
  *out = v;
  return 0;
}

struct cli {
  struct lb_harness_opts opts;
  struct lb_harness_tolerance tol;
  char sim_csv[LB_HARNESS_PATH_MAX];
};

static int parse(int argc, char **argv, struct cli *c) {
  static const struct option longopts[] = {
      {"runs", required_argument, NULL, OPT_RUNS},
      {"out", required_argument, NULL, OPT_OUT},
      {"hosts", required_argument, NULL, OPT_HOSTS},
      {"client-procs", required_argument, NULL, OPT_CLIENT_PROCS},
      {"bin-dir", required_argument, NULL, OPT_BIN_DIR},
      {"sim-csv", required_argument, NULL, OPT_SIM_CSV},
      {"quiet", no_argument, NULL, OPT_QUIET},
      {"mean-tol", required_argument, NULL, OPT_MEAN_TOL},
      {"p99-tol", required_argument, NULL, OPT_P99_TOL},
      {"ks-tol", required_argument, NULL, OPT_KS_TOL},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  double v;
  int opt;
  optind = 2;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case OPT_RUNS:
    case OPT_CLIENT_PROCS:
      if (parse_positive(opt == OPT_RUNS ? "--runs" : "--client-procs", optarg, &v) < 0 ||
          v != (int)v) {
        fprintf(stderr, "lbharness: expected a whole number, got '%s'\n", optarg);
        return -EINVAL;
      }
      *(opt == OPT_RUNS ? &c->opts.runs : &c->opts.client_procs) = (int)v;
      break;
    case OPT_OUT:
      snprintf(c->opts.out_dir, sizeof(c->opts.out_dir), "%s", optarg);
      break;
    case OPT_HOSTS:
      if (strcmp(optarg, "local") && strcmp(optarg, "netns")) {
        fprintf(stderr, "lbharness: --hosts: expected local or netns, got '%s'\n", optarg);
        return -EINVAL;
      }
      c->opts.netns = strcmp(optarg, "netns") == 0;
      break;
    case OPT_BIN_DIR:
      snprintf(c->opts.bin_dir, sizeof(c->opts.bin_dir), "%s", optarg);
      break;
    case OPT_SIM_CSV:
      snprintf(c->sim_csv, sizeof(c->sim_csv), "%s", optarg);
      break;
    case OPT_QUIET:
      c->opts.progress = false;
      break;
    case OPT_MEAN_TOL:
    case OPT_P99_TOL:
    case OPT_KS_TOL:
      if (parse_positive(longopts[opt - OPT_RUNS].name, optarg, &v) < 0)
        return -EINVAL;
      *(opt == OPT_MEAN_TOL  ? &c->tol.mean_tol
        : opt == OPT_P99_TOL ? &c->tol.p99_tol
                             : &c->tol.ks_tol) = v;
      break;
    case 'h':
    case OPT_HELP:
      usage(stdout);
      exit(0);
    default:
      fprintf(stderr, "lbharness: unknown option '%s'\n", argv[optind - 1]);
      usage(stderr);
      return -EINVAL;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "lbharness %s: expected at least one scenario file\n", argv[1]);
    return -EINVAL;
  }
  return optind;
}

static int cmd_run(struct cli *c, char **scenarios, int n) {
  char err[2048];
  int failures = 0;
  for (int i = 0; i < n && !lb_harness_stop_signal; i++) {
    struct lb_scenario sc;
    if (lb_harness_scenario_load(scenarios[i], c->opts.runs, false, &sc, err, sizeof(err)) < 0) {
      fprintf(stderr, "lbharness: %s\n", err);
      failures++;
      continue;
    }
    int runs = sc.runs > 0 ? sc.runs : 1;
    struct lb_harness_run_result *res = calloc((size_t)runs, sizeof(*res));
    if (!res)
      return 1;
    char dir[LB_HARNESS_PATH_MAX + 160], rundir[LB_HARNESS_PATH_MAX + 224];
    snprintf(dir, sizeof(dir), "%s/%s/real", c->opts.out_dir, sc.name);
    int done = 0;
    for (int r = 0; r < runs; r++) {
      snprintf(rundir, sizeof(rundir), "%s/run-%d", dir, r);
      if (lb_harness_run_one(&c->opts, &sc, r, rundir, &res[done], err, sizeof(err)) < 0) {
        fprintf(stderr, "lbharness: %s run %d: %s\n", sc.name, r, err);
        failures++;
        break;
      }
      done++;
    }
    if (done) {
      char path[LB_HARNESS_PATH_MAX + 192];
      snprintf(path, sizeof(path), "%s/summary.csv", dir);
      FILE *f = fopen(path, "w");
      if (f) {
        lb_summary_write_header(f);
        for (int r = 0; r < done; r++)
          lb_summary_write_row(f, sc.name, res[r].run, res[r].seed, &res[r].summary);
        fclose(f);
      }
      lb_harness_print_runs(stdout, &sc, res, done);
      printf("per-request logs: %s/run-*/requests.csv, summary: %s\n", dir, path);
    }
    free(res);
  }
  return failures ? 1 : 0;
}

static int cmd_compare(struct cli *c, char **scenarios, int n) {
  char err[2048] = "";
  struct lb_harness_compare cmp;
  memset(&cmp, 0, sizeof(cmp));
  cmp.opts = c->opts;
  cmp.tol = c->tol;
  snprintf(cmp.sim_csv, sizeof(cmp.sim_csv), "%s", c->sim_csv);
  int rc = lb_harness_mkdirs(c->opts.out_dir);
  if (rc == 0)
    rc = lb_harness_compare_main(&cmp, scenarios, n, stdout, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "lbharness: %s\n", err[0] ? err : strerror(-rc));
  lb_harness_compare_close(&cmp);
  return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  lb_log_prog = "lbharness";
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
#ifdef LB_HARNESS_HAS_DEPLOY
  if (!strcmp(argv[1], "deploy"))
    return lb_harness_deploy_main(argc - 1, argv + 1);
#endif
  if (strcmp(argv[1], "run") && strcmp(argv[1], "compare")) {
    fprintf(stderr, "lbharness: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
  }
  struct cli c;
  memset(&c, 0, sizeof(c));
  lb_harness_opts_defaults(&c.opts);
  lb_harness_tolerance_defaults(&c.tol);
  int first = parse(argc, argv, &c);
  if (first < 0)
    return 2;
  if (lb_harness_signals_install() < 0) {
    perror("lbharness: sigaction");
    return 1;
  }
  int rc = !strcmp(argv[1], "run") ? cmd_run(&c, argv + first, argc - first)
                                   : cmd_compare(&c, argv + first, argc - first);
  if (lb_harness_stop_signal) {
    fprintf(stderr, "lbharness: stopped by signal %d\n", (int)lb_harness_stop_signal);
    return 128 + lb_harness_stop_signal;
  }
  return rc;
}
