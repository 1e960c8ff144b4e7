/* harness_deploy: the netns layout, compose and Kubernetes generators, and
 * `lbharness deploy`. */
#define _GNU_SOURCE
#include "harness_deploy.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "errbuf.h"
#include "expr.h"
#include "harness_engine.h"
#include "harness_netem.h"

/* ---- fleet layout ---- */

void lb_deploy_client_range(int clients, int procs, int j, int *first, int *count) {
  if (procs < 1 || j < 0 || j >= procs || clients < 0) {
    *first = 0;
    *count = 0;
    return;
  }
  int base = clients / procs, extra = clients % procs;
  *first = j * base + (j < extra ? j : extra);
  *count = base + (j < extra ? 1 : 0);
}

int lb_deploy_client_procs(const struct lb_scenario *sc, int procs) {
  if (procs <= 0)
    procs = 4;
  return procs < sc->clients ? procs : sc->clients;
}

int lb_deploy_netns_name(const char *fleet, char kind, int index, char *buf, size_t len) {
  int n;
  if (kind == 'b')
    n = snprintf(buf, len, "lbt-%s-br", fleet);
  else if ((kind == 's' || kind == 'c') && index >= 0 && index < LB_DEPLOY_NETNS_MAX_HOSTS)
    n = snprintf(buf, len, "lbt-%s-%c%d", fleet, kind, index);
  else
    return -EINVAL;
  return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

int lb_deploy_netns_addr(char kind, int index, char *buf, size_t len) {
  if ((kind != 's' && kind != 'c') || index < 0 || index >= LB_DEPLOY_NETNS_MAX_HOSTS)
    return -EINVAL;
  int base = kind == 's' ? 1 : 128;
  int n = snprintf(buf, len, "10.77.%d.%d", base + index / 250, 1 + index % 250);
  return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int lb_deploy_script(const char *name, char *buf, size_t len, char *err, size_t errlen) {
  const char *src = getenv("LB_SOURCE_DIR");
  if (src != NULL && src[0] != '\0') {
    snprintf(buf, len, "%s/deploy/%s", src, name);
    if (is_file(buf))
      return 0;
  }
  char dir[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
  if (n > 0) {
    dir[n] = '\0';
    /* Up from the binary's folder: an installed PREFIX/bin/lbharness has
     * PREFIX/share/lbtestbed/NAME; a build tree inside the sources,
     * build/harness/lbharness, has ../../deploy/NAME. */
    for (int up = 0; up < 5; up++) {
      char *slash = strrchr(dir, '/');
      if (slash == NULL)
        break;
      *slash = '\0';
      snprintf(buf, len, "%s/share/lbtestbed/%s", dir, name);
      if (is_file(buf))
        return 0;
      snprintf(buf, len, "%s/deploy/%s", dir, name);
      if (is_file(buf))
        return 0;
    }
  }
#ifdef LB_SOURCE_DIR_BUILT
  /* The sources this lbharness was built from, wherever its build tree is. */
  snprintf(buf, len, "%s/deploy/%s", LB_SOURCE_DIR_BUILT, name);
  if (is_file(buf))
    return 0;
#endif
  lb_errf(err, errlen,
          "cannot find deploy/%s: not in $LB_SOURCE_DIR/deploy, beside lbharness "
          "(../share/lbtestbed) or in the sources it was built from; set LB_SOURCE_DIR",
          name);
  return -ENOENT;
}

int lb_deploy_netns_script(char *buf, size_t len, char *err, size_t errlen) {
  const char *env = getenv("LB_NETNS_SCRIPT");
  if (env != NULL && env[0] != '\0') {
    snprintf(buf, len, "%s", env);
    if (is_file(buf))
      return 0;
    lb_errf(err, errlen, "netns: LB_NETNS_SCRIPT=%s: no such file", env);
    return -ENOENT;
  }
  int rc = lb_deploy_script("netns.sh", buf, len, err, errlen);
  if (rc < 0)
    lb_errf(err, errlen,
            "netns: cannot find deploy/netns.sh (set LB_NETNS_SCRIPT or LB_SOURCE_DIR)");
  return rc;
}

static int run_netns(char *const args[], char *err, size_t errlen) {
  char script[PATH_MAX];
  int rc = lb_deploy_netns_script(script, sizeof(script), err, errlen);
  if (rc != 0)
    return rc;
  char *argv[8] = {"bash", script};
  size_t argc = 2;
  for (size_t i = 0; args[i] != NULL && argc < 7; i++)
    argv[argc++] = args[i];
  argv[argc] = NULL;
  char out[2048];
  int status = lb__netem_run_capture(argv, NULL, out, sizeof(out));
  if (status < 0) {
    if (status == -ETIMEDOUT)
      lb_errf(err, errlen, "netns: %s %s: %s", script, args[0], out);
    else
      lb_errf(err, errlen, "netns: cannot run %s: %s", script, strerror(-status));
    return status;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  /* The script's last line says what went wrong. */
  size_t n = strlen(out);
  while (n > 0 && out[n - 1] == '\n')
    out[--n] = '\0';
  char *last = strrchr(out, '\n');
  lb_errf(err, errlen, "%s", last ? last + 1 : (out[0] ? out : "netns: netns.sh failed"));
  return -EIO;
}

int lb_deploy_netns_up(const char *fleet, int servers, int client_procs, char *err, size_t errlen) {
  char s[16], c[16];
  snprintf(s, sizeof(s), "%d", servers);
  snprintf(c, sizeof(c), "%d", client_procs);
  char *args[] = {"up", (char *)fleet, s, c, NULL};
  return run_netns(args, err, errlen);
}

int lb_deploy_netns_down(const char *fleet, char *err, size_t errlen) {
  char *args[] = {"down", (char *)fleet, NULL};
  return run_netns(args, err, errlen);
}

/* ---- checks shared by compose and k8s ---- */

void lb_deploy_options_defaults(struct lb_deploy_options *o) {
  memset(o, 0, sizeof(*o));
  o->image = "lbtestbed:latest";
}

int lb_deploy_check_portable(const struct lb_scenario *sc, char *err, size_t errlen) {
  struct lb_picker_spec *spec = NULL;
  char why[512] = "";
  if (lb_picker_spec_parse(sc->picker, &spec, why, sizeof(why)) != 0) {
    lb_errf(err, errlen, "%s: field 'picker': %s", sc->name, why);
    return -EINVAL;
  }
  bool oracle = lb_picker_spec_needs_oracle(spec);
  lb_picker_spec_free(spec);
  if (oracle) {
    lb_errf(err, errlen,
            "%s: field 'picker': '%s' reads the oracle board, and the oracle board "
            "needs every server on one machine; run it with lbharness run (localhost or --hosts "
            "netns)",
            sc->name, sc->picker);
    return -EINVAL;
  }
  if (sc->delay == LB_DELAY_NETEM) {
    lb_errf(err, errlen,
            "%s: field 'delay': netem shapes the links of a netns fleet, not these "
            "containers; use delay: inproc (or none)",
            sc->name);
    return -EINVAL;
  }
  return 0;
}

/* Seconds a process may run: the run, its cool-down, and slack for start-up. */
static long max_runtime_s(const struct lb_scenario *sc, long slack) {
  double ticks = (double)sc->total_ticks + (double)sc->max_cooldown;
  return (long)ceil(ticks * (double)sc->tick_ns / 1e9) + slack;
}

/* Lower-case letters, digits and '-', for names of compose projects. */
static void dns_label(const char *in, char *out, size_t len) {
  size_t n = 0;
  for (const char *p = in; *p && n + 1 < len && n < 40; p++) {
    char c = (char)tolower((unsigned char)*p);
    if (!isalnum((unsigned char)c))
      c = '-';
    if (c == '-' && (n == 0 || out[n - 1] == '-'))
      continue;
    out[n++] = c;
  }
  while (n > 0 && out[n - 1] == '-')
    n--;
  if (n == 0)
    out[n++] = 'x';
  out[n] = '\0';
}

/* The scenario as the containers see it: the trace (if any) at its fixed path. */
static char *scenario_text(const struct lb_scenario *sc) {
  struct lb_scenario copy = *sc;
  if (copy.arrivals == LB_ARRIVALS_TRACE)
    snprintf(copy.trace, sizeof(copy.trace), "%s", LB_DEPLOY_TRACE_PATH);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL)
    return NULL;
  int rc = lb_scenario_write(&copy, f);
  if (fclose(f) != 0 || rc != 0) {
    free(text);
    return NULL;
  }
  return text;
}

/* ---- a small YAML writer over libyaml's emitter ---- */

struct yw {
  yaml_emitter_t em;
  bool failed;
};

static void yw_emit(struct yw *w, yaml_event_t *ev) {
  if (w->failed || !yaml_emitter_emit(&w->em, ev))
    w->failed = true;
}

static void yw_scalar(struct yw *w, const char *s, yaml_scalar_style_t style, bool plain_ok) {
  yaml_event_t ev;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok,
                                    !plain_ok, style)) {
    w->failed = true;
    return;
  }
  yw_emit(w, &ev);
}

/* A string that a YAML reader must read back as a string: plain where it
 * cannot be mistaken for a number, bool or null, quoted otherwise. */
static void yw_str(struct yw *w, const char *s) {
  static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
  bool plain = isalpha((unsigned char)s[0]) || s[0] == '/' || s[0] == '.';
  for (const char *p = s; plain && *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_./-", *p))
      plain = false;
  for (size_t i = 0; plain && i < sizeof(words) / sizeof(words[0]); i++)
    if (strcasecmp(s, words[i]) == 0)
      plain = false;
  yw_scalar(w, s, plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE, plain);
}

/* Emits nodes described by fmt, one character each, taking arguments in
 * order: '{' '}' a block mapping, '<' '>' a flow mapping, '[' ']' a block
 * sequence, '(' ')' a flow sequence, 's' a string, 'i' an int, 'b' a bool
 * (int), 'L' a string as a literal block; spaces are ignored. Keys are
 * strings like any other: yw_put(w, "{ss si}", "kind", "Job", "port", 80). */
static void yw_put(struct yw *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (const char *p = fmt; *p; p++) {
    yaml_event_t ev;
    char num[32];
    switch (*p) {
    case '{':
    case '<':
      yaml_mapping_start_event_initialize(
          &ev, NULL, NULL, 1, *p == '{' ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
      yw_emit(w, &ev);
      break;
    case '}':
    case '>':
      yaml_mapping_end_event_initialize(&ev);
      yw_emit(w, &ev);
      break;
    case '[':
    case '(':
      yaml_sequence_start_event_initialize(
          &ev, NULL, NULL, 1, *p == '[' ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
      yw_emit(w, &ev);
      break;
    case ']':
    case ')':
      yaml_sequence_end_event_initialize(&ev);
      yw_emit(w, &ev);
      break;
    case 's':
      yw_str(w, va_arg(ap, const char *));
      break;
    case 'L':
      yw_scalar(w, va_arg(ap, const char *), YAML_LITERAL_SCALAR_STYLE, false);
      break;
    case 'i':
      snprintf(num, sizeof(num), "%d", va_arg(ap, int));
      yw_scalar(w, num, YAML_PLAIN_SCALAR_STYLE, true);
      break;
    case 'b':
      yw_scalar(w, va_arg(ap, int) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE, true);
      break;
    default:
      break;
    }
  }
  va_end(ap);
}

static void yw_strf(struct yw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void yw_strf(struct yw *w, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(buf))
    w->failed = true;
  else
    yw_str(w, buf);
}

/* Starts a document (the first of the stream opens the stream). */
static void yw_doc(struct yw *w, bool first) {
  yaml_event_t ev;
  if (first) {
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    yw_emit(w, &ev);
  }
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, first);
  yw_emit(w, &ev);
}

static void yw_doc_end(struct yw *w) {
  yaml_event_t ev;
  yaml_document_end_event_initialize(&ev, 1);
  yw_emit(w, &ev);
}

static int yw_open(struct yw *w, FILE *f) {
  memset(w, 0, sizeof(*w));
  if (!yaml_emitter_initialize(&w->em))
    return -ENOMEM;
  yaml_emitter_set_output_file(&w->em, f);
  yaml_emitter_set_unicode(&w->em, 1);
  yaml_emitter_set_width(&w->em, -1); /* never fold a command line */
  return 0;
}

static int yw_close(struct yw *w) {
  yaml_event_t ev;
  yaml_stream_end_event_initialize(&ev);
  yw_emit(w, &ev);
  if (!w->failed && !yaml_emitter_flush(&w->em))
    w->failed = true;
  yaml_emitter_delete(&w->em);
  return w->failed ? -EIO : 0;
}

/* A heap string built with printf. */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  return n < 0 ? NULL : s;
}

/* "H0:7000:7001,H1:7000:7001,...", where Hi is "server-<i><suffix>". */
static char *server_list(int servers, const char *suffix) {
  size_t cap = (size_t)servers * (strlen(suffix) + 32) + 1, used = 0;
  char *s = malloc(cap);
  if (s == NULL)
    return NULL;
  s[0] = '\0';
  for (int i = 0; i < servers; i++)
    used += (size_t)snprintf(s + used, cap - used, "%sserver-%d%s:%d:%d", i ? "," : "", i, suffix,
                             LB_DEPLOY_TCP_PORT, LB_DEPLOY_UDP_PORT);
  return s;
}

static int load_file(const char *path, char **out, size_t max, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "%s: cannot open: %s", path, strerror(e));
    return -e;
  }
  char *buf = malloc(max + 1);
  size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
  fclose(f);
  if (buf == NULL)
    return -ENOMEM;
  if (n > max) {
    free(buf);
    lb_errf(err, errlen, "%s: larger than %zu bytes", path, max);
    return -EFBIG;
  }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

/* The server's command line for `sh -c`; index is a number or "$i". Its
 * port file appears once it listens: compose and Kubernetes wait for it. */
static char *server_command(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                            const char *index, long slack) {
  return strf("lbserver --scenario %s --index %s --run %d --listen 0.0.0.0 --port %d --udp-port %d "
              "--port-file %s/run%d-server-%s.port --stats %s/run%d-server-%s.stats "
              "--max-runtime %ld --max-queue %d",
              LB_DEPLOY_SCENARIO_PATH, index, o->run, LB_DEPLOY_TCP_PORT, LB_DEPLOY_UDP_PORT,
              LB_DEPLOY_LOG_DIR, o->run, index, LB_DEPLOY_LOG_DIR, o->run, index,
              max_runtime_s(sc, slack), sc->max_queue);
}

/* Seconds from the moment the last process of a fleet is up to its tick 0:
 * the servers listen, the clients see their port files and connect. */
#define FLEET_START_MARGIN_S 2

/* The shell that runs one process of a compose or Kubernetes fleet. Every
 * process marks itself ready in the logs volume and waits for all
 * (podman-compose starts containers ~1.4 s apart, Kubernetes in any
 * order); the first to see them all writes the fleet's tick 0 (now + a
 * margin, or the fixed --start-at) into runR-go, atomically (noclobber);
 * everyone starts with it. A client waits for every server's port file,
 * then becomes lbclient. A server runs lbserver and stops it (SIGTERM: it
 * drains and writes its stats) once every client process has written its
 * stats, or when itself is stopped; then `after` (Kubernetes: idle, so
 * the StatefulSet does not restart it) or its exit status. me: this
 * process's name in the volume ("server-0", "client-$j"); cmd: the
 * daemon's command line without its tick 0. */
static char *fleet_script(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                          bool server, const char *me, const char *cmd, const char *after) {
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  char start[96];
  if (o->start_at_realtime_ns > 0)
    snprintf(start, sizeof(start), "%lld", o->start_at_realtime_ns);
  else
    snprintf(start, sizeof(start), "$(( $(date +%%s%%N) + %d000000000 ))", FLEET_START_MARGIN_S);
  char *gate = strf(
      "L=%s; R=run%d; rm -f $L/$R-%s.port; : > $L/$R-ready-%s; "
      "until n=0; for f in $L/$R-ready-*; do [ -e \"$f\" ] && n=$((n + 1)); done; [ $n -ge %d ]; "
      "do sleep 0.1; done; "
      "(set -C; echo \"%s\" > $L/$R-go) 2>/dev/null; "
      "until [ -s $L/$R-go ]; do sleep 0.05; done; T=$(cat $L/$R-go); ",
      LB_DEPLOY_LOG_DIR, o->run, me, me, sc->servers + procs, start);
  if (gate == NULL)
    return NULL;
  char *script;
  if (!server)
    script = strf("%sfor i in $(seq 0 %d); do until [ -s $L/$R-server-$i.port ]; do sleep 0.05; "
                  "done; done; exec %s --start-at-realtime-ns $T",
                  gate, sc->servers - 1, cmd);
  else
    script =
        strf("%s%s --start-at-realtime-ns $T & p=$!; "
             "(until n=0; for f in $L/$R-client-*.stats; do [ -e \"$f\" ] && n=$((n + 1)); done; "
             "[ $n -ge %d ]; do sleep 0.2; done; kill -TERM $p) & w=$!; "
             "trap 'kill -TERM $p 2>/dev/null' TERM INT; wait $p; rc=$?; "
             "while [ $rc -gt 128 ] && kill -0 $p 2>/dev/null; do wait $p; rc=$?; done; "
             "kill $w 2>/dev/null; echo \"lbserver exited: $rc\"; %s",
             gate, cmd, procs, after ? after : "exit $rc");
  free(gate);
  return script;
}

/* ---- compose ---- */

/* s with every '$' doubled: compose files interpolate $VAR, and these
 * commands' variables are the shell's. NULL stays NULL. */
static char *compose_escape(const char *s) {
  if (s == NULL)
    return NULL;
  size_t n = strlen(s), d = 0;
  for (size_t i = 0; i < n; i++)
    d += s[i] == '$';
  char *out = malloc(n + d + 1), *q = out;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i <= n; i++) {
    if (s[i] == '$')
      *q++ = '$';
    *q++ = s[i];
  }
  return out;
}

