/* scenario: a valid file, each kind of error (file, line, field, what was
 * expected), --set conversions, finish, and the write/load round trip. */
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

#include "scenario.h"

static void fixture(char *buf, size_t len, const char *rel) {
  snprintf(buf, len, "%s/tests/data/scenarios/%s", LB_SOURCE_DIR, rel);
}

static void test_valid_file(void **state) {
  (void)state;
  char path[1024], err[2048] = "";
  struct lb_scenario sc;
  fixture(path, sizeof(path), "good/basic.yaml");
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_load(path, &sc, err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_string_equal(sc.name, "least-rif");
  assert_string_equal(sc.picker, "least(server.rif)");
  assert_string_equal(sc.path, path);
  assert_int_equal(sc.servers, 10);
  assert_int_equal(sc.clients, 8);
  assert_int_equal(sc.subset_size, 4);
  assert_int_equal(sc.total_ticks, 170);
  assert_true(sc.tick_ns == 5000000);
  assert_true(sc.seed == 42);
  assert_int_equal(sc.runs, 3);
  assert_int_equal(sc.transport, LB_TRANSPORT_UDP);
  assert_int_equal(sc.delay, LB_DELAY_NONE);
  assert_int_equal(sc.arrivals, LB_ARRIVALS_POISSON);
  assert_int_equal(sc.work, LB_WORK_SPIN);
  assert_int_equal(sc.max_queue, 64);
  assert_true(sc.timeout_ticks == 400);
  assert_true(sc.ewma_weight == 0.25);
  /* Untouched fields keep the seed's defaults. */
  assert_true(sc.mean_threads == 100);
  assert_true(sc.mean_processing_time == 6);
  assert_int_equal(sc.data_frequency, 30);
  /* The seed's In[200]: queries_for_utilization(100, 6, target=0.7). */
  assert_true(fabs(sc.mean_requests_per_server_per_tick - 0.7 * 100 / 6) < 1e-12);
}

static void test_name_and_trace_from_path(void **state) {
  (void)state;
  char path[1024], expect[1200], err[2048] = "";
  struct lb_scenario sc;
  fixture(path, sizeof(path), "good/trace_relative.yaml");
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_load(path, &sc, err, sizeof(err)), 0);
  assert_string_equal(sc.name, "trace_relative");
  assert_string_equal(sc.picker, "round_robin");
  assert_int_equal(sc.subset_size, 0);
  assert_int_equal(sc.arrivals, LB_ARRIVALS_TRACE);
  snprintf(expect, sizeof(expect), "%s/tests/data/scenarios/good/arrivals.csv", LB_SOURCE_DIR);
  if (expect[0] == '/') /* LB_SOURCE_DIR is absolute under CMake */
    assert_string_equal(sc.trace, expect);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
}

struct bad_case {
  const char *file;
  int line;
  const char *message; /* what follows "PATH:LINE: " */
};

static const struct bad_case bad_cases[] = {
    {"unknown_field.yaml", 2,
     "field 'servrs': expected a scenario field (did you mean 'servers'?), got 'servrs'"},
    {"wrong_type.yaml", 3, "field 'clients': expected an integer from 1 to 1000000, got 'lots'"},
    {"out_of_range.yaml", 3,
     "field 'server_reset_probability': expected a probability from 0 to 1, got '1.5'"},
    {"duplicate.yaml", 3,
     "field 'servers': expected each field once (first on line 1), got '12' again"},
    {"not_mapping.yaml", 1, "expected a mapping of field: value, got a sequence"},
    {"syntax.yaml", 3, "expected valid YAML, got "},
    {"nested_value.yaml", 2,
     "field 'servers': expected an integer from 1 to 1000000, got a mapping"},
    {"empty.yaml", 1, "expected a mapping of field: value, got an empty document"},
    {"bad_enum.yaml", 1, "field 'transport': expected tcp, udp or http, got 'quic'"},
    {"bad_duration.yaml", 1, "field 'tick': expected a duration > 0"},
    {"subset_too_big.yaml", 1,
     "field 'subset_size': expected an integer from 0 (every server) to 256, or none, got '257'"},
    {"two_documents.yaml", 3, "expected one document, got a second one"},
};

static void test_bad_files(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct bad_case *c = &bad_cases[i];
    char rel[256], path[1024], prefix[1100], err[2048] = "";
    struct lb_scenario sc;
    snprintf(rel, sizeof(rel), "bad/%s", c->file);
    fixture(path, sizeof(path), rel);
    lb_scenario_defaults(&sc);
    int rc = lb_scenario_load(path, &sc, err, sizeof(err));
    if (rc != -EINVAL || strncmp(err, path, strlen(path)) != 0)
      fail_msg("%s: rc %d, err '%s'", c->file, rc, err);
    snprintf(prefix, sizeof(prefix), "%s:%d: %s", path, c->line, c->message);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
      fail_msg("%s:\n  got      '%s'\n  expected '%s...'", c->file, err, prefix);
  }
}

