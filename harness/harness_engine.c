/* harness_engine: the container engine on this machine (podman or docker),
 * podman's settings for it, and the images a containers fleet runs. */
#define _GNU_SOURCE
#include "harness_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "harness_deploy.h"
#include "harness_paths.h"
#include "harness_proc.h"

#define IMAGE_REPO "localhost/lbtestbed-run"
#define BASE_REPO "localhost/lbtestbed-base"

/* ---- the host and podman's settings ---- */

bool lb_engine_find(const char *name, char *found, size_t len) {
  const char *path = getenv("PATH");
  if (path == NULL || *path == '\0')
    path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  char dir[PATH_MAX];
  for (const char *p = path; *p;) {
    size_t n = strcspn(p, ":");
    if (n > 0 && n < sizeof(dir) - 64) {
      memcpy(dir, p, n);
      snprintf(dir + n, sizeof(dir) - n, "/%s", name);
      if (access(dir, X_OK) == 0) {
        if (found)
          snprintf(found, len, "%s", dir);
        return true;
      }
    }
    p += n + (p[n] == ':');
  }
  return false;
}

static bool on_path(const char *name) {
  return lb_engine_find(name, NULL, 0);
}

void lb_engine_host_probe(struct lb_engine_host *h) {
  struct rlimit rl;
  h->nofile_hard = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY
                       ? (long long)rl.rlim_max
                       : -1;
  h->nproc_hard = getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_max != RLIM_INFINITY
                      ? (long long)rl.rlim_max
                      : -1;
  /* cgroup v2 alone: /sys/fs/cgroup is a cgroup2 file system. */
  struct statfs fs;
  h->cgroup_hybrid = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type != 0x63677270;
  h->have_runc = on_path("runc");
}

int lb_engine_conf(const struct lb_engine_host *h, char *buf, size_t len) {
  char ulimits[160] = "";
  size_t used = 0;
  /* podman asks for NOFILE 1048576 and NPROC 32768 whatever this process
   * may have; runc then fails to set them (no CAP_SYS_RESOURCE). NPROC
   * equal to a hard limit above podman's is refused as well: podman's own
   * stays the ceiling. */
  if (h->nofile_hard >= 0 && h->nofile_hard < LB_ENGINE_PODMAN_NOFILE)
    used += (size_t)snprintf(ulimits + used, sizeof(ulimits) - used, "\"nofile=%lld:%lld\"",
                             h->nofile_hard, h->nofile_hard);
  long long nproc = h->nproc_hard >= 0 && h->nproc_hard < LB_ENGINE_PODMAN_NPROC
                        ? h->nproc_hard
                        : LB_ENGINE_PODMAN_NPROC;
  if (used > 0 || nproc < LB_ENGINE_PODMAN_NPROC)
    snprintf(ulimits + used, sizeof(ulimits) - used, "%s\"nproc=%lld:%lld\"", used ? ", " : "",
             nproc, nproc);
  bool runc = h->cgroup_hybrid && h->have_runc;
  if (ulimits[0] == '\0' && !runc) {
    if (len > 0)
      buf[0] = '\0';
    return 0;
  }
  int n = snprintf(
      buf, len,
      "# lbtestbed: podman's settings for this machine (lbharness --hosts containers)\n"
      "%s%s%s%s%s",
      ulimits[0] ? "[containers]\ndefault_ulimits = [" : "", ulimits, ulimits[0] ? "]\n" : "",
      runc ? "[engine]\n" : "", runc ? "runtime = \"runc\"\n" : "");
  return n < 0 || (size_t)n >= len ? -ENOSPC : 1;
}

