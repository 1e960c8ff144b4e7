/* lbharness: runs fleets, runs the simulator, compares them. Wiring only. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_file.h"
#include "harness_compare.h"
#include "harness_containers.h"
#include "harness_proc.h"
#include "harness_run.h"
#include "harness_sweep.h"
#include "log.h"
#include "summary.h"
#if __has_include("harness_deploy_cli.h")
#include "harness_deploy_cli.h"
#define LB_HARNESS_HAS_DEPLOY 1
#endif

static const char usage_run[] =
    "  lbharness run SCENARIO... [--runs R] [--out DIR] [--hosts local|netns|containers]\n"
    "                [--engine podman|docker] [--image IMG] [--base IMG]\n"
    "                [--fallback-inproc] [--client-procs N] [--set FIELD=VALUE]...\n"
    "                [--fleet FILE] [--bin-dir D] [--quiet]\n";
static const char usage_compare[] =
    "  lbharness compare SCENARIO... [--runs R] [--out DIR] [--hosts local|netns|containers]\n"
    "                [--engine podman|docker] [--image IMG] [--base IMG] [--fallback-inproc]\n"
    "                [--client-procs N] [--set FIELD=VALUE]...\n"
    "                [--fleet FILE] [--sim-csv FILE]\n"
    "                [--real-csv FILE[,FILE...] | --real-dir DIR]\n"
    "                [--mean-tol F] [--p99-tol F] [--phase-tol F] [--tol FIGURE=F]...\n"
    "                [--force] [--bin-dir D] [--quiet]\n";

static const char help_common[] =
    "  --runs R            runs per scenario (default: the scenario's `runs`); run r is\n"
    "                      seeded with the scenario's seed + r\n"
    "  --out DIR           where everything goes (default: out); compare wants a new\n"
    "                      or empty folder: one report per folder\n"
    "  --hosts local|netns local: every daemon on 127.0.0.1 (default); netns: each server\n"
    "                      and client process in a network namespace of its own\n"
    "                      (root; deploy/netns.sh check); delay: netem needs netns;\n"
    "                      containers: each in a container of its own on a private\n"
    "                      network (podman or docker; docs/fleets.md)\n"
    "  --engine E          containers: podman or docker (default: podman if installed,\n"
    "                      else docker if its daemon answers)\n"
    "  --image IMG         containers: an image with lbserver and lbclient on its PATH\n"
    "                      (default: built from this build's binaries on --base, tagged\n"
    "                      with their hash, reused while they do not change)\n"
    "  --base IMG          containers: the base of that image (default: a minimal Debian\n"
    "                      made by deploy/base-image.sh when missing)\n"
    "  --fallback-inproc   a scenario with delay: netem on a kernel without netem runs\n"
    "                      with delay: inproc (a warning) instead of being refused\n"
    "  --client-procs N    lbclient processes hosting the logical clients\n"
    "                      (default: min(clients, 4))\n"
    "  --set FIELD=VALUE   override a scenario field (repeatable, applied in order)\n"
    "  --fleet FILE        run r on fleet r mod F of FILE (lbsim --fleet-out's format:\n"
    "                      servers' parameters, subsets, channel means) instead of the\n"
    "                      drawn one, on the real fleet and in lbsim alike\n"
    "  --bin-dir D         where lbsim, lbserver and lbclient are (default: the build\n"
    "                      tree lbharness is in, or $LB_BINARY_DIR)\n"
    "  --quiet             no progress lines on stderr\n";

static void usage(FILE *f) {
  fprintf(f,
          "usage:\n%s%s"
#ifdef LB_HARNESS_HAS_DEPLOY
          "  lbharness deploy COMMAND ...   (lbharness deploy --help)\n"
#endif
          "  lbharness sweep SCENARIO --pickers EXPR... --loads F:T:S ...   (lbharness sweep --help)\n"
          "  lbharness COMMAND --help\n"
          "\n"
          "run: launches the scenario's servers and clients on this machine, waits for the\n"
          "     clients to finish, collects OUT/<scenario>/real/run-R/requests.csv and the\n"
          "     seed's summary, and checks the fleet kept the schedule.\n"
          "compare: R runs of lbsim and R real runs per scenario (or the real side from\n"
          "     logs collected elsewhere), simulated vs real tables, KS, per-phase split,\n"
          "     verdicts, scores across scenarios, OUT/report.html.\n"
#ifdef LB_HARNESS_HAS_DEPLOY
          "deploy: docker compose and Kubernetes files, netns fleets, netem on their links.\n"
#endif
          "See docs/harness.md and docs/fleets.md.\n",
          usage_run, usage_compare);
}

static void usage_command(FILE *f, bool compare) {
  fprintf(f, "usage:\n%s\n", compare ? usage_compare : usage_run);
  if (compare)
    fputs("Runs lbsim and the real fleet on each scenario with the same seeds, prints\n"
          "simulated against real (the seed's summary columns, KS, phases), a verdict per\n"
          "scenario and the seed's scores across scenarios; writes OUT/report.html and CSVs.\n\n",
          f);
  else
    fputs("Runs each scenario's fleet of lbserver and lbclient processes, R runs, and\n"
          "writes OUT/<scenario>/real/run-R/ (requests.csv, summary.csv, daemon logs and\n"
          "stats) and OUT/<scenario>/real/summary.csv; prints a table per scenario with\n"
          "whether each run kept the schedule (valid for comparison).\n\n",
          f);
  fputs(help_common, f);
  if (compare)
    fputs("  --sim-csv FILE      the simulated side from a seed summary CSV (df.to_csv(),\n"
          "                      rows whose algorithm is the scenario's name) instead of lbsim\n"
          "  --real-csv F[,F...] the real side from per-request CSVs collected elsewhere (the\n"
          "                      reqlog format, one file per run: the k-th is run k); no fleet\n"
          "                      is started; one scenario only\n"
          "  --real-dir DIR      the same from a folder: run-R/requests.csv (lbharness run's\n"
          "                      OUT/<scenario>/real), requests-R.csv, or run<R>-client-*.csv\n"
          "                      (compose and Kubernetes logs; a run's files together);\n"
          "                      DIR/<scenario>/real and DIR/<scenario> are tried first\n"
          "  --force             replace the report an earlier compare wrote in --out (its\n"
          "                      folder is emptied first); without it compare refuses a\n"
          "                      folder that is not empty\n"
          "verdict (docs/harness.md): per figure, the 95% confidence interval of the\n"
          "paired difference real - sim across runs (same seeds), relative to the\n"
          "simulated figure; a figure holds when the interval lies within its tolerance.\n"
          "Runs not valid for comparison are left out; none valid: \"not judged\".\n"
          "  --tol FIGURE=F      tolerance of one figure: mean, p50, p90, p99, utilization,\n"
          "                      picking, send, server_queue, processing, receive, phases\n"
          "                      (every phase) or all; F a fraction (0.05), a percentage\n"
          "                      (5%) or off (not judged). Defaults: mean, p50, utilization\n"
          "                      5%; p90, p99 10%; each phase 5% but picking off (the seed\n"
          "                      counts a tick of picking that nothing waits for)\n"
          "  --mean-tol F        the same as --tol mean=F\n"
          "  --p99-tol F         the same as --tol p99=F\n"
          "  --phase-tol F       the same as --tol phases=F\n",
          f);
  fputs("  -h, --help          this text\n", f);
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
  OPT_PHASE_TOL,
  OPT_TOL,
  OPT_FORCE,
  OPT_FLEET,
  OPT_SET,
  OPT_FALLBACK_INPROC,
  OPT_REAL_CSV,
  OPT_REAL_DIR,
  OPT_ENGINE,
  OPT_IMAGE,
  OPT_BASE,
  OPT_HELP
};

#define MAX_SETS 64

struct cli {
  struct lb_harness_opts opts;
  struct lb_harness_tolerance tol;
  char sim_csv[LB_HARNESS_PATH_MAX];
  char *real_csv, *real_dir;
  bool force;
  char fleet[PATH_MAX];
  char *sets[MAX_SETS];
};

static int parse_number(const char *cmd, const char *opt, const char *text, bool whole,
                        double *out) {
  char *end = NULL;
  double v = strtod(text, &end);
  if (!*text || *end || !(v > 0) || (whole && (v != (int)v || v > 1e6))) {
    fprintf(stderr, "lbharness %s: %s: expected %s, got '%s'\n", cmd, opt,
            whole ? "a whole number > 0" : "a number > 0", text);
    return -EINVAL;
  }
  *out = v;
  return 0;
}

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
      {"phase-tol", required_argument, NULL, OPT_PHASE_TOL},
      {"tol", required_argument, NULL, OPT_TOL},
      {"force", no_argument, NULL, OPT_FORCE},
      {"fleet", required_argument, NULL, OPT_FLEET},
      {"set", required_argument, NULL, OPT_SET},
      {"fallback-inproc", no_argument, NULL, OPT_FALLBACK_INPROC},
      {"real-csv", required_argument, NULL, OPT_REAL_CSV},
      {"real-dir", required_argument, NULL, OPT_REAL_DIR},
      {"engine", required_argument, NULL, OPT_ENGINE},
      {"image", required_argument, NULL, OPT_IMAGE},
      {"base", required_argument, NULL, OPT_BASE},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  const char *cmd = argv[1];
  bool compare = strcmp(cmd, "compare") == 0;
  double v;
  int opt;
  optind = 2;
  opterr = 0; /* our own messages, naming the command */
  while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    const char *name = NULL;
    for (size_t k = 0; longopts[k].name; k++)
      if (longopts[k].val == opt)
        name = longopts[k].name;
    if (!compare &&
        (opt == OPT_SIM_CSV || opt == OPT_MEAN_TOL || opt == OPT_P99_TOL || opt == OPT_PHASE_TOL ||
         opt == OPT_TOL || opt == OPT_FORCE || opt == OPT_REAL_CSV || opt == OPT_REAL_DIR)) {
      fprintf(stderr, "lbharness run: --%s is an option of compare (lbharness run --help)\n", name);
      return -EINVAL;
    }
    switch (opt) {
    case OPT_RUNS:
    case OPT_CLIENT_PROCS:
      if (parse_number(cmd, opt == OPT_RUNS ? "--runs" : "--client-procs", optarg, true, &v) < 0)
        return -EINVAL;
      *(opt == OPT_RUNS ? &c->opts.runs : &c->opts.client_procs) = (int)v;
      break;
    case OPT_OUT:
      if (!*optarg || strlen(optarg) >= sizeof(c->opts.out_dir) - 256) {
        fprintf(stderr, "lbharness %s: --out: expected a folder name (at most %zu characters)\n",
                cmd, sizeof(c->opts.out_dir) - 257);
        return -EINVAL;
      }
      snprintf(c->opts.out_dir, sizeof(c->opts.out_dir), "%s", optarg);
      break;
    case OPT_HOSTS:
      if (strcmp(optarg, "local") && strcmp(optarg, "netns") && strcmp(optarg, "containers")) {
        fprintf(stderr, "lbharness %s: --hosts: expected local, netns or containers, got '%s'\n",
                cmd, optarg);
        return -EINVAL;
      }
      c->opts.netns = strcmp(optarg, "netns") == 0;
      c->opts.containers = strcmp(optarg, "containers") == 0;
      break;
    case OPT_ENGINE:
    case OPT_IMAGE:
    case OPT_BASE: {
      char *dst = opt == OPT_ENGINE  ? c->opts.engine
                  : opt == OPT_IMAGE ? c->opts.image
                                     : c->opts.base_image;
      size_t cap = opt == OPT_ENGINE ? sizeof(c->opts.engine) : sizeof(c->opts.image);
      if (!*optarg || strlen(optarg) >= cap ||
          (opt == OPT_ENGINE && strcmp(optarg, "podman") && strcmp(optarg, "docker"))) {
        fprintf(stderr, "lbharness %s: --%s: expected %s, got '%s'\n", cmd, name,
                opt == OPT_ENGINE ? "podman or docker" : "an image name", optarg);
        return -EINVAL;
      }
      snprintf(dst, cap, "%s", optarg);
      break;
    }
    case OPT_BIN_DIR:
      snprintf(c->opts.bin_dir, sizeof(c->opts.bin_dir), "%s", optarg);
      break;
    case OPT_SIM_CSV:
      snprintf(c->sim_csv, sizeof(c->sim_csv), "%s", optarg);
      break;
    case OPT_REAL_CSV:
      c->real_csv = optarg;
      break;
    case OPT_REAL_DIR:
      c->real_dir = optarg;
      break;
    case OPT_QUIET:
      c->opts.progress = false;
      break;
    case OPT_FALLBACK_INPROC:
      c->opts.fallback_inproc = true;
      break;
    case OPT_SET:
      if (!strchr(optarg, '=') || optarg[0] == '=') {
        fprintf(stderr, "lbharness %s: --set '%s': expected FIELD=VALUE\n", cmd, optarg);
        return -EINVAL;
      }
      if (c->opts.nsets == MAX_SETS) {
        fprintf(stderr, "lbharness %s: --set: at most %d\n", cmd, MAX_SETS);
        return -EINVAL;
      }
      c->sets[c->opts.nsets++] = optarg;
      break;
    case OPT_FORCE:
      c->force = true;
      break;
    case OPT_FLEET:
      /* absolute: the daemons may run elsewhere (namespaces) */
      if (!realpath(optarg, c->fleet)) {
        fprintf(stderr, "lbharness %s: --fleet %s: %s\n", cmd, optarg, strerror(errno));
        return -EINVAL;
      }
      c->opts.fleet = c->fleet;
      break;
    case OPT_MEAN_TOL:
    case OPT_P99_TOL:
    case OPT_PHASE_TOL:
    case OPT_TOL: {
      char spec[160], why[256];
      if (opt == OPT_TOL)
        snprintf(spec, sizeof(spec), "%s", optarg);
      else
        snprintf(spec, sizeof(spec), "%s=%s",
                 opt == OPT_MEAN_TOL  ? "mean"
                 : opt == OPT_P99_TOL ? "p99"
                                      : "phases",
                 optarg);
      if (lb_harness_tolerance_set(&c->tol, spec, why, sizeof(why)) < 0) {
        fprintf(stderr, "lbharness %s: --%s: %s\n", cmd, name, why);
        return -EINVAL;
      }
      break;
    }
    case 'h':
    case OPT_HELP:
      usage_command(stdout, compare);
      exit(0);
    case ':':
      fprintf(stderr, "lbharness %s: option '%s' expects a value (lbharness %s --help)\n", cmd,
              argv[optind - 1], cmd);
      return -EINVAL;
    default:
      fprintf(stderr, "lbharness %s: unknown option '%s' (lbharness %s --help)\n", cmd,
              argv[optind - 1], cmd);
      return -EINVAL;
    }
  }
  c->opts.sets = c->sets;
  if (optind >= argc) {
    fprintf(stderr, "lbharness %s: expected at least one scenario file (lbharness %s --help)\n",
            cmd, cmd);
    return -EINVAL;
  }
  if (c->real_csv && c->real_dir) {
    fprintf(stderr, "lbharness compare: --real-csv and --real-dir: expected one of them\n");
    return -EINVAL;
  }
  if (c->real_csv && argc - optind > 1) {
    fprintf(stderr,
            "lbharness compare: --real-csv: the files are the runs of one scenario; "
            "got %d scenarios (use --real-dir DIR with DIR/<scenario>/ folders)\n",
            argc - optind);
    return -EINVAL;
  }
  if ((c->real_csv || c->real_dir) && c->opts.fleet) {
    fprintf(stderr,
            "lbharness compare: --fleet: with --real-%s the real side has run already; give "
            "the fleet to the fleet that made the logs, and compare without --fleet\n",
            c->real_csv ? "csv" : "dir");
    return -EINVAL;
  }
  if (!c->opts.containers && (c->opts.engine[0] || c->opts.image[0] || c->opts.base_image[0])) {
    fprintf(stderr, "lbharness %s: --engine, --image and --base are for --hosts containers\n", cmd);
    return -EINVAL;
  }
  if ((c->real_csv || c->real_dir) && c->opts.runs > 0) {
    fprintf(stderr, "lbharness compare: --runs: with --real-%s the runs are the logs given\n",
            c->real_csv ? "csv" : "dir");
    return -EINVAL;
  }
  return optind;
}

