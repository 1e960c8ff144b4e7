/* harness_containers: `lbharness run|compare --hosts containers`. One
 * container per server and per client process, on a private network of a
 * container engine on this machine (podman, or docker whose daemon
 * answers):
 *   - the engine and the settings this machine needs (podman: runc where
 *     cgroups are hybrid, rlimits no higher than this process may set),
 *     through a containers.conf of the run's own (CONTAINERS_CONF), never
 *     the machine's;
 *   - the image: the lbserver and lbclient this lbharness would run,
 *     copied onto a minimal Debian base (deploy/base-image.sh), tagged with
 *     a hash of their contents, built only when that tag is missing; or
 *     --image;
 *   - a run: every container started and held at a gate until all are up,
 *     the servers released with a common tick 0, the clients once every
 *     server listens; the run folder bind-mounted at its own path, so logs
 *     and stats land where a local run's do; servers stopped (SIGTERM,
 *     they drain) once the clients are done; containers and network
 *     removed on success, failure and stop signals. */
#ifndef LB_HARNESS_CONTAINERS_H
#define LB_HARNESS_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness_run.h"
#include "scenario.h"

/* What podman's settings depend on. */
struct lb_containers_host {
  long long nofile_hard; /* RLIMIT_NOFILE hard limit; -1 unlimited */
  long long nproc_hard;  /* RLIMIT_NPROC hard limit; -1 unlimited */
  bool cgroup_hybrid;    /* cgroup v1 or hybrid (crun refuses hybrid) */
  bool have_runc;        /* runc on PATH */
};
void lb_containers_host_probe(struct lb_containers_host *h);

/* podman asks the runtime for NOFILE and NPROC limits this machine may
 * refuse; below these it is left alone. */
#define LB_CONTAINERS_PODMAN_NOFILE 1048576LL
#define LB_CONTAINERS_PODMAN_NPROC 32768LL

/* The containers.conf h needs, into buf: 1 when written, 0 when podman's
 * defaults run here (buf ""), -ENOSPC when buf is too small. */
int lb_containers_conf(const struct lb_containers_host *h, char *buf, size_t len);

/* "podman" or "docker" into name: want when given (and it works), else
 * podman when installed, else docker when its daemon answers. -ENOENT with
 * one line a user can act on when there is none. */
int lb_containers_engine_detect(const char *want, char *name, size_t len, char *err,
                                size_t errlen);

/* FNV-1a, 64 bits, over data, continuing from h (start with
 * LB_CONTAINERS_HASH_INIT). */
#define LB_CONTAINERS_HASH_INIT 0xcbf29ce484222325ULL
uint64_t lb_containers_hash(uint64_t h, const void *data, size_t len);

/* The image's Dockerfile: base, then the two binaries. */
int lb_containers_dockerfile(const char *base, char *buf, size_t len);

/* Before anything starts, for --hosts containers: each scenario can run in
 * containers (no oracle board, no netem links), the engine (o->engine),
 * its settings (CONTAINERS_CONF, written to OUT/containers.conf, unless
 * the environment has one), the base image (built with deploy/base-image.sh
 * when missing) and the run image (o->image, built when missing). Progress
 * lines go to log (may be NULL). */
int lb_containers_prepare(struct lb_harness_opts *o, char *const *scenarios, int n, FILE *log,
                          char *err, size_t errlen);

/* What the fleets will be (engine, its settings, image) and each
 * scenario's server limits, a line each, to out. */
void lb_containers_describe(const struct lb_harness_opts *o, char *const *scenarios, int n,
                            FILE *out);

/* lb_harness_run_one for --hosts containers (after lb_containers_prepare). */
int lb_containers_run_one(const struct lb_harness_opts *o, const struct lb_scenario *sc, int run,
                          const char *run_dir, struct lb_harness_run_result *res, char *err,
                          size_t errlen);

/* One line on the limits the run's server containers had (scenario fields
 * server_cpus and server_memory), "" when none. */
void lb_containers_limits_text(const struct lb_scenario *sc, char *buf, size_t len);

#endif
