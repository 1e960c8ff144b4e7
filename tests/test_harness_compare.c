/* lbharness compare: the simulated side from a seed summary CSV, per-request
 * logs into a side, across-run figures, the verdict and the scores. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_compare.h"
#include "harness_report.h"

static char *write_temp(const char *text) {
  static char path[64];
  snprintf(path, sizeof(path), "/tmp/test_harness_compare.XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

static void test_seed_summary_csv(void **state) {
  (void)state;
  /* The seed notebook's df.to_csv(): one row per run, index 'algorithm'. */
  char *path =
      write_temp("algorithm,mean_latency,stdev_latency,p50.0_latency,p90.0_latency,p99.0_latency,"
                 "p99.9_latency,mean_utilization,stdev_utilization,mean_stdev_utilization,"
                 "p50.0_utilization_ratio\n"
                 "Random,14.0,12.0,11.0,21.0,80.0,87.0,54.0,23.0,4.0,0.98\n"
                 "RoundRobin,9.0,5.0,8.0,14.0,30.0,35.0,50.0,10.0,3.0,0.99\n"
                 "Random,16.0,12.0,11.0,21.0,84.0,87.0,54.0,23.0,6.0,0.98\n");
  struct lb_harness_side s;
  char err[256];
  memset(&s, 0, sizeof(s));
  assert_int_equal(lb_harness_side_add_summary_csv(&s, path, "Random", err, sizeof(err)), 2);
  assert_int_equal(s.nruns, 2);
  assert_false(s.has_distribution);
  assert_float_equal(lb_harness_side_mean(&s, LB_HM_MEAN_LATENCY), 15.0, 1e-12);
  /* stdev of {14, 16} = sqrt(2): reasonably bad run 15 + 1.414... */
  assert_float_equal(lb_harness_side_bad(&s, LB_HM_MEAN_LATENCY), 15.0 + sqrt(2.0), 1e-12);
  assert_float_equal(lb_harness_side_mean(&s, LB_HM_P99_LATENCY), 82.0, 1e-12);
  assert_float_equal(lb_harness_side_mean(&s, LB_HM_MEAN_STDEV_UTILIZATION), 5.0, 1e-12);
  assert_int_equal(lb_harness_side_add_summary_csv(&s, path, "Nope", err, sizeof(err)), 0);
  lb_harness_side_close(&s);
  unlink(path);
  path = write_temp("name,mean\nRandom,1\n");
  memset(&s, 0, sizeof(s));
  assert_true(lb_harness_side_add_summary_csv(&s, path, "Random", err, sizeof(err)) < 0);
  assert_non_null(strstr(err, "'algorithm'"));
  lb_harness_side_close(&s);
  unlink(path);
}

