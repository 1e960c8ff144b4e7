/* harness_deploy_cli: `lbharness deploy ...`, the command line over
 * compose, Kubernetes, netem and the netns layout. */
#define _GNU_SOURCE
#include "harness_deploy_cli.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "errbuf.h"
#include "harness_deploy.h"
#include "harness_engine.h"
#include "harness_manifest.h"
#include "harness_netem.h"
#include "number.h"

/* ---- lbharness deploy ---- */

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: lbharness deploy COMMAND ...\n"
      "  compose SCENARIO [--out FILE] [--client-procs N] [--run R] [--image IMG]\n"
      "      a docker compose file (default compose.yaml): a service per server and per\n"
      "      client process (the scenario goes beside FILE as lbt-scenario.yaml)\n"
      "  k8s SCENARIO [--out DIR] [--client-procs N] [--run R] [--image IMG] [--namespace NS]\n"
      "      Kubernetes manifests in DIR (default k8s): ConfigMap, StatefulSet + headless\n"
      "      Service, indexed Job\n"
      "      (compose and k8s: [--start-in SECONDS | --start-at-realtime-ns T] gives the\n"
      "      clients a common tick 0, from this machine's clock now; --image defaults to\n"
      "      lbtestbed:latest, --run to 0, --client-procs to min(clients, 4))\n"
      "  podman-conf\n"
      "      the containers.conf podman needs on this machine (runc where cgroups are\n"
      "      hybrid, rlimits it may set), for podman-compose and podman by hand:\n"
      "      lbharness deploy podman-conf > F && export CONTAINERS_CONF=$PWD/F\n"
      "  netem-check\n"
      "      says whether this kernel has netem (exit 0) or not (exit 1)\n"
      "  netem-plan SCENARIO [--fleet ID] [--client-procs N] [--run R] [--dist gamma|normal|none]\n"
      "             [--dist-dir DIR] [--rate RATE] [--no-delay] [--out FILE]\n"
      "      the tc commands (a shell script, to FILE or stdout) that put the scenario's\n"
      "      channel delays on the links of netns fleet ID (default f0); writes the gamma\n"
      "      tables into DIR (default netem-tables); --dist defaults to gamma\n"
      "  netem-apply SCENARIO (options of netem-plan)\n"
      "      runs them (after deploy/netns.sh up ID SERVERS CLIENTPROCS)\n"
      "  netns up|down|exec|addr|hosts|cleanup|check ...\n"
      "      deploy/netns.sh (lbharness deploy netns help)\n"
      "  every SCENARIO command takes --set FIELD=VALUE (repeatable, applied in order)\n");
}

struct cli {
  const char *scenario;
  const char *out;
  const char *image;
  const char *namespace_name;
  const char *fleet;
  const char *dist_dir;
  const char *rate;
  int dist; /* enum lb_netem_dist (a --dist choice) */
  bool no_delay;
  int client_procs;
  int run;
  long long start_at_realtime_ns;
  char *sets[64];
  int nsets;
  bool help;
};

