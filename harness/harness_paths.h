/* harness_paths: where lbharness finds things on disk: the lbsim,
 * lbserver and lbclient it runs, and the folders it writes into. */
#ifndef LB_HARNESS_PATHS_H
#define LB_HARNESS_PATHS_H

#include <stddef.h>

/* Path of lbsim, lbserver or lbclient: --bin-dir (D/NAME, then the build
 * tree's D/sim/lbsim...), $LB_BINARY_DIR's build tree, then the folder of
 * /proc/self/exe and its siblings (../sim/lbsim, ../lbserver/lbserver). */
int lb_harness_find_binary(const char *bin_dir, const char *name, char *out, size_t len, char *err,
                           size_t errlen);
/* mkdir -p */
int lb_harness_mkdirs(const char *path);

#endif