static void test_unknown_field_lists_fields(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string("zzz: 1\n", "inline", &sc, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "inline:1: field 'zzz': expected a scenario field (one of: name, "));
  assert_non_null(strstr(err, "mean_requests_per_server_per_tick"));
  assert_non_null(strstr(err, "timeout"));
}

/* A name is one directory under --out: '../x', '/abs', '..' and control
 * characters are refused with file:line:field, parsed or set directly. */
static void test_name_confined(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[512];
  const char *bad[] = {"name: ../escape\n", "name: /tmp/abs\n",  "name: ..\n",
                       "name: a/b\n",       "name: \"a\\tb\"\n", "name: \"x\\x1b[2J\"\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    lb_scenario_defaults(&sc);
    err[0] = '\0';
    assert_int_equal(lb_scenario_parse_string(bad[i], "n.yaml", &sc, err, sizeof(err)), -EINVAL);
    if (!strstr(err, "n.yaml:1: field 'name'"))
      fail_msg("'%s': %s", bad[i], err);
    assert_null(strchr(err, '\x1b')); /* not echoed */
  }
  lb_scenario_defaults(&sc);
  assert_int_equal(
      lb_scenario_parse_string("name: my-run_2.b (v2)\n", "n.yaml", &sc, err, sizeof(err)), 0);
  assert_string_equal(sc.name, "my-run_2.b (v2)");
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  snprintf(sc.name, sizeof(sc.name), "../up"); /* set directly: finish refuses it */
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "field 'name'"));
}

/* Sizes that would need GBs are refused before any allocation, naming the
 * field that weighs most. */
static void test_sizes_bounded(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[512] = "";
  lb_scenario_defaults(&sc);
  sc.mean_requests_per_server_per_tick = 0; /* no requests: only ticks count */
  sc.total_ticks = 2147483647;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -E2BIG);
  assert_non_null(strstr(err, "field 'total_ticks'"));
  lb_scenario_defaults(&sc);
  sc.mean_requests_per_server_per_tick = 0;
  sc.servers = 1000000;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -E2BIG);
  assert_non_null(strstr(err, "field 'servers'"));
  lb_scenario_defaults(&sc);
  sc.mean_requests_per_server_per_tick = 0;
  sc.clients = 1000000;
  sc.client_requests_buffer = 1000;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -E2BIG);
  assert_non_null(strstr(err, "field 'clients'"));
  /* From a file: FILE:LINE of the field. */
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string("mean_requests_per_server_per_tick: 0\n"
                                            "total_ticks: 2147483647\n",
                                            "big.yaml", &sc, err, sizeof(err)),
                   0);
  snprintf(sc.path, sizeof(sc.path), "big.yaml");
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -E2BIG);
  if (!strstr(err, "big.yaml:2: field 'total_ticks'"))
    fail_msg("%s", err);
  /* Set by name afterwards (--set): no line. */
  assert_int_equal(lb_scenario_set(&sc, "total_ticks", "2147483646", err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -E2BIG);
  assert_non_null(strstr(err, "big.yaml: field 'total_ticks'"));
  /* Large but within bounds. */
  lb_scenario_defaults(&sc);
  sc.servers = 1000;
  sc.clients = 1000;
  sc.total_ticks = 10000000;
  sc.mean_requests_per_server_per_tick = 0.01;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
}

static void test_missing_file(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[512] = "";
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_load("/nonexistent/x.yaml", &sc, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "/nonexistent/x.yaml"));
}