uint64_t lb_engine_hash(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

int lb_engine_dockerfile(const char *base, char *buf, size_t len) {
  int n = snprintf(buf, len,
                   "# lbharness --hosts containers: this build's lbserver and lbclient on %s\n"
                   "FROM %s\n"
                   "COPY lbserver lbclient /usr/local/bin/\n"
                   "CMD [\"lbserver\", \"--help\"]\n",
                   base, base);
  return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* ---- running the engine ---- */

static bool succeeded(int status) {
  return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The last non-empty line of text, in place. */
static const char *last_line(char *text) {
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
    text[--n] = '\0';
  char *nl = strrchr(text, '\n');
  return nl ? nl + 1 : text;
}

int lb_engine_run(const char *engine, const char *what, char *const args[], int timeout_s,
                  char *out, size_t outlen, char *err, size_t errlen) {
  char *argv[48];
  size_t n = 0;
  argv[n++] = (char *)engine;
  for (size_t i = 0; args[i] != NULL && n < 47; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  char buf[4096];
  if (out == NULL) {
    out = buf;
    outlen = sizeof(buf);
  }
  /* Minutes-long commands (builds) give way to Ctrl-C; the rest, clean-ups
   * among them, run to their end. */
  int flags = LB_CAPTURE_STDOUT | LB_CAPTURE_OWN_GROUP |
              (timeout_s == LB_ENGINE_BUILD_TIMEOUT_S ? LB_CAPTURE_INTERRUPTIBLE : 0);
  int status = lb_harness_capture(argv, NULL, flags, timeout_s, out, outlen);
  if (succeeded(status))
    return 0;
  if (status == -ETIMEDOUT || status == -EINTR)
    lb_errf(err, errlen, "%s: %s", what, out);
  else if (status < 0)
    lb_errf(err, errlen, "%s: cannot run %s: %s", what, engine, strerror(-status));
  else
    lb_errf(err, errlen, "%s: %s", what, out[0] ? last_line(out) : "failed");
  return -EIO;
}

int lb_engine_detect(const char *want, char *name, size_t len, char *err, size_t errlen) {
  const char *engines[] = {"podman", "docker"};
  char why[2][640] = {"", ""};
  for (int k = 0; k < 2; k++) {
    if (want && *want && strcmp(want, engines[k]) != 0)
      continue;
    if (!on_path(engines[k])) {
      snprintf(why[k], sizeof(why[k]), "%s is not installed", engines[k]);
      continue;
    }
    /* podman needs no daemon; docker's must answer. */
    char *args[] = {k == 0 ? "version" : "info", "--format",
                    k == 0 ? "{{.Client.Version}}" : "{{.ServerVersion}}", NULL};
    char e[512];
    if (lb_engine_run(engines[k], engines[k], args, 30, NULL, 0, e, sizeof(e)) == 0) {
      snprintf(name, len, "%s", engines[k]);
      return 0;
    }
    snprintf(why[k], sizeof(why[k]), "%s does not answer (%s)", engines[k], e);
  }
  if (want && *want && strcmp(want, "podman") != 0 && strcmp(want, "docker") != 0)
    lb_errf(err, errlen, "--engine %s: expected podman or docker", want);
  else if (want && *want)
    lb_errf(err, errlen, "--hosts containers: --engine %s: %s", want,
            why[strcmp(want, "podman") == 0 ? 0 : 1]);
  else
    lb_errf(err, errlen,
            "--hosts containers: no container engine on this machine: %s, and %s; "
            "install podman (deploy/setup.sh --containers, as root) or use --hosts local",
            why[0], why[1]);
  return -ENOENT;
}

/* ---- images ---- */

static bool image_exists(const char *engine, const char *image) {
  char *args[] = {"image", "inspect", "--format", "{{.Id}}", (char *)image, NULL};
  return lb_engine_run(engine, "image", args, LB_ENGINE_CMD_TIMEOUT_S, NULL, 0, NULL, 0) == 0;
}

static int image_id(const char *engine, const char *image, char *id, size_t len) {
  char *args[] = {"image", "inspect", "--format", "{{.Id}}", (char *)image, NULL};
  char out[512];
  if (lb_engine_run(engine, "image", args, LB_ENGINE_CMD_TIMEOUT_S, out, sizeof(out), NULL, 0) != 0)
    return -ENOENT;
  snprintf(id, len, "%s", last_line(out));
  return 0;
}

static int hash_file(const char *path, uint64_t *h, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "%s: %s", path, strerror(e));
    return -e;
  }
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    *h = lb_engine_hash(*h, buf, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    lb_errf(err, errlen, "%s: read error", path);
    return -EIO;
  }
  return 0;
}

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -errno;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    int e = errno;
    close(in);
    return -e;
  }
  char buf[1 << 16];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)n) != n) {
      rc = -EIO;
      break;
    }
  if (n < 0)
    rc = -errno;
  close(in);
  if (close(out) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

/* This machine's Debian codename, for the base image's default tag. */
static void debian_codename(char *buf, size_t len) {
  snprintf(buf, len, "bookworm");
  FILE *f = fopen("/etc/os-release", "r");
  if (f == NULL)
    return;
  char line[256];
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "VERSION_CODENAME=", 17) == 0) {
      char *v = line + 17;
      v[strcspn(v, "\"\n")] = '\0';
      if (*v)
        snprintf(buf, len, "%s", v);
    }
  fclose(f);
}

