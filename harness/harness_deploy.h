/* harness_deploy: fleets beyond one process tree.
 *   - the network-namespace layout of deploy/netns.sh (names, addresses)
 *     and running that script, for `lbharness run --hosts netns`;
 *   - docker compose and Kubernetes files that run the same lbserver and
 *     lbclient binaries, one container per server and per client process;
 *   - `lbharness deploy ...`, the command line over all of it and netem
 *     (harness_netem.h). */
#ifndef LB_HARNESS_DEPLOY_H
#define LB_HARNESS_DEPLOY_H

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

/* Logical clients 0..clients-1 over procs processes: process j gets
 * [*first, *first + *count), the first clients % procs processes one more. */
void lb_deploy_client_range(int clients, int procs, int j, int *first, int *count);
/* min(clients, 4) when procs <= 0, else procs capped at clients. */
int lb_deploy_client_procs(const struct lb_scenario *sc, int procs);

/* The netns layout (deploy/netns.sh): host kind 's' (server) or 'c' (client
 * process), index i. Namespace "lbt-FLEET-s3"; address: server i is
 * 10.77.(1 + i/250).(1 + i%250), client process j 10.77.(128 + j/250).(1 + j%250).
 * Return 0 or -EINVAL (bad kind, index out of range, buffer too small). */
int lb_deploy_netns_name(const char *fleet, char kind, int index, char *buf, size_t len);
int lb_deploy_netns_addr(char kind, int index, char *buf, size_t len);
#define LB_DEPLOY_NETNS_IFACE "lb0"
#define LB_DEPLOY_NETNS_MAX_HOSTS (127 * 250)

/* Finds one of deploy/'s scripts: $LB_SOURCE_DIR/deploy/NAME, then up
 * from the folder of /proc/self/exe (PREFIX/share/lbtestbed/NAME after
 * `cmake --install`, or deploy/NAME of a build tree inside the sources),
 * then the source tree lbharness was built from (compiled in). */
int lb_deploy_script(const char *name, char *buf, size_t len, char *err, size_t errlen);
/* deploy/netns.sh: $LB_NETNS_SCRIPT, then lb_deploy_script. */
int lb_deploy_netns_script(char *buf, size_t len, char *err, size_t errlen);
/* `netns.sh up FLEET SERVERS CLIENTPROCS` / `netns.sh down FLEET`; waits
 * for it; 0, or a negative errno with err holding the script's last line. */
int lb_deploy_netns_up(const char *fleet, int servers, int client_procs, char *err, size_t errlen);
int lb_deploy_netns_down(const char *fleet, char *err, size_t errlen);

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

/* `lbharness deploy ...`; argv[0] is "deploy". Returns the exit status. */
int lb_harness_deploy_main(int argc, char **argv);

#endif
