/* harness_containers: fleets of containers on this machine (podman or
 * docker), for `lbharness run|compare --hosts containers`. */
#define _GNU_SOURCE
#include "harness_containers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "harness_deploy.h"
#include "harness_engine.h"
#include "harness_manifest.h"
#include "harness_paths.h"
#include "harness_proc.h"

/* Every container up and at its gate: this long, plus this much each. */
#define READY_WAIT_S 20.0
#define READY_WAIT_PER_CONTAINER_S 5.0
#define SERVER_LISTEN_WAIT_S 10.0
#define SERVER_DRAIN_MS 8000
#define STOP_GRACE_MS 3000
/* The private network: 10.79.N.0/24, server i at .(10 + i), client
 * process k after the servers. */
#define NET_PREFIX "10.79"
#define NET_FIRST_HOST 10
#define NET_MAX_HOSTS 240

/* ---- preparation ---- */

int lb_containers_prepare(struct lb_harness_opts *o, char *const *scenarios, int n, FILE *log,
                          char *err, size_t errlen) {
  char why[1024];
  for (int i = 0; i < n; i++) {
    struct lb_scenario sc;
    if (lb_harness_scenario_load_opts(scenarios[i], o, false, &sc, why, sizeof(why)) < 0)
      continue; /* reported by the command in its turn */
    if (lb_deploy_check_portable(&sc, why, sizeof(why)) < 0) {
      lb_errf(err, errlen, "--hosts containers: %s", why);
      return -EINVAL;
    }
    if (sc.servers + lb_deploy_client_procs(&sc, o->client_procs) > NET_MAX_HOSTS) {
      lb_errf(err, errlen,
              "--hosts containers: %s: %d servers and %d client processes: at most %d "
              "containers on one machine's network",
              sc.name, sc.servers, lb_deploy_client_procs(&sc, o->client_procs), NET_MAX_HOSTS);
      return -EINVAL;
    }
  }
  return lb_engine_prepare(o, log, err, errlen);
}

/* ---- resource limits ---- */

void lb_containers_limits_text(const struct lb_scenario *sc, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < sc->servers && used + 1 < len; i++) {
    double cpus = 0;
    long long mem = 0;
    bool c = lb_scenario_server_cpus(sc, i, &cpus) == 1;
    bool m = lb_scenario_server_memory(sc, i, &mem) == 1;
    if (!c && !m)
      continue;
    char cpu_text[32] = "", mem_text[32] = "";
    if (c)
      snprintf(cpu_text, sizeof(cpu_text), " cpus %g", cpus);
    if (m)
      snprintf(mem_text, sizeof(mem_text), " memory %lldMiB", mem >> 20);
    int k = snprintf(buf + used, len - used, "%sserver %d:%s%s", used ? ", " : "", i, cpu_text,
                     mem_text);
    if (k < 0)
      break;
    used += (size_t)k < len - used ? (size_t)k : len - used - 1;
  }
}

void lb_containers_describe(const struct lb_harness_opts *o, char *const *scenarios, int n,
                            FILE *out) {
  const char *conf = getenv("CONTAINERS_CONF");
  fprintf(out, "fleet: containers, one per server and per client process, on %s%s%s%s, image %s\n",
          o->engine, conf && *conf && strcmp(o->engine, "podman") == 0 ? " (CONTAINERS_CONF=" : "",
          conf && *conf && strcmp(o->engine, "podman") == 0 ? conf : "",
          conf && *conf && strcmp(o->engine, "podman") == 0 ? ")" : "", o->image);
  char why[1024], limits[2048];
  for (int i = 0; i < n; i++) {
    struct lb_scenario sc;
    if (lb_harness_scenario_load_opts(scenarios[i], o, false, &sc, why, sizeof(why)) < 0)
      continue;
    lb_containers_limits_text(&sc, limits, sizeof(limits));
    fprintf(out, "%s: server container limits: %s\n", sc.name, limits[0] ? limits : "none");
  }
}

