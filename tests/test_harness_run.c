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

static char *write_scenario(const char *text) {
  static char path[64];
  snprintf(path, sizeof(path), "/tmp/test_harness_run_sc.XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

static void test_load_opts_sets(void **state) {
  (void)state;
  char *path = write_scenario("name: tiny\npicker: random\nservers: 2\nclients: 2\n");
  struct lb_harness_opts o;
  lb_harness_opts_defaults(&o);
  char *sets[] = {"servers=3", "tick=20ms"};
  o.sets = sets;
  o.nsets = 2;
  o.runs = 4;
  struct lb_scenario sc;
  char err[1024] = "";
  assert_int_equal(lb_harness_scenario_load_opts(path, &o, false, &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.servers, 3);
  assert_int_equal(sc.tick_ns, 20000000);
  assert_int_equal(sc.runs, 4);
  /* A bad --set names the option, the file and the field. */
  char *bad[] = {"sevrers=3"};
  o.sets = bad;
  o.nsets = 1;
  assert_true(lb_harness_scenario_load_opts(path, &o, false, &sc, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "--set 'sevrers=3'"));
  assert_non_null(strstr(err, "field 'sevrers'"));
  char *noeq[] = {"servers"};
  o.sets = noeq;
  assert_true(lb_harness_scenario_load_opts(path, &o, false, &sc, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, "expected FIELD=VALUE"));
  /* A picker the parser does not know fails before anything starts. */
  char *picker[] = {"picker=nosuch(client.rif)"};
  o.sets = picker;
  assert_true(lb_harness_scenario_load_opts(path, &o, false, &sc, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, "--set 'picker=nosuch(client.rif)': field 'picker'"));
  assert_non_null(strstr(err, "nosuch"));
  unlink(path);
  /* In the file: FILE:LINE of the field. */
  path = write_scenario("name: tiny\nservers: 2\nclients: 2\npicker: least(client.nope)\n");
  o.nsets = 0;
  assert_true(lb_harness_scenario_load_opts(path, &o, false, &sc, err, sizeof(err)) < 0);
  char where[128];
  snprintf(where, sizeof(where), "%s:4: field 'picker'", path);
  assert_non_null(strstr(err, where));
  unlink(path);
}

static void test_netem_needs_netns(void **state) {
  (void)state;
  char *path = write_scenario("name: nt\npicker: random\nservers: 2\nclients: 2\n"
                              "delay: netem\ntotal_ticks: 20\n");
  char saved[64];
  snprintf(saved, sizeof(saved), "%s", path);
  struct lb_harness_opts o;
  lb_harness_opts_defaults(&o);
  o.fallback_inproc = true; /* the fallback is for a missing netem, not for localhost */
  struct lb_scenario sc;
  char err[1024] = "", warn[512] = "x";
  assert_int_equal(lb_harness_scenario_load_opts(saved, &o, false, &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.delay, LB_DELAY_NETEM);
  assert_int_equal(lb_harness_delay_check(&o, &sc, warn, sizeof(warn), err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, saved));
  assert_non_null(strstr(err, "field 'delay'"));
  assert_non_null(strstr(err, "--hosts netns"));
  assert_null(strchr(err, '\n'));
  assert_string_equal(warn, "");
  /* run_one refuses it too, before creating anything. */
  char dir[] = "/tmp/test_harness_run_nt.XXXXXX", rundir[128];
  assert_non_null(mkdtemp(dir));
  snprintf(rundir, sizeof(rundir), "%s/run-0", dir);
  struct lb_harness_run_result res;
  assert_int_equal(lb_harness_run_one(&o, &sc, 0, rundir, &res, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "--hosts netns"));
  assert_int_equal(access(rundir, F_OK), -1);
  rmdir(dir);
  /* Any other delay needs nothing. */
  sc.delay = LB_DELAY_INPROC;
  assert_int_equal(lb_harness_delay_check(&o, &sc, warn, sizeof(warn), err, sizeof(err)), 0);
  assert_string_equal(warn, "");
  /* A missing netem, as decided once: --fallback-inproc loads it inproc. */
  o.netem_missing = true;
  assert_int_equal(lb_harness_scenario_load_opts(saved, &o, false, &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.delay, LB_DELAY_INPROC);
  o.fallback_inproc = false;
  assert_int_equal(lb_harness_scenario_load_opts(saved, &o, false, &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.delay, LB_DELAY_NETEM);
  unlink(saved);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_find_binary),
      cmocka_unit_test(test_scenario_load),
      cmocka_unit_test(test_load_opts_sets),
      cmocka_unit_test(test_netem_needs_netns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