static void test_set_conversions(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_set(&sc, "servers", "7", err, sizeof(err)), 0);
  assert_int_equal(sc.servers, 7);
  assert_int_equal(lb_scenario_set(&sc, "servers", "1e2", err, sizeof(err)), 0);
  assert_int_equal(sc.servers, 100);
  assert_int_equal(lb_scenario_set(&sc, "servers", "2.5", err, sizeof(err)), -EINVAL);
  assert_string_equal(err, "field 'servers': expected an integer from 1 to 1000000, got '2.5'");
  assert_int_equal(lb_scenario_set(&sc, "servers", "0", err, sizeof(err)), -EINVAL);
  assert_int_equal(lb_scenario_set(&sc, "servers", "", err, sizeof(err)), -EINVAL);
  assert_int_equal(sc.servers, 100);
  assert_int_equal(lb_scenario_set(&sc, "subset_size", "None", err, sizeof(err)), 0);
  assert_int_equal(sc.subset_size, 0);
  assert_int_equal(
      lb_scenario_set(&sc, "mean_requests_per_server_per_tick", "11.5", err, sizeof(err)), 0);
  assert_true(sc.mean_requests_per_server_per_tick == 11.5);
  assert_int_equal(lb_scenario_set(&sc, "ewma_weight", "nan", err, sizeof(err)), -EINVAL);
  assert_int_equal(lb_scenario_set(&sc, "mean_processing_time", "0", err, sizeof(err)), -EINVAL);
  assert_string_equal(err, "field 'mean_processing_time': expected a number > 0, got '0'");
  assert_int_equal(lb_scenario_set(&sc, "tick", "250us", err, sizeof(err)), 0);
  assert_true(sc.tick_ns == 250000);
  assert_int_equal(lb_scenario_set(&sc, "tick", "10", err, sizeof(err)), -EINVAL);
  assert_int_equal(lb_scenario_set(&sc, "seed", "18446744073709551615", err, sizeof(err)), 0);
  assert_true(sc.seed == UINT64_MAX);
  assert_int_equal(lb_scenario_set(&sc, "seed", "-1", err, sizeof(err)), -EINVAL);
  assert_int_equal(lb_scenario_set(&sc, "seed", "18446744073709551616", err, sizeof(err)), -EINVAL);
  assert_int_equal(lb_scenario_set(&sc, "delay", "netem", err, sizeof(err)), 0);
  assert_int_equal(sc.delay, LB_DELAY_NETEM);
  assert_int_equal(sc.response_hold, LB_RESPONSE_HOLD_SERVER); /* the default */
  assert_int_equal(lb_scenario_set(&sc, "response_hold", "client", err, sizeof(err)), 0);
  assert_int_equal(sc.response_hold, LB_RESPONSE_HOLD_CLIENT);
  assert_int_equal(lb_scenario_set(&sc, "response_hold", "both", err, sizeof(err)), -EINVAL);
  assert_string_equal(err, "field 'response_hold': expected server or client, got 'both'");
  assert_int_equal(lb_scenario_set(&sc, "transport", "http", err, sizeof(err)), 0);
  assert_int_equal(sc.transport, LB_TRANSPORT_HTTP);
  assert_int_equal(lb_scenario_set(&sc, "transport", "HTTP/2", err, sizeof(err)), -EINVAL);
  assert_string_equal(err, "field 'transport': expected tcp, udp or http, got 'HTTP/2'");
  assert_int_equal(sc.transport, LB_TRANSPORT_HTTP);
  assert_int_equal(lb_scenario_set(&sc, "work", "burn", err, sizeof(err)), -EINVAL);
  assert_string_equal(err, "field 'work': expected sleep or spin, got 'burn'");
  assert_int_equal(lb_scenario_set(&sc, "picker", "probing(random, probes=2)", err, sizeof(err)),
                   0);
  assert_string_equal(sc.picker, "probing(random, probes=2)");
  assert_int_equal(lb_scenario_set(&sc, "timeout", "12.5", err, sizeof(err)), 0);
  assert_true(sc.timeout_ticks == 12.5);
  assert_int_equal(lb_scenario_set(&sc, "clinets", "3", err, sizeof(err)), -EINVAL);
  assert_string_equal(
      err, "field 'clinets': expected a scenario field (did you mean 'clients'?), got 'clinets'");
  char big[LB_PICKER_EXPR_MAX + 10];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(lb_scenario_set(&sc, "picker", big, err, sizeof(err)), -EINVAL);
}

static void test_parse_duration(void **state) {
  (void)state;
  int64_t ns = 0;
  assert_int_equal(lb_parse_duration_ns("10ms", &ns), 0);
  assert_true(ns == 10000000);
  assert_int_equal(lb_parse_duration_ns("2.5s", &ns), 0);
  assert_true(ns == 2500000000LL);
  assert_int_equal(lb_parse_duration_ns("500us", &ns), 0);
  assert_true(ns == 500000);
  assert_int_equal(lb_parse_duration_ns("1000ns", &ns), 0);
  assert_true(ns == 1000);
  assert_int_equal(lb_parse_duration_ns("ms", &ns), -EINVAL);
  assert_int_equal(lb_parse_duration_ns("5 minutes", &ns), -EINVAL);
  assert_int_equal(lb_parse_duration_ns("-1ms", &ns), -EINVAL);
}

static void test_finish(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_true(sc.mean_requests_per_server_per_tick == 2.2); /* no target: rate unchanged */
  /* Probes: target * threads / (processing + probes * probe_processing). */
  sc.target_utilization = 0.7;
  sc.rate_probes_per_request = 6;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_true(fabs(sc.mean_requests_per_server_per_tick - 0.7 * 100 / (6 + 6 * 1)) < 1e-12);
  assert_true(fabs(lb_queries_for_utilization(100, 6, 0, 1, 0.8) - 80.0 / 6) < 1e-12);
  /* Fields set directly are checked too. */
  lb_scenario_defaults(&sc);
  sc.clients = 0;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  assert_string_equal(err,
                      "scenario: field 'clients': expected an integer from 1 to 1000000, got '0'");
  lb_scenario_defaults(&sc);
  sc.subset_size = 300;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  lb_scenario_defaults(&sc);
  sc.network_reset_probability = -0.1;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  lb_scenario_defaults(&sc);
  sc.tick_ns = 0;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  lb_scenario_defaults(&sc);
  sc.data_frequency = 0;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  lb_scenario_defaults(&sc);
  sc.arrivals = LB_ARRIVALS_TRACE;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  assert_string_equal(
      err, "scenario: field 'trace': expected a trace file with arrivals: trace, got ''");
  lb_scenario_defaults(&sc);
  sc.picker[0] = '\0';
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  lb_scenario_defaults(&sc);
  sc.mean_requests_per_server_per_tick = 1e6; /* 40 * 500 * 1e6 requests held at once */
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
}

