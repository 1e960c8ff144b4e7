/* harness_events: a run's events as they come, and a death that makes the
 * run not valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_events.h"
#include "harness_health.h"

static void test_events_file(void **state) {
  (void)state;
  char path[] = "/tmp/lb_events_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  struct lb_harness_events ev;
  const int64_t t0 = 1000000000000LL, tick = 20000000; /* 20 ms */
  assert_int_equal(lb_harness_events_open(&ev, path, NULL, "s run 0", t0, tick), 0);
  lb_harness_events_note(&ev, t0 + 50 * tick, "server 3", "fault_start", "kill, planned", false);
  lb_harness_events_note(&ev, t0 + 61 * tick, "server 1", "died", "signal 9 (Killed); log x", true);
  lb_harness_events_note(&ev, t0 + 70 * tick, "client process 0", "died", "exit 1", true);
  assert_int_equal(ev.unplanned, 2);
  /* the first unplanned death, without what follows its ';' */
  assert_string_equal(ev.first, "server 1 died at tick 61 (signal 9 (Killed))");
  lb_harness_events_close(&ev);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char text[1024];
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  text[n] = '\0';
  fclose(f);
  unlink(path);
  assert_string_equal(text, "tick,seconds,daemon,event,detail\n"
                            "50.00,1.000000,server 3,fault_start,kill; planned\n"
                            "61.00,1.220000,server 1,died,signal 9 (Killed); log x\n"
                            "70.00,1.400000,client process 0,died,exit 1\n");
}

static void test_death_not_valid(void **state) {
  (void)state;
  struct lb_harness_health_input in;
  struct lb_harness_health h;
  memset(&in, 0, sizeof(in));
  in.tick_ms = 20;
  in.timer_p99_us = in.send_p99_us = in.server_p99_us = -1;
  in.sent = in.completed = 10;
  lb_harness_health_check(&in, &h);
  assert_true(h.valid);
  in.died = 1;
  snprintf(in.death, sizeof(in.death), "server 1 died at tick 61 (signal 9 (Killed))");
  lb_harness_health_check(&in, &h);
  assert_false(h.valid);
  assert_non_null(strstr(h.reason, "1 daemon died unplanned, first: server 1 died at tick 61"));
  assert_non_null(strstr(h.suggestion, "events.csv"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_events_file),
      cmocka_unit_test(test_death_not_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