/* The base: --base, else localhost/lbtestbed-base:CODENAME, made by
 * deploy/base-image.sh when missing. */
static int ensure_base(const struct lb_harness_opts *o, char *base, size_t len, FILE *log,
                       char *err, size_t errlen) {
  if (o->base_image[0]) {
    snprintf(base, len, "%s", o->base_image);
    if (image_exists(o->engine, base))
      return 0;
    lb_errf(err, errlen, "--base %s: no such image in %s", base, o->engine);
    return -ENOENT;
  }
  char codename[64];
  debian_codename(codename, sizeof(codename));
  snprintf(base, len, "%s:%s", BASE_REPO, codename);
  if (image_exists(o->engine, base))
    return 0;
  char script[PATH_MAX];
  int rc = lb_deploy_script("base-image.sh", script, sizeof(script), err, errlen);
  if (rc < 0)
    return rc;
  if (log)
    fprintf(log,
            "lbharness: no base image %s: building it with %s (debootstrap from this "
            "machine's apt mirror, about a minute)\n",
            base, script);
  char *argv[] = {"bash", script, "--engine", (char *)o->engine, "--tag", base, NULL};
  char out[8192];
  int status = lb_harness_capture(
      argv, NULL, LB_CAPTURE_STDOUT | LB_CAPTURE_OWN_GROUP | LB_CAPTURE_INTERRUPTIBLE,
      LB_ENGINE_BUILD_TIMEOUT_S, out, sizeof(out));
  if (!succeeded(status) || !image_exists(o->engine, base)) {
    lb_errf(err, errlen, "%s: %s", script, out[0] ? last_line(out) : "failed");
    return status == -EINTR ? -EINTR : -EIO;
  }
  return 0;
}

/* Builds IMAGE_REPO:HASH from base and the binaries, unless it is there. */
static int ensure_image(struct lb_harness_opts *o, FILE *log, char *err, size_t errlen) {
  char server[LB_HARNESS_PATH_MAX], client[LB_HARNESS_PATH_MAX], base[256], base_id[288];
  char dockerfile[1024], ctx[] = "/var/tmp/lbtestbed-image.XXXXXX";
  int rc;
  if ((rc = lb_harness_find_binary(o->bin_dir, "lbserver", server, sizeof(server), err, errlen)) <
          0 ||
      (rc = lb_harness_find_binary(o->bin_dir, "lbclient", client, sizeof(client), err, errlen)) <
          0 ||
      (rc = ensure_base(o, base, sizeof(base), log, err, errlen)) < 0)
    return rc;
  if (image_id(o->engine, base, base_id, sizeof(base_id)) < 0)
    snprintf(base_id, sizeof(base_id), "%s", base);
  if ((rc = lb_engine_dockerfile(base, dockerfile, sizeof(dockerfile))) < 0)
    return rc;
  uint64_t h = LB_ENGINE_HASH_INIT;
  h = lb_engine_hash(h, dockerfile, strlen(dockerfile));
  h = lb_engine_hash(h, base_id, strlen(base_id));
  if ((rc = hash_file(server, &h, err, errlen)) < 0 ||
      (rc = hash_file(client, &h, err, errlen)) < 0)
    return rc;
  snprintf(o->image, sizeof(o->image), "%s:%016llx", IMAGE_REPO, (unsigned long long)h);
  if (image_exists(o->engine, o->image))
    return 0;
  if (log)
    fprintf(log, "lbharness: building image %s (%s and %s on %s)\n", o->image, server, client,
            base);
  if (mkdtemp(ctx) == NULL) {
    lb_errf(err, errlen, "cannot create a build folder in /var/tmp: %s", strerror(errno));
    return -errno;
  }
  char path[sizeof(ctx) + 32], label[64];
  snprintf(label, sizeof(label), "lbtestbed.content=%016llx", (unsigned long long)h);
  snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
  FILE *f = fopen(path, "w");
  rc = f && fputs(dockerfile, f) >= 0 ? 0 : -EIO;
  if (f && fclose(f) != 0)
    rc = -EIO;
  snprintf(path, sizeof(path), "%s/lbserver", ctx);
  if (rc == 0)
    rc = copy_file(server, path);
  snprintf(path, sizeof(path), "%s/lbclient", ctx);
  if (rc == 0)
    rc = copy_file(client, path);
  if (rc < 0)
    lb_errf(err, errlen, "cannot prepare the image's build folder %s: %s", ctx, strerror(-rc));
  char *build[] = {"build", "-q", "--label", label, "-t", o->image, ctx, NULL};
  if (rc == 0)
    rc = lb_engine_run(o->engine, "building the image", build, LB_ENGINE_BUILD_TIMEOUT_S, NULL, 0,
                       err, errlen);
  const char *names[] = {"Dockerfile", "lbserver", "lbclient"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof(path), "%s/%s", ctx, names[i]);
    unlink(path);
  }
  rmdir(ctx);
  if (rc < 0)
    return rc;
  /* The binaries must run there (a sanitizer build's would not). */
  char *smoke[] = {"run", "--rm", o->image, "lbclient", "--help", NULL};
  char why[1024];
  if (lb_engine_run(o->engine, "", smoke, LB_ENGINE_CMD_TIMEOUT_S, NULL, 0, why, sizeof(why)) < 0) {
    char *rmi[] = {"rmi", "-f", o->image, NULL};
    lb_engine_run(o->engine, "rmi", rmi, LB_ENGINE_CMD_TIMEOUT_S, NULL, 0, NULL, 0);
    lb_errf(err, errlen,
            "image %s cannot run lbclient%s (built on %s from %s; a sanitizer build's binaries "
            "need libraries the base lacks: use a plain build or --image)",
            o->image, why, base, client);
    return -EIO;
  }
  /* Earlier builds of this image are of no more use. */
  char list[8192];
  char *images[] = {"images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE_REPO, NULL};
  if (lb_engine_run(o->engine, "images", images, LB_ENGINE_CMD_TIMEOUT_S, list, sizeof(list), NULL,
                    0) == 0) {
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n"))
      if (strncmp(line, IMAGE_REPO ":", strlen(IMAGE_REPO) + 1) == 0 && strcmp(line, o->image)) {
        char *rmi[] = {"rmi", line, NULL};
        lb_engine_run(o->engine, "rmi", rmi, LB_ENGINE_CMD_TIMEOUT_S, NULL, 0, NULL, 0);
      }
  }
  return 0;
}