/* ---- a run ---- */

struct cfleet {
  struct lb_harness_group group;
  char engine[16];
  char engine_path[PATH_MAX]; /* the group spawns with execv */
  char id[32];                /* lbt-<pid>-<run> */
  char net[48];               /* the network's name, "" until created */
  int subnet;                 /* the N of NET_PREFIX.N.0/24 */
  int nservers, nclients, n;
  char (*names)[64]; /* containers: servers, then client processes */
  size_t *procs;     /* each one's `ENGINE run` in group.procs */
  char (*logs)[LB_HARNESS_PATH_MAX + 32];
  FILE *log; /* the run's log stream (opts), for what clean-up could not do */
};

static void host_addr(const struct cfleet *f, int k, char *buf, size_t len) {
  snprintf(buf, len, NET_PREFIX ".%d.%d", f->subnet, NET_FIRST_HOST + k);
}

static int create_network(struct cfleet *f, char *err, size_t errlen) {
  snprintf(f->net, sizeof(f->net), "%s", f->id);
  char subnet[32], why[1024] = "";
  /* A /24 no other network of the engine has; --internal: nothing outside. */
  int first = (int)(getpid() % 200);
  for (int t = 0; t < 16; t++) {
    f->subnet = 20 + (first + t * 13) % 200;
    snprintf(subnet, sizeof(subnet), NET_PREFIX ".%d.0/24", f->subnet);
    char *args[] = {"network", "create", "--internal", "--subnet", subnet, f->net, NULL};
    if (lb_engine_run(f->engine, "network create", args, LB_ENGINE_CMD_TIMEOUT_S, NULL, 0, why,
                      sizeof(why)) == 0)
      return 0;
  }
  lb_errf(err, errlen, "cannot create the fleet's network %s: %s", f->net, why);
  f->net[0] = '\0';
  return -EIO;
}

/* Removes every container and the network; says on f->log what it could
 * not remove (nothing is left behind silently). */
static void remove_fleet(struct cfleet *f) {
  bool podman = strcmp(f->engine, "podman") == 0;
  for (int from = 0; f->names && from < f->n; from += 40) {
    char *args[48], why[1024];
    size_t a = 0;
    args[a++] = "rm";
    args[a++] = "-f";
    if (podman)
      args[a++] = "--ignore"; /* docker's rm -f ignores missing ones by itself */
    for (int k = from; k < f->n && k < from + 40; k++)
      args[a++] = f->names[k];
    args[a] = NULL;
    if (lb_engine_run(f->engine, "removing the fleet's containers", args, LB_ENGINE_CMD_TIMEOUT_S,
                      NULL, 0, why, sizeof(why)) < 0 &&
        strcasestr(why, "no such container") == NULL && f->log)
      fprintf(f->log, "lbharness: %s\n", why);
  }
  if (f->net[0]) {
    char why[1024];
    char *args[] = {"network", "rm", f->net, NULL};
    if (lb_engine_run(f->engine, "removing the fleet's network", args, LB_ENGINE_CMD_TIMEOUT_S,
                      NULL, 0, why, sizeof(why)) < 0 &&
        f->log)
      fprintf(f->log, "lbharness: %s\n", why);
    f->net[0] = '\0';
  }
}

static void cfleet_free(struct cfleet *f) {
  lb_harness_group_stop(&f->group, STOP_GRACE_MS);
  remove_fleet(f);
  lb_harness_group_close(&f->group);
  free(f->names);
  free(f->procs);
  free(f->logs);
}

/* The gate every container waits at: it marks itself ready, waits for
 * GO to hold the fleet's tick 0, then becomes the daemon with that tick 0. */
static const char gate_script[] = "ready=$1 go=$2; shift 2; : > \"$ready\"; "
                                  "while [ ! -s \"$go\" ]; do sleep 0.05; done; "
                                  "exec \"$@\" --start-at-realtime-ns \"$(cat \"$go\")\"";

