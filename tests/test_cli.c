/* cli: an option table parsed and printed: every kind of argument, ranges
 * and their errors, short flags, operands, repeated options, --help. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

struct opts {
  bool quiet, help;
  int threads;
  int64_t bytes;
  uint64_t seed;
  double rate, timeout_s;
  const char *file;
  int level;
  int nsets;
  const char *sets[4];
};

static int add_set(const char *text, void *dest, char *err, size_t errlen) {
  struct opts *o = (struct opts *)((char *)dest - offsetof(struct opts, nsets));
  if (!strchr(text, '=')) {
    snprintf(err, errlen, "--set '%s': expected FIELD=VALUE", text);
    return -EINVAL;
  }
  if (o->nsets == 4) {
    snprintf(err, errlen, "--set: at most 4 of them");
    return -EINVAL;
  }
  o->sets[o->nsets++] = text;
  return 0;
}

static const char *const levels[] = {"error", "warn", "info", "debug", NULL};

#define AT(f) offsetof(struct opts, f)
static const struct lb_cli_option table[] = {
    {.name = "threads", .kind = LB_CLI_INT, .off = AT(threads), .metavar = "N", .min = 1,
     .max = 64, .help = "worker threads"},
    {.name = "bytes", .kind = LB_CLI_INT64, .off = AT(bytes), .metavar = "B", .min = 0,
     .max = INT64_MAX, .help = "a big count"},
    {.name = "seed", .kind = LB_CLI_UINT64, .off = AT(seed), .metavar = "S", .help = "seed"},
    {.name = "rate", .kind = LB_CLI_DOUBLE, .off = AT(rate), .metavar = "R", .dmin = 0,
     .flags = LB_CLI_ABOVE_MIN, .help = "a rate\nabove zero"},
    {.name = "timeout", .kind = LB_CLI_DURATION, .off = AT(timeout_s), .metavar = "T",
     .dmin = 0, .dmax = 60, .help = "how long"},
    {.name = "file", .kind = LB_CLI_STRING, .off = AT(file), .metavar = "FILE", .help = "a file"},
    {.name = "log-level", .kind = LB_CLI_CHOICE, .off = AT(level), .metavar = "L",
     .choices = levels, .help = "error|warn|info|debug"},
    {.name = "set", .kind = LB_CLI_CUSTOM, .off = AT(nsets), .metavar = "F=V", .parse = add_set,
     .help = "repeatable"},
    {.name = "quiet", .short_flag = 'q', .kind = LB_CLI_FLAG, .off = AT(quiet), .help = "hush"},
    {.name = "help", .short_flag = 'h', .kind = LB_CLI_FLAG, .off = AT(help), .help = "this"},
    {.name = NULL},
};

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_every_kind(void **state) {
  (void)state;
  char *argv[] = {"prog",   "a.yaml",    "--threads", "8",         "--bytes=9000000000",
                  "--seed", "18446744073709551615",  "--rate", "0.5", "--timeout",
                  "250ms",  "--file",    "x.csv",     "--log-level", "debug",
                  "--set",  "a=1",       "b.yaml",    "--set",       "b=2",
                  "-q"};
  struct opts o = {.threads = 1, .level = 2};
  char err[256] = "";
  int first = -1;
  assert_int_equal(lb_cli_parse(table, ARGC(argv), argv, &o, &first, err, sizeof(err)), 0);
  assert_int_equal(o.threads, 8);
  assert_true(o.bytes == 9000000000LL);
  assert_true(o.seed == UINT64_MAX);
  assert_true(o.rate == 0.5);
  assert_true(o.timeout_s == 0.25);
  assert_string_equal(o.file, "x.csv");
  assert_int_equal(o.level, 3);
  assert_int_equal(o.nsets, 2);
  assert_string_equal(o.sets[1], "b=2");
  assert_true(o.quiet);
  assert_false(o.help);
  /* the operands, moved behind the options */
  assert_int_equal(ARGC(argv) - first, 2);
  assert_string_equal(argv[first], "a.yaml");
  assert_string_equal(argv[first + 1], "b.yaml");
}

static void expect_error(char **argv, int argc, const char *want) {
  struct opts o = {0};
  char err[256] = "";
  assert_int_equal(lb_cli_parse(table, argc, argv, &o, NULL, err, sizeof(err)), -EINVAL);
  if (!strstr(err, want))
    fail_msg("wanted '%s' in '%s'", want, err);
}

static void test_errors(void **state) {
  (void)state;
  char *range[] = {"p", "--threads", "65"};
  expect_error(range, 3, "--threads: expected an integer in 1..64, got '65'");
  char *junk[] = {"p", "--threads", "4x"};
  expect_error(junk, 3, "--threads: expected an integer in 1..64, got '4x'");
  char *zero[] = {"p", "--rate", "0"};
  expect_error(zero, 3, "--rate: expected a number > 0, got '0'");
  char *neg[] = {"p", "--seed", "-1"};
  expect_error(neg, 3, "--seed: expected a non-negative integer");
  char *dur[] = {"p", "--timeout", "2h"};
  expect_error(dur, 3, "--timeout: expected a duration");
  char *choice[] = {"p", "--log-level", "loud"};
  expect_error(choice, 3, "--log-level: expected one of error, warn, info, debug, got 'loud'");
  char *custom[] = {"p", "--set", "nope"};
  expect_error(custom, 3, "--set 'nope': expected FIELD=VALUE");
  char *unknown[] = {"p", "--frobnicate"};
  expect_error(unknown, 2, "unknown option '--frobnicate'");
  char *missing[] = {"p", "--file"};
  expect_error(missing, 2, "--file: expected a value");
  char *flagarg[] = {"p", "--quiet=yes"};
  expect_error(flagarg, 2, "--quiet");
}

static void test_twice(void **state) {
  (void)state;
  /* a second parse starts over (getopt's state reset) */
  char *a[] = {"p", "--threads", "3", "x"};
  char *b[] = {"p", "-h", "--threads", "5"};
  struct opts o = {0};
  char err[256];
  int first = 0;
  assert_int_equal(lb_cli_parse(table, 4, a, &o, &first, err, sizeof(err)), 0);
  assert_int_equal(first, 3);
  assert_int_equal(lb_cli_parse(table, 4, b, &o, &first, err, sizeof(err)), 0);
  assert_int_equal(o.threads, 5);
  assert_true(o.help);
  assert_int_equal(first, 4);
}

static void test_usage(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  lb_cli_usage(table, f);
  fclose(f);
  for (const struct lb_cli_option *o = table; o->name; o++) {
    char want[64];
    snprintf(want, sizeof(want), "--%s", o->name);
    if (!strstr(buf, want))
      fail_msg("--help lacks %s:\n%s", want, buf);
  }
  assert_non_null(strstr(buf, "  --threads N            worker threads\n"));
  assert_non_null(strstr(buf, "  -q, --quiet            hush\n"));
  /* a second help line aligned under the first */
  assert_non_null(strstr(buf, "  --rate R               a rate\n                         above zero\n"));
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_kind),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_twice),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
