#include "harness_paths.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness_opts.h"

int lb_harness_mkdirs(const char *path) {
  char buf[LB_HARNESS_PATH_MAX];
  if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
    return -ENAMETOOLONG;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -errno;
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

static bool executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Tries DIR/NAME, then DIR/SUB/NAME, then DIR/../SUB/NAME. */
static bool try_dir(const char *dir, const char *sub, const char *name, char *out, size_t len) {
  for (size_t k = 0; k < 3; k++) {
    char tmp[LB_HARNESS_PATH_MAX * 2];
    if (k == 0)
      snprintf(tmp, sizeof(tmp), "%s/%s", dir, name);
    else
      snprintf(tmp, sizeof(tmp), k == 1 ? "%s/%s/%s" : "%s/../%s/%s", dir, sub, name);
    if (executable(tmp) && strlen(tmp) < len) {
      snprintf(out, len, "%s", tmp);
      return true;
    }
  }
  return false;
}

int lb_harness_find_binary(const char *bin_dir, const char *name, char *out, size_t len, char *err,
                           size_t errlen) {
  const char *sub = strcmp(name, "lbsim") == 0 ? "sim" : name;
  if (bin_dir && *bin_dir) {
    if (try_dir(bin_dir, sub, name, out, len))
      return 0;
    snprintf(err, errlen, "--bin-dir %s: no executable %s there (nor in %s/%s)", bin_dir, name,
             bin_dir, sub);
    return -ENOENT;
  }
  const char *env = getenv("LB_BINARY_DIR");
  if (env && *env && try_dir(env, sub, name, out, len))
    return 0;
  char self[LB_HARNESS_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
      *slash = '\0';
    if (try_dir(self, sub, name, out, len))
      return 0;
  }
  snprintf(err, errlen,
           "cannot find %s: looked next to lbharness, in its build tree and in $LB_BINARY_DIR; "
           "build it or pass --bin-dir",
           name);
  return -ENOENT;
}