/* Before anything starts: what each scenario's delay needs (delay: netem
 * wants --hosts netns and a kernel with netem). A scenario that does not
 * load is left to the command, which reports it in its turn. */
static int check_delays(struct cli *c, char **scenarios, int n) {
  char err[2048], warn[1024];
  for (int i = 0; i < n; i++) {
    struct lb_scenario sc;
    if (lb_harness_scenario_load_opts(scenarios[i], &c->opts, false, &sc, err, sizeof(err)) < 0)
      continue;
    if (lb_harness_delay_check(&c->opts, &sc, warn, sizeof(warn), err, sizeof(err)) < 0) {
      fprintf(stderr, "lbharness: %s\n", err);
      return -1;
    }
    if (warn[0])
      fprintf(stderr, "lbharness: %s\n", warn);
    if (lb_scenario_warning(&sc, warn, sizeof(warn)))
      fprintf(stderr, "lbharness: warning: %s\n", warn);
    struct lb_fleet_file fleets = {0};
    if (c->opts.fleet &&
        lb_fleet_file_load_for(c->opts.fleet, &sc, &fleets, err, sizeof(err)) < 0) {
      fprintf(stderr, "lbharness: --fleet %s\n", err);
      return -1;
    }
    lb_fleet_file_close(&fleets);
  }
  return 0;
}