/* Server i's resource limits (scenario fields server_cpus, server_memory). */
static void compose_limits(struct yw *w, const struct lb_scenario *sc, int i) {
  double cpus;
  long long bytes;
  if (lb_scenario_server_cpus(sc, i, &cpus) == 1) {
    yw_put(w, "s", "cpus");
    yw_strf(w, "%g", cpus);
  }
  if (lb_scenario_server_memory(sc, i, &bytes) == 1) {
    yw_put(w, "s", "mem_limit");
    yw_strf(w, "%lldb", bytes);
  }
}

/* One service: `me` runs `daemon` (NULL: out of memory) behind the fleet's
 * gate; server is the server's index (its limits), or -1 for a client. */
static void compose_service(struct yw *w, const struct lb_scenario *sc,
                            const struct lb_deploy_options *o, const char *me, const char *daemon,
                            int server, const char *mount, const char *trace_mount) {
  char *script = daemon ? fleet_script(sc, o, server >= 0, me, daemon, NULL) : NULL;
  char *cmd = compose_escape(script);
  free(script);
  if (cmd == NULL) {
    w->failed = true;
    return;
  }
  yw_put(w, "s{ss s(sss)", me, "image", o->image, "command", "sh", "-c", cmd);
  yw_put(w, "s[s", "volumes", mount);
  if (sc->arrivals == LB_ARRIVALS_TRACE)
    yw_put(w, "s", trace_mount);
  yw_strf(w, "logs:%s", LB_DEPLOY_LOG_DIR);
  yw_put(w, "] s(s) ss", "networks", "fleet", "restart", "no");
  if (server >= 0)
    compose_limits(w, sc, server);
  yw_put(w, "}");
  free(cmd);
}