static void test_requests_csv_side(void **state) {
  (void)state;
  /* Three requests: a WARMING one and a probe stay out of the latency. */
  char *path = write_temp(
      "test_stage,client,server,is_probe,outcome,started_on_tick,completed_on_tick,"
      "picking_ticks,send_ticks,server_queue_ticks,processing_ticks,receive_ticks,total_ticks,"
      "server_utilization_latest\n"
      "WARMING,Client 0,Server 0,False,completed,0,9,0,2,0,5,2,9,50\n"
      "RUNNING,Client 0,Server 1,False,completed,10,22,1,2,3,4,2,12,50\n"
      "RUNNING,Client 1,Server 0,True,completed,10,13,0,1,0,1,1,3,75\n"
      "RUNNING,Client 1,Server 1,False,completed,11,19,0,2,0,4,2,8,75\n");
  struct lb_harness_side s;
  char err[256] = "";
  memset(&s, 0, sizeof(s));
  int rc = lb_harness_side_add_requests(&s, path, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
  lb_harness_side_finish(&s);
  assert_int_equal(s.nruns, 1);
  assert_int_equal(s.nlatency, 2);
  assert_float_equal(s.latency[0], 8, 0);
  assert_float_equal(s.latency[1], 12, 0);
  assert_float_equal(lb_harness_side_mean(&s, LB_HM_MEAN_LATENCY), 10.0, 1e-12);
  /* Phase means over the two counted requests: queue (3 + 0) / 2. */
  assert_float_equal(lb_harness_side_phase_mean(&s, LB_HP_QUEUE), 1.5, 1e-12);
  assert_float_equal(lb_harness_side_phase_mean(&s, LB_HP_PICKING), 0.5, 1e-12);
  lb_harness_side_close(&s);
  unlink(path);
}

/* --seed-picking: the seed ticks a request once per tick before its
 * picker answers, so a pick 0.1 tick after arrival counts 1 and one after
 * waiting 3 whole ticks (probes) counts 4; the 0.1 and 0.2 a pick took of
 * its tick are counted in send, as the seed's full send delay. */
static void test_seed_picking(void **state) {
  (void)state;
  assert_float_equal(lb_harness_seed_picking(0.0), 1, 0);
  assert_float_equal(lb_harness_seed_picking(0.1), 1, 0);
  assert_float_equal(lb_harness_seed_picking(0.999), 1, 0);
  assert_float_equal(lb_harness_seed_picking(3.1), 4, 0);
  assert_float_equal(lb_harness_seed_picking(-0.01), 1, 0);
  char *path = write_temp(
      "test_stage,client,server,is_probe,outcome,started_on_tick,completed_on_tick,"
      "picking_ticks,send_ticks,server_queue_ticks,processing_ticks,receive_ticks,total_ticks\n"
      "RUNNING,Client 0,Server 1,False,completed,10,22,0.1,2,3,4,2,11.1\n"
      "RUNNING,Client 1,Server 0,True,completed,10,13,0,1,0,1,1,3\n"
      "RUNNING,Client 1,Server 1,False,completed,11,19,3.2,2,0,4,2,11.2\n");
  struct lb_harness_side s;
  char err[256] = "";
  memset(&s, 0, sizeof(s));
  s.seed_picking = true;
  assert_int_equal(lb_harness_side_add_requests(&s, path, err, sizeof(err)), 0);
  lb_harness_side_finish(&s);
  assert_int_equal(s.nlatency, 2);
  /* Each gains one tick; the pick's part of its tick moves to send. */
  assert_float_equal(s.latency[0], 12.1, 1e-9); /* 0.1 + 2 -> 1 + 2.1 */
  assert_float_equal(s.latency[1], 12.2, 1e-9); /* 3.2 + 2 -> 4 + 2.2 */
  assert_float_equal(lb_harness_side_phase_mean(&s, LB_HP_PICKING), 2.5, 1e-12);
  assert_float_equal(lb_harness_side_phase_mean(&s, LB_HP_SEND), 2.15, 1e-12);
  lb_harness_side_close(&s);
  /* Off (the default), the same file keeps its measured picking. */
  memset(&s, 0, sizeof(s));
  assert_int_equal(lb_harness_side_add_requests(&s, path, err, sizeof(err)), 0);
  lb_harness_side_finish(&s);
  assert_float_equal(s.latency[0], 11.1, 1e-9);
  assert_float_equal(lb_harness_side_phase_mean(&s, LB_HP_PICKING), 1.65, 1e-12);
  lb_harness_side_close(&s);
  unlink(path);
}

/* A side with given per-run mean/p99 and a latency sample. */
static void fake_side(struct lb_harness_side *s, const double *mean, const double *p99, int runs,
                      const double *lat, size_t nlat) {
  memset(s, 0, sizeof(*s));
  s->nruns = runs;
  s->runs = calloc((size_t)runs, sizeof(*s->runs));
  s->requests = calloc((size_t)runs, sizeof(long));
  s->completed = calloc((size_t)runs, sizeof(long));
  s->failed = calloc((size_t)runs, sizeof(long));
  s->timed_out = calloc((size_t)runs, sizeof(long));
  s->health = calloc((size_t)runs, sizeof(*s->health));
  for (int r = 0; r < runs; r++) {
    s->health[r].valid = true;
    s->health[r].late_ms = -1;
    for (int m = 0; m < LB_HM_COUNT; m++)
      s->runs[r][m] = mean[r];
    s->runs[r][LB_HM_P99_LATENCY] = p99[r];
  }
  if (nlat) {
    s->latency = malloc(nlat * sizeof(double));
    memcpy(s->latency, lat, nlat * sizeof(double));
    s->nlatency = s->caplatency = nlat;
    s->has_distribution = true;
  }
}

/* The ranking is judged on valid runs only: a scenario none of whose real
 * runs is valid takes no part, and with fewer than 2 left there is none. */
static void test_rank_correlation_valid_only(void **state) {
  (void)state;
  struct lb_harness_compare cmp;
  memset(&cmp, 0, sizeof(cmp));
  lb_harness_tolerance_defaults(&cmp.tol);
  cmp.n = 3;
  cmp.items = calloc(3, sizeof(*cmp.items));
  /* sim ranks 1 < 2 < 3; real ranks scenario 2 first. */
  const double s1[] = {10, 10}, s2[] = {20, 20}, s3[] = {30, 30};
  const double r1[] = {11, 11}, r2[] = {5, 5}, r3[] = {31, 31}, p[] = {50, 50};
  fake_side(&cmp.items[0].sim, s1, p, 2, NULL, 0);
  fake_side(&cmp.items[0].real, r1, p, 2, NULL, 0);
  fake_side(&cmp.items[1].sim, s2, p, 2, NULL, 0);
  fake_side(&cmp.items[1].real, r2, p, 2, NULL, 0);
  fake_side(&cmp.items[2].sim, s3, p, 2, NULL, 0);
  fake_side(&cmp.items[2].real, r3, p, 2, NULL, 0);
  for (int i = 0; i < 3; i++)
    lb_harness_compare_decide(&cmp.tol, &cmp.items[i]);
  assert_float_equal(lb_harness_compare_rank_correlation(&cmp), 0.5, 1e-12);
  /* Scenario 2's real runs not valid: the other two rank alike. */
  for (int r = 0; r < 2; r++)
    cmp.items[1].real.health[r].valid = false;
  lb_harness_compare_decide(&cmp.tol, &cmp.items[1]);
  assert_int_equal(cmp.items[1].verdict.valid_runs, 0);
  assert_float_equal(lb_harness_compare_rank_correlation(&cmp), 1.0, 1e-12);
  /* Only one scenario valid: no ranking. */
  for (int r = 0; r < 2; r++)
    cmp.items[2].real.health[r].valid = false;
  lb_harness_compare_decide(&cmp.tol, &cmp.items[2]);
  assert_true(isnan(lb_harness_compare_rank_correlation(&cmp)));
  lb_harness_compare_close(&cmp);
}

static void test_decide_and_scores(void **state) {
  (void)state;
  struct lb_harness_compare cmp;
  memset(&cmp, 0, sizeof(cmp));
  lb_harness_tolerance_defaults(&cmp.tol);
  cmp.n = 3;
  cmp.items = calloc(3, sizeof(*cmp.items));
  const double lat_sim[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  /* real = sim + 0.3 ticks of overhead: rounded to whole ticks, D = 0. */
  const double lat_real[] = {1.3, 2.3, 3.3, 4.3, 5.3, 6.3, 7.3, 8.3, 9.3, 10.3};
  const double m1[] = {10, 12}, p1[] = {40, 44}, m1r[] = {11, 12}, p1r[] = {44, 46};
  fake_side(&cmp.items[0].sim, m1, p1, 2, lat_sim, 10);
  fake_side(&cmp.items[0].real, m1r, p1r, 2, lat_real, 10);
  const double m2[] = {20, 20}, p2[] = {60, 60}, m2r[] = {30, 30}, p2r[] = {90, 90};
  fake_side(&cmp.items[1].sim, m2, p2, 2, NULL, 0);
  fake_side(&cmp.items[1].real, m2r, p2r, 2, NULL, 0);
  const double m3[] = {5, 5}, p3[] = {20, 20};
  fake_side(&cmp.items[2].sim, m3, p3, 2, NULL, 0);
  fake_side(&cmp.items[2].real, m3, p3, 2, NULL, 0);
  for (int i = 0; i < 3; i++)
    lb_harness_compare_decide(&cmp.tol, &cmp.items[i]);
  /* 1: paired by run, mean differences 1 and 0 ticks: the interval
   * 0.5 +- 12.7 * 0.5 ticks on 11 straddles 5 %; raw D 0.1, whole-tick D 0. */
  assert_int_equal(cmp.items[0].verdict.outcome, LB_HO_UNDECIDED);
  assert_true(cmp.items[0].verdict.fig[LB_HF_MEAN].paired);
  assert_float_equal(cmp.items[0].verdict.fig[LB_HF_MEAN].diff, 0.5, 1e-12);
  assert_float_equal(cmp.items[0].ks_d, 0.1, 1e-12);
  assert_float_equal(cmp.items[0].ks_d_whole, 0.0, 1e-12);
  /* 2: no distributions (as a --sim-csv side): Welch's interval, and real
   * 50 % slower in both runs, no spread: does not hold; no KS. */
  assert_int_equal(cmp.items[1].verdict.outcome, LB_HO_DIFFERS);
  assert_false(cmp.items[1].verdict.fig[LB_HF_MEAN].paired);
  assert_true(isnan(cmp.items[1].ks_d));
  /* 3: identical runs: the interval is 0. */
  assert_int_equal(cmp.items[2].verdict.outcome, LB_HO_HOLDS);
  /* No valid real run: not judged, whatever the figures say. */
  for (int r = 0; r < 2; r++)
    cmp.items[2].real.health[r].valid = false;
  lb_harness_compare_decide(&cmp.tol, &cmp.items[2]);
  assert_int_equal(cmp.items[2].verdict.outcome, LB_HO_NOT_JUDGED);
  assert_int_equal(cmp.items[2].invalid_runs, 2);
  /* ... its figures still shown, over every run, each not judged */
  assert_true(cmp.items[2].verdict.every_run);
  assert_int_equal(cmp.items[2].verdict.fig[LB_HF_MEAN].n, 2);
  assert_int_equal(cmp.items[2].verdict.fig[LB_HF_MEAN].outcome, LB_HO_NOT_JUDGED);
  /* One of two valid: too few runs for an interval. */
  cmp.items[2].real.health[1].valid = true;
  lb_harness_compare_decide(&cmp.tol, &cmp.items[2]);
  assert_int_equal(cmp.items[2].verdict.outcome, LB_HO_TOO_FEW);
  assert_int_equal(cmp.items[2].verdict.valid_runs, 1);
  snprintf(cmp.items[2].real.health[0].reason, sizeof(cmp.items[2].real.health[0].reason),
           "client timer p99 lateness 9.00 ms > 10%% of tick 40 ms");
  /* Scores: with 3 algorithms the lowest reasonably bad run scores 5. */
  int scores[3 * (LB_HARNESS_SCORED + 1)];
  assert_int_equal(lb_harness_compare_scores(&cmp, false, scores), 0);
  /* mean_latency bad: 11 + sqrt2, 20, 5 -> edges 5, 7.56.., 10.1.., 13.56.., 18.2.., 20 */
  assert_int_equal(scores[0 * (LB_HARNESS_SCORED + 1) + 0], 3);
  assert_int_equal(scores[1 * (LB_HARNESS_SCORED + 1) + 0], 1);
  assert_int_equal(scores[2 * (LB_HARNESS_SCORED + 1) + 0], 5);
  /* The report: one HTML file with inline charts, and the CSVs beside it. */
  char dir[] = "/tmp/test_harness_report.XXXXXX";
  char err[256] = "", path[128];
  assert_non_null(mkdtemp(dir));
  const char *const names[] = {"quick", "Random", "Oracle<1>"};
  for (int i = 0; i < 3; i++) {
    snprintf(cmp.items[i].sc.name, sizeof(cmp.items[i].sc.name), "%s", names[i]);
    snprintf(cmp.items[i].sc.picker, sizeof(cmp.items[i].sc.picker), "random");
    cmp.items[i].sc.tick_ns = 10000000;
  }
  cmp.spearman_mean_latency = 0.5;
  assert_int_equal(lb_harness_report_write(&cmp, dir, err, sizeof(err)), 0);
  snprintf(path, sizeof(path), "%s/report.html", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char html[1 << 20];
  size_t n = fread(html, 1, sizeof(html) - 1, f);
  html[n] = '\0';
  fclose(f);
  assert_non_null(strstr(html, "Oracle&lt;1&gt;")); /* names are escaped */
  assert_null(strstr(html, "<script"));
  assert_non_null(strstr(html, "does not hold"));
  assert_non_null(strstr(html, "too few runs"));
  /* the run not valid is marked, with its reason */
  assert_non_null(strstr(html, "NOT VALID"));
  assert_non_null(strstr(html, "client timer p99 lateness 9.00 ms"));
  /* 2 runs a side: points, no boxes */
  assert_null(strstr(html, "fill-opacity='0.4'"));
  /* the scores table is headed by scenarios */
  assert_non_null(strstr(html, "<tr><th>scenario</th><th>mean_latency"));
  /* two run plots, one CDF (only the first scenario has distributions),
   * no phase chart (no phase figures) */
  int svgs = 0;
  for (const char *p = html; (p = strstr(p, "<svg")); p++)
    svgs++;
  assert_int_equal(svgs, 2 + 1 + 0);
  const char *const csvs[] = {"comparison.csv", "verdicts.csv", "phases.csv",
                              "runs.csv",       "scores.csv",   "intervals.csv"};
  for (int k = 0; k < 6; k++) {
    snprintf(path, sizeof(path), "%s/%s", dir, csvs[k]);
    assert_int_equal(access(path, R_OK), 0);
    unlink(path);
  }
  snprintf(path, sizeof(path), "%s/report.html", dir);
  unlink(path);
  rmdir(dir);
  lb_harness_compare_close(&cmp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seed_summary_csv),
      cmocka_unit_test(test_requests_csv_side),
      cmocka_unit_test(test_seed_picking),
      cmocka_unit_test(test_decide_and_scores),
      cmocka_unit_test(test_rank_correlation_valid_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
