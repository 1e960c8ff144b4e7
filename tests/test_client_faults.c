/* client_faults: which messages lbclient's delay and partition faults hit
 * (the channel, the window, the tick a message counts as sent at). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "client_faults.h"
#include "faults.h"
#include "scenario.h"

#define TICK 40000000LL /* 40 ms */
#define T0 1000000000LL

static struct lb_scenario *scenario(void) {
  struct lb_scenario *sc = calloc(1, sizeof(*sc));
  assert_non_null(sc);
  lb_scenario_defaults(sc);
  sc->servers = 4;
  sc->clients = 3;
  sc->total_ticks = 100;
  return sc;
}

static void add(struct lb_scenario *sc, enum lb_fault_kind kind, int at, int for_ticks, int server,
                int client, double ticks) {
  struct lb_fault *f = &sc->faults[sc->n_faults++];
  lb_fault_init(f, kind);
  f->at = at;
  f->for_ticks = for_ticks;
  f->server = server;
  f->client = client;
  if (kind == LB_FAULT_DELAY)
    f->ticks = ticks;
}

static void test_tick(void **state) {
  (void)state;
  assert_int_equal(lb_client_fault_tick(T0, TICK, T0 - 1), -1);
  assert_int_equal(lb_client_fault_tick(T0, TICK, T0), 0);
  assert_int_equal(lb_client_fault_tick(T0, TICK, T0 + TICK - 1), 0);
  assert_int_equal(lb_client_fault_tick(T0, TICK, T0 + TICK), 1);
  assert_int_equal(lb_client_fault_tick(T0, TICK, T0 + 7 * TICK + TICK / 2), 7);
  assert_int_equal(lb_client_fault_tick(0, 1, INT64_MAX), INT_MAX);
  assert_int_equal(lb_client_fault_tick(T0, 0, T0 + TICK), -1);
}

static void test_response_tick(void **state) {
  (void)state;
  int64_t lag = TICK / 10;
  /* Done at tick 8's boundary, in a little after it: lbsim's tick 7. */
  assert_int_equal(lb_client_fault_response_tick(T0, TICK, lag, T0 + 8 * TICK + lag / 2, 0), 7);
  /* Well into tick 8: done in tick 8. */
  assert_int_equal(lb_client_fault_response_tick(T0, TICK, lag, T0 + 8 * TICK + TICK / 2, 0), 8);
  /* Held 3 ticks by the server: sent when the server was done. */
  assert_int_equal(lb_client_fault_response_tick(T0, TICK, lag, T0 + 11 * TICK + lag / 2, 3 * TICK),
                   7);
  /* A hold from before tick 0, or absurd: no tick (no fault applies). */
  assert_int_equal(lb_client_fault_response_tick(T0, TICK, lag, T0 + TICK, 2 * TICK), -1);
  assert_int_equal(lb_client_fault_response_tick(T0, TICK, lag, T0 + TICK, UINT64_MAX), -1);
  assert_int_equal(lb_client_fault_response_tick(T0, TICK, lag, T0 - 5, 0), -1);
}

static void test_channel_and_window(void **state) {
  (void)state;
  struct lb_scenario *sc = scenario();
  add(sc, LB_FAULT_DELAY, 10, 5, 2, 1, 3.5);    /* client 1 -> server 2, ticks 10..14 */
  add(sc, LB_FAULT_PARTITION, 20, 2, 1, -1, 0); /* every client -> server 1, 20..21 */
  add(sc, LB_FAULT_KILL, 10, 5, 2, -1, 0);      /* not a channel's */
  struct lb_client_fault_hit h;
  lb_client_faults_message(sc, 2, 1, 9, &h);
  assert_false(h.dropped);
  assert_true(h.extra_ticks == 0);
  lb_client_faults_message(sc, 2, 1, 10, &h);
  assert_false(h.dropped);
  assert_true(h.extra_ticks == 3.5);
  lb_client_faults_message(sc, 2, 1, 14, &h);
  assert_true(h.extra_ticks == 3.5);
  lb_client_faults_message(sc, 2, 1, 15, &h);
  assert_true(h.extra_ticks == 0);
  /* another client's channel to the server, the client's to another server */
  lb_client_faults_message(sc, 2, 0, 12, &h);
  assert_true(h.extra_ticks == 0);
  lb_client_faults_message(sc, 1, 1, 12, &h);
  assert_true(h.extra_ticks == 0);
  /* no client: every client's channel to server 1, in [20, 22) only */
  for (int c = 0; c < 3; c++) {
    lb_client_faults_message(sc, 1, c, 20, &h);
    assert_true(h.dropped);
    lb_client_faults_message(sc, 1, c, 21, &h);
    assert_true(h.dropped);
    lb_client_faults_message(sc, 1, c, 22, &h);
    assert_false(h.dropped);
    lb_client_faults_message(sc, 1, c, 19, &h);
    assert_false(h.dropped);
    lb_client_faults_message(sc, 0, c, 20, &h);
    assert_false(h.dropped);
  }
  /* before tick 0: nothing */
  lb_client_faults_message(sc, 1, 0, -1, &h);
  assert_false(h.dropped);
  free(sc);
}

static void test_partition_over_delay(void **state) {
  (void)state;
  struct lb_scenario *sc = scenario();
  add(sc, LB_FAULT_DELAY, 0, 50, 3, -1, 2);
  add(sc, LB_FAULT_PARTITION, 5, 1, 3, 2, 0);
  struct lb_client_fault_hit h;
  lb_client_faults_message(sc, 3, 2, 5, &h); /* dropped: no delay to add */
  assert_true(h.dropped);
  assert_true(h.extra_ticks == 0);
  lb_client_faults_message(sc, 3, 1, 5, &h);
  assert_false(h.dropped);
  assert_true(h.extra_ticks == 2);
  free(sc);
}

static void test_any(void **state) {
  (void)state;
  struct lb_scenario *sc = scenario();
  assert_false(lb_client_faults_any(sc));
  add(sc, LB_FAULT_KILL, 1, 1, 0, -1, 0);
  add(sc, LB_FAULT_SLOW, 1, 1, 1, -1, 0);
  add(sc, LB_FAULT_PAUSE, 5, 1, 0, -1, 0);
  assert_false(lb_client_faults_any(sc));
  add(sc, LB_FAULT_PARTITION, 5, 1, 3, 2, 0);
  assert_true(lb_client_faults_any(sc));
  sc->n_faults = 0;
  add(sc, LB_FAULT_DELAY, 5, 1, 3, 2, 0);
  assert_true(lb_client_faults_any(sc));
  free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tick),
      cmocka_unit_test(test_response_tick),
      cmocka_unit_test(test_channel_and_window),
      cmocka_unit_test(test_partition_over_delay),
      cmocka_unit_test(test_any),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