int lb_deploy_compose_write(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                            const char *scenario_file, FILE *f, char *err, size_t errlen) {
  int rc = lb_deploy_check_portable(sc, err, errlen);
  if (rc != 0)
    return rc;
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  char project[64];
  dns_label(sc->name, project, sizeof(project));
  char *servers = server_list(sc->servers, "");
  char *mount = strf("%s:%s:ro", scenario_file, LB_DEPLOY_SCENARIO_PATH);
  char *trace_mount = strf("%s:%s:ro", sc->trace, LB_DEPLOY_TRACE_PATH);
  struct yw w;
  if (servers == NULL || mount == NULL || trace_mount == NULL || yw_open(&w, f) != 0) {
    rc = -ENOMEM;
    goto done;
  }
  fprintf(f,
          "# Generated by `lbharness deploy compose` from scenario %s, run %d:\n"
          "# %d servers and %d client processes (%d logical clients), one container each.\n"
          "# They start together once all are up, and the servers stop when the clients\n"
          "# are done, so `up` returns by itself:\n"
          "#   docker compose -f FILE up; docker compose -f FILE down -v\n"
          "#   podman-compose -p lbt-%s -f FILE up; podman-compose -p lbt-%s -f FILE down -v;\n"
          "#     podman network rm lbt-%s_fleet   (podman-compose 1.0 leaves it)\n"
          "# Logs land in the volume 'logs', one file per process (run%d-client-J.csv are\n"
          "# the per-request logs); read them before `down -v`, which a next run needs.\n",
          sc->name, o->run, sc->servers, procs, sc->clients, project, project, project, o->run);
  yw_doc(&w, true);
  yw_put(&w, "{s", "name");
  yw_strf(&w, "lbt-%s", project);
  yw_put(&w, "s{", "services");
  for (int i = 0; i < sc->servers && !w.failed; i++) {
    char index[16], me[32];
    snprintf(index, sizeof(index), "%d", i);
    snprintf(me, sizeof(me), "server-%d", i);
    char *lbserver = server_command(sc, o, index, 180);
    compose_service(&w, sc, o, me, lbserver, i, mount, trace_mount);
    free(lbserver);
  }
  for (int j = 0; j < procs && !w.failed; j++) {
    int first, count;
    char range[32], run[16], runtime[32], log[128], stats[128];
    lb_deploy_client_range(sc->clients, procs, j, &first, &count);
    snprintf(range, sizeof(range), "%d:%d", first, count);
    snprintf(run, sizeof(run), "%d", o->run);
    snprintf(runtime, sizeof(runtime), "%ld", max_runtime_s(sc, 120));
    snprintf(log, sizeof(log), "%s/run%d-client-%d.csv", LB_DEPLOY_LOG_DIR, o->run, j);
    snprintf(stats, sizeof(stats), "%s/run%d-client-%d.stats", LB_DEPLOY_LOG_DIR, o->run, j);
    char me[32];
    snprintf(me, sizeof(me), "client-%d", j);
    char *lbclient = strf("lbclient --scenario %s --clients %s --run %s --servers %s --log %s "
                          "--stats %s --max-runtime %s",
                          LB_DEPLOY_SCENARIO_PATH, range, run, servers, log, stats, runtime);
    compose_service(&w, sc, o, me, lbclient, -1, mount, trace_mount);
    free(lbclient);
  }
  yw_put(&w, "} s{s<>} s{s<>} }", "networks", "fleet", "volumes", "logs");
  yw_doc_end(&w);
  rc = yw_close(&w);
  if (rc != 0)
    lb_errf(err, errlen, "compose: cannot write the file: %s", strerror(-rc));
done:
  if (rc == -ENOMEM)
    lb_errf(err, errlen, "compose: out of memory");
  free(servers);
  free(mount);
  free(trace_mount);
  return rc;
}

