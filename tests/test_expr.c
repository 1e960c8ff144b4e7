/* expr: picker expressions parse into the seed's picker trees, print back in
 * a canonical form that parses to the same thing, and bad ones say where
 * and what would be valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "pickers/picker_impl.h"

static struct lb_picker_spec *parse_ok(const char *text) {
  struct lb_picker_spec *spec = NULL;
  char err[512];
  int rc = lb_picker_spec_parse(text, &spec, err, sizeof(err));
  if (rc != 0)
    fail_msg("'%s' did not parse: %s", text, err);
  assert_non_null(spec);
  return spec;
}

/* Formats, and checks the canonical text is a fixed point. */
static void check_canonical(const char *text, const char *canonical) {
  struct lb_picker_spec *spec = parse_ok(text);
  char buf[512], again[512];
  assert_true(lb_picker_spec_format(spec, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, canonical);
  struct lb_picker_spec *spec2 = parse_ok(buf);
  assert_true(lb_picker_spec_format(spec2, again, sizeof(again)) > 0);
  assert_string_equal(again, canonical);
  lb_picker_spec_free(spec);
  lb_picker_spec_free(spec2);
}

static void test_seed_spellings(void **state) {
  (void)state;
  check_canonical("random", "random");
  check_canonical("first", "first");
  check_canonical("round_robin", "round_robin");
  check_canonical("round_robin()", "round_robin");
  check_canonical("least(client.rif, choices=2)", "least(client.rif, choices=2)");
  check_canonical("least( client.latency.mean )", "least(client.latency.mean)");
  check_canonical("least(server.rif)", "least(server.rif)");
  check_canonical("least(server.expected_latency)", "least(server.expected_latency)");
  check_canonical("weighted(server.utilization.mean)", "weighted(server.utilization.mean)");
  check_canonical("weighted(server.capacity(mean, mean))", "weighted(server.capacity(mean, mean))");
  check_canonical("weighted(server.capacity)", "weighted(server.capacity(mean, mean))");
  check_canonical("weighted(oracle.available_capacity(ewma,latest))",
                  "weighted(oracle.available_capacity(ewma, latest))");
  check_canonical("weighted(oracle.pid, allow_negative=true)",
                  "weighted(oracle.pid, allow_negative=true)");
  check_canonical("weighted(oracle.pid, allow_negative=false)", "weighted(oracle.pid)");
  check_canonical("weighted(oracle.pid, allow_negative=True)",
                  "weighted(oracle.pid, allow_negative=true)");
  check_canonical("least(client.rif, choices=None)", "least(client.rif)");
  check_canonical("client_pid", "client_pid");
  check_canonical("probing(least(server.rif), probes=2)", "probing(least(server.rif))");
  check_canonical("probing(least(server.rif), 3.5)", "probing(least(server.rif), probes=3.5)");
  check_canonical("subset(fastest_probe, size=2)", "subset(fastest_probe)");
  check_canonical("subset(fastest_probe, size=3)", "subset(fastest_probe, size=3)");
  check_canonical("fastest_probe(validate=empty_server)", "fastest_probe(validate=empty_server)");
  check_canonical("hcl()", "hcl");
  check_canonical("hcl(rank=server.expected_latency, health=server.rif, cutoff=80)", "hcl");
  check_canonical("hcl(rank=client.latency.mean, health=client.rif, cutoff=80)",
                  "hcl(rank=client.latency.mean, health=client.rif)");
  check_canonical("hcl(cutoff=99.5, history=10)", "hcl(cutoff=99.5, history=10)");
  check_canonical("probing(hcl(health=client.rif, rank=client.latency.ewma))",
                  "probing(hcl(rank=client.latency.ewma, health=client.rif))");
}

static void test_tree(void **state) {
  (void)state;
  struct lb_picker_spec *spec = parse_ok("probing(least(server.rif, choices=3), probes=1.5)");
  assert_string_equal(spec->type->name, "probing");
  assert_true(spec->args[1].num == 1.5);
  const struct lb_picker_spec *inner = spec->args[0].picker;
  assert_string_equal(inner->type->name, "least");
  assert_int_equal(inner->args[0].cost.source, LB_COST_SERVER);
  assert_int_equal(inner->args[0].cost.metric, LB_COST_RIF);
  assert_false(inner->args[1].none);
  assert_true(inner->args[1].num == 3);
  assert_true(lb_picker_spec_probes(spec));
  assert_false(lb_picker_spec_needs_oracle(spec));
  lb_picker_spec_free(spec);

  spec = parse_ok("least(client.rif)");
  assert_true(spec->args[1].none); /* choices=None */
  assert_false(lb_picker_spec_probes(spec));
  lb_picker_spec_free(spec);

  spec = parse_ok("hcl");
  assert_int_equal(spec->args[0].cost.metric, LB_COST_EXPECTED_LATENCY);
  assert_int_equal(spec->args[1].cost.metric, LB_COST_RIF);
  assert_true(spec->args[2].num == 80);
  assert_true(spec->args[3].num == 100);
  lb_picker_spec_free(spec);

  spec = parse_ok("subset(weighted(oracle.utilization.ewma))");
  assert_true(lb_picker_spec_needs_oracle(spec));
  assert_false(lb_picker_spec_needs_fleet_mean(spec));
  assert_false(lb_picker_spec_probes(spec));
  lb_picker_spec_free(spec);

  /* The server PID reads the fleet's mean: through the board on real fleets. */
  spec = parse_ok("subset(weighted(server.pid))");
  assert_true(lb_picker_spec_needs_fleet_mean(spec));
  assert_false(lb_picker_spec_needs_oracle(spec));
  lb_picker_spec_free(spec);
  spec = parse_ok("probing(least(oracle.pid))");
  assert_true(lb_picker_spec_needs_fleet_mean(spec));
  lb_picker_spec_free(spec);
  spec = parse_ok("least(server.utilization.mean)");
  assert_false(lb_picker_spec_needs_fleet_mean(spec));
  lb_picker_spec_free(spec);
}

/* err must contain every one of the NULL-terminated needles. */
static void check_error(const char *text, ...) {
  struct lb_picker_spec *spec = (struct lb_picker_spec *)1;
  char err[1024];
  int rc = lb_picker_spec_parse(text, &spec, err, sizeof(err));
  assert_int_equal(rc, -EINVAL);
  assert_null(spec);
  va_list ap;
  va_start(ap, text);
  for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *)) {
    if (!strstr(err, needle))
      fail_msg("error for '%s' lacks '%s':\n%s", text, needle, err);
  }
  va_end(ap);
}