/* ---- preparation ---- */

static int write_conf(const struct lb_harness_opts *o, FILE *log, char *err, size_t errlen) {
  const char *set = getenv("CONTAINERS_CONF");
  if (set && *set)
    return 0; /* the user's choice */
  struct lb_engine_host h;
  lb_engine_host_probe(&h);
  char text[1024], path[PATH_MAX + 32], abs[PATH_MAX];
  int rc = lb_engine_conf(&h, text, sizeof(text));
  if (rc <= 0)
    return rc;
  if ((rc = lb_harness_mkdirs(o->out_dir)) < 0 || realpath(o->out_dir, abs) == NULL) {
    lb_errf(err, errlen, "--out %s: %s", o->out_dir, strerror(rc < 0 ? -rc : errno));
    return rc < 0 ? rc : -errno;
  }
  snprintf(path, sizeof(path), "%s/containers.conf", abs);
  FILE *f = fopen(path, "w");
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
    lb_errf(err, errlen, "cannot write %s", path);
    return -EIO;
  }
  setenv("CONTAINERS_CONF", path, 1);
  if (log && o->progress)
    fprintf(log, "lbharness: podman runs with CONTAINERS_CONF=%s (%s%s%s)\n", path,
            strstr(text, "runc") ? "runc" : "",
            strstr(text, "runc") && strstr(text, "ulimits") ? ", " : "",
            strstr(text, "ulimits") ? "rlimits this machine allows" : "");
  return 0;
}

int lb_engine_prepare(struct lb_harness_opts *o, FILE *log, char *err, size_t errlen) {
  int rc = lb_engine_detect(o->engine, o->engine, sizeof(o->engine), err, errlen);
  if (rc < 0)
    return rc;
  if (strcmp(o->engine, "podman") == 0 && (rc = write_conf(o, log, err, errlen)) < 0)
    return rc;
  if (o->image[0]) {
    if (image_exists(o->engine, o->image))
      return 0;
    lb_errf(err, errlen, "--image %s: no such image in %s", o->image, o->engine);
    return -ENOENT;
  }
  return ensure_image(o, log, err, errlen);
}
