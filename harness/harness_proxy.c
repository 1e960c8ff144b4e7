/* harness_proxy: HAProxy's and nginx's configurations, the proxy process
 * (the proxy's stop: also on a failed or interrupted run, before the
 * group's SIGKILL, so that nginx's master reaps its worker). */
#include "harness_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness_collect.h"
#include "harness_paths.h"
#include "proxy.h"

/* Upstream connections a proxy keeps open to each server (nginx's
 * keepalive is per worker, over all servers). */
#define PROXY_KEEPALIVE_PER_SERVER 64
#define PROXY_LISTEN_WAIT_S 10.0

/* HAProxy 2.6: one process, one thread (leastconn's counts are then one
 * view, as the model's one picker), HTTP mode with idle upstream
 * connections reused by any client (http-reuse always), no retries (a
 * failure is the client's, as without a proxy). */
static void haproxy_config(const struct lb_proxy_balance *b, const int *ports, int n,
                           int listen_port, int timeout_s, FILE *out) {
  fprintf(out,
          "# written by lbharness (harness/harness_proxy.c): scenario proxy: haproxy, "
          "proxy_balance: %s\n"
          "global\n"
          "  nbthread 1\n"
          "  maxconn 4096\n"
          "defaults\n"
          "  mode http\n"
          "  option http-keep-alive\n"
          "  http-reuse always\n"
          "  retries 0\n"
          "  timeout connect 5s\n"
          "  timeout client %ds\n"
          "  timeout server %ds\n"
          "  timeout http-request %ds\n"
          "  timeout http-keep-alive %ds\n"
          "frontend lb\n"
          "  bind 127.0.0.1:%d\n"
          "  maxconn 4096\n"
          "  default_backend servers\n"
          "backend servers\n"
          "  balance %s\n",
          b->word, timeout_s, timeout_s, timeout_s, timeout_s, listen_port, b->word);
  for (int i = 0; i < n; i++)
    fprintf(out, "  server s%d 127.0.0.1:%d\n", i, ports[i]);
}

/* nginx 1.22: one worker (least_conn's counts are per worker), its files
 * under dir, upstream keep-alive (HTTP/1.1, no Connection header), no
 * next-upstream retries, and no server taken out after a failure
 * (max_fails=0: HAProxy without `check` does not either). */
static void nginx_config(const struct lb_proxy_balance *b, const int *ports, int n, int listen_port,
                         const char *dir, int timeout_s, FILE *out) {
  fprintf(out,
          "# written by lbharness (harness/harness_proxy.c): scenario proxy: nginx, "
          "proxy_balance: %s\n"
          "worker_processes 1;\n"
          "daemon off;\n"
          "master_process on;\n"
          "pid %s/nginx.pid;\n"
          "error_log %s/error.log warn;\n"
          "events { worker_connections 8192; }\n"
          "http {\n"
          "  access_log off;\n"
          "  client_body_temp_path %s/client_body;\n"
          "  proxy_temp_path %s/proxy_temp;\n"
          "  fastcgi_temp_path %s/fastcgi_temp;\n"
          "  uwsgi_temp_path %s/uwsgi_temp;\n"
          "  scgi_temp_path %s/scgi_temp;\n"
          "  upstream servers {\n",
          b->word, dir, dir, dir, dir, dir, dir, dir);
  if (strcmp(b->word, "round_robin") != 0)
    fprintf(out, "    %s;\n", b->word);
  for (int i = 0; i < n; i++)
    fprintf(out, "    server 127.0.0.1:%d max_fails=0;\n", ports[i]);
  fprintf(out,
          "    keepalive %d;\n"
          "    keepalive_requests 100000000;\n"
          "    keepalive_timeout %ds;\n"
          "  }\n"
          "  server {\n"
          "    listen 127.0.0.1:%d;\n"
          "    keepalive_requests 100000000;\n"
          "    keepalive_timeout %ds;\n"
          "    location / {\n"
          "      proxy_pass http://servers;\n"
          "      proxy_http_version 1.1;\n"
          "      proxy_set_header Connection \"\";\n"
          "      proxy_next_upstream off;\n"
          "      proxy_connect_timeout 5s;\n"
          "      proxy_read_timeout %ds;\n"
          "      proxy_send_timeout %ds;\n"
          "    }\n"
          "  }\n"
          "}\n",
          PROXY_KEEPALIVE_PER_SERVER * n, timeout_s, listen_port, timeout_s, timeout_s, timeout_s);
}

int lb_harness_proxy_config(const struct lb_scenario *sc, const int *ports, int n, int listen_port,
                            const char *dir, int timeout_s, FILE *out) {
  const struct lb_proxy_balance *b = lb_proxy_balance_find(sc->proxy, sc->proxy_balance);
  if (b == NULL || n < 1)
    return -EINVAL;
  if (timeout_s < 1)
    timeout_s = 1;
  if (sc->proxy == LB_PROXY_HAPROXY)
    haproxy_config(b, ports, n, listen_port, timeout_s, out);
  else
    nginx_config(b, ports, n, listen_port, dir, timeout_s, out);
  return ferror(out) ? -EIO : 0;
}

int lb_harness_proxy_supported(const struct lb_scenario *sc, bool local, char *err, size_t errlen) {
  if (sc->proxy == LB_PROXY_NONE || local)
    return 0;
  snprintf(err, errlen,
           "%s: field 'proxy': a proxy runs on a local fleet only (--hosts local): its "
           "configuration names the servers on 127.0.0.1",
           sc->path[0] ? sc->path : sc->name);
  return -ENOTSUP;
}

