/* lbharness run helpers: finding the daemons, folders, scenario loading. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_run.h"

static void touch_exe(const char *path) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("#!/bin/sh\n", f);
  fclose(f);
  assert_int_equal(chmod(path, 0755), 0);
}

static void test_find_binary(void **state) {
  (void)state;
  char dir[] = "/tmp/test_harness_run.XXXXXX", path[256], out[512], err[512];
  assert_non_null(mkdtemp(dir));
  /* A build tree: D/sim/lbsim, and a folder named like the binary. */
  snprintf(path, sizeof(path), "%s/sim", dir);
  assert_int_equal(lb_harness_mkdirs(path), 0);
  snprintf(path, sizeof(path), "%s/sim/lbsim", dir);
  touch_exe(path);
  snprintf(path, sizeof(path), "%s/lbserver/lbserver", dir);
  assert_int_equal(lb_harness_mkdirs(path), 0); /* a folder, not a program */
  assert_int_equal(lb_harness_find_binary(dir, "lbsim", out, sizeof(out), err, sizeof(err)), 0);
  snprintf(path, sizeof(path), "%s/sim/lbsim", dir);
  assert_string_equal(out, path);
  assert_int_equal(lb_harness_find_binary(dir, "lbserver", out, sizeof(out), err, sizeof(err)),
                   -ENOENT);
  assert_non_null(strstr(err, "no executable lbserver"));
  /* Installed side by side: D/lbclient. */
  snprintf(path, sizeof(path), "%s/lbclient", dir);
  touch_exe(path);
  assert_int_equal(lb_harness_find_binary(dir, "lbclient", out, sizeof(out), err, sizeof(err)), 0);
  assert_string_equal(out, path);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_scenario_load(void **state) {
  (void)state;
  char path[] = "/tmp/test_harness_run_sc.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "name: tiny\npicker: random\nservers: 2\nclients: 2\nruns: 3\n"
                     "total_ticks: 50\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  struct lb_scenario sc;
  char err[512];
  assert_int_equal(lb_harness_scenario_load(path, 0, false, &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.runs, 3);
  assert_int_equal(sc.data_frequency, 30); /* the seed's default */
  assert_int_equal(sc.mean_threads, 100);
  assert_int_equal(lb_harness_scenario_load(path, 5, true, &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.runs, 5);
  assert_int_equal(sc.data_frequency, 1); /* compare logs every request */
  unlink(path);
  assert_true(lb_harness_scenario_load(path, 0, false, &sc, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, path));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_find_binary),
      cmocka_unit_test(test_scenario_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