/* Starts container k: `ENGINE run --rm ... IMAGE sh -c GATE sh READY GO
 * ARGS...`, its output into its log. */
static int start_container(struct cfleet *f, const struct lb_harness_opts *o,
                           const struct lb_scenario *sc, int k, const char *run_dir,
                           char *const *daemon, char *err, size_t errlen) {
  bool server = k < f->nservers;
  int index = server ? k : k - f->nservers;
  char ip[32], mount[2 * LB_HARNESS_PATH_MAX + 8], ready[LB_HARNESS_PATH_MAX + 32];
  char go[LB_HARNESS_PATH_MAX + 32], user[32], cpus[32], memory[32];
  host_addr(f, k, ip, sizeof(ip));
  snprintf(mount, sizeof(mount), "%s:%s", run_dir, run_dir);
  snprintf(ready, sizeof(ready), "%s/.ready-%c%d", run_dir, server ? 's' : 'c', index);
  snprintf(go, sizeof(go), "%s/.go-%s", run_dir, server ? "servers" : "clients");
  /* Logs belong to whoever runs lbharness: podman maps its root there. */
  if (strcmp(f->engine, "podman") == 0)
    snprintf(user, sizeof(user), "0:0");
  else
    snprintf(user, sizeof(user), "%u:%u", (unsigned)getuid(), (unsigned)getgid());
  char *argv[80];
  int a = 0;
  argv[a++] = f->engine_path;
  argv[a++] = "run";
  argv[a++] = "--rm";
  argv[a++] = "--name";
  argv[a++] = f->names[k];
  argv[a++] = "--network";
  argv[a++] = f->net;
  argv[a++] = "--ip";
  argv[a++] = ip;
  argv[a++] = "--user";
  argv[a++] = user;
  argv[a++] = "-v";
  argv[a++] = mount;
  argv[a++] = "--label";
  argv[a++] = "lbtestbed.fleet=1";
  double c;
  long long m;
  if (server && lb_scenario_server_cpus(sc, index, &c) == 1) {
    snprintf(cpus, sizeof(cpus), "%g", c);
    argv[a++] = "--cpus";
    argv[a++] = cpus;
  }
  if (server && lb_scenario_server_memory(sc, index, &m) == 1) {
    snprintf(memory, sizeof(memory), "%lld", m);
    argv[a++] = "--memory";
    argv[a++] = memory;
  }
  argv[a++] = (char *)o->image;
  argv[a++] = "sh";
  argv[a++] = "-c";
  argv[a++] = (char *)gate_script;
  argv[a++] = "sh";
  argv[a++] = ready;
  argv[a++] = go;
  for (int i = 0; daemon[i] && a < 79; i++)
    argv[a++] = daemon[i];
  argv[a] = NULL;
  snprintf(f->logs[k], sizeof(f->logs[k]), "%s/%s-%d.log", run_dir, server ? "server" : "client",
           index);
  char name[64];
  snprintf(name, sizeof(name), "%s %d", server ? "server" : "client process", index);
  int idx = lb_harness_group_spawn(&f->group, argv, f->logs[k], name);
  if (idx < 0) {
    lb_errf(err, errlen, "cannot start %s: %s", f->engine, strerror(-idx));
    return idx;
  }
  f->procs[k] = (size_t)idx;
  return 0;
}

/* A container whose `ENGINE run` ended before its time (clients: with a
 * failure) fails the run, with the end of its log. */
static bool early_exit(struct cfleet *f, bool clients_done_ok, char *err, size_t errlen) {
  lb_harness_group_poll(&f->group);
  for (int k = 0; k < f->n; k++) {
    const struct lb_harness_proc *p = &f->group.procs[f->procs[k]];
    if (!p->exited)
      continue;
    bool ok = WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
    if (k >= f->nservers && clients_done_ok && ok)
      continue;
    char how[80], tail[600];
    lb_harness_proc_describe(p, how, sizeof(how));
    lb_harness_log_tail(f->logs[k], tail, sizeof(tail));
    lb_errf(err, errlen, "container %s (%s) stopped early (%s); its log %s ends:\n%s", f->names[k],
            p->name, how, f->logs[k], tail);
    return true;
  }
  return false;
}