static bool executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int lb_harness_proxy_find(enum lb_proxy kind, char *out, size_t len, char *err, size_t errlen) {
  const char *name = lb_proxy_name(kind);
  const char *path = getenv("PATH");
  char dirs[4096];
  snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/local/sbin:/sbin", path ? path : "");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    if (d[0] == '\0')
      continue;
    if (snprintf(out, len, "%s/%s", d, name) < (int)len && executable(out))
      return 0;
  }
  snprintf(err, errlen,
           "proxy: %s: no %s binary on PATH or in /usr/sbin: install it (Debian: apt-get install "
           "%s; deploy/setup.sh does)",
           name, name, kind == LB_PROXY_NGINX ? "nginx-light" : "haproxy");
  return -ENOENT;
}

/* A port free on 127.0.0.1 now (bound, read back, closed). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -errno;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof(a);
  int rc = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
    rc = -errno;
  close(fd);
  return rc < 0 ? rc : ntohs(a.sin_port);
}

static bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

/* argv of the proxy, in the foreground. */
static void proxy_argv(const struct lb_harness_proxy *px, char *bin, char *prefix, char **argv) {
  int a = 0;
  argv[a++] = bin;
  if (px->kind == LB_PROXY_HAPROXY) {
    argv[a++] = "-db";
    argv[a++] = "-f";
    argv[a++] = (char *)px->conf;
  } else {
    argv[a++] = "-p";
    argv[a++] = prefix;
    argv[a++] = "-e";
    argv[a++] = "stderr";
    argv[a++] = "-c";
    argv[a++] = (char *)px->conf;
  }
  argv[a] = NULL;
}

int lb_harness_proxy_start(struct lb_harness_proxy *px, const struct lb_scenario *sc,
                           const char *run_dir, const int *ports, int n, int timeout_s,
                           struct lb_harness_group *g, char *err, size_t errlen) {
  char bin[LB_HARNESS_PATH_MAX], prefix[LB_HARNESS_PATH_MAX + 8], tail[512];
  char *argv[16];
  int rc;
  memset(px, 0, sizeof(*px));
  px->kind = sc->proxy;
  const char *name = lb_proxy_name(sc->proxy);
  if ((rc = lb_harness_proxy_find(sc->proxy, bin, sizeof(bin), err, errlen)) < 0)
    return rc;
  char abs_run[PATH_MAX];
  if (!realpath(run_dir, abs_run)) { /* nginx resolves relative paths against its prefix */
    rc = -errno;
    snprintf(err, errlen, "proxy: %s: %s", run_dir, strerror(-rc));
    return rc;
  }
  if (snprintf(px->dir, sizeof(px->dir), "%s/proxy", abs_run) >= (int)sizeof(px->dir))
    return -ENAMETOOLONG;
  snprintf(px->conf, sizeof(px->conf), "%s/%s.cfg", px->dir, name);
  snprintf(px->log, sizeof(px->log), "%s/%s.log", px->dir, name);
  snprintf(prefix, sizeof(prefix), "%s/", px->dir);
  if ((rc = lb_harness_mkdirs(px->dir)) < 0) {
    snprintf(err, errlen, "proxy: cannot create %s: %s", px->dir, strerror(-rc));
    return rc;
  }
  if ((px->port = free_port()) < 0) {
    snprintf(err, errlen, "proxy: no free port on 127.0.0.1: %s", strerror(-px->port));
    return px->port;
  }
  FILE *f = fopen(px->conf, "w");
  rc = f ? lb_harness_proxy_config(sc, ports, n, px->port, px->dir, timeout_s, f) : -errno;
  if (f && fclose(f) != 0 && rc == 0)
    rc = -EIO;
  if (rc < 0) {
    snprintf(err, errlen, "proxy: cannot write %s: %s", px->conf, strerror(-rc));
    return rc;
  }
  /* No separate check (-c, -t): it would cost the clients a second of
   * their time to connect before tick 0 on a busy machine; a configuration
   * the proxy refuses ends it, and its log says why. */
  proxy_argv(px, bin, prefix, argv);
  int idx = lb_harness_group_spawn(g, argv, px->log, name);
  if (idx < 0) {
    snprintf(err, errlen, "proxy: cannot start %s: %s", bin, strerror(-idx));
    return idx;
  }
  px->index = (size_t)idx;
  px->started = true;
  double deadline = lb_harness_now() + PROXY_LISTEN_WAIT_S;
  while (!accepts(px->port)) {
    lb_harness_group_poll(g);
    if (g->procs[px->index].exited) {
      char how[80];
      lb_harness_proc_describe(&g->procs[px->index], how, sizeof(how));
      lb_harness_log_tail(px->log, tail, sizeof(tail));
      snprintf(err, errlen, "proxy: %s ended with %s before it listened (log: %s: %s)", name, how,
               px->log, tail);
      return -ECHILD;
    }
    if (lb_harness_stop_signal) {
      snprintf(err, errlen, "interrupted by signal %d: fleet stopped", (int)lb_harness_stop_signal);
      return -EINTR;
    }
    if (lb_harness_now() > deadline) {
      snprintf(err, errlen, "proxy: %s did not listen on 127.0.0.1:%d within %.0f s (log: %s)",
               name, px->port, PROXY_LISTEN_WAIT_S, px->log);
      return -ETIMEDOUT;
    }
    lb_harness_sleep_ms(10);
  }
  return 0;
}

void lb_harness_proxy_stop(struct lb_harness_proxy *px, struct lb_harness_group *g, int grace_ms) {
  if (!px->started)
    return;
  lb_harness_proc_signal(g, px->index, SIGTERM);
  lb_harness_group_wait(g, &px->index, 1, grace_ms);
  px->started = false;
}