static void roundtrip(const struct lb_scenario *in) {
  char path[] = "/tmp/lb_scenario_XXXXXX";
  char err[2048] = "";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  assert_int_equal(lb_scenario_write(in, f), 0);
  assert_int_equal(fclose(f), 0);
  struct lb_scenario out;
  lb_scenario_defaults(&out);
  /* Start from other values, so every field must come from the file. */
  out.servers = 999;
  out.ewma_weight = 0.9;
  out.seed = 77;
  int rc = lb_scenario_load(path, &out, err, sizeof(err));
  unlink(path);
  if (rc != 0)
    fail_msg("reload: %s", err);
  assert_string_equal(out.path, path);
  memcpy(out.path, in->path, sizeof(out.path));
  assert_true(out.picker_line > 0); /* the picker's line in the written file */
  out.picker_line = in->picker_line;
  assert_true(out.field_lines[0] > 0); /* lines are provenance, not values */
  memcpy(out.field_lines, in->field_lines, sizeof(out.field_lines));
  assert_true(in->n_faults == 0 || out.faults_line > 0);
  out.faults_line = in->faults_line;
  for (int i = 0; i < out.n_faults; i++)
    assert_true(out.fault_lines[i] > out.faults_line);
  memcpy(out.fault_lines, in->fault_lines, sizeof(out.fault_lines));
  assert_string_equal(out.name, in->name);
  assert_string_equal(out.picker, in->picker);
  assert_string_equal(out.trace, in->trace);
  assert_true(out.mean_requests_per_server_per_tick == in->mean_requests_per_server_per_tick);
  assert_true(out.ewma_weight == in->ewma_weight);
  assert_true(out.tick_ns == in->tick_ns);
  assert_true(out.seed == in->seed);
  assert_memory_equal(&out, in, sizeof(out));
}

/* A rate the file gives and target_utilization overrides is said, naming
 * the file, the rate's line and both fields; either field alone is not. */
