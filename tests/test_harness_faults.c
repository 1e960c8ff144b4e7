/* harness_faults: which faults a real fleet carries out, and the refusal
 * of the rest (file, line, kind) before anything starts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faults.h"
#include "harness_faults.h"
#include "scenario.h"

static struct lb_scenario *scenario(enum lb_fault_kind kind, enum lb_delay delay) {
  struct lb_scenario *sc = calloc(1, sizeof(*sc));
  assert_non_null(sc);
  lb_scenario_defaults(sc);
  snprintf(sc->path, sizeof(sc->path), "f.yaml");
  sc->servers = 2;
  sc->clients = 2;
  sc->delay = delay;
  struct lb_fault *f = &sc->faults[0];
  lb_fault_init(f, kind);
  f->at = 3;
  f->for_ticks = 2;
  sc->fault_lines[0] = 12;
  sc->n_faults = 1;
  return sc;
}

static void test_local_every_kind(void **state) {
  (void)state;
  char err[256];
  for (int k = 0; k < LB_FAULT_KINDS; k++)
    for (int delay = LB_DELAY_INPROC; delay <= LB_DELAY_NONE; delay++) {
      struct lb_scenario *sc = scenario((enum lb_fault_kind)k, (enum lb_delay)delay);
      bool channel = k == LB_FAULT_DELAY || k == LB_FAULT_PARTITION;
      int want = channel && delay == LB_DELAY_NETEM ? -ENOTSUP : 0;
      err[0] = 0;
      assert_int_equal(lb_harness_faults_supported(sc, false, err, sizeof(err)), want);
      if (want == 0)
        assert_string_equal(err, "");
      free(sc);
    }
}

static void test_netem_refusal_names_it(void **state) {
  (void)state;
  char err[256];
  struct lb_scenario *sc = scenario(LB_FAULT_PARTITION, LB_DELAY_NETEM);
  assert_int_equal(lb_harness_faults_supported(sc, false, err, sizeof(err)), -ENOTSUP);
  assert_non_null(strstr(err, "f.yaml:12: field 'faults': partition"));
  assert_non_null(strstr(err, "delay: netem"));
  free(sc);
}

static void test_containers_refuse(void **state) {
  (void)state;
  char err[256];
  struct lb_scenario *sc = scenario(LB_FAULT_DELAY, LB_DELAY_INPROC);
  assert_int_equal(lb_harness_faults_supported(sc, true, err, sizeof(err)), -ENOTSUP);
  assert_non_null(strstr(err, "f.yaml:12: field 'faults': delay is not carried out on container"));
  sc->n_faults = 0; /* no faults: nothing to refuse */
  assert_int_equal(lb_harness_faults_supported(sc, true, err, sizeof(err)), 0);
  free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_local_every_kind),
      cmocka_unit_test(test_netem_refusal_names_it),
      cmocka_unit_test(test_containers_refuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
