/* client_http: requests formatted, pipelined responses matched to their
 * requests by order whatever the reads' boundaries, bad answers failing
 * only their own request, broken streams refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_http.h"
#include "orca_text.h"

#define MAX_ANSWERS 16

struct got {
  int n;
  int stop_after; /* 0: never stop */
  uint64_t id[MAX_ANSWERS];
  bool ok[MAX_ANSWERS];
  int http_status[MAX_ANSWERS];
  int status[MAX_ANSWERS];
  bool has_report[MAX_ANSWERS];
  uint32_t server[MAX_ANSWERS];
  double rif_latest[MAX_ANSWERS], expected_latency[MAX_ANSWERS], orca_util[MAX_ANSWERS];
  uint64_t queue_ns[MAX_ANSWERS], processing_ns[MAX_ANSWERS], hold_ns[MAX_ANSWERS];
  char why[MAX_ANSWERS][192];
};

static bool collect(void *arg, const struct lb_http_answer *a) {
  struct got *g = arg;
  assert_true(g->n < MAX_ANSWERS);
  int i = g->n++;
  g->id[i] = a->id;
  g->ok[i] = a->ok;
  g->http_status[i] = a->http_status;
  snprintf(g->why[i], sizeof(g->why[i]), "%s", a->why);
  if (a->ok) {
    assert_true(a->resp.id == a->id);
    g->status[i] = (int)a->resp.status;
    g->has_report[i] = a->resp.report != NULL;
    if (a->resp.report) {
      g->server[i] = a->resp.report->server;
      g->rif_latest[i] = a->resp.report->requests_in_flight->latest;
      g->expected_latency[i] = a->resp.report->expected_latency;
      g->orca_util[i] = a->resp.report->orca_utilization;
    }
    g->queue_ns[i] = a->resp.queue_ns;
    g->processing_ns[i] = a->resp.processing_ns;
    g->hold_ns[i] = a->resp.hold_ns;
  }
  return g->stop_after == 0 || g->n < g->stop_after;
}

static void report_for(int server, struct lb_server_report *r) {
  memset(r, 0, sizeof(*r));
  r->server = (uint32_t)server;
  r->threads = 4;
  r->requests_in_flight = (struct lb_stat){true, 3.0 + server, 2.5, 2.25};
  r->utilization = (struct lb_stat){true, 50, 40.5, 42};
  r->has_expected_latency = true;
  r->expected_latency = 7.25 + server;
  r->orca_utilization = 0.42;
  r->orca_qps = 120.5;
}

/* Appends one response: status, extra header lines, the ORCA header of
 * server's report unless orca is given ("" for none), a body. */
static void append(char *buf, size_t cap, int status, int server, const char *orca,
                   const char *extra, const char *body) {
  char value[LB_ORCA_TEXT_MAX + 1];
  if (!orca) {
    struct lb_server_report r;
    report_for(server, &r);
    assert_true(lb_orca_text_format(&r, value, sizeof(value)) > 0);
    orca = value;
  }
  size_t used = strlen(buf);
  int n = snprintf(buf + used, cap - used,
                   "HTTP/1.1 %d X\r\n%s%s%s%sContent-Length: %zu\r\n\r\n%s", status,
                   orca[0] ? LB_ORCA_HEADER ": " : "", orca, orca[0] ? "\r\n" : "", extra,
                   strlen(body), body);
  assert_true(n > 0 && (size_t)n < cap - used);
}

#define TIMES(q, p, h)                                                                             \
  "X-Lb-Queue-Ns: " #q "\r\nX-LB-PROCESSING-NS: " #p "\r\nx-lb-hold-ns: " #h "\r\n"

/* Five pipelined answers: two fine ones (one with a body), a 503, a bad
 * ORCA header, a missing time header. */
static size_t stream(char *buf, size_t cap) {
  buf[0] = '\0';
  append(buf, cap, 200, 1, NULL, TIMES(100, 2000, 30), "");
  append(buf, cap, 200, 2, NULL, "Server: lbserver\r\n" TIMES(0, 5, 18446744073709551615), "done\n");
  append(buf, cap, 503, 3, NULL, "", "queue full");
  append(buf, cap, 200, 4, "TEXT cpu_utilization:nan", TIMES(1, 2, 3), "");
  append(buf, cap, 200, 5, NULL, "X-Lb-Queue-Ns: 1\r\nX-Lb-Processing-Ns: 2\r\n", "");
  append(buf, cap, 200, 6, NULL, TIMES(7, 8, 9), "");
  return strlen(buf);
}

