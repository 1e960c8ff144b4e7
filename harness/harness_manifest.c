/* harness_manifest: what compose and Kubernetes files share: the checks,
 * and the shell that runs one process of a container fleet. */
#define _GNU_SOURCE
#include "harness_manifest.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "expr.h"
#include "harness_deploy.h"

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
  bool fleet_mean = lb_picker_spec_needs_fleet_mean(spec);
  lb_picker_spec_free(spec);
  if (fleet_mean && !oracle) {
    lb_errf(err, errlen,
            "%s: field 'picker': '%s' reads the servers' PID weight (server.pid), which steers "
            "towards the fleet's mean utilization; real servers learn that mean from the oracle "
            "board, which needs every server on one machine (without it the weight stays 0); "
            "run it with lbharness run (localhost or --hosts netns)",
            sc->name, sc->picker);
    return -EINVAL;
  }
  if (oracle) {
    lb_errf(err, errlen,
            "%s: field 'picker': '%s' reads the oracle board, and the oracle board "
            "needs every server on one machine; run it with lbharness run (localhost or --hosts "
            "netns)",
            sc->name, sc->picker);
    return -EINVAL;
  }
  if (sc->transport == LB_TRANSPORT_HTTP) {
    lb_errf(err, errlen,
            "%s: field 'transport': http is run on a localhost or netns fleet (lbharness run); "
            "these files publish no HTTP port: use tcp or udp",
            sc->name);
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
long lb__manifest_max_runtime_s(const struct lb_scenario *sc, long slack) {
  double ticks = (double)sc->total_ticks + (double)sc->max_cooldown;
  return (long)ceil(ticks * (double)sc->tick_ns / 1e9) + slack;
}

/* Lower-case letters, digits and '-', for names of compose projects. */
void lb__manifest_dns_label(const char *in, char *out, size_t len) {
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
char *lb__manifest_scenario_text(const struct lb_scenario *sc) {
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

/* A heap string built with printf. */
char *lb__manifest_strf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  return n < 0 ? NULL : s;
}

/* "H0:7000:7001,H1:7000:7001,...", where Hi is "server-<i><suffix>". */
char *lb__manifest_server_list(int servers, const char *suffix) {
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

int lb__manifest_load_file(const char *path, char **out, size_t max, char *err, size_t errlen) {
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
char *lb__manifest_server_command(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                                  const char *index, long slack) {
  return lb__manifest_strf(
      "lbserver --scenario %s --index %s --run %d --listen 0.0.0.0 --port %d --udp-port %d "
      "--port-file %s/run%d-server-%s.port --stats %s/run%d-server-%s.stats "
      "--max-runtime %ld --max-queue %d",
      LB_DEPLOY_SCENARIO_PATH, index, o->run, LB_DEPLOY_TCP_PORT, LB_DEPLOY_UDP_PORT,
      LB_DEPLOY_LOG_DIR, o->run, index, LB_DEPLOY_LOG_DIR, o->run, index,
      lb__manifest_max_runtime_s(sc, slack), sc->max_queue);
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
char *lb__manifest_fleet_script(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                                bool server, const char *me, const char *cmd, const char *after) {
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  char start[96];
  if (o->start_at_realtime_ns > 0)
    snprintf(start, sizeof(start), "%lld", o->start_at_realtime_ns);
  else
    snprintf(start, sizeof(start), "$(( $(date +%%s%%N) + %d000000000 ))", FLEET_START_MARGIN_S);
  char *gate = lb__manifest_strf(
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
    script = lb__manifest_strf(
        "%sfor i in $(seq 0 %d); do until [ -s $L/$R-server-$i.port ]; do sleep 0.05; "
        "done; done; exec %s --start-at-realtime-ns $T",
        gate, sc->servers - 1, cmd);
  else
    script = lb__manifest_strf(
        "%s%s --start-at-realtime-ns $T & p=$!; "
        "(until n=0; for f in $L/$R-client-*.stats; do [ -e \"$f\" ] && n=$((n + 1)); done; "
        "[ $n -ge %d ]; do sleep 0.2; done; kill -TERM $p) & w=$!; "
        "trap 'kill -TERM $p 2>/dev/null' TERM INT; wait $p; rc=$?; "
        "while [ $rc -gt 128 ] && kill -0 $p 2>/dev/null; do wait $p; rc=$?; done; "
        "kill $w 2>/dev/null; echo \"lbserver exited: $rc\"; %s",
        gate, cmd, procs, after ? after : "exit $rc");
  free(gate);
  return script;
}
