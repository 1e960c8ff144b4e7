/* client_opts: lbclient's command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_opts.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_servers(void **state) {
  (void)state;
  struct lb_server_addr *s = NULL;
  int n = 0;
  char err[256];
  assert_int_equal(
      lb_client_parse_servers("127.0.0.1:1000:2000,localhost:1:2", &s, &n, err, sizeof(err)), 0);
  assert_int_equal(n, 2);
  assert_string_equal(s[0].host, "127.0.0.1");
  assert_int_equal(s[0].tcp_port, 1000);
  assert_int_equal(s[0].udp_port, 2000);
  assert_string_equal(s[1].host, "localhost");
  assert_int_equal(s[1].udp_port, 2);
  free(s);
  const char *bad[] = {"", "host", "host:1", "host:1:x", ":1:2", "h:1:2,", "h:70000:1", "h:-1:2"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err[0] = 0;
    assert_int_equal(lb_client_parse_servers(bad[i], &s, &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--servers"));
  }
}

static void test_http_ports(void **state) {
  (void)state;
  char err[256] = "";
  char *argv[] = {"lbclient", "--servers", "a:1:2,b:3:4", "--http-ports", "8080,8081",
                  "--full-speed"};
  struct lb_client_opts o;
  assert_int_equal(lb_client_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
  assert_int_equal(o.servers[0].http_port, 8080);
  assert_int_equal(o.servers[1].http_port, 8081);
  assert_int_equal(lb_client_server_port(&o.servers[1], LB_TRANSPORT_TCP, err, sizeof(err)), 3);
  assert_int_equal(lb_client_server_port(&o.servers[1], LB_TRANSPORT_UDP, err, sizeof(err)), 4);
  assert_int_equal(lb_client_server_port(&o.servers[1], LB_TRANSPORT_HTTP, err, sizeof(err)),
                   8081);
  lb_client_opts_close(&o);
  /* One port per server, each in range. */
  const char *bad[] = {"8080", "8080,8081,8082", "8080,", "8080,0", "8080,x", "", "8080,,8081",
                       "8080,70000"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    argv[4] = (char *)bad[i];
    err[0] = 0;
    assert_int_equal(lb_client_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--http-ports"));
  }
  /* Without them, transport: http has no port to go to. */
  struct lb_server_addr a = {.host = "h", .tcp_port = 1, .udp_port = 2};
  err[0] = 0;
  assert_int_equal(lb_client_server_port(&a, LB_TRANSPORT_HTTP, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "--http-ports"));
}

static void test_full(void **state) {
  (void)state;
  char *argv[] = {"lbclient",
                  "--scenario",
                  "s.yaml",
                  "--clients",
                  "3:4",
                  "--run",
                  "2",
                  "--servers",
                  "a:1:2,b:3:4",
                  "--log",
                  "x.csv",
                  "--board",
                  "fleet",
                  "--start-at-realtime-ns",
                  "1700000000000000000",
                  "--stats",
                  "st",
                  "--max-runtime",
                  "2.5",
                  "--log-level",
                  "debug",
                  "--wake-early-us",
                  "80"};
  struct lb_client_opts o;
  char err[256];
  assert_int_equal(lb_client_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
  assert_string_equal(o.scenario, "s.yaml");
  assert_int_equal(o.first_client, 3);
  assert_int_equal(o.client_count, 4);
  assert_int_equal(o.run, 2);
  assert_int_equal(o.nservers, 2);
  assert_string_equal(o.board, "fleet");
  assert_true(o.has_start_at);
  assert_true(o.start_at_realtime_ns == 1700000000000000000LL);
  assert_true(o.max_runtime_s == 2.5);
  assert_int_equal(o.log_level, 3);
  assert_int_equal(o.wake_early_us, 80);
  assert_false(o.full_speed);
  lb_client_opts_close(&o);
}

static void test_defaults_and_full_speed(void **state) {
  (void)state;
  char *argv[] = {"lbclient",  "--clients", "5",     "--scenario", "s",
                  "--servers", "h:1:2",     "--log", "l"};
  struct lb_client_opts o;
  char err[256];
  assert_int_equal(lb_client_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
  assert_int_equal(o.first_client, 5);
  assert_int_equal(o.client_count, 1);
  assert_int_equal(o.run, 0);
  lb_client_opts_close(&o);
  char *fs[] = {"lbclient", "--full-speed", "--servers", "h:1:2",      "--connections",
                "50",       "--requests",   "1000",      "--pipeline", "4"};
  assert_int_equal(lb_client_opts_parse(ARGC(fs), fs, &o, err, sizeof(err)), 0);
  assert_true(o.full_speed);
  assert_int_equal(o.connections, 50);
  assert_int_equal(o.requests, 1000);
  assert_int_equal(o.pipeline, 4);
  lb_client_opts_close(&o);
}

static void test_errors(void **state) {
  (void)state;
  struct lb_client_opts o;
  char err[256];
  char *missing[] = {"lbclient", "--servers", "h:1:2"};
  assert_int_equal(lb_client_opts_parse(ARGC(missing), missing, &o, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "--scenario"));
  char *badclients[] = {"lbclient", "--clients", "x:2", "--servers", "h:1:2"};
  assert_int_equal(lb_client_opts_parse(ARGC(badclients), badclients, &o, err, sizeof(err)),
                   -EINVAL);
  assert_non_null(strstr(err, "--clients"));
  char *badlevel[] = {"lbclient", "--log-level", "loud"};
  assert_int_equal(lb_client_opts_parse(ARGC(badlevel), badlevel, &o, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "--log-level"));
  char *unknown[] = {"lbclient", "--frobnicate"};
  assert_int_equal(lb_client_opts_parse(ARGC(unknown), unknown, &o, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "--frobnicate"));
  char *help[] = {"lbclient", "--help"};
  assert_int_equal(lb_client_opts_parse(ARGC(help), help, &o, err, sizeof(err)), 0);
  assert_true(o.help);
  lb_client_opts_close(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_servers),
      cmocka_unit_test(test_http_ports),
      cmocka_unit_test(test_full),
      cmocka_unit_test(test_defaults_and_full_speed),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
