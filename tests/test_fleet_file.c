/* fleet_file: fleets read as written, a write read back the same, and
 * every malformed line refused with its file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet_file.h"
#include "scenario.h"

static char path[64];

/* A new temporary file, named in path, open for writing. */
static FILE *create_temp(void) {
  snprintf(path, sizeof(path), "/tmp/test_fleet_file.XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  return f;
}

/* Loads text; returns the status, the error in err. */
static int load(const char *text, struct lb_fleet_file *out, char *err, size_t errlen) {
  FILE *f = create_temp();
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
  err[0] = '\0';
  int rc = lb_fleet_file_load(path, out, err, errlen);
  unlink(path);
  return rc;
}

static void test_reads_fleets(void **state) {
  (void)state;
  struct lb_fleet_file ff;
  char err[256];
  assert_int_equal(load("# two fleets\n"
                        "fleet seed 20000\n"
                        "server 117 4 1\n"
                        "server 89 11 2\n"
                        "\n"
                        "client 1:1.5 0:2\n"
                        "client 0:3 0:1\n"
                        "fleet other\n"
                        "server 5 6 7\n"
                        "client 0:0.25\n",
                        &ff, err, sizeof(err)),
                   0);
  assert_int_equal(ff.n, 2);
  const struct lb_fleet_spec *a = &ff.fleets[0], *b = &ff.fleets[1];
  assert_string_equal(a->label, "seed 20000");
  assert_int_equal(a->servers, 2);
  assert_int_equal(a->clients, 2);
  assert_int_equal(a->slots, 2);
  assert_int_equal(a->server[1].threads, 89);
  assert_int_equal(a->server[1].mean_processing_time, 11);
  assert_int_equal(a->server[1].mean_rtt, 2);
  int subset[] = {1, 0, 0, 0};
  double mean[] = {1.5, 2, 3, 1};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(a->subset[i], subset[i]);
    assert_true(a->mean_ticks[i] == mean[i]);
  }
  assert_string_equal(b->label, "other");
  assert_int_equal(b->servers, 1);
  assert_int_equal(b->clients, 1);
  assert_int_equal(b->slots, 1);
  assert_true(b->mean_ticks[0] == 0.25);
  lb_fleet_file_close(&ff);
  assert_null(ff.fleets);
}

/* A label is the rest of its line, blanks collapsed, however many words. */
static void test_label_is_the_line(void **state) {
  (void)state;
  static char text[4096];
  int at = snprintf(text, sizeof(text), "  fleet \t seed   7 of\tmany ");
  for (int i = 0; i < 300; i++)
    at += snprintf(text + at, sizeof(text) - (size_t)at, " w");
  snprintf(text + at, sizeof(text) - (size_t)at, "\nserver 1 1 1\nclient 0:1\n");
  struct lb_fleet_file ff;
  char err[256];
  assert_int_equal(load(text, &ff, err, sizeof(err)), 0);
  assert_int_equal(ff.n, 1);
  assert_int_equal(ff.fleets[0].line, 1);
  assert_memory_equal(ff.fleets[0].label, "seed 7 of many w w", 18);
  assert_true(strlen(ff.fleets[0].label) >= sizeof(ff.fleets[0].label) - 2); /* cut, not refused */
  lb_fleet_file_close(&ff);
}

static void test_unlabelled_fleet(void **state) {
  (void)state;
  struct lb_fleet_file ff;
  char err[256];
  assert_int_equal(load("server 3 2 1\nclient 0:2\nclient 0:1\n", &ff, err, sizeof(err)), 0);
  assert_int_equal(ff.n, 1);
  assert_string_equal(ff.fleets[0].label, "");
  assert_int_equal(ff.fleets[0].clients, 2);
  lb_fleet_file_close(&ff);
}

/* What lb_fleet_spec_write writes, lb_fleet_file_load reads back exactly
 * (means in their shortest round-trip form). */
static void test_write_reads_back(void **state) {
  (void)state;
  struct lb_fleet_spec f;
  assert_int_equal(lb_fleet_spec_alloc(&f, 3, 2, 4), 0);
  snprintf(f.label, sizeof(f.label), "written");
  for (int s = 0; s < 3; s++)
    f.server[s] = (struct lb_server_params){.threads = 90 + s, .mean_processing_time = s,
                                            .mean_rtt = 2 * s};
  for (int i = 0; i < 8; i++) {
    f.subset[i] = (i * 5) % 3;
    f.mean_ticks[i] = 1.0 / (i + 3);
  }
  FILE *out = create_temp();
  assert_int_equal(lb_fleet_spec_write(&f, out), 0);
  assert_int_equal(lb_fleet_spec_write(&f, out), 0);
  assert_int_equal(fclose(out), 0);
  struct lb_fleet_file ff;
  char err[256];
  assert_int_equal(lb_fleet_file_load(path, &ff, err, sizeof(err)), 0);
  unlink(path);
  assert_int_equal(ff.n, 2);
  for (size_t k = 0; k < ff.n; k++) {
    const struct lb_fleet_spec *g = &ff.fleets[k];
    assert_string_equal(g->label, "written");
    assert_int_equal(g->servers, 3);
    assert_int_equal(g->clients, 2);
    assert_int_equal(g->slots, 4);
    assert_memory_equal(g->server, f.server, 3 * sizeof(*f.server));
    assert_memory_equal(g->subset, f.subset, 8 * sizeof(*f.subset));
    assert_memory_equal(g->mean_ticks, f.mean_ticks, 8 * sizeof(*f.mean_ticks));
  }
  lb_fleet_file_close(&ff);
  lb_fleet_spec_free(&f);
}