/* ---- Kubernetes ---- */

/* Opens DIR/NAME and starts a document with the object's head: apiVersion,
 * kind, metadata (name, namespace, labels); leaves the object's mapping
 * open. first: the file's first document. */
static void k8s_object(struct yw *w, bool first, const struct lb_scenario *sc,
                       const struct lb_deploy_options *o, const char *api, const char *kind,
                       const char *name, const char *component) {
  char label[64];
  dns_label(sc->name, label, sizeof(label));
  yw_doc(w, first);
  yw_put(w, "{ss ss s{ss", "apiVersion", api, "kind", kind, "metadata", "name", name);
  if (o->namespace_name != NULL)
    yw_put(w, "ss", "namespace", o->namespace_name);
  yw_put(w, "s{ss ss ss}}", "labels", "app.kubernetes.io/part-of", "lbtestbed",
         "app.kubernetes.io/component", component, "lbtestbed/scenario", label);
}

static void k8s_object_end(struct yw *w) {
  yw_put(w, "}");
  yw_doc_end(w);
}

static void k8s_labels(struct yw *w, const char *component) {
  yw_put(w, "{ss ss}", "app.kubernetes.io/part-of", "lbtestbed", "app.kubernetes.io/component",
         component);
}

/* A container that runs `sh -c cmd` with the scenario and the logs mounted;
 * leaves its mapping open. */
