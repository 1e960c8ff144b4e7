/* reqlog: write then read back equal; pandas-style files; clear errors. */
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

#include "reqlog.h"

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void tmp_path(char *path) {
  strcpy(path, "/tmp/lb_reqlog_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static struct lb_request_record full_record(void) {
  struct lb_request_record r;
  memset(&r, 0, sizeof(r));
  r.stage = LB_STAGE_RUNNING;
  r.client = 3;
  r.server = 17;
  r.outcome = LB_OUTCOME_COMPLETED;
  r.started_on_tick = 100;
  r.tick_at_send = 101;
  r.tick_at_server_queue = 103;
  r.tick_at_processing = 104;
  r.tick_at_receive = 110.25;
  r.tick_at_completion = r.completed_on_tick = 112.5;
  r.picking_ticks = 1;
  r.send_ticks = 2;
  r.server_queue_ticks = 1;
  r.processing_ticks = 6.25;
  r.receive_ticks = 2.25;
  r.total_ticks = 12.5;
  r.has_report = true;
  r.report.utilization = (struct lb_stat){true, 42, 40.123456789, 0.1 + 0.2};
  r.report.queries_per_tick = (struct lb_stat){true, 3, 2.5, 2.75};
  r.report.requests_in_flight = (struct lb_stat){true, 5, 4.5, 4.75};
  r.report.queued_requests = (struct lb_stat){true, 0, 1e-9, 1e20};
  r.report.pid_weight = -12.0625;
  r.intended_ns = 1000000000123LL;
  r.send_ns = 1000000000456LL;
  r.server_queue_ns = 789;
  r.processing_ns = 60000000;
  r.receive_ns = 1000000070000LL;
  r.completion_ns = 1000000125000LL;
  r.modelled_ticks = 11;
  return r;
}

static void assert_ticks_equal(double a, double b) {
  if (isnan(a) || isnan(b))
    assert_true(isnan(a) && isnan(b));
  else
    assert_true(a == b);
}

static void assert_stat_equal(const struct lb_stat *a, const struct lb_stat *b) {
  assert_int_equal(a->valid, b->valid);
  if (a->valid)
    assert_true(a->latest == b->latest && a->mean == b->mean && a->ewma == b->ewma);
}

static void assert_record_equal(const struct lb_request_record *a,
                                const struct lb_request_record *b) {
  assert_int_equal(a->stage, b->stage);
  assert_int_equal(a->client, b->client);
  assert_int_equal(a->server, b->server);
  assert_int_equal(a->is_probe, b->is_probe);
  assert_int_equal(a->outcome, b->outcome);
  assert_ticks_equal(a->started_on_tick, b->started_on_tick);
  assert_ticks_equal(a->completed_on_tick, b->completed_on_tick);
  assert_ticks_equal(a->tick_at_send, b->tick_at_send);
  assert_ticks_equal(a->tick_at_server_queue, b->tick_at_server_queue);
  assert_ticks_equal(a->tick_at_processing, b->tick_at_processing);
  assert_ticks_equal(a->tick_at_receive, b->tick_at_receive);
  assert_ticks_equal(a->tick_at_completion, b->tick_at_completion);
  assert_ticks_equal(a->picking_ticks, b->picking_ticks);
  assert_ticks_equal(a->send_ticks, b->send_ticks);
  assert_ticks_equal(a->server_queue_ticks, b->server_queue_ticks);
  assert_ticks_equal(a->processing_ticks, b->processing_ticks);
  assert_ticks_equal(a->receive_ticks, b->receive_ticks);
  assert_ticks_equal(a->total_ticks, b->total_ticks);
  assert_int_equal(a->has_report, b->has_report);
  if (a->has_report) {
    assert_stat_equal(&a->report.utilization, &b->report.utilization);
    assert_stat_equal(&a->report.queries_per_tick, &b->report.queries_per_tick);
    assert_stat_equal(&a->report.requests_in_flight, &b->report.requests_in_flight);
    assert_stat_equal(&a->report.queued_requests, &b->report.queued_requests);
    assert_true(a->report.pid_weight == b->report.pid_weight);
  }
  assert_true(a->intended_ns == b->intended_ns && a->send_ns == b->send_ns);
  assert_true(a->server_queue_ns == b->server_queue_ns && a->processing_ns == b->processing_ns);
  assert_true(a->receive_ns == b->receive_ns && a->completion_ns == b->completion_ns);
  assert_ticks_equal(a->modelled_ticks, b->modelled_ticks);
}

static void test_roundtrip(void **state) {
  (void)state;
  struct lb_request_record recs[3];
  recs[0] = full_record();
  /* A probe in WARMING whose server had no utilization yet (None). */
  recs[1] = full_record();
  recs[1].stage = LB_STAGE_WARMING;
  recs[1].is_probe = true;
  recs[1].report.utilization.valid = false;
  recs[1].report.latency.valid = false;
  /* A timed-out request: never answered, no server report, ticks None. */
  recs[2] = full_record();
  recs[2].stage = LB_STAGE_COOLING;
  recs[2].outcome = LB_OUTCOME_TIMED_OUT;
  recs[2].server = -1;
  recs[2].has_report = false;
  recs[2].completed_on_tick = recs[2].tick_at_receive = recs[2].tick_at_completion = NAN;
  recs[2].receive_ticks = NAN;
  char path[64], err[512] = "";
  tmp_path(path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  lb_reqlog_write_header(f);
  for (int i = 0; i < 3; i++)
    assert_int_equal(lb_reqlog_write(f, &recs[i]), 0);
  assert_int_equal(fclose(f), 0);
  struct lb_reqlog_reader *r = NULL;
  assert_int_equal(lb_reqlog_reader_open(path, &r, err, sizeof(err)), 0);
  struct lb_request_record got;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(lb_reqlog_reader_next(r, &got, err, sizeof(err)), 1);
    assert_record_equal(&recs[i], &got);
  }
  assert_int_equal(lb_reqlog_reader_next(r, &got, err, sizeof(err)), 0);
  lb_reqlog_reader_close(r);
  /* The text itself: the seed's spelling, empty cells for None. */
  f = fopen(path, "r");
  char line[4096];
  assert_non_null(fgets(line, sizeof(line), f));
  assert_true(starts_with(line,
                          "test_stage,client,server,is_probe,started_on_tick,completed_on_tick,"
                          "tick_at_send,tick_at_server_queue,tick_at_processing,tick_at_receive,"
                          "tick_at_completion,ticks_between_start_and_completion,total_ticks,"
                          "picking_ticks,send_ticks,server_queue_ticks,processing_ticks,"
                          "receive_ticks,server_utilization_latest,server_utilization_mean,"
                          "server_utilization_ewma,server_queries_per_tick_latest,"));
  assert_non_null(strstr(line, ",server_pid_weight,outcome,intended_ns,send_ns,server_queue_ns,"
                               "processing_ns,receive_ns,completion_ns,modelled_ticks\n"));
  assert_non_null(fgets(line, sizeof(line), f));
  assert_true(starts_with(line,
                          "RUNNING,Client 3,Server 17,False,100,112.5,101,103,104,110.25,112.5,"
                          "12.5,12.5,1,2,1,6.25,2.25,42,40.123456789,"
                          "0.30000000000000004,3,"));
  assert_non_null(fgets(line, sizeof(line), f));
  assert_non_null(strstr(line, "WARMING,Client 3,Server 17,True,"));
  assert_non_null(strstr(line, ",2.25,,,,3,2.5,2.75,")); /* utilization None */
  assert_non_null(fgets(line, sizeof(line), f));
  assert_non_null(strstr(line, "COOLING,Client 3,,False,100,,101,103,104,,,,12.5,"));
  assert_non_null(strstr(line, ",,,,,,,,,,,,,timed_out,"));
  fclose(f);
  unlink(path);
}

/* pandas' to_csv: an index column first; columns in another order; extra
 * columns; no testbed columns. */
static void test_pandas_style(void **state) {
  (void)state;
  char path[64], err[512] = "";
  tmp_path(path);
  write_text(path,
             ",extra,is_probe,server,client,test_stage,total_ticks,server_utilization_latest\n"
             "0,x,True,Server 2,Client 1,RUNNING,7,50.0\n"
             "\n"
             "1,y,False,Server 0,Client 4,COOLING,9,\n");
  struct lb_reqlog_reader *r = NULL;
  struct lb_request_record got;
  assert_int_equal(lb_reqlog_reader_open(path, &r, err, sizeof(err)), 0);
  assert_int_equal(lb_reqlog_reader_next(r, &got, err, sizeof(err)), 1);
  assert_true(got.is_probe && got.server == 2 && got.client == 1);
  assert_int_equal(got.stage, LB_STAGE_RUNNING);
  assert_int_equal(got.outcome, LB_OUTCOME_COMPLETED);
  assert_true(got.total_ticks == 7);
  assert_true(got.has_report && got.report.utilization.valid &&
              got.report.utilization.latest == 50);
  assert_true(isnan(got.started_on_tick));
  assert_int_equal(lb_reqlog_reader_next(r, &got, err, sizeof(err)), 1);
  assert_false(got.is_probe);
  assert_int_equal(got.stage, LB_STAGE_COOLING);
  assert_false(got.has_report);
  assert_int_equal(lb_reqlog_reader_next(r, &got, err, sizeof(err)), 0);
  lb_reqlog_reader_close(r);
  unlink(path);
}

static void expect_read_error(const char *text, const char *message) {
  char path[64], err[512] = "", expect[600];
  tmp_path(path);
  write_text(path, text);
  struct lb_reqlog_reader *r = NULL;
  struct lb_request_record got;
  int rc = lb_reqlog_reader_open(path, &r, err, sizeof(err));
  if (rc == 0) {
    while ((rc = lb_reqlog_reader_next(r, &got, err, sizeof(err))) == 1)
      ;
    lb_reqlog_reader_close(r);
  }
  assert_int_equal(rc, -EINVAL);
  snprintf(expect, sizeof(expect), "%s:%s", path, message);
  assert_string_equal(err, expect);
  unlink(path);
}

static void test_errors(void **state) {
  (void)state;
  const char *header = "test_stage,client,server,is_probe,total_ticks\n";
  char text[512];
  snprintf(text, sizeof(text), "%sRUNNING,Client 1,Server 2,maybe,3\n", header);
  expect_read_error(text, "2: column 'is_probe': expected True or False, got 'maybe'");
  snprintf(text, sizeof(text), "%sRUNNING,Client 1,Server 2,True\n", header);
  expect_read_error(text, "2: expected 5 cells as in the header, got 4");
  snprintf(text, sizeof(text), "%sRUNNING,Client 1,Server 2,True,3\nHOT,Client 1,Server 2,True,3\n",
           header);
  expect_read_error(text,
                    "3: column 'test_stage': expected WARMING, RUNNING or COOLING, got 'HOT'");
  snprintf(text, sizeof(text), "%sRUNNING,Client 1,Server 2,True,3x\n", header);
  expect_read_error(text, "2: column 'total_ticks': expected a number or empty, got '3x'");
  snprintf(text, sizeof(text), "%sRUNNING,Customer 1,Server 2,True,3\n", header);
  expect_read_error(text, "2: column 'client': expected 'Client N', got 'Customer 1'");
  expect_read_error("test_stage,client,server,total_ticks\n",
                    "1: expected a header with column 'is_probe', got 'test_stage...'");
  expect_read_error("", "1: expected a header of column names, got an empty file");
  char err[512] = "";
  struct lb_reqlog_reader *r = NULL;
  assert_int_equal(lb_reqlog_reader_open("/nonexistent/log.csv", &r, err, sizeof(err)), -ENOENT);
  assert_null(r);
  assert_non_null(strstr(err, "/nonexistent/log.csv: cannot open request log"));
  lb_reqlog_reader_close(NULL);
}

static void test_format_double(void **state) {
  (void)state;
  char buf[40];
  lb_reqlog_format_double(buf, sizeof(buf), 0.1);
  assert_string_equal(buf, "0.1");
  lb_reqlog_format_double(buf, sizeof(buf), 12);
  assert_string_equal(buf, "12");
  lb_reqlog_format_double(buf, sizeof(buf), 0.1 + 0.2);
  assert_string_equal(buf, "0.30000000000000004");
  lb_reqlog_format_double(buf, sizeof(buf), NAN);
  assert_string_equal(buf, "nan");
  lb_reqlog_format_double(buf, sizeof(buf), -INFINITY);
  assert_string_equal(buf, "-inf");
  assert_string_equal(lb_stage_name(LB_STAGE_COOLING), "COOLING");
  assert_string_equal(lb_outcome_name(LB_OUTCOME_TIMED_OUT), "timed_out");
}

/* The formatter as it was (printf at 15, 16, 17 digits, each read back):
 * the fast paths must write exactly the same text. */
static void reference_format(char *buf, size_t len, double v) {
  int prec = 15;
  snprintf(buf, len, "%.*g", prec, isnan(v) ? NAN : v); /* "nan", "inf", "-inf" */
  while (!isnan(v) && strtod(buf, NULL) != v && ++prec <= 17)
    snprintf(buf, len, "%.*g", prec, v);
}

static void check_same(double v) {
  char got[40], want[40];
  lb_reqlog_format_double(got, sizeof(got), v);
  reference_format(want, sizeof(want), v);
  if (strcmp(got, want) != 0)
    fail_msg("%.17g: wrote '%s', expected '%s'", v, got, want);
}

static void test_format_double_matches_printf(void **state) {
  (void)state;
  uint64_t x = 0x9E3779B97F4A7C15ULL; /* xorshift: the same values every run */
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
  const double specials[] = {0.0, -0.0, 1e-4, 9.9999999999999e-5, 1e15, 999999999999999.0,
                             999999999999999.9, 0.1, 0.3, 1.0 / 3, 2.0 / 3, 123456.789, -42.5};
  for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
    check_same(specials[i]);
    check_same(nextafter(specials[i], 0));
    check_same(nextafter(specials[i], INFINITY));
  }
  for (int k = -30; k <= 30; k++) { /* powers of ten and their neighbours */
    double p = pow(10, k);
    check_same(p);
    check_same(nextafter(p, 0));
    check_same(nextafter(p, INFINITY));
    check_same(-p);
  }
  for (int i = 0; i < 50000; i++) {
    uint64_t r = NEXT();
    double ns = (double)(r % 10000000000000ULL);
    check_same(ns / 1e6);                                 /* ticks from ns */
    check_same(ns / 1e6 - (double)(NEXT() % 100000) / 1e6); /* differences */
    check_same((double)(r >> 11) / 9007199254740992.0 * pow(10, (int)(NEXT() % 40) - 20));
    uint64_t bits = NEXT();
    double any;
    memcpy(&any, &bits, sizeof(any));
    check_same(any);
  }
#undef NEXT
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_pandas_style),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_format_double),
      cmocka_unit_test(test_format_double_matches_printf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
