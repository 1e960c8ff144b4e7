/* harness_sweep: the loads' syntax, the ranking's Spearman rho, and a small
 * simulated sweep end to end (lbsim from the build tree). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_sweep.h"

static void test_parse_loads(void **state) {
  (void)state;
  struct lb_sweep s;
  memset(&s, 0, sizeof(s));
  char err[256];
  assert_int_equal(lb_sweep_parse_loads(&s, "0.5:1.5:0.1", err, sizeof(err)), 0);
  assert_int_equal(s.nloads, 11);
  assert_true(s.loads[0] == 0.5 && s.loads[3] == 0.8 && s.loads[10] == 1.5);
  assert_int_equal(lb_sweep_parse_loads(&s, "0.7:0.7:1", err, sizeof(err)), 0);
  assert_int_equal(s.nloads, 1);
  const char *bad[] = {"", "1", "0:1:0.1", "1:0.5:0.1", "0.5:1.5:0", "0.5:1.5:0.1x", "1:20:1",
                       "0.001:10:0.001"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(lb_sweep_parse_loads(&s, bad[i], err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--loads"));
  }
}

static void put(struct lb_sweep *s, int load, int picker, int side, double p99) {
  struct lb_sweep_cell *c = &s->cells[(load * s->npickers + picker) * 2 + side];
  c->v[c->n][LB_SW_P99] = p99;
  c->n++;
}

static void test_spearman(void **state) {
  (void)state;
  struct lb_sweep s;
  memset(&s, 0, sizeof(s));
  s.npickers = 3;
  s.nloads = 2;
  s.cells = calloc(2 * 3 * 2, sizeof(*s.cells));
  assert_non_null(s.cells);
  /* load 0: same order on both sides; load 1: reversed */
  put(&s, 0, 0, 0, 10), put(&s, 0, 1, 0, 20), put(&s, 0, 2, 0, 30);
  put(&s, 0, 0, 1, 11), put(&s, 0, 1, 1, 25), put(&s, 0, 2, 1, 90);
  put(&s, 1, 0, 0, 10), put(&s, 1, 1, 0, 20), put(&s, 1, 2, 0, 30);
  put(&s, 1, 0, 1, 30), put(&s, 1, 1, 1, 20), put(&s, 1, 2, 1, 10);
  assert_true(fabs(lb_sweep_spearman(&s, 0) - 1) < 1e-12);
  assert_true(fabs(lb_sweep_spearman(&s, 1) + 1) < 1e-12);
  /* the mean over runs decides */
  put(&s, 1, 0, 1, 0); /* picker 0 real: (30 + 0) / 2 = 15 */
  assert_true(lb_sweep_cell_mean(&s.cells[(1 * 3 + 0) * 2 + 1], LB_SW_P99) == 15);
  assert_true(fabs(lb_sweep_spearman(&s, 1) - (-0.5)) < 1e-12);
  lb_sweep_close(&s);
}

static size_t count(const char *text, const char *what) {
  size_t n = 0;
  for (const char *p = text; (p = strstr(p, what)); p++)
    n++;
  return n;
}

static void test_small_sweep(void **state) {
  (void)state;
  struct lb_sweep s;
  memset(&s, 0, sizeof(s));
  lb_harness_opts_defaults(&s.opts);
  s.opts.progress = false;
  snprintf(s.opts.bin_dir, sizeof(s.opts.bin_dir), "%s", LB_BINARY_DIR);
  char dir[] = "/tmp/test_harness_sweep.XXXXXX";
  assert_non_null(mkdtemp(dir));
  snprintf(s.opts.out_dir, sizeof(s.opts.out_dir), "%s", dir);
  static char *sets[] = {"servers=4", "clients=4", "total_ticks=60", "mean_threads=10"};
  s.opts.sets = sets;
  s.opts.nsets = 4;
  snprintf(s.scenario, sizeof(s.scenario), "%s/scenarios/Random.yaml", LB_SOURCE_DIR);
  snprintf(s.name, sizeof(s.name), "Random");
  s.pickers[0] = "random";
  s.pickers[1] = "least(client.rif, choices=2)";
  s.npickers = 2;
  char err[1024] = "";
  assert_int_equal(lb_sweep_parse_loads(&s, "0.5:0.9:0.4", err, sizeof(err)), 0);
  s.runs = 2;
  s.jobs = 1;
  int rc = lb_sweep_run(&s, err, sizeof(err));
  if (rc != 0)
    fail_msg("sweep: %s", err);
  /* every cell has its runs; more load, more latency for random */
  for (int c = 0; c < 2 * 2; c++)
    assert_int_equal(s.cells[c * 2].n, 2);
  assert_true(lb_sweep_cell_mean(&s.cells[(1 * 2 + 0) * 2], LB_SW_MEAN) >
              lb_sweep_cell_mean(&s.cells[(0 * 2 + 0) * 2], LB_SW_MEAN));
  assert_true(isnan(lb_sweep_spearman(&s, 0))); /* no real side */

  static char text[1 << 20];
  char path[256];
  snprintf(path, sizeof(path), "%s/sweep.csv", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  text[n] = '\0';
  fclose(f);
  assert_int_equal(count(text, "\n"), 1 + 2 * 2 * 2);
  assert_true(strncmp(text, "load,picker,side,algorithm,mean_latency", 39) == 0);
  assert_int_equal(count(text, "0.9,\"least(client.rif, choices=2)\",sim,Random,"), 2);

  snprintf(path, sizeof(path), "%s/report.html", dir);
  f = fopen(path, "r");
  assert_non_null(f);
  n = fread(text, 1, sizeof(text) - 1, f);
  text[n] = '\0';
  fclose(f);
  assert_int_equal(count(text, "<svg"), 4); /* p50, p99, p99.9, errors */
  assert_null(strstr(text, "<script"));
  assert_non_null(strstr(text, "least(client.rif, choices=2)"));
  lb_sweep_close(&s);

  char cmd[512];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_loads),
      cmocka_unit_test(test_spearman),
      cmocka_unit_test(test_small_sweep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