static int stopped(char *err, size_t errlen) {
  lb_errf(err, errlen, "interrupted by signal %d: fleet stopped and removed",
          (int)lb_harness_stop_signal);
  return -EINTR;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Waits until every container from..to-1 has made its file: its gate's
 * ".ready-*", or (ports) a server's port file. */
static int wait_files(struct cfleet *f, const char *run_dir, int from, int to, bool ports,
                      double timeout_s, const char *what, char *err, size_t errlen) {
  double deadline = lb_harness_now() + timeout_s;
  for (int k = from; k < to;) {
    char path[LB_HARNESS_PATH_MAX + 64];
    bool server = k < f->nservers;
    if (ports)
      snprintf(path, sizeof(path), "%s/server-%d.port", run_dir, k);
    else
      snprintf(path, sizeof(path), "%s/.ready-%c%d", run_dir, server ? 's' : 'c',
               server ? k : k - f->nservers);
    if (exists(path)) {
      k++;
      continue;
    }
    if (early_exit(f, false, err, errlen))
      return -ECHILD;
    if (lb_harness_stop_signal)
      return stopped(err, errlen);
    if (lb_harness_now() > deadline) {
      lb_errf(err, errlen, "container %s was not %s within %.0f s (its log: %s)", f->names[k], what,
              timeout_s, f->logs[k]);
      return -ETIMEDOUT;
    }
    lb_harness_sleep_ms(20);
  }
  return 0;
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Opens a gate: GO holds tick 0 (written aside, then renamed). */
static int open_gate(const char *run_dir, const char *who, int64_t start_ns, char *err,
                     size_t errlen) {
  char path[LB_HARNESS_PATH_MAX + 32], tmp[LB_HARNESS_PATH_MAX + 40];
  snprintf(path, sizeof(path), "%s/.go-%s", run_dir, who);
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "%lld\n", (long long)start_ns) < 0 || fclose(f) != 0 ||
      rename(tmp, path) != 0) {
    lb_errf(err, errlen, "cannot write %s", path);
    return -EIO;
  }
  return 0;
}

static void remove_gates(const struct cfleet *f, const char *run_dir) {
  char path[LB_HARNESS_PATH_MAX + 32];
  for (int k = 0; k < f->n; k++) {
    bool server = k < f->nservers;
    snprintf(path, sizeof(path), "%s/.ready-%c%d", run_dir, server ? 's' : 'c',
             server ? k : k - f->nservers);
    unlink(path);
  }
  snprintf(path, sizeof(path), "%s/.go-servers", run_dir);
  unlink(path);
  snprintf(path, sizeof(path), "%s/.go-clients", run_dir);
  unlink(path);
}

static int wait_clients(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                        int64_t start_ns, double deadline, struct cfleet *f, char *err,
                        size_t errlen) {
  bool tty = o->log && isatty(fileno(o->log));
  double next_print = 0;
  int rc = 0;
  for (;;) {
    if (early_exit(f, true, err, errlen)) {
      rc = -ECHILD;
      break;
    }
    if (lb_harness_stop_signal) {
      rc = stopped(err, errlen);
      break;
    }
    int running = 0;
    for (int k = f->nservers; k < f->n; k++)
      running += !f->group.procs[f->procs[k]].exited;
    double now = lb_harness_now();
    if (o->progress && o->log && (now >= next_print || running == 0)) {
      double ticks = (double)(realtime_ns() - start_ns) / (double)sc->tick_ns;
      ticks = ticks < 0 ? 0 : ticks > sc->total_ticks ? sc->total_ticks : ticks;
      fprintf(o->log, "%s%s run %d: tick %.0f/%d, %d/%d client containers running%s",
              tty ? "\r\033[K" : "", sc->name, run, ticks, sc->total_ticks, running, f->nclients,
              tty ? "" : "\n");
      next_print = now + (tty ? 0.2 : 2.0);
    }
    if (running == 0)
      break;
    if (now > deadline) {
      lb_errf(err, errlen,
              "client containers still running past the run's time bound: fleet "
              "stopped");
      rc = -ETIMEDOUT;
      break;
    }
    lb_harness_sleep_ms(50);
  }
  if (o->progress && tty)
    fputc('\n', o->log);
  return rc;
}

