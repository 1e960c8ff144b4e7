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
#include "harness_proxy.h"
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

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads "tcp=PORT udp=PORT[ http=PORT]\n"; 1 when complete (with http=
 * when http is not NULL), 0 when not there yet. */
static int read_port_file(const char *path, int *tcp, int *udp, int *http) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char line[128] = "";
  int ok = fgets(line, sizeof(line), f) != NULL && strchr(line, '\n') != NULL &&
           sscanf(line, "tcp=%d udp=%d", tcp, udp) == 2 &&
           (!http || (strstr(line, " http=") && sscanf(strstr(line, " http="), " http=%d", http) == 1));
  fclose(f);
  return ok ? 1 : 0;
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
  int *http; /* transport: http: each server's --http-port; else NULL */
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
  /* scenario proxy: every client's requests go through it. */
  struct lb_harness_proxy proxy;
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
    int status = lb_harness_run_tool(argv, NULL, text, sizeof(text));
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
  free(f->http);
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
    if (tail[0] && f->events.echo)
      fprintf(f->events.echo, "lbharness: %s: %s's log ends:\n%s\n", f->events.prefix, who, tail);
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
    if (f->http) {
      argv[a++] = "--http-port";
      argv[a++] = "0";
    }
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
    if (read_port_file(port_file, &f->tcp[i], &f->udp[i], f->http ? &f->http[i] : NULL)) {
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
  size_t slen = (size_t)f->nservers * 48 + 1, hlen = (size_t)f->nservers * 8 + 1;
  char *servers = malloc(slen);
  char *http_ports = f->http ? malloc(hlen) : NULL; /* lbclient --http-ports */
  if (!servers || (f->http && !http_ports)) {
    free(servers);
    free(http_ports);
    return -ENOMEM;
  }
  servers[0] = '\0';
  /* Behind a proxy every server's port is the proxy's: the proxy picks. */
  for (size_t i = 0, used = 0; http_ports && i < (size_t)f->nservers; i++)
    used += (size_t)snprintf(http_ports + used, hlen - used, "%s%d", i ? "," : "",
                             f->proxy.started ? f->proxy.port : f->http[i]);
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
    if (http_ports) {
      argv[a++] = "--http-ports";
      argv[a++] = http_ports;
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
  free(http_ports);
  return rc;
}

/* Waits for the clients to finish by themselves, with progress lines. */
static int wait_clients(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                        int64_t start_ns, double deadline, struct fleet *f, char *err,
                        size_t errlen) {
  bool tty = o->log && isatty(fileno(o->log));
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
    if (o->progress && o->log && (now >= next_print || running == 0)) {
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
        fprintf(o->log, "%s%s%s", tty ? "\r\033[K" : "", line, tty ? "" : "\n");
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
    fputc('\n', o->log);
  if (have_trace)
    lb_arrivals_close(&trace);
  return rc;
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
  if ((rc = lb_harness_proxy_supported(sc, !o->containers && !o->netns, err, errlen)) < 0)
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
  /* The board: oracle.* costs read it, and the seed's server PID (server.pid)
   * steers towards the fleet's mean utilization, which lbsim's servers all
   * see and real ones learn from it (without it their PID weight stays 0). */
  if (lb_picker_spec_needs_oracle(spec) || lb_picker_spec_needs_fleet_mean(spec)) {
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
  if (sc->transport == LB_TRANSPORT_HTTP && !(f.http = calloc((size_t)f.nservers, sizeof(int)))) {
    rc = -ENOMEM;
    snprintf(err, errlen, "out of memory");
    goto done;
  }
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
    if ((rc = lb_harness_events_open(&f.events, events, o->log, prefix, start_ns, sc->tick_ns)) <
        0) {
      snprintf(err, errlen, "cannot write %s: %s", events, strerror(-rc));
      goto done;
    }
  }
  if ((rc = start_servers(o, server_bin, scenario_file, run, board, max_rt, start_ns, run_dir, &f,
                          err, errlen)) < 0)
    goto done;
  double left_s = (double)(start_ns - realtime_ns()) / 1e9;
  if (o->log && left_s < o->start_delay_s / 2)
    fprintf(o->log,
            "lbharness: %s run %d: the servers took %.2f s to come up; the clients have %.2f s "
            "to connect before tick 0\n",
            sc->name, run, SERVER_START_ALLOWANCE_S + o->start_delay_s - left_s, left_s);
  double t0 = lb_harness_now() + left_s;
  if (sc->proxy != LB_PROXY_NONE &&
      (rc = lb_harness_proxy_start(&f.proxy, sc, run_dir, f.http, f.nservers, (int)ceil(max_rt),
                                   &f.group, err, errlen)) < 0)
    goto done;
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
  /* Clients are done: the proxy goes first (its upstream connections
   * would keep the servers' drain waiting), then the servers drain and
   * exit on SIGTERM. */
  lb_harness_proxy_stop(&f.proxy, &f.group, STOP_GRACE_MS);
  for (int i = 0; i < f.nservers; i++)
    lb_harness_proc_signal(&f.group, f.servers[i], SIGTERM);
  if (!lb_harness_group_wait(&f.group, f.servers, (size_t)f.nservers, SERVER_DRAIN_MS)) {
    if (lb_harness_stop_signal) {
      rc = stopped(err, errlen);
      goto done;
    }
    if (o->log)
      fprintf(o->log, "lbharness: servers did not exit %d ms after SIGTERM; killed\n",
            SERVER_DRAIN_MS);
  } else {
    /* A server that failed while draining said so in its log. */
    for (int i = 0; i < f.nservers; i++) {
      const struct lb_harness_proc *p = &f.group.procs[f.servers[i]];
      if (f.gone[i] || (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0))
        continue; /* its end was reported when it came */
      char how[80];
      lb_harness_proc_describe(p, how, sizeof(how));
      if (o->log)
        fprintf(o->log, "lbharness: %s run %d: server %d ended with %s after SIGTERM (log: %s)\n",
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
                    o->expected_timed_out, res);
  if (f.events.unplanned > 0) { /* a fleet short of a daemon is not the model's */
    res->health_in.died = f.events.unplanned;
    snprintf(res->health_in.death, sizeof(res->health_in.death), "%s", f.events.first);
    lb_harness_health_check(&res->health_in, &res->health);
  }
  if (f.netem_applied)
    record_qdiscs(&f, run_dir);
  rc = 0;
done:
  if (rc < 0) { /* a stop signal or a failure: the daemons' grace, the proxy's first */
    lb_harness_proxy_stop(&f.proxy, &f.group, STOP_GRACE_MS);
    stop_with_grace(&f, STOP_GRACE_MS);
  }
  fleet_free(&f); /* stops and reaps whatever is left */
  if (board)
    shm_unlink(board); /* after the last server and client are reaped */
#ifdef LB_HARNESS_HAS_NETNS
  char nerr[256];
  if (f.netns_up && lb_deploy_netns_down(f.fleet_id, nerr, sizeof(nerr)) < 0 && o->log)
    fprintf(o->log, "lbharness: removing network namespaces of fleet %s: %s\n", f.fleet_id, nerr);
#endif
  return rc;
}
