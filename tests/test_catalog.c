/* catalog: every scenario file loads, its picker expression parses and
 * instantiates, and the seed's 46 scenarios are all there with the seed's
 * numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "picker.h"
#include "scenario.h"

static const char *const seed_names[] = {"Random",
                                         "RoundRobin",
                                         "RoundRobinLittleBigJobs",
                                         "LeastMeanClientLatency",
                                         "LeastServerRequestsInFlight",
                                         "WeightedServerRequestsInFlight",
                                         "LeastServerExpectedLatency",
                                         "WeightedServerExpectedLatency",
                                         "ProbingLeastServerRequestsInFlight",
                                         "ProbingWeightedServerRequestsInFlight",
                                         "ProbingLeastServerExpectedLatency",
                                         "ProbingWeightedServerExpectedLatency",
                                         "ProbingLeastServerRequestsInFlightLowerRequestRate",
                                         "ProbingWeightedServerRequestsInFlightLowerRequestRate",
                                         "ProbingLeastServerExpectedLatencyLowerRequestRate",
                                         "ProbingWeightedServerExpectedLatencyLowerRequestRate",
                                         "LeastClientRequestsInFlight",
                                         "LeastClientRequestsInFlightPickTwo",
                                         "Hcl",
                                         "ProbingHcl",
                                         "ProbingHclLowerRequestRate",
                                         "ClientMetricsHcl",
                                         "ProbingClientMetricsHcl",
                                         "ProbingClientMetricsHclLowerRequestRate",
                                         "LeastClientRequestsInFlightPickThree",
                                         "WeightedMeanClientLatency",
                                         "WeightedClientRequestsInFlight",
                                         "WeightedMeanUtilization",
                                         "WeightedMeanCapacity",
                                         "WeightedMeanAvailableCapacity",
                                         "CheatWeightedMeanUtilization",
                                         "CheatWeightedMeanCapacity",
                                         "CheatWeightedMeanAvailableCapacity",
                                         "ProbingWeightedMeanUtilization",
                                         "ProbingWeightedMeanCapacity",
                                         "ProbingWeightedMeanAvailableCapacity",
                                         "ProbingWeightedMeanUtilizationLowerRequestRate",
                                         "ProbingWeightedMeanCapacityLowerRequestRate",
                                         "ProbingWeightedMeanAvailableCapacityLowerRequestRate",
                                         "CheatPidControlledUtilization",
                                         "ClientPidControlledUtilization",
                                         "FastestProbe2",
                                         "FastestProbe3",
                                         "FastestProbe2LowerRequestRate",
                                         "FastestProbe3LowerRequestRate",
                                         "FastestProbeAllLowerRequestRate"};
#define NSEED (sizeof(seed_names) / sizeof(seed_names[0]))

static void load(const char *name, struct lb_scenario *sc) {
  char path[1024], err[512];
  snprintf(path, sizeof(path), "%s/scenarios/%s.yaml", LB_SOURCE_DIR, name);
  lb_scenario_defaults(sc);
  if (lb_scenario_load(path, sc, err, sizeof(err)) != 0 ||
      lb_scenario_finish(sc, err, sizeof(err)) != 0)
    fail_msg("%s: %s", path, err);
}

static void test_every_file(void **state) {
  (void)state;
  char dir[1024];
  snprintf(dir, sizeof(dir), "%s/scenarios", LB_SOURCE_DIR);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
      continue;
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
    struct lb_scenario sc;
    load(name, &sc);
    assert_string_equal(sc.name, name);
    struct lb_picker_spec *spec = NULL;
    char err[512];
    if (lb_picker_spec_parse(sc.picker, &spec, err, sizeof(err)) != 0) {
      closedir(d);
      fail_msg("%s: picker: %s", name, err);
    }
    /* It instantiates for a client of the scenario's subset size. */
    struct lb_picker *p = NULL;
    assert_int_equal(lb_picker_new(spec, sc.subset_size ? sc.subset_size : sc.servers, &p), 0);
    lb_picker_free(p);
    /* Its canonical form parses to the same canonical form. */
    char canon[LB_PICKER_EXPR_MAX], again[LB_PICKER_EXPR_MAX];
    assert_true(lb_picker_spec_format(spec, canon, sizeof(canon)) > 0);
    struct lb_picker_spec *spec2 = NULL;
    assert_int_equal(lb_picker_spec_parse(canon, &spec2, err, sizeof(err)), 0);
    assert_true(lb_picker_spec_format(spec2, again, sizeof(again)) > 0);
    assert_string_equal(canon, again);
    lb_picker_spec_free(spec);
    lb_picker_spec_free(spec2);
    count++;
  }
  closedir(d);
  assert_true(count >= (int)NSEED);
}

static void test_seed_scenarios(void **state) {
  (void)state;
  for (size_t i = 0; i < NSEED; i++) {
    struct lb_scenario sc;
    load(seed_names[i], &sc);
    assert_int_equal(sc.total_ticks, 170);
    /* seed defaults untouched */
    assert_int_equal(sc.clients, 40);
    assert_int_equal(sc.subset_size, 12);
    assert_true(sc.mean_processing_time == 6);
    assert_true(sc.ewma_weight == 0.2);
    bool big = strcmp(seed_names[i], "RoundRobinLittleBigJobs") == 0;
    assert_int_equal(sc.servers, big ? 10 : 40);
    assert_true(sc.mean_threads == (big ? 400 : 100));
  }
}

static void check_rate(const char *name, double expected) {
  struct lb_scenario sc;
  load(name, &sc);
  if (sc.mean_requests_per_server_per_tick != expected)
    fail_msg("%s: rate %.17g, expected %.17g", name, sc.mean_requests_per_server_per_tick,
             expected);
}

static void test_rates(void **state) {
  (void)state;
  /* The seed's printed kwargs: 11.666666666666666 and 46.666666666666664. */
  double rate = lb_queries_for_utilization(100, 6, 0, 1, 0.7);
  assert_true(rate == 11.666666666666666);
  check_rate("Random", rate);
  check_rate("Hcl", rate);
  check_rate("RoundRobinLittleBigJobs", 46.666666666666664);
  check_rate("ProbingHclLowerRequestRate", lb_queries_for_utilization(100, 6, 6, 1, 0.7));
  check_rate("FastestProbe2LowerRequestRate",
             lb_queries_for_utilization(100, 6, 2 * 55.0 / 63, 1, 0.7));
  check_rate("FastestProbe3LowerRequestRate",
             lb_queries_for_utilization(100, 6, 3 * 55.0 / 63, 1, 0.7));
  check_rate("FastestProbeAllLowerRequestRate",
             lb_queries_for_utilization(100, 6, 12 * 55.0 / 63, 1, 0.7));
}

static void check_picker(const char *name, const char *expr) {
  struct lb_scenario sc;
  load(name, &sc);
  assert_string_equal(sc.picker, expr);
}

static void test_quirks(void **state) {
  (void)state;
  /* The seed's "Weighted...RequestsInFlight" scenarios are LeastCost. */
  check_picker("WeightedServerRequestsInFlight", "least(server.rif)");
  check_picker("ProbingWeightedServerRequestsInFlight", "probing(least(server.rif))");
  check_picker("WeightedServerRequestsInFlightFixed", "weighted(server.rif)");
  check_picker("CheatPidControlledUtilization", "weighted(oracle.pid, allow_negative=true)");
  check_picker("FastestProbe2", "subset(fastest_probe, size=2)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_file),
      cmocka_unit_test(test_seed_scenarios),
      cmocka_unit_test(test_rates),
      cmocka_unit_test(test_quirks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