static void check_stream(const struct got *g) {
  assert_int_equal(g->n, 6);
  for (int i = 0; i < 6; i++)
    assert_true(g->id[i] == (uint64_t)(100 + i));
  assert_true(g->ok[0] && g->ok[1] && g->ok[2] && g->ok[5]);
  assert_int_equal(g->status[0], LB__STATUS__STATUS_OK);
  assert_true(g->has_report[0]);
  assert_int_equal(g->server[0], 1);
  assert_true(g->rif_latest[0] == 4.0);
  assert_true(g->expected_latency[0] == 8.25);
  assert_true(g->orca_util[0] == 0.42);
  assert_true(g->queue_ns[0] == 100 && g->processing_ns[0] == 2000 && g->hold_ns[0] == 30);
  assert_int_equal(g->server[1], 2);
  assert_true(g->hold_ns[1] == UINT64_MAX);
  assert_int_equal(g->http_status[2], 503);
  assert_int_equal(g->status[2], LB__STATUS__STATUS_REJECTED);
  assert_false(g->ok[3]);
  assert_non_null(strstr(g->why[3], "endpoint-load-metrics"));
  assert_false(g->ok[4]);
  assert_non_null(strstr(g->why[4], "X-Lb-Hold-Ns header missing"));
  assert_int_equal(g->server[5], 6);
  assert_true(g->queue_ns[5] == 7 && g->processing_ns[5] == 8 && g->hold_ns[5] == 9);
}

static void expect_ids(struct lb_http_reader *r, int n) {
  for (int i = 0; i < n; i++)
    assert_int_equal(lb_http_reader_expect(r, (uint64_t)(100 + i)), 0);
}

static void test_split_everywhere(void **state) {
  (void)state;
  static char buf[64 * 1024];
  size_t len = stream(buf, sizeof(buf));
  char err[256];
  for (size_t cut = 0; cut <= len; cut++) {
    struct lb_http_reader r;
    struct got g = {0};
    lb_http_reader_init(&r);
    expect_ids(&r, 6);
    assert_int_equal(lb_http_reader_feed(&r, (uint8_t *)buf, cut, collect, &g, err, sizeof(err)),
                     0);
    assert_int_equal(
        lb_http_reader_feed(&r, (uint8_t *)buf + cut, len - cut, collect, &g, err, sizeof(err)),
        0);
    check_stream(&g);
    assert_int_equal(lb_http_reader_pending(&r), 0);
    lb_http_reader_close(&r);
  }
  /* And one byte per read. */
  struct lb_http_reader r;
  struct got g = {0};
  lb_http_reader_init(&r);
  expect_ids(&r, 6);
  for (size_t i = 0; i < len; i++)
    assert_int_equal(lb_http_reader_feed(&r, (uint8_t *)buf + i, 1, collect, &g, err, sizeof(err)),
                     0);
  check_stream(&g);
  lb_http_reader_close(&r);
}

/* Ids go in as requests are written, interleaved with answers: the ring
 * wraps and grows and still answers oldest first. */
static void test_order_across_growth(void **state) {
  (void)state;
  char one[8192];
  struct lb_http_reader r;
  char err[256];
  lb_http_reader_init(&r);
  struct got g = {0};
  uint64_t next_id = 0, next_answer = 0;
  for (int round = 0; round < 40; round++) {
    for (int k = 0; k < round % 7 + 1; k++)
      assert_int_equal(lb_http_reader_expect(&r, 1000 + next_id++), 0);
    size_t answers = lb_http_reader_pending(&r) > 3 ? 3 : lb_http_reader_pending(&r);
    for (size_t k = 0; k < answers; k++) {
      one[0] = '\0';
      append(one, sizeof(one), 200, 0, NULL, TIMES(1, 1, 1), "");
      g.n = 0;
      assert_int_equal(
          lb_http_reader_feed(&r, (uint8_t *)one, strlen(one), collect, &g, err, sizeof(err)), 0);
      assert_int_equal(g.n, 1);
      assert_true(g.id[0] == 1000 + next_answer++);
    }
  }
  assert_int_equal(lb_http_reader_pending(&r), next_id - next_answer);
  lb_http_reader_close(&r);
}

static void test_broken_streams(void **state) {
  (void)state;
  char buf[8192] = "";
  char err[256];
  struct got g = {0};
  struct lb_http_reader r;
  /* An answer to no request. */
  lb_http_reader_init(&r);
  append(buf, sizeof(buf), 200, 0, NULL, TIMES(1, 1, 1), "");
  assert_int_equal(
      lb_http_reader_feed(&r, (uint8_t *)buf, strlen(buf), collect, &g, err, sizeof(err)),
      -EPROTO);
  assert_non_null(strstr(err, "no request"));
  lb_http_reader_close(&r);
  /* Not HTTP. */
  lb_http_reader_init(&r);
  expect_ids(&r, 1);
  const char *garbage = "\x00\x00\x00\x10garbage frame";
  assert_int_equal(lb_http_reader_feed(&r, (const uint8_t *)garbage, 17, collect, &g, err,
                                       sizeof(err)),
                   -EPROTO);
  lb_http_reader_close(&r);
  /* A body over the bound. */
  lb_http_reader_init(&r);
  expect_ids(&r, 1);
  snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n");
  assert_int_equal(
      lb_http_reader_feed(&r, (uint8_t *)buf, strlen(buf), collect, &g, err, sizeof(err)), 0);
  static char body[LB_HTTP_RESPONSE_BODY_MAX + 1];
  memset(body, 'x', sizeof(body));
  assert_int_equal(
      lb_http_reader_feed(&r, (uint8_t *)body, sizeof(body), collect, &g, err, sizeof(err)),
      -EPROTO);
  assert_non_null(strstr(err, "body"));
  lb_http_reader_close(&r);
  /* A head over the bound. */
  lb_http_reader_init(&r);
  expect_ids(&r, 1);
  static char head[LB_HTTP_RESPONSE_HEAD_MAX + 64];
  int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-Pad: ");
  memset(head + n, 'p', sizeof(head) - (size_t)n);
  assert_int_equal(
      lb_http_reader_feed(&r, (uint8_t *)head, sizeof(head), collect, &g, err, sizeof(err)),
      -EPROTO);
  lb_http_reader_close(&r);
  assert_int_equal(g.n, 0);
}

