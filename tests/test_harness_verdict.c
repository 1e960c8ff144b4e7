/* harness_verdict: the rule of `lbharness compare` on constructed runs —
 * holds, does not hold, undecided, not judged, too few runs — with the
 * intervals worked out by hand (Student's t from a table). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness_verdict.h"

#define T_975_1 12.706204736 /* t(0.975, df), the tables' values */
#define T_975_2 4.302652730
#define T_975_3 3.182446305

static const double sim4[] = {10, 20, 30, 40}; /* mean 25 */

static void test_paired_holds(void **state) {
  (void)state;
  /* d = 0.1, 0.2, 0.1, 0.2: mean 0.15, stdev sqrt(0.01 / 3). */
  const double real[] = {10.1, 20.2, 30.1, 40.2};
  struct lb_harness_interval iv;
  lb_harness_interval_paired(sim4, real, NULL, 4, 0.95, 0.05, &iv);
  double half = T_975_3 * sqrt(0.01 / 3) / 2;
  assert_int_equal(iv.n, 4);
  assert_true(iv.paired);
  assert_float_equal(iv.sim, 25, 1e-12);
  assert_float_equal(iv.real, 25.15, 1e-12);
  assert_float_equal(iv.diff, 0.15, 1e-12);
  assert_float_equal(iv.lo, 0.15 - half, 1e-9);
  assert_float_equal(iv.hi, 0.15 + half, 1e-9);
  /* relative to the simulated figure's mean over the same runs */
  assert_float_equal(iv.rel, 0.15 / 25, 1e-12);
  assert_float_equal(iv.rel_lo, (0.15 - half) / 25, 1e-9);
  assert_float_equal(iv.rel_hi, (0.15 + half) / 25, 1e-9);
  assert_int_equal(iv.outcome, LB_HO_HOLDS);
  /* The same runs, a tolerance the interval reaches past: undecided. */
  lb_harness_interval_paired(sim4, real, NULL, 4, 0.95, 0.008, &iv);
  assert_int_equal(iv.outcome, LB_HO_UNDECIDED);
}

static void test_paired_differs(void **state) {
  (void)state;
  /* real = sim + 5 ticks give or take 0.1: +20 % on 25, a narrow interval. */
  const double real[] = {15, 25.1, 34.9, 45};
  struct lb_harness_interval iv;
  lb_harness_interval_paired(sim4, real, NULL, 4, 0.95, 0.05, &iv);
  assert_float_equal(iv.rel, 0.2, 1e-12);
  assert_true(iv.rel_lo > 0.05);
  assert_int_equal(iv.outcome, LB_HO_DIFFERS);
  /* ... and real = sim - 5: outside on the other side. */
  const double low[] = {5, 14.9, 25.1, 35};
  lb_harness_interval_paired(sim4, low, NULL, 4, 0.95, 0.05, &iv);
  assert_true(iv.rel_hi < -0.05);
  assert_int_equal(iv.outcome, LB_HO_DIFFERS);
  /* A tolerance of 25 % holds it. */
  lb_harness_interval_paired(sim4, real, NULL, 4, 0.95, 0.25, &iv);
  assert_int_equal(iv.outcome, LB_HO_HOLDS);
}

static void test_paired_spread_undecided(void **state) {
  (void)state;
  /* Equal on average, but runs that disagree by 2-3 ticks either way:
   * the mean difference is 0, its interval far wider than 5 %. */
  const double real[] = {7, 23, 28, 42};
  struct lb_harness_interval iv;
  lb_harness_interval_paired(sim4, real, NULL, 4, 0.95, 0.05, &iv);
  assert_float_equal(iv.diff, 0, 1e-12);
  assert_float_equal(iv.hi, T_975_3 * sqrt(26.0 / 3) / 2, 1e-9);
  assert_int_equal(iv.outcome, LB_HO_UNDECIDED);
}

