/* harness_deploy: the network-namespace layout of deploy/netns.sh, finding
 * deploy/'s scripts, and running netns.sh up and down. */
#define _GNU_SOURCE
#include "harness_deploy.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "harness_proc.h"

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
  int status = lb_harness_run_tool(argv, NULL, out, sizeof(out));
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

/* ---- a small YAML writer over libyaml's emitter ---- */
