/* harness_proxy: a real proxy (HAProxy or nginx) between a local fleet's
 * clients and its servers (scenario `proxy:`, docs/proxies.md). The
 * harness writes the proxy's configuration into RUN_DIR/proxy/, starts it
 * in the fleet's process group (so every way out of a run stops it), waits
 * until it listens, and hands every client the proxy's port for every
 * server; the proxy picks the server, the clients do not. */
#ifndef LB_HARNESS_PROXY_H
#define LB_HARNESS_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_opts.h"
#include "harness_proc.h"
#include "scenario.h"

struct lb_harness_proxy {
  enum lb_proxy kind;
  int port;                      /* where it listens, on 127.0.0.1 */
  char dir[LB_HARNESS_PATH_MAX]; /* RUN_DIR/proxy: config, logs, nginx's prefix */
  char conf[LB_HARNESS_PATH_MAX + 16];
  char log[LB_HARNESS_PATH_MAX + 16]; /* its stdout and stderr */
  size_t index;                       /* in the group */
  bool started;
};

/* 0 without a proxy or on a local fleet (local: --hosts local); else
 * -ENOTSUP with err saying why: the configuration names the servers on
 * 127.0.0.1. */
int lb_harness_proxy_supported(const struct lb_scenario *sc, bool local, char *err, size_t errlen);
/* The proxy's configuration for servers at 127.0.0.1:ports[i], listening
 * on 127.0.0.1:listen_port, its files under dir, timeouts of timeout_s;
 * -EINVAL when sc names no proxy or a balance it lacks. */
int lb_harness_proxy_config(const struct lb_scenario *sc, const int *ports, int n, int listen_port,
                            const char *dir, int timeout_s, FILE *out);
/* Path of the proxy's binary (PATH, then /usr/sbin, /usr/local/sbin,
 * /sbin); -ENOENT with err saying what to install. */
int lb_harness_proxy_find(enum lb_proxy kind, char *out, size_t len, char *err, size_t errlen);
/* Writes the configuration, starts the proxy in g and waits until it
 * accepts connections. On failure err says why (with the proxy's first
 * alert, or the last line of its log) and whatever started is left in g
 * for the caller's stop. */
int lb_harness_proxy_start(struct lb_harness_proxy *px, const struct lb_scenario *sc,
                           const char *run_dir, const int *ports, int n, int timeout_s,
                           struct lb_harness_group *g, char *err, size_t errlen);
/* SIGTERM and up to grace_ms to go (the group's stop kills what is left);
 * a no-op when it never started. */
void lb_harness_proxy_stop(struct lb_harness_proxy *px, struct lb_harness_group *g, int grace_ms);

#endif
