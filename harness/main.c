/* lbharness: runs fleets, runs the simulator, compares them. Wiring only. */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errbuf.h"
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
          "  --seed-picking      count each real request's picking as the seed does (one tick\n"
          "                      for the tick it arrived in, plus each whole tick it waited;\n"
          "                      the part of a tick the pick took counted in send), so the\n"
          "                      latencies compare the model's dynamics, not its accounting\n"
          "                      of the picking tick (docs/findings.md)\n"
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

#define MAX_SETS 64

struct cli {
  struct lb_harness_opts opts;
  struct lb_harness_tolerance tol;
  char sim_csv[LB_HARNESS_PATH_MAX];
  char *real_csv, *real_dir;
  bool force, quiet, help, seed_picking;
  const char *tol_given; /* the first tolerance option given ("mean-tol", ...) */
  char fleet[PATH_MAX];
  char *sets[MAX_SETS];
};

/* Custom options of run and compare: dest is the struct cli (offset 0). */
static int opt_out(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  if (!*text || strlen(text) >= sizeof(c->opts.out_dir) - 256) {
    lb_errf(err, errlen, "--out: expected a folder name (at most %zu characters)",
            sizeof(c->opts.out_dir) - 257);
    return -EINVAL;
  }
  snprintf(c->opts.out_dir, sizeof(c->opts.out_dir), "%s", text);
  return 0;
}

static int opt_hosts(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  if (strcmp(text, "local") && strcmp(text, "netns") && strcmp(text, "containers")) {
    lb_errf(err, errlen, "--hosts: expected local, netns or containers, got '%s'", text);
    return -EINVAL;
  }
  c->opts.netns = strcmp(text, "netns") == 0;
  c->opts.containers = strcmp(text, "containers") == 0;
  return 0;
}

/* --engine, --image, --base: a name into a field of the options. */
static int opt_name(const char *opt, const char *text, char *dst, size_t cap, bool engine,
                    char *err, size_t errlen) {
  if (!*text || strlen(text) >= cap ||
      (engine && strcmp(text, "podman") && strcmp(text, "docker"))) {
    lb_errf(err, errlen, "--%s: expected %s, got '%s'", opt,
            engine ? "podman or docker" : "an image name", text);
    return -EINVAL;
  }
  snprintf(dst, cap, "%s", text);
  return 0;
}

static int opt_engine(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  return opt_name("engine", text, c->opts.engine, sizeof(c->opts.engine), true, err, errlen);
}

static int opt_image(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  return opt_name("image", text, c->opts.image, sizeof(c->opts.image), false, err, errlen);
}

static int opt_base(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  /* the base's name is held to the image's length, as before */
  return opt_name("base", text, c->opts.base_image, sizeof(c->opts.image), false, err, errlen);
}

static int opt_bin_dir(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  (void)err;
  (void)errlen;
  snprintf(c->opts.bin_dir, sizeof(c->opts.bin_dir), "%s", text);
  return 0;
}

static int opt_sim_csv(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  (void)err;
  (void)errlen;
  snprintf(c->sim_csv, sizeof(c->sim_csv), "%s", text);
  return 0;
}

static int opt_set(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  if (!strchr(text, '=') || text[0] == '=') {
    lb_errf(err, errlen, "--set '%s': expected FIELD=VALUE", text);
    return -EINVAL;
  }
  if (c->opts.nsets == MAX_SETS) {
    lb_errf(err, errlen, "--set: at most %d", MAX_SETS);
    return -EINVAL;
  }
  c->sets[c->opts.nsets++] = (char *)text;
  return 0;
}

static int opt_fleet(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  /* absolute: the daemons may run elsewhere (namespaces) */
  if (!realpath(text, c->fleet)) {
    lb_errf(err, errlen, "--fleet %s: %s", text, strerror(errno));
    return -EINVAL;
  }
  c->opts.fleet = c->fleet;
  return 0;
}

/* --mean-tol F, --p99-tol F, --phase-tol F, --tol FIGURE=F. */
static int opt_tolerance(const char *opt, const char *figure, const char *text, struct cli *c,
                         char *err, size_t errlen) {
  char spec[160], why[256];
  if (figure)
    snprintf(spec, sizeof(spec), "%s=%s", figure, text);
  else
    snprintf(spec, sizeof(spec), "%s", text);
  if (!c->tol_given)
    c->tol_given = opt;
  if (lb_harness_tolerance_set(&c->tol, spec, why, sizeof(why)) < 0) {
    lb_errf(err, errlen, "--%s: %s", opt, why);
    return -EINVAL;
  }
  return 0;
}

static int opt_mean_tol(const char *text, void *dest, char *err, size_t errlen) {
  return opt_tolerance("mean-tol", "mean", text, dest, err, errlen);
}

static int opt_p99_tol(const char *text, void *dest, char *err, size_t errlen) {
  return opt_tolerance("p99-tol", "p99", text, dest, err, errlen);
}

static int opt_phase_tol(const char *text, void *dest, char *err, size_t errlen) {
  return opt_tolerance("phase-tol", "phases", text, dest, err, errlen);
}

