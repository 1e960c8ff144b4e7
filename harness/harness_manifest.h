/* harness_manifest: docker compose and Kubernetes files that run the same
 * lbserver and lbclient binaries, one container per server and per client
 * process (harness_compose.c, harness_k8s.c), and what both share
 * (harness_manifest.c): the checks, and the shell that gates each process
 * on the fleet's common tick 0. */
#ifndef LB_HARNESS_MANIFEST_H
#define LB_HARNESS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

/* Ports every server listens on in containers (one server per container). */
#define LB_DEPLOY_TCP_PORT 7000
#define LB_DEPLOY_UDP_PORT 7001
/* Where containers see the scenario and write their logs. */
#define LB_DEPLOY_SCENARIO_PATH "/etc/lbtestbed/scenario.yaml"
#define LB_DEPLOY_TRACE_PATH "/etc/lbtestbed/trace"
#define LB_DEPLOY_LOG_DIR "/logs"

struct lb_deploy_options {
  int client_procs;               /* 0 = min(clients, 4) */
  int run;                        /* the run to launch */
  const char *image;              /* container image; default "lbtestbed:latest" */
  const char *namespace_name;     /* Kubernetes namespace; NULL = the context's */
  long long start_at_realtime_ns; /* clients' common tick 0 (CLOCK_REALTIME); 0 = none */
};
void lb_deploy_options_defaults(struct lb_deploy_options *o);

/* Why sc cannot run on separate machines (oracle pickers need every server
 * on one machine; netem links are not shaped by these files), or 0. */
int lb_deploy_check_portable(const struct lb_scenario *sc, char *err, size_t errlen);

/* Writes a compose file to f. scenario_file is the path the services mount
 * (relative paths are relative to the compose file). */
int lb_deploy_compose_write(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                            const char *scenario_file, FILE *f, char *err, size_t errlen);
/* Writes the Kubernetes manifests into dir (created): 00-scenario.yaml
 * (ConfigMap), 10-logs.yaml (PersistentVolumeClaim and a reader pod),
 * 20-servers.yaml (headless Service + StatefulSet), 30-clients.yaml
 * (indexed Job). */
int lb_deploy_k8s_write(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                        const char *dir, char *err, size_t errlen);

/* Internal (harness_compose.c, harness_k8s.c, harness_deploy_cli.c). */
/* Seconds a process may run: the run, its cool-down, and slack. */
long lb__manifest_max_runtime_s(const struct lb_scenario *sc, long slack);
/* Lower-case letters, digits and '-', for names of compose projects. */
void lb__manifest_dns_label(const char *in, char *out, size_t len);
/* The scenario as the containers see it (heap; NULL: out of memory). */
char *lb__manifest_scenario_text(const struct lb_scenario *sc);
/* A heap string built with printf (NULL: out of memory). */
char *lb__manifest_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "H0:7000:7001,H1:7000:7001,...", where Hi is "server-<i><suffix>". */
char *lb__manifest_server_list(int servers, const char *suffix);
/* path's contents (at most max bytes) into a heap string *out. */
int lb__manifest_load_file(const char *path, char **out, size_t max, char *err, size_t errlen);
/* The server's command line for `sh -c`; index is a number or "$i". */
char *lb__manifest_server_command(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                                  const char *index, long slack);
/* The shell that runs one process of a compose or Kubernetes fleet
 * (harness_manifest.c says how it gates on the fleet's tick 0). */
char *lb__manifest_fleet_script(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                                bool server, const char *me, const char *cmd, const char *after);

#endif