/* Each daemon's command line (without its tick 0, which the gate adds). */
static char **daemon_argv(const struct lb_scenario *sc, const struct cfleet *f, int k, int run,
                          const char *run_dir, const char *servers, double max_rt,
                          char (*bufs)[LB_HARNESS_PATH_MAX + 64]) {
  static char *argv[32];
  int a = 0;
  bool server = k < f->nservers;
  int index = server ? k : k - f->nservers;
  snprintf(bufs[0], sizeof(bufs[0]), "%s/scenario.yaml", run_dir);
  snprintf(bufs[1], sizeof(bufs[1]), "%d", run);
  snprintf(bufs[2], sizeof(bufs[2]), "%.0f", ceil(max_rt));
  snprintf(bufs[3], sizeof(bufs[3]), "%s/%s-%d.stats", run_dir, server ? "server" : "client",
           index);
  argv[a++] = server ? "lbserver" : "lbclient";
  argv[a++] = "--scenario";
  argv[a++] = bufs[0];
  argv[a++] = "--run";
  argv[a++] = bufs[1];
  argv[a++] = "--max-runtime";
  argv[a++] = bufs[2];
  argv[a++] = "--stats";
  argv[a++] = bufs[3];
  if (server) {
    snprintf(bufs[4], sizeof(bufs[4]), "%d", index);
    snprintf(bufs[5], sizeof(bufs[5]), "%d", LB_DEPLOY_TCP_PORT);
    snprintf(bufs[6], sizeof(bufs[6]), "%d", LB_DEPLOY_UDP_PORT);
    snprintf(bufs[7], sizeof(bufs[7]), "%s/server-%d.port", run_dir, index);
    argv[a++] = "--index";
    argv[a++] = bufs[4];
    argv[a++] = "--listen";
    argv[a++] = "0.0.0.0";
    argv[a++] = "--port";
    argv[a++] = bufs[5];
    argv[a++] = "--udp-port";
    argv[a++] = bufs[6];
    argv[a++] = "--port-file";
    argv[a++] = bufs[7];
    static char max_queue[16]; /* the scenario's (0: unbounded, as the seed) */
    snprintf(max_queue, sizeof(max_queue), "%d", sc->max_queue);
    argv[a++] = "--max-queue";
    argv[a++] = max_queue;
  } else {
    int first, count;
    lb_deploy_client_range(sc->clients, f->nclients, index, &first, &count);
    snprintf(bufs[4], sizeof(bufs[4]), "%d:%d", first, count);
    snprintf(bufs[5], sizeof(bufs[5]), "%s/client-%d.csv", run_dir, index);
    argv[a++] = "--clients";
    argv[a++] = bufs[4];
    argv[a++] = "--servers";
    argv[a++] = (char *)servers;
    argv[a++] = "--log";
    argv[a++] = bufs[5];
  }
  argv[a] = NULL;
  return argv;
}

