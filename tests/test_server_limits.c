/* server_limits: held replies, connections per address, idle, and the
 * rate-limited line that says each kind of refusal. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server_limits.h"

static struct sockaddr_in addr4(const char *ip) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1234)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static void test_held(void **state) {
  (void)state;
  struct lb_server_limits l;
  struct lb_server_limits_config cfg = {.max_held = 2};
  lb_server_limits_init(&l, &cfg);
  assert_true(lb_server_limits_hold_begin(&l));
  assert_true(lb_server_limits_hold_begin(&l));
  assert_false(lb_server_limits_hold_begin(&l));
  assert_int_equal(l.refused[LB_LIMIT_HELD], 1);
  lb_server_limits_hold_end(&l);
  assert_true(lb_server_limits_hold_begin(&l));
  lb_server_limits_close(&l);
}

static void test_per_peer(void **state) {
  (void)state;
  struct lb_server_limits l;
  struct lb_server_limits_config cfg = {.max_per_peer = 2};
  lb_server_limits_init(&l, &cfg);
  struct sockaddr_in a = addr4("10.0.0.1"), b = addr4("10.0.0.2");
  a.sin_port = htons(1); /* the port is not the peer */
  assert_true(lb_server_limits_peer_begin(&l, (struct sockaddr *)&a));
  a.sin_port = htons(2);
  assert_true(lb_server_limits_peer_begin(&l, (struct sockaddr *)&a));
  assert_false(lb_server_limits_peer_begin(&l, (struct sockaddr *)&a));
  assert_true(lb_server_limits_peer_begin(&l, (struct sockaddr *)&b));
  assert_int_equal(l.refused[LB_LIMIT_PEER], 1);
  lb_server_limits_peer_end(&l, (struct sockaddr *)&a);
  assert_true(lb_server_limits_peer_begin(&l, (struct sockaddr *)&a));
  lb_server_limits_peer_end(&l, (struct sockaddr *)&b);
  assert_int_equal(l.npeers, 1);
  lb_server_limits_close(&l);
}

static void test_idle(void **state) {
  (void)state;
  struct lb_server_limits l;
  struct lb_server_limits_config cfg = {.idle_ns = 1000};
  lb_server_limits_init(&l, &cfg);
  assert_false(lb_server_limits_idle(&l, 100, 0, 1099));
  assert_true(lb_server_limits_idle(&l, 100, 0, 1100));
  assert_false(lb_server_limits_idle(&l, 100, 1, 5000)); /* a request alive */
  cfg.idle_ns = 0;                                       /* none */
  lb_server_limits_init(&l, &cfg);
  assert_false(lb_server_limits_idle(&l, 0, 0, INT64_MAX));
  lb_server_limits_close(&l);
}

/* The first refusal is said at once; the next ones at most once a second,
 * each line with the count since the one before. */
static void test_said_rate_limited(void **state) {
  (void)state;
  struct lb_server_limits l;
  struct lb_server_limits_config cfg = {.max_held = 1};
  lb_server_limits_init(&l, &cfg);
  uint64_t n = 0;
  const int64_t s = 1000000000LL;
  assert_false(lb_server_limits_say(&l, LB_LIMIT_HELD, 5 * s, &n)); /* nothing to say */
  assert_true(lb_server_limits_hold_begin(&l));
  assert_false(lb_server_limits_hold_begin(&l));
  assert_true(lb_server_limits_say(&l, LB_LIMIT_HELD, 5 * s, &n));
  assert_int_equal(n, 1);
  for (int i = 0; i < 10; i++) {
    assert_false(lb_server_limits_hold_begin(&l));
    assert_false(lb_server_limits_say(&l, LB_LIMIT_HELD, 5 * s + i * (s / 20), &n));
  }
  assert_true(lb_server_limits_say(&l, LB_LIMIT_HELD, 6 * s, &n));
  assert_int_equal(n, 10);
  assert_false(lb_server_limits_say(&l, LB_LIMIT_PEER, 6 * s, &n)); /* kinds apart */
  assert_int_equal(l.refused[LB_LIMIT_HELD], 11);
  lb_server_limits_close(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_held),
      cmocka_unit_test(test_per_peer),
      cmocka_unit_test(test_idle),
      cmocka_unit_test(test_said_rate_limited),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
