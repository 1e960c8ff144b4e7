/* harness_proxy: the configurations lbharness writes for HAProxy and
 * nginx (what each balance turns into, what every configuration must
 * have for the model's one picker: one thread or worker, keep-alive
 * upstream, no retries), and the refusals. Starting a proxy is
 * it_harness_proxy.sh's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_proxy.h"
#include "scenario.h"

static char *config_of(const char *proxy, const char *balance, int *rc) {
  struct lb_scenario sc;
  char err[512] = "";
  lb_scenario_defaults(&sc);
  sc.transport = LB_TRANSPORT_HTTP;
  sc.servers = 3;
  assert_int_equal(lb_scenario_set(&sc, "proxy", proxy, err, sizeof(err)), 0);
  snprintf(sc.proxy_balance, sizeof(sc.proxy_balance), "%s", balance);
  static const int ports[] = {4001, 4002, 4003};
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  *rc = lb_harness_proxy_config(&sc, ports, 3, 5000, "/run/dir/proxy", 77, f);
  assert_int_equal(fclose(f), 0);
  return text;
}

static void has(const char *text, const char *what) {
  if (strstr(text, what) == NULL)
    fail_msg("'%s' not in:\n%s", what, text);
}

static void test_haproxy(void **state) {
  (void)state;
  const char *balances[] = {"roundrobin", "leastconn", "random(2)"};
  for (size_t i = 0; i < 3; i++) {
    int rc = 0;
    char *t = config_of("haproxy", balances[i], &rc);
    assert_int_equal(rc, 0);
    char line[64];
    snprintf(line, sizeof(line), "\n  balance %s\n", balances[i]);
    has(t, line);
    has(t, "nbthread 1\n");
    has(t, "mode http\n");
    has(t, "http-reuse always\n");
    has(t, "retries 0\n");
    has(t, "timeout server 77s\n");
    has(t, "bind 127.0.0.1:5000\n");
    has(t, "server s0 127.0.0.1:4001\n");
    has(t, "server s2 127.0.0.1:4003\n");
    assert_null(strstr(t, "server s3 "));
    free(t);
  }
}

static void test_nginx(void **state) {
  (void)state;
  const char *balances[] = {"round_robin", "least_conn", "random two least_conn"};
  for (size_t i = 0; i < 3; i++) {
    int rc = 0;
    char *t = config_of("nginx", balances[i], &rc);
    assert_int_equal(rc, 0);
    if (i == 0) { /* nginx's default: no directive */
      assert_null(strstr(t, "least_conn;"));
      assert_null(strstr(t, "random"));
    } else {
      char line[64];
      snprintf(line, sizeof(line), "\n    %s;\n", balances[i]);
      has(t, line);
    }
    has(t, "worker_processes 1;\n");
    has(t, "daemon off;\n");
    has(t, "pid /run/dir/proxy/nginx.pid;\n");
    has(t, "proxy_temp_path /run/dir/proxy/proxy_temp;\n");
    has(t, "server 127.0.0.1:4001 max_fails=0;\n");
    has(t, "server 127.0.0.1:4003 max_fails=0;\n");
    has(t, "keepalive 192;\n"); /* 64 per server */
    has(t, "proxy_http_version 1.1;\n");
    has(t, "proxy_set_header Connection \"\";\n");
    has(t, "proxy_next_upstream off;\n");
    has(t, "listen 127.0.0.1:5000;\n");
    has(t, "proxy_read_timeout 77s;\n");
    free(t);
  }
}

static void test_refusals(void **state) {
  (void)state;
  int rc = 0;
  free(config_of("haproxy", "least_conn", &rc)); /* nginx's word */
  assert_int_equal(rc, -EINVAL);
  free(config_of("nginx", "leastconn", &rc));
  assert_int_equal(rc, -EINVAL);
  struct lb_scenario sc;
  lb_scenario_defaults(&sc); /* no proxy */
  FILE *f = fopen("/dev/null", "w");
  assert_non_null(f);
  int port = 1;
  assert_int_equal(lb_harness_proxy_config(&sc, &port, 1, 2, "/d", 1, f), -EINVAL);
  fclose(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_haproxy),
      cmocka_unit_test(test_nginx),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