int lb_containers_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                          const char *run_dir_in, struct lb_harness_run_result *res, char *err,
                          size_t errlen) {
  struct cfleet f;
  char run_dir[LB_HARNESS_PATH_MAX], abs[PATH_MAX], *servers = NULL;
  int rc;
  memset(&f, 0, sizeof(f));
  f.log = o->log;
  lb_harness_group_init(&f.group);
  memset(res, 0, sizeof(*res));
  res->run = run;
  res->seed = (unsigned long long)sc->seed + (unsigned long long)run;
  if (!o->engine[0] || !o->image[0]) {
    lb_errf(err, errlen, "--hosts containers: no engine or image (lb_containers_prepare)");
    return -EINVAL;
  }
  if ((rc = lb_deploy_check_portable(sc, err, errlen)) < 0)
    return rc;
  if ((rc = lb_harness_mkdirs(run_dir_in)) < 0 || realpath(run_dir_in, abs) == NULL) {
    lb_errf(err, errlen, "cannot create %s: %s", run_dir_in, strerror(rc < 0 ? -rc : errno));
    return rc < 0 ? rc : -errno;
  }
  if (strlen(abs) >= sizeof(run_dir) - 64) {
    lb_errf(err, errlen, "%s: path too long for a container fleet's run folder", abs);
    return -ENAMETOOLONG;
  }
  memcpy(run_dir, abs, strlen(abs) + 1);
  snprintf(res->dir, sizeof(res->dir), "%s", run_dir_in);
  snprintf(res->requests_csv, sizeof(res->requests_csv), "%s/requests.csv", run_dir_in);
  char scenario_file[LB_HARNESS_PATH_MAX + 32];
  snprintf(scenario_file, sizeof(scenario_file), "%s/scenario.yaml", run_dir);
  FILE *sf = fopen(scenario_file, "w");
  if (!sf || lb_scenario_write(sc, sf) < 0 || fclose(sf) != 0) {
    lb_errf(err, errlen, "cannot write %s", scenario_file);
    return -EIO;
  }
  snprintf(f.engine, sizeof(f.engine), "%s", o->engine);
  if (!lb_engine_find(f.engine, f.engine_path, sizeof(f.engine_path))) {
    lb_errf(err, errlen, "--hosts containers: %s is not on PATH", f.engine);
    return -ENOENT;
  }
  snprintf(f.id, sizeof(f.id), "lbt-%x-%d", (unsigned)getpid(), run);
  f.nservers = sc->servers;
  f.nclients = lb_deploy_client_procs(sc, o->client_procs);
  f.n = f.nservers + f.nclients;
  f.names = calloc((size_t)f.n, sizeof(*f.names));
  f.procs = calloc((size_t)f.n, sizeof(*f.procs));
  f.logs = calloc((size_t)f.n, sizeof(*f.logs));
  size_t slen = (size_t)f.nservers * 40 + 1;
  servers = malloc(slen);
  if (!f.names || !f.procs || !f.logs || !servers) {
    rc = -ENOMEM;
    lb_errf(err, errlen, "out of memory");
    goto done;
  }
  for (int k = 0; k < f.n; k++)
    snprintf(f.names[k], sizeof(f.names[k]), "%s-%c%d", f.id, k < f.nservers ? 's' : 'c',
             k < f.nservers ? k : k - f.nservers);
  remove_gates(&f, run_dir);
  if ((rc = create_network(&f, err, errlen)) < 0)
    goto done;
  servers[0] = '\0';
  for (int i = 0; i < f.nservers; i++) {
    char ip[32];
    size_t used = strlen(servers);
    host_addr(&f, i, ip, sizeof(ip));
    snprintf(servers + used, slen - used, "%s%s:%d:%d", i ? "," : "", ip, LB_DEPLOY_TCP_PORT,
             LB_DEPLOY_UDP_PORT);
  }
  /* Bound: arrivals, then the longer of cooldown and request timeout. */
  double tick_s = (double)sc->tick_ns / 1e9;
  double timeout_ticks = sc->timeout_ticks > 0 ? sc->timeout_ticks : 4.0 * sc->total_ticks;
  double tail = timeout_ticks > sc->max_cooldown ? timeout_ticks : sc->max_cooldown;
  double budget_s = 1.0 + o->start_delay_s + (sc->total_ticks + tail) * tick_s * 1.5 + 10.0;
  double ready_s = READY_WAIT_S + READY_WAIT_PER_CONTAINER_S * f.n;
  double max_rt = budget_s + ready_s + SERVER_LISTEN_WAIT_S + 5.0;
  char bufs[8][LB_HARNESS_PATH_MAX + 64];
  double t_up = lb_harness_now();
  for (int k = 0; k < f.n; k++) {
    char **daemon = daemon_argv(sc, &f, k, run, run_dir, servers, max_rt, bufs);
    if ((rc = start_container(&f, o, sc, k, run_dir, daemon, err, errlen)) < 0)
      goto done;
  }
  if ((rc = wait_files(&f, run_dir, 0, f.n, false, ready_s, "up", err, errlen)) < 0)
    goto done;
  if (o->progress && o->log)
    fprintf(o->log, "lbharness: %s run %d: %d containers up in %.1f s (%s, network %s)\n", sc->name,
            run, f.n, lb_harness_now() - t_up, o->engine, f.net);
  /* Tick 0: the servers listen within it, the clients connect in the rest. */
  int64_t start_ns = realtime_ns() + (int64_t)((0.5 + o->start_delay_s) * 1e9);
  if ((rc = open_gate(run_dir, "servers", start_ns, err, errlen)) < 0 ||
      (rc = wait_files(&f, run_dir, 0, f.nservers, true, SERVER_LISTEN_WAIT_S, "listening", err,
                       errlen)) < 0)
    goto done;
  {
    double left_s = (double)(start_ns - realtime_ns()) / 1e9;
    if (o->log && left_s < o->start_delay_s / 2)
      fprintf(o->log,
              "lbharness: %s run %d: the servers took long to listen; the clients have %.2f s "
              "to connect before tick 0\n",
              sc->name, run, left_s);
  }
  if ((rc = open_gate(run_dir, "clients", start_ns, err, errlen)) < 0)
    goto done;
  double t0 = lb_harness_now() + (double)(start_ns - realtime_ns()) / 1e9;
  if ((rc = wait_clients(o, sc, run, start_ns, lb_harness_now() + budget_s, &f, err, errlen)) < 0)
    goto done;
  double wall_s = lb_harness_now() - t0;
  /* Clients are done: servers drain and exit on SIGTERM (the engine's
   * client passes it on). */
  for (int i = 0; i < f.nservers; i++)
    lb_harness_proc_signal(&f.group, f.procs[i], SIGTERM);
  if (!lb_harness_group_wait(&f.group, f.procs, (size_t)f.nservers, SERVER_DRAIN_MS)) {
    if (lb_harness_stop_signal) {
      rc = stopped(err, errlen);
      goto done;
    }
    if (o->log)
      fprintf(o->log, "lbharness: server containers did not exit %d ms after SIGTERM; removed\n",
              SERVER_DRAIN_MS);
  }
  {
    char **csvs = calloc((size_t)f.nclients, sizeof(*csvs));
    char(*paths)[LB_HARNESS_PATH_MAX + 32] = calloc((size_t)f.nclients, sizeof(*paths));
    if (!paths || !csvs) {
      free(paths);
      free(csvs);
      rc = -ENOMEM;
      lb_errf(err, errlen, "out of memory");
      goto done;
    }
    for (int k = 0; k < f.nclients; k++) {
      snprintf(paths[k], sizeof(paths[k]), "%s/client-%d.csv", res->dir, k);
      csvs[k] = paths[k];
    }
    rc = lb_harness_collect_logs(sc, run, csvs, (size_t)f.nclients, res, err, errlen);
    free(paths);
    free(csvs);
    if (rc < 0)
      goto done;
  }
  lb_harness_assess(sc, f.nclients, f.nservers, wall_s, -1, o->expected_timed_out, res);
  rc = 0;
done:
  cfleet_free(&f);
  remove_gates(&f, run_dir);
  free(servers);
  return rc;
}