static void test_errors(void **state) {
  (void)state;
  /* unknown name: column, caret line and the valid names */
  check_error("leest(client.rif)", "column 1: unknown picker 'leest'",
              "expected one of: first, random, round_robin, least", "\n  leest(client.rif)\n  ^",
              NULL);
  check_error("probing(rnd)", "column 9: unknown picker 'rnd'", "\n          ^", NULL);
  /* bad argument */
  check_error("least(client.rif, chioces=2)", "column 19: unknown argument 'chioces' for least()",
              "expected one of: cost, choices", NULL);
  check_error("least(client.rif, choices=0)", "column 27: 'choices' must be an integer from 1",
              NULL);
  check_error("least(client.rif, choices=2.5)", "must be an integer", NULL);
  check_error("least(client.rif, choices=two)", "expected an integer for 'choices', got 'two'",
              NULL);
  check_error("least(client.rif, choices=2, choices=3)",
              "column 30: argument 'choices' of least() given twice", NULL);
  check_error("least(client.rif, )", "column 19: expected an argument of least() after ','",
              "(one of: cost, choices, rotate_ties), got ')'", NULL);
  check_error("least(choices=2)", "least() needs its argument 'cost'", NULL);
  check_error("least", "least() needs its argument 'cost'", NULL);
  check_error("random(3)", "random takes no arguments", NULL);
  check_error("weighted(oracle.pid, allow_negative=yes)", "expected true or false", NULL);
  check_error("fastest_probe(validate=sometimes)",
              "expected one of always, empty_server, empty_server_fixed", NULL);
  check_error("least(client.rif, 2, false, 3)", "too many arguments for least(); it takes 3", NULL);
  check_error("least(choices=2, client.rif)", "positional argument after keyword", NULL);
  /* costs */
  check_error("least(client.utilization.mean)", "column 14: unknown client metric 'utilization'",
              "expected one of: rif, latency", NULL);
  check_error("least(server.utilization)", "expected '.latest', '.mean' or '.ewma'", NULL);
  check_error("least(server.utilization.median)", "expected an aggregate (latest, mean or ewma)",
              NULL);
  check_error("least(server.rif.mean)", "'rif' takes no aggregate", NULL);
  check_error("least(cluster.rif)", "expected a cost (client.*, server.* or oracle.*)", NULL);
  /* bad nesting: a picker where a cost goes, a cost where a picker goes */
  check_error("least(random)", "column 7: expected a cost here, got the picker 'random'", NULL);
  check_error("probing(server.rif)", "column 9: expected a picker here, got a cost", NULL);
  check_error("subset(least(client.rif), size=2",
              "expected ',' or ')' in the arguments of subset()", "got the end of the expression",
              NULL);
  check_error("least(client.rif))", "column 18: unexpected ')' after the picker", NULL);
  /* trailing junk */
  check_error("random random", "column 8: unexpected 'random' after the picker",
              "expected the end of the expression", NULL);
  check_error("", "column 1: expected a picker, got the end of the expression", NULL);
  check_error("probing(probing(probing(probing(probing(probing(probing(probing(probing(probing("
              "probing(probing(probing(probing(probing(probing(probing(random)))))))))))))))))",
              "nested more than", NULL);
}

static void test_registry(void **state) {
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  lb_picker_registry_print(f);
  fclose(f);
  const char *needles[] = {"least(cost, choices=None, rotate_ties=false)",
                           "probing(picker, probes=2)",
                           "hcl(rank=server.expected_latency, health=server.rif, cutoff=80",
                           "fastest_probe(validate=always|empty_server|empty_server_fixed)",
                           "client.latency.{latest,mean,ewma}",
                           "server.capacity(RATE_AGG, UTIL_AGG)",
                           "oracle.X",
                           "client_pid"};
  for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
    if (!strstr(text, needles[i]))
      fail_msg("registry lacks '%s':\n%s", needles[i], text);
  }
  /* one line per picker type and per cost */
  size_t lines = 0;
  for (const char *c = text; *c; c++)
    lines += *c == '\n';
  size_t types = 0;
  while (lb__picker_types[types])
    types++;
  assert_true(lines >= types + 10);
  free(text);
}

static void test_format_small_buffer(void **state) {
  (void)state;
  struct lb_picker_spec *spec = parse_ok("probing(least(server.rif))");
  char buf[8];
  assert_int_equal(lb_picker_spec_format(spec, buf, sizeof(buf)), -ENOSPC);
  lb_picker_spec_free(spec);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seed_spellings),
      cmocka_unit_test(test_tree),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_format_small_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