static void k8s_container(struct yw *w, const char *name, const char *image, const char *cmd) {
  yw_put(w, "{ss ss s[sss] s[{ss ss sb}{ss ss}]", "name", name, "image", image, "command", "sh",
         "-c", cmd, "volumeMounts", "name", "scenario", "mountPath", "/etc/lbtestbed", "readOnly",
         1, "name", "logs", "mountPath", LB_DEPLOY_LOG_DIR);
}

/* The pod's volumes, and the image's unprivileged user (deploy/Dockerfile),
 * who also gets to write the logs volume. */
static void k8s_pod_common(struct yw *w) {
  yw_put(w, "s[{ss s{ss}}{ss s{ss}}]", "volumes", "name", "scenario", "configMap", "name",
         "lbt-scenario", "name", "logs", "persistentVolumeClaim", "claimName", "lbt-logs");
  yw_put(w, "s{si si si}", "securityContext", "runAsUser", 10001, "runAsGroup", 10001, "fsGroup",
         10001);
}

static void k8s_ports(struct yw *w, const char *key) {
  yw_put(w, "s[{ss si ss}{ss si ss}]", "ports", "name", "tcp", key, LB_DEPLOY_TCP_PORT, "protocol",
         "TCP", "name", "udp", key, LB_DEPLOY_UDP_PORT, "protocol", "UDP");
}

typedef void (*k8s_writer)(struct yw *w, const struct lb_scenario *sc,
                           const struct lb_deploy_options *o, void *arg);

/* Writes DIR/NAME with write_docs. */
static int k8s_file(const char *dir, const char *name, k8s_writer write_docs,
                    const struct lb_scenario *sc, const struct lb_deploy_options *o, void *arg,
                    char *err, size_t errlen) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "k8s: cannot write %s: %s", path, strerror(e));
    return -e;
  }
  struct yw w;
  int rc = yw_open(&w, f);
  if (rc == 0) {
    write_docs(&w, sc, o, arg);
    rc = yw_close(&w);
  }
  if (fclose(f) != 0 && rc == 0)
    rc = -EIO;
  if (rc != 0)
    lb_errf(err, errlen, "k8s: cannot write %s", path);
  return rc;
}

struct k8s_config {
  const char *scenario, *ranges, *trace;
};

