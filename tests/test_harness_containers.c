/* harness_containers: podman's settings for a machine, the image's content
 * hash and Dockerfile, the scenario's container limits, and engine
 * detection where there is no engine. Fleets themselves: it_harness_containers.sh. */
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

static void test_conf(void **state) {
  (void)state;
  char buf[1024];
  /* This kind of machine: hybrid cgroups, NOFILE 20000, NPROC 96370. */
  struct lb_containers_host h = {20000, 96370, true, true};
  assert_int_equal(lb_containers_conf(&h, buf, sizeof(buf)), 1);
  assert_non_null(strstr(buf, "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", "
                              "\"nproc=32768:32768\"]\n"));
  assert_non_null(strstr(buf, "[engine]\nruntime = \"runc\"\n"));
  /* A low NPROC is what this process may set. */
  h.nproc_hard = 4096;
  assert_int_equal(lb_containers_conf(&h, buf, sizeof(buf)), 1);
  assert_non_null(strstr(buf, "\"nproc=4096:4096\""));
  /* Without runc installed, no runtime is forced (podman says why). */
  h.have_runc = false;
  assert_int_equal(lb_containers_conf(&h, buf, sizeof(buf)), 1);
  assert_null(strstr(buf, "runc"));
  /* cgroup v2 and limits above podman's: the defaults run. */
  struct lb_containers_host v2 = {-1, -1, false, true};
  assert_int_equal(lb_containers_conf(&v2, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "");
  v2.nofile_hard = LB_CONTAINERS_PODMAN_NOFILE;
  assert_int_equal(lb_containers_conf(&v2, buf, sizeof(buf)), 0);
  /* Only runc: no ulimits section. */
  v2.cgroup_hybrid = true;
  assert_int_equal(lb_containers_conf(&v2, buf, sizeof(buf)), 1);
  assert_null(strstr(buf, "ulimits"));
  assert_non_null(strstr(buf, "runtime = \"runc\""));
  assert_int_equal(lb_containers_conf(&h, buf, 16), -ENOSPC);
}

static void test_hash_and_dockerfile(void **state) {
  (void)state;
  /* FNV-1a 64 test vectors. */
  assert_true(lb_containers_hash(LB_CONTAINERS_HASH_INIT, "", 0) == 0xcbf29ce484222325ULL);
  assert_true(lb_containers_hash(LB_CONTAINERS_HASH_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
  assert_true(lb_containers_hash(LB_CONTAINERS_HASH_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
  /* In pieces, the same. */
  uint64_t h = lb_containers_hash(LB_CONTAINERS_HASH_INIT, "foo", 3);
  assert_true(lb_containers_hash(h, "bar", 3) == 0x85944171f73967e8ULL);
  char buf[512];
  assert_int_equal(lb_containers_dockerfile("localhost/b:1", buf, sizeof(buf)), 0);
  assert_non_null(strstr(buf, "\nFROM localhost/b:1\nCOPY lbserver lbclient /usr/local/bin/\n"));
  assert_int_equal(lb_containers_dockerfile("localhost/b:1", buf, 20), -ENOSPC);
}

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
  const char *bad[][2] = {{"1,1", ""}, {"0", ""}, {"x", ""}, {"1,,1", ""},
                          {"", "5m"}, {"", "256q"}, {"", "1,2"}, {"", "-1g"}};
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

static void test_no_engine(void **state) {
  (void)state;
  char name[16], err[512];
  const char *path = getenv("PATH");
  char *saved = path ? strdup(path) : NULL;
  setenv("PATH", "/nonexistent", 1);
  assert_int_equal(lb_containers_engine_detect(NULL, name, sizeof(name), err, sizeof(err)),
                   -ENOENT);
  assert_string_equal(err, "--hosts containers: no container engine on this machine: podman is "
                           "not installed, and docker is not installed; install podman "
                           "(deploy/setup.sh --containers, as root) or use --hosts local");
  assert_int_equal(lb_containers_engine_detect("docker", name, sizeof(name), err, sizeof(err)),
                   -ENOENT);
  assert_string_equal(err, "--hosts containers: --engine docker: docker is not installed");
  if (saved) {
    setenv("PATH", saved, 1);
    free(saved);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conf),
      cmocka_unit_test(test_hash_and_dockerfile),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_no_engine),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