static int cmd_run(struct cli *c, char **scenarios, int n) {
  char err[2048];
  int failures = 0;
  for (int i = 0; i < n && !lb_harness_stop_signal; i++) {
    struct lb_scenario sc;
    if (lb_harness_scenario_load_opts(scenarios[i], &c->opts, false, &sc, err, sizeof(err)) < 0) {
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
    int done = 0, rc = 0;
    for (int r = 0; r < runs; r++) {
      snprintf(rundir, sizeof(rundir), "%s/run-%d", dir, r);
      if ((rc = lb_harness_run_one(&c->opts, &sc, r, rundir, &res[done], err, sizeof(err))) < 0) {
        if (rc == -ENOTSUP) /* netem went missing: the message is the whole story */
          fprintf(stderr, "lbharness: %s\n", err);
        else
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
    if (rc == -ENOTSUP || rc == -EINTR)
      break;
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
  cmp.real_csv = c->real_csv;
  cmp.real_dir = c->real_dir;
  int rc = lb_harness_compare_main(&cmp, scenarios, n, stdout, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "lbharness: %s\n", err[0] ? err : strerror(-rc));
  lb_harness_compare_close(&cmp);
  return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  lb_log_prog = "lbharness";
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
#ifdef LB_HARNESS_HAS_DEPLOY
  if (!strcmp(argv[1], "deploy"))
    return lb_harness_deploy_main(argc - 1, argv + 1);
#endif
  if (!strcmp(argv[1], "sweep"))
    return lb_harness_sweep_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "run") && strcmp(argv[1], "compare")) {
    fprintf(stderr,
            "lbharness: unknown command '%s': expected run, compare, sweep%s (lbharness --help)\n",
            argv[1],
#ifdef LB_HARNESS_HAS_DEPLOY
            " or deploy"
#else
            ""
#endif
    );
    return 2;
  }
  struct cli c;
  memset(&c, 0, sizeof(c));
  lb_harness_opts_defaults(&c.opts);
  c.opts.log = stderr;
  lb_harness_tolerance_defaults(&c.tol);
  int first = parse(argc, argv, &c);
  if (first < 0)
    return 2;
  /* A fleet that cannot have its netem is refused before anything starts
   * (with --real-*, no fleet starts at all). */
  if (!c.real_csv && !c.real_dir && check_delays(&c, argv + first, argc - first) < 0)
    return 1;
  if (lb_harness_signals_install() < 0) {
    perror("lbharness: sigaction");
    return 1;
  }
  /* compare: one report per folder, said before anything is written in
   * it (the containers' settings included). */
  if (!strcmp(argv[1], "compare")) {
    char err[2048] = "";
    if (lb_harness_compare_prepare_out(c.opts.out_dir, c.force, err, sizeof(err)) < 0) {
      fprintf(stderr, "lbharness: %s\n", err);
      return 1;
    }
  }
  /* Containers: the engine, its settings and the image, before anything
   * starts (a machine without an engine gets one line). */
  if (!c.real_csv && !c.real_dir && c.opts.containers) {
    char err[2048];
    if (lb_containers_prepare(&c.opts, argv + first, argc - first, stderr, err, sizeof(err)) < 0) {
      fprintf(stderr, "lbharness: %s\n", err);
      return lb_harness_stop_signal ? 128 + lb_harness_stop_signal : 1;
    }
    lb_containers_describe(&c.opts, argv + first, argc - first, stdout);
  }
  int rc = !strcmp(argv[1], "run") ? cmd_run(&c, argv + first, argc - first)
                                   : cmd_compare(&c, argv + first, argc - first);
  if (lb_harness_stop_signal) {
    fprintf(stderr, "lbharness: stopped by signal %d\n", (int)lb_harness_stop_signal);
    return 128 + lb_harness_stop_signal;
  }
  return rc;
}
