/* harness_engine: podman's settings for a machine, the image's content
 * hash and Dockerfile, and engine detection where there is none. Fleets of
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

#include "harness_engine.h"

static void test_conf(void **state) {
  (void)state;
  char buf[1024];
  /* This kind of machine: hybrid cgroups, NOFILE 20000, NPROC 96370. */
  struct lb_engine_host h = {20000, 96370, true, true};
  assert_int_equal(lb_engine_conf(&h, buf, sizeof(buf)), 1);
  assert_non_null(strstr(buf, "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", "
                              "\"nproc=32768:32768\"]\n"));
  assert_non_null(strstr(buf, "[engine]\nruntime = \"runc\"\n"));
  /* A low NPROC is what this process may set. */
  h.nproc_hard = 4096;
  assert_int_equal(lb_engine_conf(&h, buf, sizeof(buf)), 1);
  assert_non_null(strstr(buf, "\"nproc=4096:4096\""));
  /* Without runc installed, no runtime is forced (podman says why). */
  h.have_runc = false;
  assert_int_equal(lb_engine_conf(&h, buf, sizeof(buf)), 1);
  assert_null(strstr(buf, "runc"));
  /* cgroup v2 and limits above podman's: the defaults run. */
  struct lb_engine_host v2 = {-1, -1, false, true};
  assert_int_equal(lb_engine_conf(&v2, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "");
  v2.nofile_hard = LB_ENGINE_PODMAN_NOFILE;
  assert_int_equal(lb_engine_conf(&v2, buf, sizeof(buf)), 0);
  /* Only runc: no ulimits section. */
  v2.cgroup_hybrid = true;
  assert_int_equal(lb_engine_conf(&v2, buf, sizeof(buf)), 1);
  assert_null(strstr(buf, "ulimits"));
  assert_non_null(strstr(buf, "runtime = \"runc\""));
  assert_int_equal(lb_engine_conf(&h, buf, 16), -ENOSPC);
}

static void test_hash_and_dockerfile(void **state) {
  (void)state;
  /* FNV-1a 64 test vectors. */
  assert_true(lb_engine_hash(LB_ENGINE_HASH_INIT, "", 0) == 0xcbf29ce484222325ULL);
  assert_true(lb_engine_hash(LB_ENGINE_HASH_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
  assert_true(lb_engine_hash(LB_ENGINE_HASH_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
  /* In pieces, the same. */
  uint64_t h = lb_engine_hash(LB_ENGINE_HASH_INIT, "foo", 3);
  assert_true(lb_engine_hash(h, "bar", 3) == 0x85944171f73967e8ULL);
  char buf[512];
  assert_int_equal(lb_engine_dockerfile("localhost/b:1", buf, sizeof(buf)), 0);
  assert_non_null(strstr(buf, "\nFROM localhost/b:1\nCOPY lbserver lbclient /usr/local/bin/\n"));
  assert_int_equal(lb_engine_dockerfile("localhost/b:1", buf, 20), -ENOSPC);
}

static void test_no_engine(void **state) {
  (void)state;
  char name[16], err[512];
  const char *path = getenv("PATH");
  char *saved = path ? strdup(path) : NULL;
  setenv("PATH", "/nonexistent", 1);
  assert_int_equal(lb_engine_detect(NULL, name, sizeof(name), err, sizeof(err)), -ENOENT);
  assert_string_equal(err, "--hosts containers: no container engine on this machine: podman is "
                           "not installed, and docker is not installed; install podman "
                           "(deploy/setup.sh --containers, as root) or use --hosts local");
  assert_int_equal(lb_engine_detect("docker", name, sizeof(name), err, sizeof(err)), -ENOENT);
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
      cmocka_unit_test(test_no_engine),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
