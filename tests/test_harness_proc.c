/* lbharness process control: a group is stopped whole, every pid reaped. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_proc.h"

static void test_exit_status(void **state) {
  (void)state;
  struct lb_harness_group g;
  lb_harness_group_init(&g);
  char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
  int i = lb_harness_group_spawn(&g, argv, "/dev/null", "exits");
  assert_true(i >= 0);
  size_t which = (size_t)i;
  assert_true(lb_harness_group_wait(&g, &which, 1, 10000));
  char buf[64];
  lb_harness_proc_describe(&g.procs[i], buf, sizeof(buf));
  assert_string_equal(buf, "exit 3");
  char *missing[] = {"/nonexistent/lbserver", NULL};
  i = lb_harness_group_spawn(&g, missing, "/dev/null", "missing");
  which = (size_t)i;
  assert_true(lb_harness_group_wait(&g, &which, 1, 10000));
  lb_harness_proc_describe(&g.procs[i], buf, sizeof(buf));
  assert_string_equal(buf, "exit 127");
  lb_harness_group_close(&g);
}

static void test_stop_kills_everything(void **state) {
  (void)state;
  struct lb_harness_group g;
  lb_harness_group_init(&g);
  char *sleeper[] = {"/bin/sleep", "60", NULL};
  /* A member that ignores SIGTERM is killed after the grace period. */
  char *stubborn[] = {"/bin/sh", "-c", "trap '' TERM; sleep 60 & wait; wait", NULL};
  assert_true(lb_harness_group_spawn(&g, sleeper, NULL, "a") >= 0);
  assert_true(lb_harness_group_spawn(&g, sleeper, NULL, "b") >= 0);
  assert_true(lb_harness_group_spawn(&g, stubborn, NULL, "c") >= 0);
  assert_int_equal(lb_harness_group_poll(&g), 3);
  pid_t pgid = g.pgid;
  pid_t pids[3];
  for (int k = 0; k < 3; k++) {
    pids[k] = g.procs[k].pid;
    assert_int_equal(getpgid(pids[k]), pgid);
  }
  lb_harness_group_stop(&g, 200);
  assert_int_equal(lb_harness_group_poll(&g), 0);
  for (int k = 0; k < 3; k++) {
    assert_true(g.procs[k].exited);
    assert_int_equal(kill(pids[k], 0), -1); /* reaped: the pid is gone */
    assert_int_equal(errno, ESRCH);
  }
  lb_harness_group_close(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exit_status),
      cmocka_unit_test(test_stop_kills_everything),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
