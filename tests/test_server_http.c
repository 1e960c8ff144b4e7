/* server_http: what an HTTP request means to the model (paths, methods,
 * the x-lb-* headers and their defaults, malformed numbers), and the
 * headers a reply carries (the report in endpoint-load-metrics reads back
 * through orca_text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "orca_text.h"
#include "server_http.h"

static struct lb_http_request request(const char *method, const char *url) {
  struct lb_http_request r;
  memset(&r, 0, sizeof(r));
  r.method = method;
  r.url = url;
  return r;
}

static void add(struct lb_http_request *r, const char *name, const char *value) {
  struct lb_http_header *h = &r->headers[r->nheaders++];
  h->name = name;
  h->name_len = strlen(name);
  h->value = value;
  h->value_len = strlen(value);
}

static void test_defaults(void **state) {
  (void)state;
  char err[200];
  Lb__Request in = LB__REQUEST__INIT;
  struct lb_http_request r = request("GET", "/");
  assert_int_equal(lb_server_http_request(&r, &in, err, sizeof(err)), 0);
  assert_int_equal(in.client, 0);
  assert_int_equal(in.channel, 0);
  assert_false(in.is_probe);
  assert_int_equal(in.response_delay_ns, 0);
  r = request("GET", "/?x=1");
  assert_int_equal(lb_server_http_request(&r, &in, err, sizeof(err)), 0);
}

static void test_headers(void **state) {
  (void)state;
  char err[200];
  Lb__Request in = LB__REQUEST__INIT;
  struct lb_http_request r = request("POST", "/work");
  add(&r, "X-LB-Client", "7");
  add(&r, "x-lb-probe", "1");
  add(&r, "x-lb-response-delay-ns", "2500000");
  assert_int_equal(lb_server_http_request(&r, &in, err, sizeof(err)), 0);
  assert_int_equal(in.client, 7);
  assert_int_equal(in.channel, 7); /* the client's, by default */
  assert_true(in.is_probe);
  assert_int_equal(in.response_delay_ns, 2500000);
  add(&r, "x-lb-channel", "3");
  assert_int_equal(lb_server_http_request(&r, &in, err, sizeof(err)), 0);
  assert_int_equal(in.channel, 3);
}

static void expect(const char *method, const char *url, const char *name, const char *value,
                   int code, const char *needle) {
  char err[200] = "";
  Lb__Request in = LB__REQUEST__INIT;
  struct lb_http_request r = request(method, url);
  if (name)
    add(&r, name, value);
  int got = lb_server_http_request(&r, &in, err, sizeof(err));
  if (got != code || !strstr(err, needle))
    fail_msg("%s %s %s: %s: got %d \"%s\", expected %d \"%s\"", method, url, name ? name : "",
             value ? value : "", got, err, code, needle);
}

static void test_refused(void **state) {
  (void)state;
  expect("GET", "/other", NULL, NULL, 404, "/other");
  expect("GET", "/workx", NULL, NULL, 404, "/workx");
  expect("DELETE", "/work", NULL, NULL, 405, "DELETE");
  expect("GET", "/", "x-lb-client", "-1", 400, "x-lb-client");
  expect("GET", "/", "x-lb-client", "4294967296", 400, "x-lb-client");
  expect("GET", "/", "x-lb-client", "", 400, "x-lb-client");
  expect("GET", "/", "x-lb-probe", "2", 400, "x-lb-probe");
  expect("GET", "/", "x-lb-response-delay-ns", "1e9", 400, "x-lb-response-delay-ns");
  expect("GET", "/", "x-lb-response-delay-ns", "99999999999999999999", 400, "delay");
  expect("GET", "/", "x-lb-channel", " 1", 400, "x-lb-channel");
}

static void test_reply_headers(void **state) {
  (void)state;
  struct lb_server_report rep;
  memset(&rep, 0, sizeof(rep));
  rep.orca_utilization = 0.5;
  rep.requests_in_flight = (struct lb_stat){true, 3, 2.5, 2.75};
  rep.threads = 4;
  struct lb_server_http_reply r = {.status = LB__STATUS__STATUS_REJECTED,
                                   .report = &rep,
                                   .rif_now = 5,
                                   .latency_estimate = -1,
                                   .queue_ns = 10,
                                   .processing_ns = 20,
                                   .hold_ns = 30};
  char buf[LB_SERVER_HTTP_HEADERS_MAX];
  int n = lb_server_http_headers(&r, buf, sizeof(buf));
  assert_true(n > 0);
  assert_int_equal(lb_server_http_status(r.status), 503);
  assert_int_equal(lb_server_http_status(LB__STATUS__STATUS_OK), 200);
  assert_int_equal(lb_server_http_status(LB__STATUS__STATUS_BAD_REQUEST), 400);
  assert_non_null(strstr(buf, "x-lb-requests-in-flight: 5\r\n"));
  assert_non_null(strstr(buf, "x-lb-latency-estimate: -1\r\n"));
  assert_non_null(strstr(buf, "x-lb-status: rejected\r\n"));
  assert_non_null(
      strstr(buf, "x-lb-queue-ns: 10\r\nx-lb-processing-ns: 20\r\nx-lb-hold-ns: 30\r\n"));
  /* The ORCA header reads back to the report. */
  const char *v = strstr(buf, LB_ORCA_HEADER ": ");
  assert_ptr_equal(v, buf);
  v += strlen(LB_ORCA_HEADER ": ");
  const char *end = strstr(v, "\r\n");
  struct lb_server_report back;
  char err[200];
  assert_int_equal(lb_orca_text_parse(v, (size_t)(end - v), &back, err, sizeof(err)), 0);
  assert_true(back.orca_utilization == 0.5);
  assert_true(back.requests_in_flight.valid && back.requests_in_flight.mean == 2.5);
  assert_int_equal(back.threads, 4);
  /* Too small a buffer: refused, not cut. */
  for (size_t cap = 0; cap < (size_t)n; cap += 29)
    assert_true(lb_server_http_headers(&r, buf, cap) < 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_headers),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_reply_headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
