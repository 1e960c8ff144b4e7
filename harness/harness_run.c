#include "harness_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arrivals.h"
#include "expr.h"
#include "harness_containers.h"
#include "harness_events.h"
#include "harness_faults.h"
#include "harness_proc.h"
#include "reqlog.h"
#if __has_include("harness_deploy.h")
#include "harness_deploy.h"
#include "harness_netem.h"
#define LB_HARNESS_HAS_NETNS 1
#endif

#define SERVER_PORT_WAIT_S 10.0
/* The fleet's tick 0 is chosen before the servers start (they count their
 * ticks and resets from it, as the clients do): this long for them to come
 * up, then start_delay_s for the clients to connect. */
#define SERVER_START_ALLOWANCE_S 0.5
#define SERVER_DRAIN_MS 5000
#define STOP_GRACE_MS 2000

void lb_harness_opts_defaults(struct lb_harness_opts *o) {
  memset(o, 0, sizeof(*o));
  snprintf(o->out_dir, sizeof(o->out_dir), "out");
  o->progress = true;
  o->start_delay_s = 0.5;
}

int lb_harness_mkdirs(const char *path) {
  char buf[LB_HARNESS_PATH_MAX];
  if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
    return -ENAMETOOLONG;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -errno;
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

/* Applies one --set FIELD=VALUE; the error names the option. */
static int apply_set(struct lb_scenario *sc, const char *path, const char *set, char *err,
                     size_t errlen) {
  char field[128], why[1024];
  const char *eq = strchr(set, '=');
  if (!eq || eq == set || (size_t)(eq - set) >= sizeof(field)) {
    snprintf(err, errlen, "%s: --set '%s': expected FIELD=VALUE", path, set);
    return -EINVAL;
  }
  memcpy(field, set, (size_t)(eq - set));
  field[eq - set] = '\0';
  int rc = lb_scenario_set(sc, field, eq + 1, why, sizeof(why));
  if (rc < 0)
    snprintf(err, errlen, "%s: --set '%s': %s", path, set, why);
  return rc;
}

static int scenario_load(const char *path, int runs, char *const *sets, int nsets,
                         bool every_request, struct lb_scenario *sc, char *err, size_t errlen) {
  char text[16];
  int rc;
  lb_scenario_defaults(sc);
  if ((rc = lb_scenario_load(path, sc, err, errlen)) < 0)
    return rc;
  for (int i = 0; i < nsets; i++)
    if ((rc = apply_set(sc, path, sets[i], err, errlen)) < 0)
      return rc;
  if (runs > 0) {
    snprintf(text, sizeof(text), "%d", runs);
    if ((rc = lb_scenario_set(sc, "runs", text, err, errlen)) < 0)
      return rc;
  }
  if (every_request && (rc = lb_scenario_set(sc, "data_frequency", "1", err, errlen)) < 0)
    return rc;
  if ((rc = lb_scenario_finish(sc, err, errlen)) < 0)
    return rc;
  /* A bad picker fails here, before any process starts. */
  struct lb_picker_spec *spec = NULL;
  char perr[512];
  if (lb_picker_spec_parse(sc->picker, &spec, perr, sizeof(perr)) < 0) {
    char origin[LB_PICKER_EXPR_MAX + LB_SCENARIO_PATH_MAX + 32];
    lb_scenario_picker_origin(sc, origin, sizeof(origin));
    snprintf(err, errlen, "%s: field 'picker': %s", origin, perr);
    return -EINVAL;
  }
  lb_picker_spec_free(spec);
  return 0;
}

int lb_harness_scenario_load(const char *path, int runs, bool every_request, struct lb_scenario *sc,
                             char *err, size_t errlen) {
  return scenario_load(path, runs, NULL, 0, every_request, sc, err, errlen);
}

int lb_harness_scenario_load_opts(const char *path, const struct lb_harness_opts *o,
                                  bool every_request, struct lb_scenario *sc, char *err,
                                  size_t errlen) {
  int rc = scenario_load(path, o->runs, o->sets, o->nsets, every_request, sc, err, errlen);
  if (rc == 0 && sc->delay == LB_DELAY_NETEM && o->fallback_inproc && o->netem_missing)
    sc->delay = LB_DELAY_INPROC;
  return rc;
}

int lb_harness_delay_check(struct lb_harness_opts *o, struct lb_scenario *sc, char *warn,
                           size_t warnlen, char *err, size_t errlen) {
  if (warnlen)
    warn[0] = '\0';
  if (sc->delay != LB_DELAY_NETEM)
    return 0;
  if (!o->netns) {
    snprintf(err, errlen,
             "%s: field 'delay': netem puts the delay on the links of a network-namespace "
             "fleet: run it with --hosts netns (as root), or use delay: inproc",
             sc->path[0] ? sc->path : sc->name);
    return -EINVAL;
  }
#ifdef LB_HARNESS_HAS_NETNS
  static int probed; /* 0 not yet, 1 netem works, -1 it does not */
  static char why[512];
  if (!probed) {
    int rc = lb_netem_probe(why, sizeof(why));
    if (rc < 0)
      snprintf(why, sizeof(why), "netem: cannot probe for netem: %s; use delay: inproc",
               strerror(-rc));
    probed = rc == 1 ? 1 : -1;
  }
  if (probed == 1)
    return 0;
#else
  const char *why = "netem: not available in this build; use delay: inproc";
#endif
  if (!o->fallback_inproc) {
    snprintf(err, errlen, "%s", why);
    return -ENOTSUP;
  }
  o->netem_missing = true;
  sc->delay = LB_DELAY_INPROC;
  /* The probe's line without its advice, which the fallback follows. */
  char what[512];
  snprintf(what, sizeof(what), "%s", why);
  char *advice = strstr(what, "; use delay: inproc");
  if (advice)
    *advice = '\0';
  snprintf(warn, warnlen, "warning: %s: %s; running with delay: inproc (--fallback-inproc)",
           sc->name, what);
  return 0;
}

static bool executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Tries DIR/NAME, then DIR/SUB/NAME, then DIR/../SUB/NAME. */
static bool try_dir(const char *dir, const char *sub, const char *name, char *out, size_t len) {
  for (size_t k = 0; k < 3; k++) {
    char tmp[LB_HARNESS_PATH_MAX * 2];
    if (k == 0)
      snprintf(tmp, sizeof(tmp), "%s/%s", dir, name);
    else
      snprintf(tmp, sizeof(tmp), k == 1 ? "%s/%s/%s" : "%s/../%s/%s", dir, sub, name);
    if (executable(tmp) && strlen(tmp) < len) {
      snprintf(out, len, "%s", tmp);
      return true;
    }
  }
  return false;
}

int lb_harness_find_binary(const char *bin_dir, const char *name, char *out, size_t len, char *err,
                           size_t errlen) {
  const char *sub = strcmp(name, "lbsim") == 0 ? "sim" : name;
  if (bin_dir && *bin_dir) {
    if (try_dir(bin_dir, sub, name, out, len))
      return 0;
    snprintf(err, errlen, "--bin-dir %s: no executable %s there (nor in %s/%s)", bin_dir, name,
             bin_dir, sub);
    return -ENOENT;
  }
  const char *env = getenv("LB_BINARY_DIR");
  if (env && *env && try_dir(env, sub, name, out, len))
    return 0;
  char self[LB_HARNESS_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
      *slash = '\0';
    if (try_dir(self, sub, name, out, len))
      return 0;
  }
  snprintf(err, errlen,
           "cannot find %s: looked next to lbharness, in its build tree and in $LB_BINARY_DIR; "
           "build it or pass --bin-dir",
           name);
  return -ENOENT;
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads "tcp=PORT udp=PORT\n"; 1 when complete, 0 when not there yet. */
static int read_port_file(const char *path, int *tcp, int *udp) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char line[128] = "";
  int ok = fgets(line, sizeof(line), f) != NULL && strchr(line, '\n') != NULL &&
           sscanf(line, "tcp=%d udp=%d", tcp, udp) == 2;
  fclose(f);
  return ok ? 1 : 0;
}

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

/* A client log that grows during the run: counts complete lines. */
struct growing_log {
  char path[LB_HARNESS_PATH_MAX];
  off_t offset;
  long lines, failed, timed_out;
};

static void growing_log_update(struct growing_log *g) {
  int fd = open(g->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  char buf[1 << 16];
  for (;;) {
    ssize_t got = pread(fd, buf, sizeof(buf) - 1, g->offset);
    if (got <= 0)
      break;
    buf[got] = '\0';
    char *last = buf + got - 1;
    while (last >= buf && *last != '\n')
      last--;
    if (last < buf)
      last = NULL;
    if (!last) {
      if (got == (ssize_t)sizeof(buf) - 1)
        g->offset += got; /* absurd line: skip */
      break;
    }
    for (char *line = buf; line <= last;) {
      char *nl = strchr(line, '\n');
      *nl = '\0';
      g->lines++;
      if (strstr(line, ",failed"))
        g->failed++;
      else if (strstr(line, ",timed_out"))
        g->timed_out++;
      line = nl + 1;
    }
    g->offset += last - buf + 1;
  }
  close(fd);
}

_Static_assert(LB_HARNESS_PATH_MAX == 1024, "harness_faults.h: logs are char[1024]");

struct fleet {
  struct lb_harness_group group;
  size_t *servers, *clients; /* indices in group.procs */
  int nservers, nclients;
  int *tcp, *udp;
  struct growing_log *logs;
  char (*server_logs)[LB_HARNESS_PATH_MAX];
  char (*client_logs)[LB_HARNESS_PATH_MAX];
  /* --hosts netns: every daemon runs through `netns.sh exec FLEET HOST`. */
  char netns_script[LB_HARNESS_PATH_MAX];
  char fleet_id[16];
  bool netns_up;
  const char *fleet_file; /* --fleet: every daemon gets it */
  char max_queue[16];     /* the scenario's, for every server (0: unbounded, the seed) */
  bool netem_applied;
  /* Ends seen during the run (events.csv); gone[k] (servers, then
   * client processes): its end was noted, not to be reported again. */
  struct lb_harness_events events;
  bool *gone;
  /* The scenario's kill and pause faults (harness_faults.h). */
  char ***server_argv; /* each server's command line, for a restart */
  struct lb_harness_faults faults;
  struct lb_harness_fault_fleet fault_fleet;
};

/* Starts argv with the netns wrapper when the fleet has one; returns the
 * index of the daemon's own argv[0]. */
static int wrap(struct fleet *f, char **argv, char *host) {
  if (!f->fleet_id[0])
    return 0;
  argv[0] = f->netns_script;
  argv[1] = "exec";
  argv[2] = f->fleet_id;
  argv[3] = host;
  return 4;
}

/* 127.0.0.1, or server i's address in the fleet's namespaces. */
static void server_addr(const struct fleet *f, int i, char *buf, size_t len) {
#ifdef LB_HARNESS_HAS_NETNS
  if (f->fleet_id[0] && lb_deploy_netns_addr('s', i, buf, len) == 0)
    return;
#else
  (void)f;
  (void)i;
#endif
  snprintf(buf, len, "127.0.0.1");
}

/* What every host's link had at the end of the run (`tc -s qdisc show`),
 * into RUN_DIR/netem-qdiscs.txt: the plan was applied and packets crossed
 * it. Best effort. */
static void record_qdiscs(const struct fleet *f, const char *run_dir) {
#ifdef LB_HARNESS_HAS_NETNS
  char path[LB_HARNESS_PATH_MAX + 32];
  snprintf(path, sizeof(path), "%s/netem-qdiscs.txt", run_dir);
  FILE *out = fopen(path, "w");
  if (!out)
    return;
  for (int k = 0; k < f->nservers + f->nclients; k++) {
    char ns[64], text[8192];
    char kind = k < f->nservers ? 's' : 'c';
    int index = k < f->nservers ? k : k - f->nservers;
    if (lb_deploy_netns_name(f->fleet_id, kind, index, ns, sizeof(ns)) < 0)
      continue;
    char *argv[] = {
        "ip", "netns", "exec", ns, "sh", "-c", "tc -s qdisc show dev " LB_DEPLOY_NETNS_IFACE " >&2",
        NULL};
    int status = lb__netem_run_capture(argv, NULL, text, sizeof(text));
    fprintf(out, "== %c%d (%s)%s\n%s", kind, index, ns, status == 0 ? "" : " (tc failed)", text);
  }
  fclose(out);
#else
  (void)f;
  (void)run_dir;
#endif
}

static void fleet_free(struct fleet *f) {
  lb_harness_group_close(&f->group);
  free(f->servers);
  free(f->clients);
  free(f->tcp);
  free(f->udp);
  free(f->logs);
  free(f->server_logs);
  free(f->client_logs);
  free(f->gone);
  for (int i = 0; f->server_argv && i < f->nservers; i++) {
    for (char **a = f->server_argv[i]; a && *a; a++)
      free(*a);
    free(f->server_argv[i]);
  }
  free(f->server_argv);
  lb_harness_faults_close(&f->faults);
  lb_harness_events_close(&f->events);
}

/* A copy of a NULL-terminated argv, or NULL. */
static char **argv_dup(char *const *argv) {
  size_t n = 0;
  while (argv[n])
    n++;
  char **copy = calloc(n + 1, sizeof(*copy));
  for (size_t k = 0; copy && k < n; k++)
    if (!(copy[k] = strdup(argv[k]))) {
      while (k-- > 0)
        free(copy[k]);
      free(copy);
      return NULL;
    }
  return copy;
}

/* Fails the start with the first server that exited before it listened. */
static bool early_exit(struct fleet *f, char *err, size_t errlen) {
  char how[80], tail[600];
  for (int i = 0; i < f->nservers; i++) {
    struct lb_harness_proc *p = &f->group.procs[f->servers[i]];
    if (p->exited) {
      lb_harness_proc_describe(p, how, sizeof(how));
      lb_harness_log_tail(f->server_logs[i], tail, sizeof(tail));
      snprintf(err, errlen, "server %d stopped early (%s); its log %s ends:\n%s", i, how,
               f->server_logs[i], tail);
      return true;
    }
  }
  return false;
}

/* A client process that died mid-write leaves a last line cut short:
 * cut the log back to its last whole line, so what it logged is merged. */
static void drop_partial_line(const char *path) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return;
  off_t end = lseek(fd, 0, SEEK_END), keep = end;
  char c;
  while (keep > 0 && pread(fd, &c, 1, keep - 1) == 1 && c != '\n')
    keep--;
  if (keep < end && ftruncate(fd, keep) != 0)
    keep = end;
  close(fd);
}

/* During the run a daemon that ends by itself is reported once (which,
 * when, how; its log's last lines) and the run goes on without it: the
 * clients count what it held and what they send it as failed. A client
 * process that exits 0 has finished. */
static void watch_daemons(struct fleet *f) {
  char how[80], tail[600], detail[256];
  for (int k = 0; k < f->nservers + f->nclients; k++) {
    bool server = k < f->nservers;
    int i = server ? k : k - f->nservers;
    size_t idx = server ? f->servers[i] : f->clients[i];
    struct lb_harness_proc *p = &f->group.procs[idx];
    if (!p->exited || f->gone[k])
      continue;
    f->gone[k] = true;
    if (!server && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)
      continue;
    lb_harness_proc_describe(p, how, sizeof(how));
    const char *log = server ? f->server_logs[i] : f->client_logs[i];
    lb_harness_log_tail(log, tail, sizeof(tail));
    if (!server)
      drop_partial_line(f->logs[i].path);
    snprintf(detail, sizeof(detail), "%s; log %.150s", how, log);
    char who[64];
    snprintf(who, sizeof(who), "%s %d", server ? "server" : "client process", i);
    lb_harness_events_note(&f->events, realtime_ns(), who, "died", detail, true);
    if (tail[0])
      fprintf(stderr, "lbharness: %s: %s's log ends:\n%s\n", f->events.prefix, who, tail);
  }
}

/* A stop signal (Ctrl-C): the documented grace. SIGTERM to every daemon
 * (servers drain, clients stop arriving and drain); halfway through the
 * grace a second SIGTERM to the clients still running (they time out what
 * is live and flush their logs and stats); what is left at the end of the
 * grace is killed. The waits here do not give way to the stop signal that
 * started them. */
static void stop_with_grace(struct fleet *f, int grace_ms) {
  struct lb_harness_group *g = &f->group;
  double start = lb_harness_now(), half = start + grace_ms / 2000.0,
         end = start + grace_ms / 1000.0;
  bool second = false;
  lb_harness_faults_finish(&f->faults, &f->fault_fleet, realtime_ns()); /* no server left stopped */
  for (int k = 0; k < f->nservers + f->nclients; k++)
    lb_harness_proc_signal(g, k < f->nservers ? f->servers[k] : f->clients[k - f->nservers],
                           SIGTERM);
  while (lb_harness_group_poll(g) > 0 && lb_harness_now() < end) {
    if (!second && lb_harness_now() >= half) {
      second = true;
      for (int k = 0; k < f->nclients; k++)
        lb_harness_proc_signal(g, f->clients[k], SIGTERM);
    }
    lb_harness_sleep_ms(20);
  }
  lb_harness_group_stop(g, 0);
}

static int stopped(char *err, size_t errlen) {
  snprintf(err, errlen, "interrupted by signal %d: fleet stopped", (int)lb_harness_stop_signal);
  return -EINTR;
}

static int start_servers(const struct lb_harness_opts *o, const char *server_bin,
                         const char *scenario_file, int run, const char *board, double max_rt,
                         int64_t start_ns, const char *dir, struct fleet *f, char *err,
                         size_t errlen) {
  char idx[16], runs[16], port_file[LB_HARNESS_PATH_MAX], stats[LB_HARNESS_PATH_MAX], rt[32];
  char start[32];
  snprintf(runs, sizeof(runs), "%d", run);
  snprintf(start, sizeof(start), "%lld", (long long)start_ns);
  snprintf(rt, sizeof(rt), "%.0f", ceil(max_rt));
  for (int i = 0; i < f->nservers; i++) {
    snprintf(idx, sizeof(idx), "%d", i);
    snprintf(port_file, sizeof(port_file), "%s/server-%d.port", dir, i);
    snprintf(stats, sizeof(stats), "%s/server-%d.stats", dir, i);
    snprintf(f->server_logs[i], LB_HARNESS_PATH_MAX, "%s/server-%d.log", dir, i);
    unlink(port_file);
    char *argv[40], host[16], addr[64];
    snprintf(host, sizeof(host), "s%d", i);
    int a = wrap(f, argv, host);
    argv[a++] = (char *)server_bin;
    if (f->fleet_id[0]) {
      server_addr(f, i, addr, sizeof(addr));
      argv[a++] = "--listen";
      argv[a++] = addr;
    }
    argv[a++] = "--scenario";
    argv[a++] = (char *)scenario_file;
    argv[a++] = "--index";
    argv[a++] = idx;
    argv[a++] = "--run";
    argv[a++] = runs;
    argv[a++] = "--port";
    argv[a++] = "0";
    argv[a++] = "--udp-port";
    argv[a++] = "0";
    argv[a++] = "--port-file";
    argv[a++] = port_file;
    argv[a++] = "--max-runtime";
    argv[a++] = rt;
    argv[a++] = "--stats";
    argv[a++] = stats;
    argv[a++] = "--start-at-realtime-ns";
    argv[a++] = start;
    argv[a++] = "--max-queue";
    argv[a++] = f->max_queue;
    if (board) {
      argv[a++] = "--board";
      argv[a++] = (char *)board;
    }
    if (f->fleet_file) {
      argv[a++] = "--fleet";
      argv[a++] = (char *)f->fleet_file;
    }
    argv[a] = NULL;
    if (!(f->server_argv[i] = argv_dup(argv)))
      return -ENOMEM;
    char name[32];
    snprintf(name, sizeof(name), "server %d", i);
    int k = lb_harness_group_spawn(&f->group, argv, f->server_logs[i], name);
    if (k < 0) {
      snprintf(err, errlen, "cannot start %s: %s", server_bin, strerror(-k));
      return k;
    }
    f->servers[i] = (size_t)k;
  }
  /* Every server writes its port file once it listens. */
  (void)o;
  double deadline = lb_harness_now() + SERVER_PORT_WAIT_S;
  for (int i = 0; i < f->nservers;) {
    snprintf(port_file, sizeof(port_file), "%s/server-%d.port", dir, i);
    if (read_port_file(port_file, &f->tcp[i], &f->udp[i])) {
      i++;
      continue;
    }
    lb_harness_group_poll(&f->group);
    if (early_exit(f, err, errlen))
      return -ECHILD;
    if (lb_harness_stop_signal)
      return stopped(err, errlen);
    if (lb_harness_now() > deadline) {
      snprintf(err, errlen, "server %d did not write %s within %.0f s (log: %s)", i, port_file,
               SERVER_PORT_WAIT_S, f->server_logs[i]);
      return -ETIMEDOUT;
    }
    lb_harness_sleep_ms(10);
  }
  return 0;
}

static int start_clients(const char *client_bin, const struct lb_scenario *sc,
                         const char *scenario_file, int run, const char *board, double max_rt,
                         int64_t start_ns, const char *dir, struct fleet *f, char *err,
                         size_t errlen) {
  size_t slen = (size_t)f->nservers * 48 + 1;
  char *servers = malloc(slen);
  if (!servers)
    return -ENOMEM;
  servers[0] = '\0';
  for (int i = 0; i < f->nservers; i++) {
    char addr[32];
    size_t used = strlen(servers);
    server_addr(f, i, addr, sizeof(addr));
    snprintf(servers + used, slen - used, "%s%s:%d:%d", i ? "," : "", addr, f->tcp[i], f->udp[i]);
  }
  char clients[48], runs[16], start[32], rt[32], stats[LB_HARNESS_PATH_MAX];
  snprintf(runs, sizeof(runs), "%d", run);
  snprintf(start, sizeof(start), "%lld", (long long)start_ns);
  snprintf(rt, sizeof(rt), "%.0f", ceil(max_rt));
  int first = 0, rc = 0;
  for (int k = 0; k < f->nclients; k++) {
    int count = sc->clients / f->nclients + (k < sc->clients % f->nclients ? 1 : 0);
    snprintf(clients, sizeof(clients), "%d:%d", first, count);
    snprintf(f->logs[k].path, LB_HARNESS_PATH_MAX, "%s/client-%d.csv", dir, k);
    snprintf(f->client_logs[k], LB_HARNESS_PATH_MAX, "%s/client-%d.log", dir, k);
    snprintf(stats, sizeof(stats), "%s/client-%d.stats", dir, k);
    char *argv[40], host[16];
    snprintf(host, sizeof(host), "c%d", k);
    int a = wrap(f, argv, host);
    argv[a++] = (char *)client_bin;
    argv[a++] = "--scenario";
    argv[a++] = (char *)scenario_file;
    argv[a++] = "--clients";
    argv[a++] = clients;
    argv[a++] = "--run";
    argv[a++] = runs;
    argv[a++] = "--servers";
    argv[a++] = servers;
    argv[a++] = "--log";
    argv[a++] = f->logs[k].path;
    argv[a++] = "--start-at-realtime-ns";
    argv[a++] = start;
    argv[a++] = "--stats";
    argv[a++] = stats;
    argv[a++] = "--max-runtime";
    argv[a++] = rt;
    if (board) {
      argv[a++] = "--board";
      argv[a++] = (char *)board;
    }
    if (f->fleet_file) {
      argv[a++] = "--fleet";
      argv[a++] = (char *)f->fleet_file;
    }
    argv[a] = NULL;
    char name[64];
    snprintf(name, sizeof(name), "clients %s", clients);
    int idx = lb_harness_group_spawn(&f->group, argv, f->client_logs[k], name);
    if (idx < 0) {
      snprintf(err, errlen, "cannot start %s: %s", client_bin, strerror(-idx));
      rc = idx;
      break;
    }
    f->clients[k] = (size_t)idx;
    first += count;
  }
  free(servers);
  return rc;
}

/* Waits for the clients to finish by themselves, with progress lines. */
static int wait_clients(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                        int64_t start_ns, double deadline, struct fleet *f, char *err,
                        size_t errlen) {
  bool tty = isatty(2);
  double next_print = 0;
  /* The run's arrival trace says how many requests are due by now (the
   * clients' logs are written in large blocks). */
  struct lb_arrivals trace = {0};
  char aerr[256];
  bool have_trace = o->progress && lb_arrivals_build(sc, run, &trace, aerr, sizeof(aerr)) == 0;
  size_t due = 0;
  int rc = 0;
  char last_line[256] = "";
  for (;;) {
    size_t running = 0;
    lb_harness_group_poll(&f->group);
    for (int k = 0; k < f->nclients; k++)
      if (!f->group.procs[f->clients[k]].exited)
        running++;
    lb_harness_faults_run(&f->faults, &f->fault_fleet, realtime_ns());
    watch_daemons(f);
    if (lb_harness_stop_signal) {
      rc = stopped(err, errlen);
      break;
    }
    double now = lb_harness_now();
    if (o->progress && (now >= next_print || running == 0)) {
      long done = 0, failed = 0, timed_out = 0;
      for (int k = 0; k < f->nclients; k++) {
        growing_log_update(&f->logs[k]);
        done += f->logs[k].lines > 0 ? f->logs[k].lines - 1 : 0;
        failed += f->logs[k].failed;
        timed_out += f->logs[k].timed_out;
      }
      double ticks = (double)(realtime_ns() - start_ns) / (double)sc->tick_ns;
      if (ticks < 0)
        ticks = 0;
      if (ticks > sc->total_ticks)
        ticks = sc->total_ticks;
      while (have_trace && due < trace.n && trace.items[due].tick <= ticks)
        due++;
      /* The clients write their logs in blocks: what is logged is said
       * once they are done, not as a count that stays 0 all run. */
      char line[256];
      if (running)
        snprintf(line, sizeof(line),
                 "%s: real run %d: tick %.0f/%d, requests due %zu/%zu, %zu/%d client processes "
                 "running",
                 sc->name, run, ticks, sc->total_ticks, due, trace.n, running, f->nclients);
      else
        snprintf(line, sizeof(line),
                 "%s: real run %d: done, %ld records logged (requests and probes), %ld failed, "
                 "%ld timed out (the model's timeout)",
                 sc->name, run, done, failed, timed_out);
      if (tty || strcmp(line, last_line) != 0) /* a line only when it says something new */
        fprintf(stderr, "%s%s%s", tty ? "\r\033[K" : "", line, tty ? "" : "\n");
      snprintf(last_line, sizeof(last_line), "%s", line);
      next_print = now + (tty ? 0.2 : 2.0);
    }
    if (running == 0)
      break;
    if (now > deadline) {
      snprintf(err, errlen,
               "client processes still running past the run's time bound: fleet "
               "stopped");
      rc = -ETIMEDOUT;
      break;
    }
    lb_harness_sleep_ms(lb_harness_faults_sleep_ms(&f->faults, realtime_ns(), 50));
  }
  if (o->progress && tty)
    fputc('\n', stderr);
  if (have_trace)
    lb_arrivals_close(&trace);
  return rc;
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
  struct lb_harness_kv kv;
  double v;
  for (size_t k = 0; k < nclient; k++) {
    if (lb_harness_kv_load(client_stats[k], &kv) < 0) {
      have_counts = false;
      continue;
    }
    if (lb_harness_kv_get(&kv, "timer_lateness_p99_us", &v) && v > in->timer_p99_us)
      in->timer_p99_us = v;
    if (lb_harness_kv_get(&kv, "send_lateness_p99_us", &v) && v > in->send_p99_us)
      in->send_p99_us = v;
    double max_us, at;
    if (lb_harness_kv_get(&kv, "timer_lateness_max_us", &max_us)) {
      char who[48];
      snprintf(who, sizeof(who), "client process %zu", k);
      lb_harness_stall_note(in, who, max_us / 1000.0,
                            lb_harness_kv_get(&kv, "timer_lateness_max_tick", &at) ? (long)at : -1,
                            0);
    }
    if (lb_harness_kv_get(&kv, "log_errors", &v))
      in->log_errors += (long)v;
    const char *const keys[] = {"sent", "completed", "failed", "timed_out"};
    long *dst[] = {&in->sent, &in->completed, &in->failed, &in->timed_out};
    for (int j = 0; j < 4; j++) {
      if (lb_harness_kv_get(&kv, keys[j], &v))
        *dst[j] += (long)v;
      else
        have_counts = false;
    }
  }
  for (size_t i = 0; i < nserver; i++) {
    if (lb_harness_kv_load(server_stats[i], &kv) < 0)
      continue;
    const char *const keys[] = {"tick_late_p99_ns", "hold_late_p99_ns"};
    for (int j = 0; j < 2; j++)
      if (lb_harness_kv_get(&kv, keys[j], &v) && v / 1000.0 > in->server_p99_us)
        in->server_p99_us = v / 1000.0;
    double max_ns, at, skipped;
    if (lb_harness_kv_get(&kv, "tick_late_max_ns", &max_ns)) {
      char who[48];
      snprintf(who, sizeof(who), "server %zu", i);
      lb_harness_stall_note(
          in, who, max_ns / 1e6, lb_harness_kv_get(&kv, "tick_late_max_tick", &at) ? (long)at : -1,
          lb_harness_kv_get(&kv, "ticks_skipped", &skipped) ? (long)skipped : 0);
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
                       double fleet_cpu_s, struct lb_harness_run_result *res) {
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
      struct lb_harness_kv kv;
      double v;
      for (size_t k = 0; k < n; k++)
        if (lb_harness_kv_load(paths[k], &kv) == 0 && lb_harness_kv_get(&kv, "cpu_seconds", &v))
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
  in->fleet_cpu_s = fleet_cpu_s > 0 ? fleet_cpu_s : 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  in->cores = cores > 0 ? (int)cores : 1;
  double load[1];
  in->load_average = getloadavg(load, 1) == 1 ? load[0] : -1;
  lb_harness_health_check(in, &res->health);
}

int lb_harness_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                       const char *run_dir, struct lb_harness_run_result *res, char *err,
                       size_t errlen) {
  char server_bin[LB_HARNESS_PATH_MAX], client_bin[LB_HARNESS_PATH_MAX];
  char scenario_file[LB_HARNESS_PATH_MAX + 32], board_buf[64];
  const char *board = NULL;
  struct fleet f;
  int rc;
  memset(&f, 0, sizeof(f));
  f.fleet_file = o->fleet;
  snprintf(f.max_queue, sizeof(f.max_queue), "%d", sc->max_queue);
  memset(res, 0, sizeof(*res));
  res->run = run;
  res->seed = (unsigned long long)sc->seed + (unsigned long long)run;
  snprintf(res->dir, sizeof(res->dir), "%s", run_dir);
  if (snprintf(res->requests_csv, sizeof(res->requests_csv), "%s/requests.csv", run_dir) >=
      (int)sizeof(res->requests_csv))
    return -ENAMETOOLONG;
  if ((rc = lb_harness_faults_supported(sc, o->containers, err, errlen)) < 0)
    return rc;
  if (o->containers)
    return lb_containers_run_one(o, sc, run, run_dir, res, err, errlen);
#ifndef LB_HARNESS_HAS_NETNS
  if (o->netns) {
    snprintf(err, errlen, "--hosts netns: not available in this build (use --hosts local)");
    return -ENOTSUP;
  }
#endif
  if (sc->delay == LB_DELAY_NETEM && !o->netns) {
    snprintf(err, errlen,
             "%s: field 'delay': netem puts the delay on the links of a network-namespace "
             "fleet: run it with --hosts netns (as root), or use delay: inproc",
             sc->path[0] ? sc->path : sc->name);
    return -EINVAL;
  }
  if ((rc = lb_harness_find_binary(o->bin_dir, "lbserver", server_bin, sizeof(server_bin), err,
                                   errlen)) < 0 ||
      (rc = lb_harness_find_binary(o->bin_dir, "lbclient", client_bin, sizeof(client_bin), err,
                                   errlen)) < 0)
    return rc;
  if ((rc = lb_harness_mkdirs(run_dir)) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", run_dir, strerror(-rc));
    return rc;
  }
  snprintf(scenario_file, sizeof(scenario_file), "%s/scenario.yaml", run_dir);
  FILE *sf = fopen(scenario_file, "w");
  if (!sf || lb_scenario_write(sc, sf) < 0 || fclose(sf) != 0) {
    snprintf(err, errlen, "cannot write %s", scenario_file);
    return -EIO;
  }
  struct lb_picker_spec *spec = NULL;
  char perr[256];
  if (lb_picker_spec_parse(sc->picker, &spec, perr, sizeof(perr)) < 0) {
    snprintf(err, errlen, "%s: picker: %s", sc->path, perr);
    return -EINVAL;
  }
  if (lb_picker_spec_needs_oracle(spec)) {
    snprintf(board_buf, sizeof(board_buf), "/lbharness-%d-%d", (int)getpid(), run);
    board = board_buf;
    /* The run's own: one a killed harness left at this (recycled) PID
     * would not fit this fleet. Removed again on every way out (done:). */
    shm_unlink(board);
  }
  lb_picker_spec_free(spec);

  f.nservers = sc->servers;
  f.nclients = o->client_procs > 0 ? o->client_procs : (sc->clients < 4 ? sc->clients : 4);
  if (f.nclients > sc->clients)
    f.nclients = sc->clients;
  lb_harness_group_init(&f.group);
  f.servers = calloc((size_t)f.nservers, sizeof(*f.servers));
  f.tcp = calloc((size_t)f.nservers, sizeof(int));
  f.udp = calloc((size_t)f.nservers, sizeof(int));
  f.server_logs = calloc((size_t)f.nservers, sizeof(*f.server_logs));
  f.clients = calloc((size_t)f.nclients, sizeof(*f.clients));
  f.logs = calloc((size_t)f.nclients, sizeof(*f.logs));
  f.client_logs = calloc((size_t)f.nclients, sizeof(*f.client_logs));
  f.gone = calloc((size_t)f.nservers + (size_t)f.nclients, sizeof(*f.gone));
  f.server_argv = calloc((size_t)f.nservers, sizeof(*f.server_argv));
  if (!f.servers || !f.tcp || !f.udp || !f.server_logs || !f.clients || !f.logs || !f.client_logs ||
      !f.gone || !f.server_argv) {
    rc = -ENOMEM;
    snprintf(err, errlen, "out of memory");
    goto done;
  }
#ifdef LB_HARNESS_HAS_NETNS
  if (o->netns) {
    if ((rc = lb_deploy_netns_script(f.netns_script, sizeof(f.netns_script), err, errlen)) < 0)
      goto done;
    snprintf(f.fleet_id, sizeof(f.fleet_id), "h%x", (unsigned)getpid() & 0xfffffffu);
    if ((rc = lb_deploy_netns_up(f.fleet_id, f.nservers, f.nclients, err, errlen)) < 0)
      goto done;
    f.netns_up = true;
    if (sc->delay == LB_DELAY_NETEM) {
      /* The links carry the channels' delays; tables go in the run folder. */
      char tables[PATH_MAX + 16], abs_dir[PATH_MAX];
      snprintf(tables, sizeof(tables), "%s/netem-tables",
               realpath(run_dir, abs_dir) ? abs_dir : run_dir);
      if ((rc = lb_netem_fleet_apply(sc, f.fleet_id, run, f.nclients, tables, err, errlen)) < 0)
        goto done;
      f.netem_applied = true;
    }
  }
#endif
  /* Bound: arrivals, then the longer of cooldown and request timeout. */
  double tick_s = (double)sc->tick_ns / 1e9;
  double timeout_ticks = sc->timeout_ticks > 0 ? sc->timeout_ticks : 4.0 * sc->total_ticks;
  double tail = timeout_ticks > sc->max_cooldown ? timeout_ticks : sc->max_cooldown;
  double budget_s = SERVER_START_ALLOWANCE_S + o->start_delay_s +
                    (sc->total_ticks + tail) * tick_s * 1.5 + 10.0;
  double max_rt = budget_s + 5.0;

  /* Tick 0 for servers and clients alike (CLOCK_REALTIME). */
  int64_t start_ns =
      realtime_ns() + (int64_t)((SERVER_START_ALLOWANCE_S + o->start_delay_s) * 1e9);
  {
    char events[LB_HARNESS_PATH_MAX + 16], prefix[96];
    snprintf(events, sizeof(events), "%s/events.csv", run_dir);
    snprintf(prefix, sizeof(prefix), "%.80s run %d", sc->name, run);
    if ((rc = lb_harness_events_open(&f.events, events, stderr, prefix, start_ns, sc->tick_ns)) <
        0) {
      snprintf(err, errlen, "cannot write %s: %s", events, strerror(-rc));
      goto done;
    }
  }
  if ((rc = start_servers(o, server_bin, scenario_file, run, board, max_rt, start_ns, run_dir, &f,
                          err, errlen)) < 0)
    goto done;
  double left_s = (double)(start_ns - realtime_ns()) / 1e9;
  if (left_s < o->start_delay_s / 2)
    fprintf(stderr,
            "lbharness: %s run %d: the servers took %.2f s to come up; the clients have %.2f s "
            "to connect before tick 0\n",
            sc->name, run, SERVER_START_ALLOWANCE_S + o->start_delay_s - left_s, left_s);
  double t0 = lb_harness_now() + left_s;
  if ((rc = lb_harness_faults_plan(sc, start_ns, &f.faults)) < 0) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  f.fault_fleet = (struct lb_harness_fault_fleet){
      .group = &f.group, .servers = f.servers, .argv = f.server_argv, .logs = f.server_logs,
      .tcp = f.tcp, .udp = f.udp, .gone = f.gone, .nservers = f.nservers, .events = &f.events};
  if ((rc = start_clients(client_bin, sc, scenario_file, run, board, max_rt, start_ns, run_dir, &f,
                          err, errlen)) < 0)
    goto done;
  if ((rc = wait_clients(o, sc, run, start_ns, lb_harness_now() + budget_s, &f, err, errlen)) < 0)
    goto done;
  double wall_s = lb_harness_now() - t0;
  lb_harness_faults_finish(&f.faults, &f.fault_fleet, realtime_ns());
  /* Clients are done: servers drain and exit on SIGTERM. */
  for (int i = 0; i < f.nservers; i++)
    lb_harness_proc_signal(&f.group, f.servers[i], SIGTERM);
  if (!lb_harness_group_wait(&f.group, f.servers, (size_t)f.nservers, SERVER_DRAIN_MS)) {
    if (lb_harness_stop_signal) {
      rc = stopped(err, errlen);
      goto done;
    }
    fprintf(stderr, "lbharness: servers did not exit %d ms after SIGTERM; killed\n",
            SERVER_DRAIN_MS);
  } else {
    /* A server that failed while draining said so in its log. */
    for (int i = 0; i < f.nservers; i++) {
      const struct lb_harness_proc *p = &f.group.procs[f.servers[i]];
      if (f.gone[i] || (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0))
        continue; /* its end was reported when it came */
      char how[80];
      lb_harness_proc_describe(p, how, sizeof(how));
      fprintf(stderr, "lbharness: %s run %d: server %d ended with %s after SIGTERM (log: %s)\n",
              sc->name, run, i, how, f.server_logs[i]);
    }
  }
  lb_harness_group_stop(&f.group, STOP_GRACE_MS);
  {
    char **csvs = calloc((size_t)f.nclients + 1, sizeof(char *));
    if (!csvs) {
      rc = -ENOMEM;
      snprintf(err, errlen, "out of memory");
      goto done;
    }
    size_t ncsv = 0;
    struct stat st;
    for (int k = 0; k < f.nclients; k++) /* a dead one may have logged nothing */
      if (!f.gone[f.nservers + k] || (stat(f.logs[k].path, &st) == 0 && st.st_size > 0))
        csvs[ncsv++] = f.logs[k].path;
    rc = lb_harness_collect_logs(sc, run, csvs, ncsv, res, err, errlen);
    free(csvs);
    if (rc < 0)
      goto done;
  }
  lb_harness_assess(sc, f.nclients, f.nservers, wall_s, lb_harness_group_cpu_seconds(&f.group),
                    res);
  if (f.events.unplanned > 0) { /* a fleet short of a daemon is not the model's */
    res->health_in.died = f.events.unplanned;
    snprintf(res->health_in.death, sizeof(res->health_in.death), "%s", f.events.first);
    lb_harness_health_check(&res->health_in, &res->health);
  }
  if (f.netem_applied)
    record_qdiscs(&f, run_dir);
  rc = 0;
done:
  if (rc < 0) /* a stop signal or a failure: the daemons' grace */
    stop_with_grace(&f, STOP_GRACE_MS);
  fleet_free(&f); /* stops and reaps whatever is left */
  if (board)
    shm_unlink(board); /* after the last server and client are reaped */
#ifdef LB_HARNESS_HAS_NETNS
  char nerr[256];
  if (f.netns_up && lb_deploy_netns_down(f.fleet_id, nerr, sizeof(nerr)) < 0)
    fprintf(stderr, "lbharness: removing network namespaces of fleet %s: %s\n", f.fleet_id, nerr);
#endif
  return rc;
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