static void k8s_write_config(struct yw *w, const struct lb_scenario *sc,
                             const struct lb_deploy_options *o, void *arg) {
  const struct k8s_config *c = arg;
  k8s_object(w, true, sc, o, "v1", "ConfigMap", "lbt-scenario", "scenario");
  yw_put(w, "s{sL sL", "data", "scenario.yaml", c->scenario, "client-ranges", c->ranges);
  if (c->trace != NULL)
    yw_put(w, "sL", "trace", c->trace);
  yw_put(w, "}");
  k8s_object_end(w);
}

static void k8s_write_logs(struct yw *w, const struct lb_scenario *sc,
                           const struct lb_deploy_options *o, void *arg) {
  (void)arg;
  k8s_object(w, true, sc, o, "v1", "PersistentVolumeClaim", "lbt-logs", "logs");
  yw_put(w, "s{s[s] s{s{ss}}}", "spec", "accessModes", "ReadWriteMany", "resources", "requests",
         "storage", "1Gi");
  k8s_object_end(w);
  /* A pod that only holds the volume, for `kubectl cp lbt-logs-reader:/logs ./logs`. */
  k8s_object(w, false, sc, o, "v1", "Pod", "lbt-logs-reader", "logs");
  yw_put(w, "s{s[", "spec", "containers");
  k8s_container(w, "reader", o->image, "exec sleep infinity");
  yw_put(w, "}]");
  k8s_pod_common(w);
  yw_put(w, "}");
  k8s_object_end(w);
}

static void k8s_write_servers(struct yw *w, const struct lb_scenario *sc,
                              const struct lb_deploy_options *o, void *arg) {
  const char *const *cmds = arg; /* the server's command, its readiness test */
  /* Headless Service: server-<i>.server resolves to pod i once it is ready. */
  k8s_object(w, true, sc, o, "v1", "Service", "server", "server");
  /* Addresses before readiness: the clients' init container waits for the
   * names, the servers (ready once they listen) wait for the clients. */
  yw_put(w, "s{ss sb s", "spec", "clusterIP", "None", "publishNotReadyAddresses", 1, "selector");
  k8s_labels(w, "server");
  k8s_ports(w, "port");
  yw_put(w, "}");
  k8s_object_end(w);
  k8s_object(w, false, sc, o, "apps/v1", "StatefulSet", "server", "server");
  yw_put(w, "s{ss si ss s{s", "spec", "serviceName", "server", "replicas", sc->servers,
         "podManagementPolicy", "Parallel", "selector", "matchLabels");
  k8s_labels(w, "server");
  yw_put(w, "} s{s{s", "template", "metadata", "labels");
  k8s_labels(w, "server");
  yw_put(w, "} s{s[", "spec", "containers");
  k8s_container(w, "lbserver", o->image, cmds[0]);
  k8s_ports(w, "containerPort");
  yw_put(w, "s{s{s(sss)} si}", "readinessProbe", "exec", "command", "sh", "-c", cmds[1],
         "periodSeconds", 1);
  /* One template for every server: lb_deploy_k8s_write took one value. */
  double cpus;
  long long bytes;
  bool c = lb_scenario_server_cpus(sc, 0, &cpus) == 1;
  bool m = lb_scenario_server_memory(sc, 0, &bytes) == 1;
  if (c || m) {
    yw_put(w, "s{s{", "resources", "limits");
    if (c) {
      yw_put(w, "s", "cpu");
      yw_strf(w, "%gm", cpus * 1000);
    }
    if (m) {
      yw_put(w, "s", "memory");
      yw_strf(w, "%lld", bytes);
    }
    yw_put(w, "}}");
  }
  yw_put(w, "}]");
  k8s_pod_common(w);
  yw_put(w, "}}}");
  k8s_object_end(w);
}

static void k8s_write_clients(struct yw *w, const struct lb_scenario *sc,
                              const struct lb_deploy_options *o, void *arg) {
  const char *const *cmds = arg; /* the wait for the servers, the client's command */
  k8s_object(w, true, sc, o, "batch/v1", "Job", "client", "client");
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  yw_put(w, "s{ss si si si s{s{s", "spec", "completionMode", "Indexed", "completions", procs,
         "parallelism", procs, "backoffLimit", 0, "template", "metadata", "labels");
  k8s_labels(w, "client");
  yw_put(w, "} s{ss s[", "spec", "restartPolicy", "Never", "initContainers");
  k8s_container(w, "wait-for-servers", o->image, cmds[0]);
  yw_put(w, "}] s[", "containers");
  k8s_container(w, "lbclient", o->image, cmds[1]);
  yw_put(w, "}]");
  k8s_pod_common(w);
  yw_put(w, "}}}");
  k8s_object_end(w);
}

