/* harness_containers: the scenario's container limits (server_cpus,
 * server_memory) as parsed, refused, written back and stated. Fleets of
 * containers: it_harness_containers.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_containers.h"

static void scenario(struct lb_scenario *sc, const char *cpus, const char *memory) {
  lb_scenario_defaults(sc);
  sc->servers = 3;
  sc->clients = 2;
  snprintf(sc->server_cpus, sizeof(sc->server_cpus), "%s", cpus);
  snprintf(sc->server_memory, sizeof(sc->server_memory), "%s", memory);
}

static void test_limits(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[512], text[512];
  double cpus;
  long long bytes;
  scenario(&sc, "2, 1,0.25", "1g");
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_server_cpus(&sc, 0, &cpus), 1);
  assert_true(cpus == 2);
  assert_int_equal(lb_scenario_server_cpus(&sc, 2, &cpus), 1);
  assert_true(cpus == 0.25);
  assert_int_equal(lb_scenario_server_memory(&sc, 1, &bytes), 1);
  assert_true(bytes == 1LL << 30);
  lb_containers_limits_text(&sc, text, sizeof(text));
  assert_string_equal(text, "server 0: cpus 2 memory 1024MiB, server 1: cpus 1 memory 1024MiB, "
                            "server 2: cpus 0.25 memory 1024MiB");
  /* Unset: nothing, and said so. */
  scenario(&sc, "", "");
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_server_cpus(&sc, 0, &cpus), 0);
  lb_containers_limits_text(&sc, text, sizeof(text));
  assert_string_equal(text, "");
  /* Wrong count, bad numbers, too little memory: refused, naming the field. */
  const char *bad[][2] = {{"1,1", ""}, {"0", ""},    {"x", ""},   {"1,,1", ""},
                          {"", "5m"},  {"", "256q"}, {"", "1,2"}, {"", "-1g"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    scenario(&sc, bad[i][0], bad[i][1]);
    err[0] = '\0';
    assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, bad[i][0][0] ? "field 'server_cpus'" : "field 'server_memory'"));
    assert_non_null(strstr(err, "one value or 3 (one per server)"));
  }
  /* Parsed from a file and written back. */
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string("servers: 2\nserver_cpus: 1,0.5\nserver_memory: 64m\n",
                                            "t.yaml", &sc, err, sizeof(err)),
                   0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  assert_int_equal(lb_scenario_write(&sc, f), 0);
  fclose(f);
  assert_non_null(strstr(out, "server_cpus: \"1,0.5\"\n"));
  assert_non_null(strstr(out, "server_memory: \"64m\"\n"));
  free(out);
  /* Unset limits are left out of written scenarios. */
  scenario(&sc, "", "");
  f = open_memstream(&out, &len);
  assert_int_equal(lb_scenario_write(&sc, f), 0);
  fclose(f);
  assert_null(strstr(out, "server_cpus"));
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
