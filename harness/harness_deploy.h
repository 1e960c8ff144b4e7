/* harness_deploy: the network-namespace layout of deploy/netns.sh (names,
 * addresses, how clients spread over processes) and running that script,
 * for `lbharness run --hosts netns`; finding deploy/'s scripts. Compose
 * and Kubernetes files: harness_manifest.h; `lbharness deploy`:
 * harness_deploy_cli.h. */
#ifndef LB_HARNESS_DEPLOY_H
#define LB_HARNESS_DEPLOY_H

#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

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

#endif