static int k8s_readme(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                      const char *dir, int procs, char *err, size_t errlen) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/README.txt", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "k8s: cannot write %s: %s", path, strerror(e));
    return -e;
  }
  const char *ns = o->namespace_name ? o->namespace_name : "";
  const char *nsflag = o->namespace_name ? " -n " : "";
  fprintf(f,
          "Scenario %s, run %d: %d servers (StatefulSet 'server', DNS server-<i>.server)\n"
          "and %d client processes (indexed Job 'client'), image %s.\n\n"
          "  kubectl apply%s%s -f .\n"
          "  kubectl wait%s%s --for=condition=complete --timeout=%lds job/client\n"
          "  kubectl cp%s%s lbt-logs-reader:%s ./logs\n"
          "  kubectl delete%s%s -f .     (the logs volume goes with it)\n\n"
          "Logs: every process writes to the volume lbt-logs (ReadWriteMany; give it\n"
          "a storageClassName that offers that mode): run%d-client-<j>.csv are the\n"
          "per-request logs (the seed's columns), run%d-*.stats the counts. Feed the\n"
          "clients' CSVs to `lbharness compare` with the scenario.\n",
          sc->name, o->run, sc->servers, procs, o->image, nsflag, ns, nsflag, ns,
          max_runtime_s(sc, 300), nsflag, ns, LB_DEPLOY_LOG_DIR, nsflag, ns, o->run, o->run);
  if (fclose(f) != 0) {
    lb_errf(err, errlen, "k8s: cannot write %s", path);
    return -EIO;
  }
  return 0;
}

int lb_deploy_k8s_write(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                        const char *dir, char *err, size_t errlen) {
  int rc = lb_deploy_check_portable(sc, err, errlen);
  if (rc != 0)
    return rc;
  if (strchr(sc->server_cpus, ',') || strchr(sc->server_memory, ',')) {
    lb_errf(err, errlen,
            "%s: fields 'server_cpus' and 'server_memory': one StatefulSet has one set of "
            "limits for every server: give one value each for Kubernetes (compose and --hosts "
            "containers take one per server)",
            sc->name);
    return -EINVAL;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    int e = errno;
    lb_errf(err, errlen, "k8s: cannot create %s: %s", dir, strerror(e));
    return -e;
  }
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  struct k8s_config config = {scenario_text(sc), NULL, NULL};
  size_t cap = (size_t)procs * 24 + 1, used = 0;
  char *ranges = malloc(cap);
  char *servers = server_list(sc->servers, ".server");
  /* The pod's ordinal (server-3 -> 3) is the server's index. After its run
   * the server idles, so that the StatefulSet does not restart it. */
  char *lbserver = server_command(sc, o, "$i", 300);
  char *server_script =
      lbserver ? fleet_script(sc, o, true, "server-$i", lbserver, "exec sleep infinity") : NULL;
  char *server_cmds[2] = {
      server_script ? strf("i=${HOSTNAME##*-}; %s", server_script) : NULL,
      strf("i=${HOSTNAME##*-}; test -s %s/run%d-server-$i.port", LB_DEPLOY_LOG_DIR, o->run)};
  char *lbclient =
      servers ? strf("lbclient --scenario %s --clients \"$r\" --run %d --servers %s --log "
                     "%s/run%d-client-$j.csv --stats %s/run%d-client-$j.stats --max-runtime %ld",
                     LB_DEPLOY_SCENARIO_PATH, o->run, servers, LB_DEPLOY_LOG_DIR, o->run,
                     LB_DEPLOY_LOG_DIR, o->run, max_runtime_s(sc, 120))
              : NULL;
  char *client_script = lbclient ? fleet_script(sc, o, false, "client-$j", lbclient, NULL) : NULL;
  char *client_cmds[2] = {
      strf("for i in $(seq 0 %d); do until getent hosts server-$i.server >/dev/null; do sleep 1; "
           "done; done",
           sc->servers - 1),
      client_script ? strf("j=$JOB_COMPLETION_INDEX; r=$(sed -n \"$((j + 1))p\" "
                           "/etc/lbtestbed/client-ranges); %s",
                           client_script)
                    : NULL};
  rc = -ENOMEM;
  if (config.scenario == NULL || ranges == NULL || server_cmds[0] == NULL ||
      server_cmds[1] == NULL || client_cmds[0] == NULL || client_cmds[1] == NULL) {
    lb_errf(err, errlen, "k8s: out of memory");
    goto done;
  }
  ranges[0] = '\0';
  for (int j = 0; j < procs; j++) {
    int first, count;
    lb_deploy_client_range(sc->clients, procs, j, &first, &count);
    used += (size_t)snprintf(ranges + used, cap - used, "%d:%d\n", first, count);
  }
  config.ranges = ranges;
  /* A ConfigMap holds at most 1 MiB. */
  if (sc->arrivals == LB_ARRIVALS_TRACE &&
      (rc = load_file(sc->trace, (char **)&config.trace, 900 * 1024, err, errlen)) != 0)
    goto done;
  if ((rc = k8s_file(dir, "00-scenario.yaml", k8s_write_config, sc, o, &config, err, errlen)) ||
      (rc = k8s_file(dir, "10-logs.yaml", k8s_write_logs, sc, o, NULL, err, errlen)) ||
      (rc = k8s_file(dir, "20-servers.yaml", k8s_write_servers, sc, o, server_cmds, err, errlen)) ||
      (rc = k8s_file(dir, "30-clients.yaml", k8s_write_clients, sc, o, client_cmds, err, errlen)))
    goto done;
  rc = k8s_readme(sc, o, dir, procs, err, errlen);
done:
  free((char *)config.scenario);
  free((char *)config.trace);
  free(ranges);
  free(servers);
  free(lbserver);
  free(server_script);
  free(lbclient);
  free(client_script);
  for (int i = 0; i < 2; i++) {
    free(server_cmds[i]);
    free(client_cmds[i]);
  }
  return rc;
}

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
  enum lb_netem_dist dist;
  bool no_delay;
  int client_procs;
  int run;
  long long start_at_realtime_ns;
  char *sets[64];
  int nsets;
};

static int parse_int(const char *s, int min, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > INT_MAX)
    return -EINVAL;
  *out = (int)v;
  return 0;
}