static void test_rate_override_warned(void **state) {
  (void)state;
  char path[] = "/tmp/lb_scenario_XXXXXX", err[2048] = "", warn[1024];
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs("name: both\npicker: random\nmean_requests_per_server_per_tick: 3\n"
        "target_utilization: 0.5\n",
        f);
  assert_int_equal(fclose(f), 0);
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_load(path, &sc, err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_true(sc.mean_requests_per_server_per_tick != 3); /* overridden, as the seed */
  assert_int_equal(lb_scenario_warning(&sc, warn, sizeof(warn)), 1);
  char expect[1200];
  snprintf(expect, sizeof(expect),
           "%s:3: field 'mean_requests_per_server_per_tick' is overridden by field "
           "'target_utilization' (line 4)",
           path);
  if (strstr(warn, expect) == NULL)
    fail_msg("warning '%s' lacks '%s'", warn, expect);
  /* target_utilization alone (the rate is the default): nothing to say */
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("name: one\npicker: random\ntarget_utilization: 0.5\n", f);
  assert_int_equal(fclose(f), 0);
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_load(path, &sc, err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_warning(&sc, warn, sizeof(warn)), 0);
  unlink(path);
}

/* A picker's errors name its line in the file, or the --set that gave it;
 * subset_size above servers is allowed (the seed draws with replacement)
 * but said. */
static void test_picker_origin_and_warning(void **state) {
  (void)state;
  char path[1024], err[2048] = "", origin[2048], warn[512];
  struct lb_scenario sc;
  fixture(path, sizeof(path), "good/basic.yaml");
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_load(path, &sc, err, sizeof(err)), 0);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  int at = 0, picker_at = 0;
  while (fgets(line, sizeof(line), f)) {
    at++;
    if (strncmp(line, "picker:", 7) == 0)
      picker_at = at;
  }
  fclose(f);
  assert_true(picker_at > 0);
  assert_int_equal(sc.picker_line, picker_at);
  lb_scenario_picker_origin(&sc, origin, sizeof(origin));
  char expect[1100];
  snprintf(expect, sizeof(expect), "%s:%d", path, picker_at);
  assert_string_equal(origin, expect);
  /* another field set by name leaves the picker's line alone */
  assert_int_equal(lb_scenario_set(&sc, "servers", "3", err, sizeof(err)), 0);
  assert_int_equal(sc.picker_line, picker_at);
  assert_int_equal(lb_scenario_set(&sc, "picker", "nosuch(", err, sizeof(err)), 0);
  lb_scenario_picker_origin(&sc, origin, sizeof(origin));
  snprintf(expect, sizeof(expect), "%s: --set 'picker=nosuch('", path);
  assert_string_equal(origin, expect);
  /* basic.yaml: subset 4 of 3 servers now */
  assert_int_equal(lb_scenario_warning(&sc, warn, sizeof(warn)), 1);
  assert_non_null(strstr(warn, "subset_size 4 is larger than servers 3"));
  assert_int_equal(lb_scenario_set(&sc, "servers", "4", err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_warning(&sc, warn, sizeof(warn)), 0);
  assert_string_equal(warn, "");
}

static void test_write_roundtrip(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "odd \"name\" with \\ and: colon");
  snprintf(sc.picker, sizeof(sc.picker),
           "hcl(rank=client.latency.mean, health=client.rif, cutoff=80)");
  snprintf(sc.trace, sizeof(sc.trace), "/tmp/some trace.csv");
  sc.mean_requests_per_server_per_tick = 0.7 * 100 / 6; /* 11.666666666666666 */
  sc.ewma_weight = 0.1;
  sc.network_reset_probability = 1e-7;
  sc.tick_ns = 1234567;
  sc.seed = UINT64_MAX - 3;
  sc.subset_size = 0;
  sc.transport = LB_TRANSPORT_UDP;
  sc.delay = LB_DELAY_NETEM;
  sc.response_hold = LB_RESPONSE_HOLD_CLIENT;
  sc.arrivals = LB_ARRIVALS_TRACE;
  sc.work = LB_WORK_SPIN;
  sc.timeout_ticks = 1.0 / 3;
  sc.target_utilization = 0.65;
  sc.rate_probes_per_request = 2.5;
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  roundtrip(&sc);
  sc.transport = LB_TRANSPORT_HTTP;
  roundtrip(&sc);
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "defaults");
  roundtrip(&sc);
  sc.tick_ns = 3000000000LL;
  roundtrip(&sc);
  /* Every remaining field away from its default: each must be written. */
  sc.servers = 9;
  sc.clients = 3;
  sc.subset_size = 256;
  sc.total_ticks = 77;
  sc.mean_processing_time = 4.5;
  sc.probe_processing_time = 2;
  sc.mean_channel_rtt = 1.5;
  sc.channel_rtt_variance = 2.5;
  sc.mean_server_rtt = 3.5;
  sc.server_rtt_variance = 1.25;
  sc.mean_threads = 50;
  sc.server_reset_probability = 0.01;
  sc.cold_channel_penalty = 7;
  sc.server_state_buffer = 50;
  sc.client_requests_buffer = 60;
  sc.max_cooldown = 100;
  sc.data_frequency = 1;
  sc.runs = 5;
  sc.max_queue = 10;
  roundtrip(&sc);
  /* Faults: every kind, with and without a client, and odd numbers. */
  const struct lb_fault faults[] = {
      {LB_FAULT_KILL, 60, 20, 3, -1, 1, 0},    {LB_FAULT_PAUSE, 10, 5, 1, -1, 1, 0},
      {LB_FAULT_SLOW, 30, 7, 2, -1, 2.75, 0},  {LB_FAULT_DELAY, 50, 20, 2, 0, 1, 0.1},
      {LB_FAULT_PARTITION, 70, 6, 0, 2, 1, 0}, {LB_FAULT_DELAY, 40, 1, 8, -1, 1, 5},
  };
  for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
    lb_fault_init(&sc.faults[i], faults[i].kind); /* zeroes the padding */
    sc.faults[i].at = faults[i].at;
    sc.faults[i].for_ticks = faults[i].for_ticks;
    sc.faults[i].server = faults[i].server;
    sc.faults[i].client = faults[i].client;
    sc.faults[i].factor = faults[i].factor;
    sc.faults[i].ticks = faults[i].ticks;
  }
  sc.n_faults = (int)(sizeof(faults) / sizeof(faults[0]));
  err[0] = '\0';
  if (lb_scenario_finish(&sc, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  roundtrip(&sc);
}

/* proxy: and proxy_balance: (proxy.h): the balance in the proxy's own
 * words, its lbsim picker, the checks with file and line. */
static int proxy_case(const char *yaml, struct lb_scenario *sc, char *err, size_t errlen) {
  lb_scenario_defaults(sc);
  err[0] = '\0';
  int rc = lb_scenario_parse_string(yaml, "p.yaml", sc, err, errlen);
  snprintf(sc->path, sizeof(sc->path), "p.yaml"); /* as lb_scenario_load sets it */
  return rc < 0 ? rc : lb_scenario_finish(sc, err, errlen);
}

static void test_proxy_fields(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  const char *ok[][4] = {
      /* yaml, balance after finish, picker after finish */
      {"proxy: haproxy\nproxy_balance: leastconn\ntransport: http\nsubset_size: 4\n", "leastconn",
       "least(client.rif, rotate_ties=true)"},
      {"proxy: haproxy\nproxy_balance: roundrobin\ntransport: http\n", "roundrobin", "round_robin"},
      {"proxy: haproxy\nproxy_balance: random(2)\ntransport: http\n", "random(2)",
       "least(client.rif, choices=2)"},
      {"proxy: nginx\ntransport: http\npicker: random\n", "round_robin", "round_robin"},
      {"proxy: nginx\nproxy_balance: least_conn\ntransport: http\n", "least_conn",
       "least(client.rif, rotate_ties=true)"},
      {"proxy: nginx\nproxy_balance: random two least_conn\ntransport: http\n",
       "random two least_conn", "least(client.rif, choices=2)"},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    if (proxy_case(ok[i][0], &sc, err, sizeof(err)) != 0)
      fail_msg("%s: %s", ok[i][0], err);
    assert_string_equal(sc.proxy_balance, ok[i][1]);
    assert_string_equal(sc.picker, ok[i][2]);
    assert_int_equal(sc.subset_size, 0); /* the proxy sees every server */
  }
  const char *bad[][2] = {
      {"proxy: envoy\n", "p.yaml:1: field 'proxy': expected none, haproxy or nginx, got 'envoy'"},
      {"servers: 4\nproxy: haproxy\n",
       "p.yaml:2: field 'proxy': expected transport: http with a proxy (haproxy forwards HTTP to "
       "lbserver's --http-port), got transport: tcp; set transport: http"},
      {"transport: http\nproxy: haproxy\nproxy_balance: least_conn\n",
       "p.yaml:3: field 'proxy_balance': expected one of haproxy's balances ('roundrobin', "
       "'leastconn', 'random(2)'), got 'least_conn'"},
      {"transport: http\nproxy: nginx\nproxy_balance: leastconn\n",
       "p.yaml:3: field 'proxy_balance': expected one of nginx's balances ('round_robin', "
       "'least_conn', 'random two least_conn'), got 'leastconn'"},
      {"proxy_balance: leastconn\n",
       "p.yaml:1: field 'proxy_balance': expected no balance without a proxy (set proxy: haproxy "
       "or proxy: nginx), got 'leastconn'"},
      {"servers: 4\ntransport: http\nproxy: nginx\nfaults:\n"
       "  - {kind: kill, at: 5, for: 2, server: 0}\n"
       "  - {kind: partition, at: 5, for: 2, server: 1, client: 0}\n",
       "p.yaml:6: field 'faults[1].kind': expected kill, pause or slow with a proxy (nginx picks "
       "the server after the client sends, and partition is the client's, on its channel to a "
       "server), got 'partition'"},
      {"servers: 257\ntransport: http\nproxy: haproxy\n",
       "p.yaml:1: field 'servers': expected at most 256 servers behind a proxy (lbsim's modelled "
       "proxy is one picker over every server), got 257"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(proxy_case(bad[i][0], &sc, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, bad[i][1]);
  }
  /* --set, as lbharness and lbsim take it; an error then names no line. */
  lb_scenario_defaults(&sc);
  snprintf(sc.path, sizeof(sc.path), "s.yaml");
  assert_int_equal(lb_scenario_set(&sc, "proxy", "haproxy", err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_set(&sc, "proxy_balance", "leastconn", err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "s.yaml: field 'proxy': expected transport: http"));
  assert_int_equal(lb_scenario_set(&sc, "transport", "http", err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_string_equal(sc.picker, "least(client.rif, rotate_ties=true)");
  snprintf(sc.name, sizeof(sc.name), "proxied");
  roundtrip(&sc);
  /* Without a proxy the fields are not written: files stay as they were. */
  lb_scenario_defaults(&sc);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  assert_int_equal(lb_scenario_write(&sc, f), 0);
  assert_int_equal(fclose(f), 0);
  assert_null(strstr(text, "proxy"));
  free(text);
}

/* faults: a list parsed into lb_fault, with defaults by kind. */
static void test_faults_parse(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  lb_scenario_defaults(&sc);
  const char *text = "servers: 4\n"
                     "clients: 2\n"
                     "faults:\n"
                     "  - {kind: kill,      at: 60,  for: 20, server: 3}\n"
                     "  - {kind: pause,     at: 80,  for: 10, server: 1}\n"
                     "  - {kind: slow,      at: 100, for: 30, server: 2, factor: 3}\n"
                     "  - {kind: slow,      at: 200, for: 1, server: 2}\n"
                     "  - {kind: delay,     at: 50,  for: 20, server: 2, client: 0, ticks: 5}\n"
                     "  - kind: partition\n"
                     "    at: 70\n"
                     "    for: 15\n"
                     "    server: 0\n"
                     "total_ticks: 300\n";
  if (lb_scenario_parse_string(text, "f.yaml", &sc, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_int_equal(sc.n_faults, 6);
  assert_int_equal(sc.faults_line, 3);
  assert_int_equal(sc.faults[0].kind, LB_FAULT_KILL);
  assert_int_equal(sc.faults[0].at, 60);
  assert_int_equal(sc.faults[0].for_ticks, 20);
  assert_int_equal(sc.faults[0].server, 3);
  assert_int_equal(sc.faults[0].client, -1);
  assert_int_equal(sc.faults[1].kind, LB_FAULT_PAUSE);
  assert_true(sc.faults[2].factor == 3);
  assert_true(sc.faults[3].factor == 2); /* the default */
  assert_int_equal(sc.faults[4].kind, LB_FAULT_DELAY);
  assert_int_equal(sc.faults[4].client, 0);
  assert_true(sc.faults[4].ticks == 5);
  assert_int_equal(sc.faults[5].kind, LB_FAULT_PARTITION);
  assert_int_equal(sc.faults[5].client, -1);
  assert_int_equal(sc.faults[5].for_ticks, 15);
  assert_int_equal(sc.fault_lines[0], 4);
  assert_int_equal(sc.fault_lines[5], 9);
  /* Without faults: none, and nothing written. */
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string("faults: []\n", "f.yaml", &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.n_faults, 0);
  assert_int_equal(lb_scenario_parse_string("faults:\n", "f.yaml", &sc, err, sizeof(err)), 0);
  assert_int_equal(sc.n_faults, 0);
  char buf[8192] = "";
  FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
  assert_non_null(f);
  assert_int_equal(lb_scenario_write(&sc, f), 0);
  fclose(f);
  assert_null(strstr(buf, "faults"));
}

/* Each error names file:line and the fault's field. Parse errors give the
 * line of the value; errors found by finish (against servers, clients,
 * total_ticks, other faults) the line of the entry. */
static void test_faults_errors(void **state) {
  (void)state;
  static const struct {
    const char *yaml, *prefix;
    bool at_finish;
  } cases[] = {
      {"faults: 3\n", "e.yaml:1: field 'faults': expected a list", false},
      {"faults:\n  - 3\n", "e.yaml:2: field 'faults[0]': expected a mapping", false},
      {"faults:\n  - {kind: melt, at: 1, for: 1, server: 0}\n",
       "e.yaml:2: field 'faults[0].kind': expected kill, pause", false},
      {"faults:\n  - {kind: kill, at: 1, for: 1}\n",
       "e.yaml:2: field 'faults[0].server': expected it", false},
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: 0}\n  - {kind: kill, at: x, for: 1, "
       "server: 0}\n",
       "e.yaml:3: field 'faults[1].at': expected a tick", false},
      {"faults:\n  - kind: kill\n    at: 1\n    for: 0\n    server: 0\n",
       "e.yaml:4: field 'faults[0].for': expected a number of ticks", false},
      {"faults:\n  - {kind: kill, at: 1.5, for: 1, server: 0}\n", "e.yaml:2: field 'faults[0].at'",
       false},
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: -1}\n",
       "e.yaml:2: field 'faults[0].server'", false},
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: 0, client: 1}\n",
       "e.yaml:2: field 'faults[0].client': expected no client with kind kill", false},
      {"faults:\n  - {kind: delay, at: 1, for: 1, server: 0, factor: 2}\n",
       "e.yaml:2: field 'faults[0].factor': expected no factor", false},
      {"faults:\n  - {kind: slow, at: 1, for: 1, server: 0, factor: 0}\n",
       "e.yaml:2: field 'faults[0].factor': expected a finite number > 0", false},
      {"faults:\n  - {kind: slow, at: 1, for: 1, server: 0, factor: nan}\n",
       "e.yaml:2: field 'faults[0].factor'", false},
      {"faults:\n  - {kind: delay, at: 1, for: 1, server: 0, ticks: -1}\n",
       "e.yaml:2: field 'faults[0].ticks'", false},
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: 0, at: 2}\n",
       "e.yaml:2: field 'faults[0].at': expected it once", false},
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: 0, where: 2}\n",
       "e.yaml:2: field 'faults[0]': expected a fault field", false},
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: {a: 1}}\n",
       "e.yaml:2: field 'faults[0].server': expected a scalar", false},
      {"faults: []\nfaults: []\n", "e.yaml:2: field 'faults': expected each field once", false},
      /* Found by finish: the default fleet is 40 servers, 40 clients, 500 ticks. */
      {"faults:\n  - {kind: kill, at: 1, for: 1, server: 40}\n",
       "e.yaml:2: field 'faults[0].server': expected a server index from 0 to 39", true},
      {"faults:\n\n  - {kind: partition, at: 1, for: 1, server: 0, client: 40}\n",
       "e.yaml:3: field 'faults[0].client': expected a client index from 0 to 39", true},
      {"faults:\n  - {kind: kill, at: 500, for: 1, server: 0}\n",
       "e.yaml:2: field 'faults[0].at': expected a tick from 0 to 499", true},
      {"faults:\n  - {kind: kill, at: 499, for: 2147483647, server: 0}\n",
       "e.yaml:2: field 'faults[0].for'", true},
      {"faults:\n  - {kind: kill, at: 10, for: 5, server: 0}\n"
       "  - {kind: pause, at: 14, for: 5, server: 0}\n",
       "e.yaml:3: field 'faults[1].at': expected no overlap with faults[0]", true},
      {"faults:\n  - {kind: delay, at: 10, for: 5, server: 0}\n"
       "  - {kind: delay, at: 12, for: 5, server: 0, client: 3}\n",
       "e.yaml:3: field 'faults[1].at': expected no overlap", true},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct lb_scenario sc;
    char err[2048] = "";
    lb_scenario_defaults(&sc);
    int rc = lb_scenario_parse_string(cases[i].yaml, "e.yaml", &sc, err, sizeof(err));
    if (cases[i].at_finish) {
      if (rc != 0)
        fail_msg("case %zu parses: %s", i, err);
      snprintf(sc.path, sizeof(sc.path), "e.yaml");
      rc = lb_scenario_finish(&sc, err, sizeof(err));
    }
    if (rc != -EINVAL || strncmp(err, cases[i].prefix, strlen(cases[i].prefix)) != 0)
      fail_msg("case %zu: rc %d\n  got      '%s'\n  expected '%s...'", i, rc, err, cases[i].prefix);
  }
  /* Too many. */
  char big[16384] = "faults:\n";
  for (int i = 0; i <= LB_SCENARIO_FAULTS_MAX; i++)
    snprintf(big + strlen(big), sizeof(big) - strlen(big),
             "  - {kind: kill, at: %d, for: 1, server: 0}\n", i);
  struct lb_scenario sc;
  char err[512] = "";
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string(big, "e.yaml", &sc, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "e.yaml:66: field 'faults': expected at most 64 faults"));
  /* Non-overlapping faults of one kind on a target, and overlapping ones on
   * other targets, are fine. */
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string("faults:\n"
                                            "  - {kind: kill, at: 10, for: 5, server: 0}\n"
                                            "  - {kind: pause, at: 15, for: 5, server: 0}\n"
                                            "  - {kind: kill, at: 10, for: 5, server: 1}\n"
                                            "  - {kind: slow, at: 10, for: 5, server: 0}\n"
                                            "  - {kind: delay, at: 10, for: 5, server: 0, "
                                            "client: 1}\n"
                                            "  - {kind: delay, at: 10, for: 5, server: 0, "
                                            "client: 2}\n",
                                            "ok.yaml", &sc, err, sizeof(err)),
                   0);
  if (lb_scenario_finish(&sc, err, sizeof(err)) != 0)
    fail_msg("%s", err);
}