/* Odd statuses, repeated and overlong headers: the request fails, the
 * stream goes on. */
static void test_bad_answers(void **state) {
  (void)state;
  static char buf[32 * 1024];
  buf[0] = '\0';
  char err[256];
  append(buf, sizeof(buf), 302, 0, NULL, TIMES(1, 1, 1), "");
  append(buf, sizeof(buf), 200, 0, NULL, TIMES(1, 1, 1) "X-Lb-Queue-Ns: 2\r\n", "");
  append(buf, sizeof(buf), 200, 0, NULL, "X-Lb-Queue-Ns: 123456789012345678901234567890\r\n", "");
  append(buf, sizeof(buf), 200, 0, NULL, TIMES(-1, 1, 1), "");
  append(buf, sizeof(buf), 200, 0, "", TIMES(1, 1, 1), "");
  append(buf, sizeof(buf), 400, 0, "", "", "bad request");
  append(buf, sizeof(buf), 100, 0, "", "", "");
  append(buf, sizeof(buf), 200, 9, NULL, TIMES(1, 1, 1), "");
  struct lb_http_reader r;
  struct got g = {0};
  lb_http_reader_init(&r);
  expect_ids(&r, 7);
  assert_int_equal(
      lb_http_reader_feed(&r, (uint8_t *)buf, strlen(buf), collect, &g, err, sizeof(err)), 0);
  assert_int_equal(g.n, 7); /* the 100 Continue answers nothing */
  assert_false(g.ok[0]);
  assert_non_null(strstr(g.why[0], "302"));
  assert_false(g.ok[1]);
  assert_false(g.ok[2]);
  assert_false(g.ok[3]);
  assert_false(g.ok[4]);
  assert_non_null(strstr(g.why[4], "endpoint-load-metrics header missing"));
  assert_true(g.ok[5]);
  assert_int_equal(g.status[5], LB__STATUS__STATUS_BAD_REQUEST);
  assert_false(g.has_report[5]);
  assert_true(g.ok[6]);
  assert_int_equal(g.server[6], 9);
  assert_true(g.id[6] == 106);
  lb_http_reader_close(&r);
}

/* The callback took the connection down: the feed stops there. */
static void test_stop(void **state) {
  (void)state;
  static char buf[64 * 1024];
  size_t len = stream(buf, sizeof(buf));
  char err[256];
  struct lb_http_reader r;
  struct got g = {.stop_after = 2};
  lb_http_reader_init(&r);
  expect_ids(&r, 6);
  assert_int_equal(lb_http_reader_feed(&r, (uint8_t *)buf, len, collect, &g, err, sizeof(err)), 0);
  assert_int_equal(g.n, 2);
  assert_int_equal(lb_http_reader_pending(&r), 4);
  lb_http_reader_close(&r);
}

static void test_request_format(void **state) {
  (void)state;
  Lb__Request req = LB__REQUEST__INIT;
  req.id = UINT64_MAX;
  req.client = UINT32_MAX;
  req.channel = 7;
  req.is_probe = 1;
  req.response_delay_ns = 123456789;
  char buf[LB_HTTP_REQUEST_MAX];
  int n = lb_http_request_format(&req, buf, sizeof(buf));
  assert_true(n > 0 && n < (int)sizeof(buf));
  assert_int_equal((int)strlen(buf), n);
  assert_true(strncmp(buf, "POST /work HTTP/1.1\r\n", 21) == 0);
  assert_non_null(strstr(buf, "\r\nX-Lb-Id: 18446744073709551615\r\n"));
  assert_non_null(strstr(buf, "\r\nX-Lb-Client: 4294967295\r\n"));
  assert_non_null(strstr(buf, "\r\nX-Lb-Channel: 7\r\n"));
  assert_non_null(strstr(buf, "\r\nX-Lb-Probe: 1\r\n"));
  assert_non_null(strstr(buf, "\r\nX-Lb-Response-Delay-Ns: 123456789\r\n"));
  assert_non_null(strstr(buf, "\r\nContent-Length: 0\r\n"));
  assert_true(strcmp(buf + n - 4, "\r\n\r\n") == 0);
  assert_int_equal(lb_http_request_format(&req, buf, 40), -EMSGSIZE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_format),   cmocka_unit_test(test_split_everywhere),
      cmocka_unit_test(test_order_across_growth), cmocka_unit_test(test_broken_streams),
      cmocka_unit_test(test_bad_answers),      cmocka_unit_test(test_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