static void test_paired_use_and_too_few(void **state) {
  (void)state;
  /* Runs 1 and 3 not valid: judged on runs 0 and 2 only (d = 1, 3). */
  const double real[] = {11, 99, 33, -5};
  const bool use[] = {true, false, true, false};
  struct lb_harness_interval iv;
  lb_harness_interval_paired(sim4, real, use, 4, 0.95, 0.05, &iv);
  assert_int_equal(iv.n, 2);
  assert_float_equal(iv.sim, 20, 1e-12);
  assert_float_equal(iv.diff, 2, 1e-12);
  assert_float_equal(iv.hi, 2 + T_975_1 * sqrt(2.0) / sqrt(2.0), 1e-9);
  /* One valid run: no interval. */
  const bool one[] = {true, false, false, false};
  lb_harness_interval_paired(sim4, real, one, 4, 0.95, 0.05, &iv);
  assert_int_equal(iv.n, 1);
  assert_true(isnan(iv.lo));
  assert_float_equal(iv.rel, 0.1, 1e-12);
  assert_int_equal(iv.outcome, LB_HO_TOO_FEW);
  /* A figure with no tolerance is figured but not judged. */
  lb_harness_interval_paired(sim4, real, use, 4, 0.95, -1, &iv);
  assert_false(iv.judged);
  assert_int_equal(iv.outcome, LB_HO_NOT_JUDGED);
  assert_false(isnan(iv.lo));
}

static void test_welch(void **state) {
  (void)state;
  /* sim {10, 12}, real {11, 13}: difference 1, se sqrt(2/2 + 2/2), df 2. */
  const double sim[] = {10, 12}, real[] = {11, 13};
  struct lb_harness_interval iv;
  lb_harness_interval_welch(sim, 2, real, 2, 0.95, 0.05, &iv);
  assert_false(iv.paired);
  assert_float_equal(iv.diff, 1, 1e-12);
  assert_float_equal(iv.lo, 1 - T_975_2 * sqrt(2.0), 1e-9);
  assert_float_equal(iv.rel, 1.0 / 11, 1e-12);
  assert_int_equal(iv.outcome, LB_HO_UNDECIDED);
}

/* A verdict whose every figure has the given sides. */
static void fill(struct lb_harness_verdict *v, const double *sim, const double *real,
                 const bool *use, int n, const struct lb_harness_tolerance *t) {
  memset(v, 0, sizeof(*v));
  v->real_runs = n;
  for (int r = 0; r < n; r++)
    v->valid_runs += !use || use[r];
  for (int f = 0; f < LB_HF_COUNT; f++)
    lb_harness_interval_paired(sim, real, use, (size_t)n, t->confidence, t->tol[f], &v->fig[f]);
  lb_harness_verdict_combine(v);
}

