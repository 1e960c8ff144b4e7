/* harness_engine: the container engine on this machine, for `lbharness
 * --hosts containers` (harness_containers.h) and `lbharness deploy
 * podman-conf`:
 *   - which engine: podman, or docker whose daemon answers;
 *   - podman's settings this machine needs (runc where cgroups are hybrid,
 *     rlimits no higher than this process may set), through a
 *     containers.conf of the run's own (CONTAINERS_CONF), never the
 *     machine's;
 *   - the image: the lbserver and lbclient this lbharness would run,
 *     copied onto a minimal Debian base (deploy/base-image.sh, run when the
 *     base is missing), tagged with a hash of their contents and built only
 *     when that tag is missing; or --image. */
#ifndef LB_HARNESS_ENGINE_H
#define LB_HARNESS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness_opts.h"

/* Seconds an engine command may take; builds (of the base: debootstrap)
 * longer, and a stop signal ends those. */
#define LB_ENGINE_CMD_TIMEOUT_S 120
#define LB_ENGINE_BUILD_TIMEOUT_S 900

/* What podman's settings depend on. */
struct lb_engine_host {
  long long nofile_hard; /* RLIMIT_NOFILE hard limit; -1 unlimited */
  long long nproc_hard;  /* RLIMIT_NPROC hard limit; -1 unlimited */
  bool cgroup_hybrid;    /* cgroup v1 or hybrid (crun refuses hybrid) */
  bool have_runc;        /* runc on PATH */
};
void lb_engine_host_probe(struct lb_engine_host *h);

/* podman asks the runtime for NOFILE and NPROC limits this machine may
 * refuse; below these it is left alone. */
#define LB_ENGINE_PODMAN_NOFILE 1048576LL
#define LB_ENGINE_PODMAN_NPROC 32768LL

/* The containers.conf h needs, into buf: 1 when written, 0 when podman's
 * defaults run here (buf ""), -ENOSPC when buf is too small. */
int lb_engine_conf(const struct lb_engine_host *h, char *buf, size_t len);

/* NAME's path on $PATH into found (may be NULL); false when not there. */
bool lb_engine_find(const char *name, char *found, size_t len);

/* "podman" or "docker" into name: want when given (and it works), else
 * podman when installed, else docker when its daemon answers. -ENOENT with
 * one line a user can act on when there is none. */
int lb_engine_detect(const char *want, char *name, size_t len, char *err, size_t errlen);

/* ENGINE ARGS... (stdout and stderr into out, may be NULL), in a process
 * group of its own (a Ctrl-C at the terminal does not cut a clean-up
 * short; with timeout_s LB_ENGINE_BUILD_TIMEOUT_S a stop signal ends it).
 * 0, or -EIO / -ETIMEDOUT / -EINTR with err "WHAT: its last line". */
int lb_engine_run(const char *engine, const char *what, char *const args[], int timeout_s,
                  char *out, size_t outlen, char *err, size_t errlen);

/* FNV-1a, 64 bits, over data, continuing from h (start with
 * LB_ENGINE_HASH_INIT). */
#define LB_ENGINE_HASH_INIT 0xcbf29ce484222325ULL
uint64_t lb_engine_hash(uint64_t h, const void *data, size_t len);

/* The run image's Dockerfile: base, then the two binaries. */
int lb_engine_dockerfile(const char *base, char *buf, size_t len);

/* o->engine (detected unless given), podman's settings (OUT/containers.conf
 * and CONTAINERS_CONF, unless the environment has one), the base (--base,
 * or made by deploy/base-image.sh when missing) and o->image (built when
 * missing, unless --image). Progress lines go to log (may be NULL). */
int lb_engine_prepare(struct lb_harness_opts *o, FILE *log, char *err, size_t errlen);

#endif