static int opt_tol(const char *text, void *dest, char *err, size_t errlen) {
  return opt_tolerance("tol", NULL, text, dest, err, errlen);
}

#define CUSTOM(NAME, FN)                                                                           \
  { .name = NAME, .kind = LB_CLI_CUSTOM, .off = 0, .parse = FN }
#define FIELD(NAME, KIND, MEMBER)                                                                  \
  { .name = NAME, .kind = KIND, .off = offsetof(struct cli, MEMBER) }

/* run's and compare's options (--help: usage_command's text); the options
 * of compare only are refused for run after parsing. */
static const struct lb_cli_option run_compare_options[] = {
    {.name = "runs",
     .kind = LB_CLI_INT,
     .off = offsetof(struct cli, opts.runs),
     .min = 1,
     .max = 1000000},
    CUSTOM("out", opt_out),
    CUSTOM("hosts", opt_hosts),
    {.name = "client-procs",
     .kind = LB_CLI_INT,
     .off = offsetof(struct cli, opts.client_procs),
     .min = 1,
     .max = 1000000},
    CUSTOM("bin-dir", opt_bin_dir),
    CUSTOM("sim-csv", opt_sim_csv),
    FIELD("quiet", LB_CLI_FLAG, quiet),
    CUSTOM("mean-tol", opt_mean_tol),
    CUSTOM("p99-tol", opt_p99_tol),
    CUSTOM("phase-tol", opt_phase_tol),
    CUSTOM("tol", opt_tol),
    FIELD("force", LB_CLI_FLAG, force),
    FIELD("seed-picking", LB_CLI_FLAG, seed_picking),
    CUSTOM("fleet", opt_fleet),
    CUSTOM("set", opt_set),
    FIELD("fallback-inproc", LB_CLI_FLAG, opts.fallback_inproc),
    FIELD("real-csv", LB_CLI_STRING, real_csv),
    FIELD("real-dir", LB_CLI_STRING, real_dir),
    CUSTOM("engine", opt_engine),
    CUSTOM("image", opt_image),
    CUSTOM("base", opt_base),
    {.name = "help", .short_flag = 'h', .kind = LB_CLI_FLAG, .off = offsetof(struct cli, help)},
    {.name = NULL},
};

/* The index of the first scenario, or -EINVAL with err the reason. */
static int parse(int argc, char **argv, struct cli *c, char *err, size_t errlen) {
  bool compare = strcmp(argv[1], "compare") == 0;
  int first = 0;
  if (lb_cli_parse(run_compare_options, argc - 1, argv + 1, c, &first, err, errlen) < 0)
    return -EINVAL;
  first += 1; /* argv[1] is the command */
  const char *compare_only = c->sim_csv[0]  ? "sim-csv"
                             : c->tol_given ? c->tol_given
                             : c->force     ? "force"
                             : c->seed_picking ? "seed-picking"
                             : c->real_csv  ? "real-csv"
                             : c->real_dir  ? "real-dir"
                                            : NULL;
  if (!compare && compare_only) {
    lb_errf(err, errlen, "--%s is an option of compare (lbharness run --help)", compare_only);
    return -EINVAL;
  }
  if (c->help) {
    usage_command(stdout, compare);
    exit(0);
  }
  if (c->quiet)
    c->opts.progress = false;
  c->opts.sets = c->sets;
  if (first >= argc) {
    lb_errf(err, errlen, "expected at least one scenario file (lbharness %s --help)", argv[1]);
    return -EINVAL;
  }
  if (c->real_csv && c->real_dir) {
    lb_errf(err, errlen, "--real-csv and --real-dir: expected one of them");
    return -EINVAL;
  }
  if (c->real_csv && argc - first > 1) {
    lb_errf(err, errlen,
            "--real-csv: the files are the runs of one scenario; "
            "got %d scenarios (use --real-dir DIR with DIR/<scenario>/ folders)",
            argc - first);
    return -EINVAL;
  }
  if ((c->real_csv || c->real_dir) && c->opts.fleet) {
    lb_errf(err, errlen,
            "--fleet: with --real-%s the real side has run already; give "
            "the fleet to the fleet that made the logs, and compare without --fleet",
            c->real_csv ? "csv" : "dir");
    return -EINVAL;
  }
  if (!c->opts.containers && (c->opts.engine[0] || c->opts.image[0] || c->opts.base_image[0])) {
    lb_errf(err, errlen, "--engine, --image and --base are for --hosts containers");
    return -EINVAL;
  }
  if ((c->real_csv || c->real_dir) && c->opts.runs > 0) {
    lb_errf(err, errlen, "--runs: with --real-%s the runs are the logs given",
            c->real_csv ? "csv" : "dir");
    return -EINVAL;
  }
  return first;
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
  cmp.seed_picking = c->seed_picking;
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
  char perr[1024] = "";
  int first = parse(argc, argv, &c, perr, sizeof(perr));
  if (first < 0) {
    fprintf(stderr, "lbharness %s: %s\n", argv[1], perr);
    return 2;
  }
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