static void test_scenario_verdicts(void **state) {
  (void)state;
  struct lb_harness_tolerance t;
  struct lb_harness_verdict v;
  lb_harness_tolerance_defaults(&t);
  const double close[] = {10.1, 20.2, 30.1, 40.2}, far[] = {15, 25.1, 34.9, 45};
  fill(&v, sim4, close, NULL, 4, &t);
  assert_int_equal(v.outcome, LB_HO_HOLDS);
  assert_string_equal(lb_harness_outcome_name(v.outcome), "holds");
  fill(&v, sim4, far, NULL, 4, &t);
  assert_int_equal(v.outcome, LB_HO_DIFFERS);
  assert_non_null(strstr(v.reason, "outside the tolerance: mean +20.0 %"));
  /* One figure off decides it even when the others hold. */
  fill(&v, sim4, close, NULL, 4, &t);
  lb_harness_interval_paired(sim4, far, NULL, 4, 0.95, t.tol[LB_HF_SEND], &v.fig[LB_HF_SEND]);
  lb_harness_verdict_combine(&v);
  assert_int_equal(v.outcome, LB_HO_DIFFERS);
  assert_non_null(strstr(v.reason, "send"));
  assert_null(strstr(v.reason, "mean"));
  /* No valid real run: not judged, never holds, whatever the figures. */
  const bool none[] = {false, false, false, false};
  fill(&v, sim4, close, none, 4, &t);
  assert_int_equal(v.outcome, LB_HO_NOT_JUDGED);
  assert_string_equal(lb_harness_outcome_name(v.outcome), "not judged");
  assert_non_null(strstr(v.reason, "none of the 4 real runs is valid"));
  /* One valid run of four: too few runs. */
  const bool one[] = {false, false, true, false};
  fill(&v, sim4, close, one, 4, &t);
  assert_int_equal(v.outcome, LB_HO_TOO_FEW);
  assert_int_equal(v.valid_runs, 1);
  assert_non_null(strstr(v.reason, "1 valid run to judge"));
  /* Two valid of four, agreeing closely: judged on those two. */
  const bool two[] = {true, false, true, false};
  const double near[] = {10.01, 99, 30.03, 0};
  fill(&v, sim4, near, two, 4, &t);
  assert_int_equal(v.valid_runs, 2);
  assert_int_equal(v.fig[LB_HF_MEAN].n, 2);
  assert_int_equal(v.outcome, LB_HO_HOLDS);
  /* Wide intervals: undecided, and the reason asks for runs. */
  const double spread[] = {7, 23, 28, 42};
  fill(&v, sim4, spread, NULL, 4, &t);
  assert_int_equal(v.outcome, LB_HO_UNDECIDED);
  assert_non_null(strstr(v.reason, "--runs"));
  /* Every figure off: nothing to judge. */
  assert_int_equal(lb_harness_tolerance_set(&t, "all=off", NULL, 0), 0);
  fill(&v, sim4, close, NULL, 4, &t);
  assert_int_equal(v.outcome, LB_HO_NOT_JUDGED);
}

static void test_tolerance_options(void **state) {
  (void)state;
  struct lb_harness_tolerance t;
  char err[256];
  lb_harness_tolerance_defaults(&t);
  assert_float_equal(t.tol[LB_HF_MEAN], 0.05, 0);
  assert_float_equal(t.tol[LB_HF_P99], 0.10, 0);
  assert_float_equal(t.tol[LB_HF_QUEUE], 0.05, 0);
  assert_true(t.tol[LB_HF_PICKING] < 0);
  assert_int_equal(lb_harness_tolerance_set(&t, "p99=15%", err, sizeof(err)), 0);
  assert_float_equal(t.tol[LB_HF_P99], 0.15, 1e-12);
  assert_int_equal(lb_harness_tolerance_set(&t, "phases=0.07", err, sizeof(err)), 0);
  for (int f = LB_HF_FIRST_PHASE; f < LB_HF_COUNT; f++)
    assert_float_equal(t.tol[f], 0.07, 1e-12);
  assert_float_equal(t.tol[LB_HF_MEAN], 0.05, 0);
  assert_int_equal(lb_harness_tolerance_set(&t, "server_queue=off", err, sizeof(err)), 0);
  assert_true(t.tol[LB_HF_QUEUE] < 0);
  assert_int_equal(lb_harness_tolerance_set(&t, "p98=5%", err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "unknown figure 'p98'"));
  assert_int_equal(lb_harness_tolerance_set(&t, "mean=five", err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "got 'five'"));
  assert_int_equal(lb_harness_tolerance_set(&t, "mean", err, sizeof(err)), -EINVAL);
  assert_int_equal(lb_harness_tolerance_set(&t, "mean=-1", err, sizeof(err)), -EINVAL);
  char rule[512];
  lb_harness_tolerance_describe(&t, rule, sizeof(rule));
  assert_non_null(strstr(rule, "95 %"));
  assert_non_null(strstr(rule, "p99 ±15 %"));
  assert_non_null(strstr(rule, "; not judged: server_queue"));
  assert_non_null(strstr(rule, "picking ±7 %"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paired_holds),
      cmocka_unit_test(test_paired_differs),
      cmocka_unit_test(test_paired_spread_undecided),
      cmocka_unit_test(test_paired_use_and_too_few),
      cmocka_unit_test(test_welch),
      cmocka_unit_test(test_scenario_verdicts),
      cmocka_unit_test(test_tolerance_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