static int parse_cli(int argc, char **argv, struct cli *c) {
  static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                       {"image", required_argument, NULL, 'i'},
                                       {"namespace", required_argument, NULL, 'n'},
                                       {"fleet", required_argument, NULL, 'f'},
                                       {"dist-dir", required_argument, NULL, 'D'},
                                       {"dist", required_argument, NULL, 'd'},
                                       {"rate", required_argument, NULL, 'r'},
                                       {"no-delay", no_argument, NULL, 'N'},
                                       {"client-procs", required_argument, NULL, 'p'},
                                       {"run", required_argument, NULL, 'R'},
                                       {"set", required_argument, NULL, 's'},
                                       {"start-at-realtime-ns", required_argument, NULL, 'T'},
                                       {"start-in", required_argument, NULL, 'S'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  memset(c, 0, sizeof(*c));
  c->image = "lbtestbed:latest";
  c->fleet = "f0";
  c->dist = LB_NETEM_DIST_GAMMA;
  optind = 1;
  opterr = 0; /* our own messages, naming the command */
  int ch;
  while ((ch = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'o':
      c->out = optarg;
      break;
    case 'i':
      c->image = optarg;
      break;
    case 'n':
      c->namespace_name = optarg;
      break;
    case 'f':
      c->fleet = optarg;
      break;
    case 'D':
      c->dist_dir = optarg;
      break;
    case 'r':
      c->rate = optarg;
      break;
    case 'N':
      c->no_delay = true;
      break;
    case 'd':
      if (strcmp(optarg, "gamma") == 0)
        c->dist = LB_NETEM_DIST_GAMMA;
      else if (strcmp(optarg, "normal") == 0)
        c->dist = LB_NETEM_DIST_NORMAL;
      else if (strcmp(optarg, "none") == 0)
        c->dist = LB_NETEM_DIST_NONE;
      else {
        fprintf(stderr, "deploy: --dist '%s': expected gamma, normal or none\n", optarg);
        return -EINVAL;
      }
      break;
    case 'p':
      if (parse_int(optarg, 1, &c->client_procs) != 0) {
        fprintf(stderr, "deploy: --client-procs '%s': expected a positive integer\n", optarg);
        return -EINVAL;
      }
      break;
    case 'R':
      if (parse_int(optarg, 0, &c->run) != 0) {
        fprintf(stderr, "deploy: --run '%s': expected an integer >= 0\n", optarg);
        return -EINVAL;
      }
      break;
    case 'T':
    case 'S': {
      char *end = NULL;
      errno = 0;
      double v = strtod(optarg, &end);
      if (errno != 0 || end == optarg || *end != '\0' || !(v > 0) || v > 9e18) {
        fprintf(stderr, "deploy: --%s '%s': expected a positive number\n",
                ch == 'T' ? "start-at-realtime-ns" : "start-in", optarg);
        return -EINVAL;
      }
      if (ch == 'T') {
        c->start_at_realtime_ns = (long long)v;
      } else {
        /* The clients' tick 0, this many seconds after now. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        c->start_at_realtime_ns =
            (long long)now.tv_sec * 1000000000LL + now.tv_nsec + (long long)(v * 1e9);
      }
      break;
    }
    case 's':
      if (c->nsets == (int)(sizeof(c->sets) / sizeof(c->sets[0]))) {
        fprintf(stderr, "deploy: too many --set\n");
        return -EINVAL;
      }
      c->sets[c->nsets++] = optarg;
      break;
    case 'h':
      usage(stdout);
      return 1;
    case ':':
      fprintf(stderr, "deploy %s: option '%s' expects a value (lbharness deploy --help)\n", argv[0],
              argv[optind - 1]);
      return -EINVAL;
    default:
      fprintf(stderr, "deploy %s: unknown option '%s' (lbharness deploy --help)\n", argv[0],
              argv[optind - 1]);
      return -EINVAL;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "deploy %s: expected one SCENARIO file, got %d (lbharness deploy --help)\n",
            argv[0], argc - optind);
    return -EINVAL;
  }
  c->scenario = argv[optind];
  return 0;
}

static int load_scenario(const struct cli *c, struct lb_scenario *sc) {
  char err[1024] = "";
  lb_scenario_defaults(sc);
  int rc = lb_scenario_load(c->scenario, sc, err, sizeof(err));
  for (int i = 0; rc == 0 && i < c->nsets; i++) {
    char field[128];
    const char *eq = strchr(c->sets[i], '=');
    if (eq == NULL || (size_t)(eq - c->sets[i]) >= sizeof(field)) {
      snprintf(err, sizeof(err), "--set '%s': expected FIELD=VALUE", c->sets[i]);
      rc = -EINVAL;
      break;
    }
    memcpy(field, c->sets[i], (size_t)(eq - c->sets[i]));
    field[eq - c->sets[i]] = '\0';
    char why[900];
    if ((rc = lb_scenario_set(sc, field, eq + 1, why, sizeof(why))) != 0)
      snprintf(err, sizeof(err), "--set '%s': %s", c->sets[i], why);
  }
  if (rc == 0)
    rc = lb_scenario_finish(sc, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "deploy: %s\n", err);
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
  char *text = scenario_text(sc);
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
  int rc = parse_cli(argc - 1, argv + 1, &c);
  if (rc != 0)
    return rc > 0 ? 0 : 2;
  struct lb_scenario *sc = malloc(sizeof(*sc));
  if (sc == NULL)
    return 1;
  if (load_scenario(&c, sc) != 0) {
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