/* --set faults=YAML replaces the list; none clears it; errors name the
 * field. A server count set afterwards is checked against the faults. */
static void test_faults_set(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[2048] = "";
  lb_scenario_defaults(&sc);
  assert_int_equal(lb_scenario_parse_string("faults:\n  - {kind: kill, at: 1, for: 1, server: 7}\n",
                                            "s.yaml", &sc, err, sizeof(err)),
                   0);
  snprintf(sc.path, sizeof(sc.path), "s.yaml");
  assert_int_equal(lb_scenario_set(&sc, "servers", "5", err, sizeof(err)), 0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "s.yaml:2: field 'faults[0].server'"));
  assert_int_equal(lb_scenario_set(&sc, "faults",
                                   "[{kind: slow, at: 3, for: 4, server: 1, factor: 1.5}, "
                                   "{kind: partition, at: 0, for: 9, server: 4, client: 2}]",
                                   err, sizeof(err)),
                   0);
  assert_int_equal(sc.n_faults, 2);
  assert_int_equal(sc.faults_line, 0);
  assert_int_equal(sc.fault_lines[0], 0);
  assert_true(sc.faults[0].factor == 1.5);
  assert_int_equal(sc.faults[1].client, 2);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), 0);
  assert_int_equal(
      lb_scenario_set(&sc, "faults", "[{kind: slow, at: 3, for: 4, server: 9}]", err, sizeof(err)),
      0);
  assert_int_equal(lb_scenario_finish(&sc, err, sizeof(err)), -EINVAL);
  if (!strstr(err, "s.yaml: field 'faults[0].server'"))
    fail_msg("%s", err);
  assert_int_equal(lb_scenario_set(&sc, "faults", "[{kind: slow}]", err, sizeof(err)), -EINVAL);
  assert_true(strncmp(err, "field 'faults[0].at'", 20) == 0); /* no line of the value */
  assert_int_equal(lb_scenario_set(&sc, "faults", "[{", err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "field 'faults'"));
  assert_int_equal(lb_scenario_set(&sc, "faults", "none", err, sizeof(err)), 0);
  assert_int_equal(sc.n_faults, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_file),
      cmocka_unit_test(test_name_and_trace_from_path),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_unknown_field_lists_fields),
      cmocka_unit_test(test_name_confined),
      cmocka_unit_test(test_sizes_bounded),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_set_conversions),
      cmocka_unit_test(test_parse_duration),
      cmocka_unit_test(test_finish),
      cmocka_unit_test(test_write_roundtrip),
      cmocka_unit_test(test_proxy_fields),
      cmocka_unit_test(test_picker_origin_and_warning),
      cmocka_unit_test(test_faults_parse),
      cmocka_unit_test(test_faults_errors),
      cmocka_unit_test(test_faults_set),
      cmocka_unit_test(test_rate_override_warned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