/* --start-at-realtime-ns T and --start-in SECONDS: the clients' tick 0. */
static int start_option(const char *opt, const char *text, long long *dest, bool relative,
                        char *err, size_t errlen) {
  double v;
  if (lb_number_double(text, 0, 9e18, &v) < 0 || !(v > 0)) {
    lb_errf(err, errlen, "--%s '%s': expected a positive number", opt, text);
    return -EINVAL;
  }
  if (!relative) {
    *dest = (long long)v;
  } else {
    /* The clients' tick 0, this many seconds after now. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    *dest = (long long)now.tv_sec * 1000000000LL + now.tv_nsec + (long long)(v * 1e9);
  }
  return 0;
}

static int opt_start_at(const char *text, void *dest, char *err, size_t errlen) {
  return start_option("start-at-realtime-ns", text, dest, false, err, errlen);
}

static int opt_start_in(const char *text, void *dest, char *err, size_t errlen) {
  return start_option("start-in", text, dest, true, err, errlen);
}

static int opt_set(const char *text, void *dest, char *err, size_t errlen) {
  struct cli *c = dest;
  if (c->nsets == (int)(sizeof(c->sets) / sizeof(c->sets[0]))) {
    lb_errf(err, errlen, "too many --set");
    return -EINVAL;
  }
  c->sets[c->nsets++] = (char *)text;
  return 0;
}

static const char *const dists[] = {"gamma", "normal", "none", NULL}; /* enum lb_netem_dist */

#define STRING(NAME, MEMBER)                                                                       \
  { .name = NAME, .kind = LB_CLI_STRING, .off = offsetof(struct cli, MEMBER) }

/* Every option of compose, k8s, netem-plan and netem-apply (usage()). */
static const struct lb_cli_option deploy_options[] = {
    {.name = "out", .short_flag = 'o', .kind = LB_CLI_STRING, .off = offsetof(struct cli, out)},
    STRING("image", image),
    STRING("namespace", namespace_name),
    STRING("fleet", fleet),
    STRING("dist-dir", dist_dir),
    {.name = "dist", .kind = LB_CLI_CHOICE, .off = offsetof(struct cli, dist), .choices = dists},
    STRING("rate", rate),
    {.name = "no-delay", .kind = LB_CLI_FLAG, .off = offsetof(struct cli, no_delay)},
    {.name = "client-procs",
     .kind = LB_CLI_INT,
     .off = offsetof(struct cli, client_procs),
     .min = 1,
     .max = INT_MAX},
    {.name = "run", .kind = LB_CLI_INT, .off = offsetof(struct cli, run), .min = 0, .max = INT_MAX},
    {.name = "set", .kind = LB_CLI_CUSTOM, .off = 0, .parse = opt_set},
    {.name = "start-at-realtime-ns",
     .kind = LB_CLI_CUSTOM,
     .off = offsetof(struct cli, start_at_realtime_ns),
     .parse = opt_start_at},
    {.name = "start-in",
     .kind = LB_CLI_CUSTOM,
     .off = offsetof(struct cli, start_at_realtime_ns),
     .parse = opt_start_in},
    {.name = "help", .short_flag = 'h', .kind = LB_CLI_FLAG, .off = offsetof(struct cli, help)},
    {.name = NULL},
};

/* 0, 1 for --help (usage printed), or -EINVAL with err the line to print. */
static int parse_cli(int argc, char **argv, struct cli *c, char *err, size_t errlen) {
  memset(c, 0, sizeof(*c));
  c->image = "lbtestbed:latest";
  c->fleet = "f0";
  c->dist = LB_NETEM_DIST_GAMMA;
  int first = 0;
  char why[768];
  if (lb_cli_parse(deploy_options, argc, argv, c, &first, why, sizeof(why)) < 0) {
    lb_errf(err, errlen, "deploy %s: %s", argv[0], why);
    return -EINVAL;
  }
  if (c->help) {
    usage(stdout);
    return 1;
  }
  if (first != argc - 1) {
    lb_errf(err, errlen, "deploy %s: expected one SCENARIO file, got %d (lbharness deploy --help)",
            argv[0], argc - first);
    return -EINVAL;
  }
  c->scenario = argv[first];
  return 0;
}

static int load_scenario(const struct cli *c, struct lb_scenario *sc, char *err, size_t errlen) {
  lb_scenario_defaults(sc);
  int rc = lb_scenario_load(c->scenario, sc, err, errlen);
  for (int i = 0; rc == 0 && i < c->nsets; i++) {
    char field[128];
    const char *eq = strchr(c->sets[i], '=');
    if (eq == NULL || (size_t)(eq - c->sets[i]) >= sizeof(field)) {
      lb_errf(err, errlen, "--set '%s': expected FIELD=VALUE", c->sets[i]);
      rc = -EINVAL;
      break;
    }
    memcpy(field, c->sets[i], (size_t)(eq - c->sets[i]));
    field[eq - c->sets[i]] = '\0';
    char why[900];
    if ((rc = lb_scenario_set(sc, field, eq + 1, why, sizeof(why))) != 0)
      lb_errf(err, errlen, "--set '%s': %s", c->sets[i], why);
  }
  if (rc == 0)
    rc = lb_scenario_finish(sc, err, errlen);
  return rc;
}

static int cmd_compose(const struct cli *c, const struct lb_scenario *sc) {
  const char *out = c->out ? c->out : "compose.yaml";
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s", out);
  char *slash = strrchr(dir, '/');
  if (slash != NULL)
    *slash = '\0';
  else
    snprintf(dir, sizeof(dir), ".");
  char err[1024] = "";
  struct lb_deploy_options o;
  lb_deploy_options_defaults(&o);
  o.client_procs = c->client_procs;
  o.run = c->run;
  o.image = c->image;
  o.start_at_realtime_ns = c->start_at_realtime_ns;
  /* Checked before anything is written. */
  if (lb_deploy_check_portable(sc, err, sizeof(err)) != 0) {
    fprintf(stderr, "deploy compose: %s\n", err);
    return 1;
  }
  char scen_path[PATH_MAX + 32];
  snprintf(scen_path, sizeof(scen_path), "%s/lbt-scenario.yaml", dir);
  char *text = lb__manifest_scenario_text(sc);
  FILE *sf = text ? fopen(scen_path, "w") : NULL;
  if (sf == NULL || fputs(text, sf) < 0 || fclose(sf) != 0) {
    fprintf(stderr, "deploy compose: cannot write %s\n", scen_path);
    free(text);
    return 1;
  }
  free(text);
  FILE *f = fopen(out, "w");
  if (f == NULL) {
    fprintf(stderr, "deploy compose: cannot write %s: %s\n", out, strerror(errno));
    return 1;
  }
  int rc = lb_deploy_compose_write(sc, &o, "./lbt-scenario.yaml", f, err, sizeof(err));
  if (fclose(f) != 0 && rc == 0) {
    rc = -EIO;
    snprintf(err, sizeof(err), "cannot write %s", out);
  }
  if (rc != 0) {
    fprintf(stderr, "deploy compose: %s\n", err);
    return 1;
  }
  fprintf(stderr, "deploy compose: wrote %s and %s\n", out, scen_path);
  return 0;
}

static int cmd_k8s(const struct cli *c, const struct lb_scenario *sc) {
  const char *out = c->out ? c->out : "k8s";
  struct lb_deploy_options o;
  lb_deploy_options_defaults(&o);
  o.client_procs = c->client_procs;
  o.run = c->run;
  o.image = c->image;
  o.namespace_name = c->namespace_name;
  o.start_at_realtime_ns = c->start_at_realtime_ns;
  char err[1024] = "";
  if (lb_deploy_k8s_write(sc, &o, out, err, sizeof(err)) != 0) {
    fprintf(stderr, "deploy k8s: %s\n", err);
    return 1;
  }
  fprintf(stderr, "deploy k8s: wrote %s/ (see %s/README.txt)\n", out, out);
  return 0;
}

/* How many hosts of kind 's' or 'c' fleet has (its namespaces). */
static int fleet_hosts(const char *fleet, char kind) {
  int n = 0;
  char name[64], path[128];
  for (;;) {
    if (lb_deploy_netns_name(fleet, kind, n, name, sizeof(name)) != 0)
      return n;
    snprintf(path, sizeof(path), "/run/netns/%s", name);
    if (access(path, F_OK) != 0)
      return n;
    n++;
  }
}

static int cmd_netem(const struct cli *c, const struct lb_scenario *sc, bool apply) {
  struct lb_netem_options o;
  lb_netem_options_defaults(&o);
  o.fleet = c->fleet;
  o.run = c->run;
  o.client_procs = c->client_procs;
  if (apply) {
    /* The fleet that is up decides; it must match the scenario. */
    int servers = fleet_hosts(c->fleet, 's'), procs = fleet_hosts(c->fleet, 'c');
    if (o.client_procs == 0)
      o.client_procs = procs;
    if (servers != sc->servers || procs != lb_deploy_client_procs(sc, o.client_procs)) {
      fprintf(stderr,
              "deploy: fleet %s has %d servers and %d client processes up; the plan "
              "wants %d and %d (deploy/netns.sh up %s %d %d)\n",
              c->fleet, servers, procs, sc->servers, lb_deploy_client_procs(sc, o.client_procs),
              c->fleet, sc->servers, lb_deploy_client_procs(sc, o.client_procs));
      return 1;
    }
  }
  o.delay = !c->no_delay;
  o.dist = c->dist;
  o.rate = c->rate;
  char dist_dir[PATH_MAX] = "";
  if (o.delay && o.dist == LB_NETEM_DIST_GAMMA) {
    const char *d = c->dist_dir ? c->dist_dir : "netem-tables";
    if (mkdir(d, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "deploy: cannot create %s: %s\n", d, strerror(errno));
      return 1;
    }
    if (realpath(d, dist_dir) == NULL) {
      fprintf(stderr, "deploy: %s: %s\n", d, strerror(errno));
      return 1;
    }
    o.dist_dir = dist_dir;
  }
  char err[1024] = "";
  if (apply && o.delay) {
    char msg[512];
    if (lb_netem_probe(msg, sizeof(msg)) != 1) {
      fprintf(stderr, "%s\n", msg);
      return 1;
    }
  }
  struct lb_netem_plan *plan = NULL;
  if (lb_netem_plan_build(sc, &o, &plan, err, sizeof(err)) != 0 ||
      lb_netem_plan_write_tables(plan, err, sizeof(err)) != 0) {
    fprintf(stderr, "deploy: %s\n", err);
    lb_netem_plan_free(plan);
    return 1;
  }
  int status = 0;
  if (apply) {
    if (lb_netem_plan_apply(plan, err, sizeof(err)) != 0) {
      fprintf(stderr, "deploy: %s\n", err);
      status = 1;
    } else {
      fprintf(stderr, "deploy: applied %zu tc commands to fleet %s\n", plan->ncmds, c->fleet);
    }
  } else {
    FILE *f = c->out ? fopen(c->out, "w") : stdout;
    if (f == NULL) {
      fprintf(stderr, "deploy: cannot write %s: %s\n", c->out, strerror(errno));
      lb_netem_plan_free(plan);
      return 1;
    }
    fprintf(
        f, "#!/bin/sh\n# netem plan: scenario %s, run %d, fleet %s (deploy/netns.sh up %s %d %d)\n",
        sc->name, c->run, c->fleet, c->fleet, sc->servers,
        lb_deploy_client_procs(sc, c->client_procs));
    if (sc->delay != LB_DELAY_NETEM && o.delay)
      fprintf(f,
              "# note: the scenario says delay: %s; run it with delay: netem so that the "
              "daemons add none of their own\n",
              sc->delay == LB_DELAY_INPROC ? "inproc" : "none");
    fprintf(f, "set -e\n");
    if (plan->dist_dir[0])
      fprintf(f, "export TC_LIB_DIR=%s\n", plan->dist_dir);
    char line[2048];
    for (size_t i = 0; i < plan->ncmds; i++)
      if (lb_netem_plan_format(plan, i, line, sizeof(line)) == 0)
        fprintf(f, "%s\n", line);
    if (c->out != NULL && fclose(f) != 0) {
      fprintf(stderr, "deploy: cannot write %s\n", c->out);
      status = 1;
    }
  }
  lb_netem_plan_free(plan);
  return status;
}

static int cmd_netns(int argc, char **argv) {
  char script[PATH_MAX], err[512];
  if (lb_deploy_netns_script(script, sizeof(script), err, sizeof(err)) != 0) {
    fprintf(stderr, "deploy: %s\n", err);
    return 1;
  }
  char **args = calloc((size_t)argc + 2, sizeof(*args));
  if (args == NULL)
    return 1;
  args[0] = "bash";
  args[1] = script;
  for (int i = 1; i < argc; i++)
    args[i + 1] = argv[i];
  execvp("bash", args);
  fprintf(stderr, "deploy: cannot run bash %s: %s\n", script, strerror(errno));
  free(args);
  return 1;
}

int lb_harness_deploy_main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "netns") == 0)
    return cmd_netns(argc - 1, argv + 1);
  if (strcmp(cmd, "podman-conf") == 0) {
    struct lb_engine_host h;
    char text[1024];
    lb_engine_host_probe(&h);
    int rc = lb_engine_conf(&h, text, sizeof(text));
    if (rc < 0)
      return 1;
    if (rc == 0)
      printf("# lbtestbed: podman's defaults run on this machine; nothing to set\n");
    else
      fputs(text, stdout);
    return 0;
  }
  if (strcmp(cmd, "netem-check") == 0) {
    char msg[512];
    int rc = lb_netem_probe(msg, sizeof(msg));
    if (rc < 0)
      snprintf(msg, sizeof(msg), "netem: cannot probe: %s", strerror(-rc));
    printf("%s\n", msg);
    return rc == 1 ? 0 : 1;
  }
  bool compose = strcmp(cmd, "compose") == 0, k8s = strcmp(cmd, "k8s") == 0;
  bool plan = strcmp(cmd, "netem-plan") == 0, apply = strcmp(cmd, "netem-apply") == 0;
  if (!compose && !k8s && !plan && !apply) {
    fprintf(stderr, "deploy: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
  }
  struct cli c;
  char err[1024] = "";
  int rc = parse_cli(argc - 1, argv + 1, &c, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "%s\n", err);
  if (rc != 0)
    return rc > 0 ? 0 : 2;
  struct lb_scenario *sc = malloc(sizeof(*sc));
  if (sc == NULL)
    return 1;
  if (load_scenario(&c, sc, err, sizeof(err)) != 0) {
    fprintf(stderr, "deploy: %s\n", err);
    free(sc);
    return 1;
  }
  if (compose)
    rc = cmd_compose(&c, sc);
  else if (k8s)
    rc = cmd_k8s(&c, sc);
  else
    rc = cmd_netem(&c, sc, apply);
  free(sc);
  return rc;
}