static void test_check_against_scenario(void **state) {
  (void)state;
  struct lb_fleet_file ff;
  char err[256];
  assert_int_equal(load("fleet small\nserver 3 2 1\nserver 3 2 1\nclient 0:2 1:1\n", &ff, err,
                        sizeof(err)),
                   0);
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "tiny");
  sc.servers = 2;
  sc.clients = 1;
  sc.subset_size = 2;
  assert_int_equal(lb_fleet_spec_check(&ff.fleets[0], &sc, err, sizeof(err)), 0);
  sc.subset_size = 0; /* every server: 2 channels still */
  assert_int_equal(lb_fleet_spec_check(&ff.fleets[0], &sc, err, sizeof(err)), 0);
  sc.clients = 3;
  assert_int_equal(lb_fleet_spec_check(&ff.fleets[0], &sc, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "fleet 'small' has 2 servers, 1 clients of 2 channels"));
  assert_non_null(strstr(err, "scenario 'tiny' has 2, 3 of 2"));
  lb_fleet_file_close(&ff);
}

/* A file for a scenario: every fleet must fit it; run r takes fleet r mod n. */
static void test_load_for_scenario(void **state) {
  (void)state;
  struct lb_fleet_file ff = {0};
  struct lb_scenario sc;
  char err[512];
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "tiny");
  sc.servers = 2;
  sc.clients = 1;
  sc.subset_size = 2;
  FILE *f = create_temp();
  fputs("fleet a\nserver 3 2 1\nserver 3 2 1\nclient 0:2 1:1\n"
        "fleet b\nserver 4 2 1\nserver 4 2 1\nclient 1:2 1:1\n",
        f);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(lb_fleet_file_load_for(path, &sc, &ff, err, sizeof(err)), 0);
  assert_string_equal(lb_fleet_file_for_run(&ff, 0)->label, "a");
  assert_string_equal(lb_fleet_file_for_run(&ff, 1)->label, "b");
  assert_string_equal(lb_fleet_file_for_run(&ff, 4)->label, "a");
  lb_fleet_file_close(&ff);
  sc.servers = 3; /* neither fits: the first is named, with its line */
  assert_int_equal(lb_fleet_file_load_for(path, &sc, &ff, err, sizeof(err)), -EINVAL);
  char expect[128];
  snprintf(expect, sizeof(expect), "%s:1: fleet 'a' has 2 servers", path);
  assert_non_null(strstr(err, expect));
  assert_int_equal(ff.n, 0);
  unlink(path);
}

/* Each malformed file is refused, naming the line and what is wrong. */
static void test_errors(void **state) {
  (void)state;
  static const struct {
    const char *text, *line, *says;
  } cases[] = {
      {"server 3 2 1\nclient 0:1\nbogus 1\n", ":3:", "expected a 'fleet', 'server' or 'client'"},
      {"server 0 2 1\n", ":1:", "THREADS: expected an integer from 1 to 2147483647, got 0"},
      {"server 3 -1 1\n", ":1:",
       "MEAN_PROCESSING_TIME: expected an integer from 0 to 2147483647, got -1"},
      {"server 3 2 x\n", ":1:", "MEAN_RTT: expected an integer from 0 to 2147483647, got x"},
      {"server 3 2 99999999999\n", ":1:", "got 99999999999"},
      {"server 3 2\n", ":1:", "expected 'server THREADS MEAN_PROCESSING_TIME MEAN_RTT'"},
      {"server 3 2 1\nclient 1:1\n", ":2:", "no such server: 1 (the fleet has servers 0 to 0)"},
      {"server 3 2 1\nclient 0:-1\n", ":2:", "MEAN_TICKS: expected a number >= 0, got -1"},
      {"server 3 2 1\nclient 0:nan\n", ":2:", "MEAN_TICKS"},
      {"server 3 2 1\nclient 0\n", ":2:", "expected SERVER:MEAN_TICKS, got 0"},
      {"server 3 2 1\nclient 0:1 0:1\nclient 0:1\n", ":3:",
       "every client needs the same number of channels (1, the first client has 2)"},
      {"server 3 2 1\nclient 0:1\nserver 3 2 1\n", ":3:", "a server line after"},
      {"fleet a\nclient 0:1\n", ":2:", "a client line before the fleet's server lines"},
      {"fleet a\nserver 3 2 1\nfleet b\nserver 1 1 1\nclient 0:1\n", ":1:",
       "fleet 'a' has no client lines"},
      {"fleet a\nserver 3 2 1\nclient 0:1\nfleet b\n", ":4:", "fleet 'b' has no server lines"},
      {"# nothing\n\n", "", "no fleet in the file"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct lb_fleet_file ff;
    char err[256];
    assert_int_equal(load(cases[i].text, &ff, err, sizeof(err)), -EINVAL);
    assert_null(ff.fleets);
    assert_int_equal(ff.n, 0);
    if (strstr(err, path) == NULL || strstr(err, cases[i].line) == NULL ||
        strstr(err, cases[i].says) == NULL)
      fail_msg("case %zu: got '%s', expected '%s' at '%s'", i, err, cases[i].says,
               cases[i].line);
  }
  struct lb_fleet_file ff;
  char err[256];
  assert_int_equal(lb_fleet_file_load("/nonexistent/fleet.txt", &ff, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "/nonexistent/fleet.txt: cannot open fleet file"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_fleets),
      cmocka_unit_test(test_label_is_the_line),
      cmocka_unit_test(test_unlabelled_fleet),
      cmocka_unit_test(test_write_reads_back),
      cmocka_unit_test(test_check_against_scenario),
      cmocka_unit_test(test_load_for_scenario),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
