/* lbharness process control: a group is stopped whole, every pid reaped. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
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

/* lb_harness_capture: which streams, the extra environment entry, the
 * exit status, the process group, and a stop signal for an interruptible
 * command. */
static void test_capture(void **state) {
  (void)state;
  char out[256];
  char *both[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
  int st = lb_harness_capture(both, NULL, 0, 30, out, sizeof(out));
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
  assert_string_equal(out, "err\n");
  st = lb_harness_capture(both, NULL, LB_CAPTURE_STDOUT, 30, out, sizeof(out));
  assert_string_equal(out, "out\nerr\n");
  char *env[] = {"sh", "-c", "echo \"$LBT_CAPTURE_TEST\" >&2", NULL};
  st = lb_harness_capture(env, "LBT_CAPTURE_TEST=forty-two", 0, 30, out, sizeof(out));
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_string_equal(out, "forty-two\n");
  /* Field 5 of /proc/self/stat: the process group. */
  char *pgrp[] = {"sh", "-c", "cut -d' ' -f5 /proc/$$/stat >&2", NULL};
  char mine[32];
  snprintf(mine, sizeof(mine), "%d\n", (int)getpgrp());
  lb_harness_capture(pgrp, NULL, 0, 30, out, sizeof(out));
  assert_string_equal(out, mine);
  lb_harness_capture(pgrp, NULL, LB_CAPTURE_OWN_GROUP, 30, out, sizeof(out));
  assert_string_not_equal(out, mine);
  /* Truncated, not overrun. */
  char small[4];
  lb_harness_capture(both, NULL, LB_CAPTURE_STDOUT, 30, small, sizeof(small));
  assert_string_equal(small, "out");
  char *missing[] = {"/nonexistent/lbt-no-such-command", NULL};
  st = lb_harness_capture(missing, NULL, 0, 30, out, sizeof(out));
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 127);
  /* A stop signal ends an interruptible command (its group), not another. */
  char *sleeper[] = {"sh", "-c", "sleep 30; echo done >&2", NULL};
  lb_harness_stop_signal = SIGINT;
  st = lb_harness_capture(sleeper, NULL, LB_CAPTURE_OWN_GROUP | LB_CAPTURE_INTERRUPTIBLE, 60, out,
                          sizeof(out));
  lb_harness_stop_signal = 0;
  assert_int_equal(st, -EINTR);
  assert_non_null(strstr(out, "stopped by signal 2"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exit_status),
      cmocka_unit_test(test_stop_kills_everything),
      cmocka_unit_test(test_capture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
