/* framing: empty, oversize, truncated, garbage, wrong version, and valid
 * frames (one, and two back to back) split at every byte offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "framing.h"
#include "rng.h"

static size_t make_request(uint64_t id, uint32_t version, uint8_t *buf, size_t cap) {
  Lb__Request req = LB__REQUEST__INIT;
  Lb__Envelope env = LB__ENVELOPE__INIT;
  req.id = id;
  req.client = 7;
  req.channel = 3;
  req.is_probe = id % 2;
  env.version = version;
  env.body_case = LB__ENVELOPE__BODY_REQUEST;
  env.request = &req;
  int n = lb_frame_encode(&env, buf, cap);
  assert_true(n > LB_FRAME_HEADER);
  assert_int_equal((size_t)n, lb_frame_encoded_size(&env));
  return (size_t)n;
}

static struct lb_frame_reader reader(void) {
  struct lb_frame_reader r;
  assert_int_equal(lb_frame_reader_init(&r, LB_FRAME_MAX_DEFAULT), 0);
  return r;
}

static void test_empty(void **state) {
  (void)state;
  struct lb_frame_reader r = reader();
  Lb__Envelope *env = (Lb__Envelope *)1;
  char err[256] = "";
  assert_int_equal(lb_frame_reader_next(&r, &env, err, sizeof(err)), 0);
  assert_null(env);
  assert_int_equal(lb_frame_reader_feed(&r, (const uint8_t *)"", 0, err, sizeof(err)), 0);
  assert_int_equal(lb_frame_reader_next(&r, &env, err, sizeof(err)), 0);
  lb_frame_reader_close(&r);
  lb_frame_reader_close(&r); /* closing twice is harmless */
}

static void test_oversize(void **state) {
  (void)state;
  struct lb_frame_reader r = reader();
  char err[256] = "";
  const uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
  assert_int_equal(lb_frame_reader_feed(&r, huge, 4, err, sizeof(err)), -EMSGSIZE);
  assert_string_equal(err, "frame of 2147483647 bytes exceeds the limit of 65536 bytes");
  assert_null(r.buf); /* refused before any allocation */
  lb_frame_reader_close(&r);
  /* The length split over two reads, after a valid frame. */
  uint8_t buf[256];
  size_t n = make_request(1, 1, buf, sizeof(buf));
  const uint8_t just_over[4] = {0x00, 0x01, 0x00, 0x01}; /* 65537 */
  r = reader();
  memcpy(buf + n, just_over, 2);
  assert_int_equal(lb_frame_reader_feed(&r, buf, n + 2, err, sizeof(err)), 0);
  assert_int_equal(lb_frame_reader_feed(&r, just_over + 2, 2, err, sizeof(err)), -EMSGSIZE);
  assert_true(r.cap < 65537);
  lb_frame_reader_close(&r);
  /* Exactly the limit is accepted (and waits for its bytes). */
  const uint8_t at_limit[4] = {0x00, 0x01, 0x00, 0x00};
  r = reader();
  assert_int_equal(lb_frame_reader_feed(&r, at_limit, 4, err, sizeof(err)), 0);
  Lb__Envelope *env = NULL;
  assert_int_equal(lb_frame_reader_next(&r, &env, err, sizeof(err)), 0);
  lb_frame_reader_close(&r);
}

static void test_truncated(void **state) {
  (void)state;
  uint8_t buf[256];
  char err[256] = "";
  size_t n = make_request(5, 1, buf, sizeof(buf));
  struct lb_frame_reader r = reader();
  Lb__Envelope *env = NULL;
  assert_int_equal(lb_frame_reader_feed(&r, buf, n - 1, err, sizeof(err)), 0);
  assert_int_equal(lb_frame_reader_next(&r, &env, err, sizeof(err)), 0);
  assert_int_equal(lb_frame_reader_next(&r, &env, err, sizeof(err)), 0);
  assert_null(env);
  lb_frame_reader_close(&r);
  /* A datagram cut short is garbage (no reassembly on UDP). */
  int rc =
      lb_datagram_decode(buf + LB_FRAME_HEADER, n - LB_FRAME_HEADER - 3, &env, err, sizeof(err));
  assert_int_equal(rc, -EBADMSG);
  assert_null(env);
}

static void expect_bad(const uint8_t *frame, size_t n, const char *reason) {
  struct lb_frame_reader r = reader();
  Lb__Envelope *env = NULL;
  char err[256] = "";
  assert_int_equal(lb_frame_reader_feed(&r, frame, n, err, sizeof(err)), 0);
  assert_int_equal(lb_frame_reader_next(&r, &env, err, sizeof(err)), -EBADMSG);
  assert_null(env);
  assert_string_equal(err, reason);
  lb_frame_reader_close(&r);
  /* The same payload as a datagram. */
  err[0] = '\0';
  assert_int_equal(lb_datagram_decode(frame + 4, n - 4, &env, err, sizeof(err)), -EBADMSG);
  assert_null(env);
  assert_string_equal(err, reason);
}

static void test_garbage(void **state) {
  (void)state;
  uint8_t g[14] = {0, 0, 0, 10};
  memset(g + 4, 0xff, 10);
  expect_bad(g, sizeof(g), "10 bytes that are not a protobuf Envelope");
  /* field 1 as a length-delimited field: wrong wire type */
  const uint8_t wrong_type[] = {0, 0, 0, 3, 0x0a, 0x01, 0x00};
  expect_bad(wrong_type, sizeof(wrong_type), "3 bytes that are not a protobuf Envelope");
  /* Empty payload: version 0. */
  const uint8_t empty[] = {0, 0, 0, 0};
  expect_bad(empty, sizeof(empty), "envelope version 0, expected 1");
  /* Version 1, no body. */
  const uint8_t no_body[] = {0, 0, 0, 2, 0x08, 0x01};
  expect_bad(no_body, sizeof(no_body), "envelope without a request or response body");
}

static void test_wrong_version(void **state) {
  (void)state;
  uint8_t buf[256];
  size_t n = make_request(9, 2, buf, sizeof(buf));
  expect_bad(buf, n, "envelope version 2, expected 1");
}

static void assert_request(Lb__Envelope *env, uint64_t id) {
  assert_non_null(env);
  assert_int_equal(env->version, 1);
  assert_int_equal(env->body_case, LB__ENVELOPE__BODY_REQUEST);
  assert_true(env->request->id == id);
  assert_int_equal(env->request->client, 7);
  assert_int_equal(env->request->channel, 3);
  assert_int_equal(!!env->request->is_probe, (int)(id % 2));
  lb__envelope__free_unpacked(env, NULL);
}

/* Feeds buf in two parts split at `split`, draining after each feed;
 * returns the ids seen, in order. */
static size_t feed_split(const uint8_t *buf, size_t n, size_t split, uint64_t *ids) {
  struct lb_frame_reader r = reader();
  Lb__Envelope *env = NULL;
  char err[256] = "";
  size_t seen = 0;
  const size_t parts[3] = {0, split, n};
  for (int p = 0; p < 2; p++) {
    assert_int_equal(
        lb_frame_reader_feed(&r, buf + parts[p], parts[p + 1] - parts[p], err, sizeof(err)), 0);
    int rc;
    while ((rc = lb_frame_reader_next(&r, &env, err, sizeof(err))) == 1) {
      ids[seen++] = env->request->id;
      assert_request(env, ids[seen - 1]);
    }
    assert_int_equal(rc, 0);
  }
  assert_true(r.start == 0 && r.len == 0); /* nothing left over */
  lb_frame_reader_close(&r);
  return seen;
}

static void test_split_every_offset(void **state) {
  (void)state;
  uint8_t buf[512];
  uint64_t ids[4];
  size_t n1 = make_request(41, 1, buf, sizeof(buf));
  for (size_t k = 0; k <= n1; k++) {
    assert_int_equal(feed_split(buf, n1, k, ids), 1);
    assert_true(ids[0] == 41);
  }
  size_t n2 = n1 + make_request(1ULL << 40, 1, buf + n1, sizeof(buf) - n1);
  for (size_t k = 0; k <= n2; k++) {
    assert_int_equal(feed_split(buf, n2, k, ids), 2);
    assert_true(ids[0] == 41 && ids[1] == 1ULL << 40);
  }
  /* One byte at a time. */
  struct lb_frame_reader r = reader();
  Lb__Envelope *env = NULL;
  char err[256] = "";
  size_t got = 0;
  for (size_t i = 0; i < n2; i++) {
    assert_int_equal(lb_frame_reader_feed(&r, buf + i, 1, err, sizeof(err)), 0);
    int rc = lb_frame_reader_next(&r, &env, err, sizeof(err));
    assert_int_equal(rc, i == n1 - 1 || i == n2 - 1);
    if (rc == 1)
      assert_request(env, got++ == 0 ? 41 : 1ULL << 40);
  }
  assert_int_equal(got, 2);
  lb_frame_reader_close(&r);
}

static void test_encode_too_small(void **state) {
  (void)state;
  uint8_t buf[256];
  size_t n = make_request(3, 1, buf, sizeof(buf));
  Lb__Request req = LB__REQUEST__INIT;
  Lb__Envelope env = LB__ENVELOPE__INIT;
  req.id = 3;
  req.client = 7;
  req.channel = 3;
  req.is_probe = 1;
  env.version = 1;
  env.body_case = LB__ENVELOPE__BODY_REQUEST;
  env.request = &req;
  assert_int_equal(lb_frame_encode(&env, buf, n - 1), -EMSGSIZE);
  assert_int_equal(lb_frame_encode(&env, buf, n), (int)n);
  Lb__Envelope *out = NULL;
  char err[256] = "";
  assert_int_equal(lb_datagram_decode(buf + 4, n - 4, &out, err, sizeof(err)), 0);
  assert_request(out, 3);
}

static void test_report_wire(void **state) {
  (void)state;
  struct lb_server_report in, out;
  memset(&in, 0, sizeof(in));
  in.utilization = (struct lb_stat){true, 50, 40.5, 42.25};
  in.queries_per_tick = (struct lb_stat){true, 3, 2.5, 2.75};
  in.requests_in_flight = (struct lb_stat){false, 0, 0, 0};
  in.queued_requests = (struct lb_stat){true, 0, 0.1, 0.01};
  in.latency = (struct lb_stat){true, 7, 6.5, 6.9};
  in.has_expected_latency = true;
  in.expected_latency = 8.125;
  in.pid_weight = -3.5;
  in.orca_utilization = 0.4225;
  in.orca_qps = 250;
  in.orca_eps = 1.5;
  in.server = 12;
  in.threads = 97;
  in.has_probe_answer = true;
  in.probe_rif = 7;
  in.probe_latency = 12.5;
  in.resets = 3;
  Lb__ServerReport w;
  Lb__Stat stats[5];
  lb_report_to_wire(&in, &w, stats);
  /* Through the wire, inside a Response. */
  Lb__Response resp = LB__RESPONSE__INIT;
  Lb__Envelope env = LB__ENVELOPE__INIT;
  resp.id = 77;
  resp.report = &w;
  env.version = 1;
  env.body_case = LB__ENVELOPE__BODY_RESPONSE;
  env.response = &resp;
  uint8_t buf[1024];
  int n = lb_frame_encode(&env, buf, sizeof(buf));
  assert_true(n > 0);
  Lb__Envelope *got = NULL;
  char err[256] = "";
  assert_int_equal(lb_datagram_decode(buf + 4, (size_t)n - 4, &got, err, sizeof(err)), 0);
  assert_int_equal(got->body_case, LB__ENVELOPE__BODY_RESPONSE);
  assert_non_null(got->response->report);
  lb_report_from_wire(got->response->report, &out);
  lb__envelope__free_unpacked(got, NULL);
  assert_memory_equal(&in.utilization, &out.utilization, sizeof(in.utilization));
  assert_true(out.queries_per_tick.valid && out.queries_per_tick.ewma == 2.75);
  assert_false(out.requests_in_flight.valid);
  assert_true(out.queued_requests.mean == 0.1);
  assert_true(out.latency.latest == 7);
  assert_true(out.has_expected_latency && out.expected_latency == 8.125);
  assert_true(out.pid_weight == -3.5);
  assert_true(out.orca_utilization == 0.4225 && out.orca_qps == 250 && out.orca_eps == 1.5);
  assert_int_equal(out.server, 12);
  assert_int_equal(out.threads, 97);
  assert_true(out.has_probe_answer && out.probe_rif == 7 && out.probe_latency == 12.5);
  assert_int_equal(out.resets, 3);
  /* A report with no stats (an older sender): every stat is None. */
  Lb__ServerReport bare = LB__SERVER_REPORT__INIT;
  lb_report_from_wire(&bare, &out);
  assert_false(out.utilization.valid);
  assert_false(out.latency.valid);
  assert_false(out.has_expected_latency);
}

/* Random bytes in random pieces: every call answers 0, 1, -EMSGSIZE or
 * -EBADMSG, and nothing is read or written out of bounds (run it under
 * LB_SANITIZE). */
static void test_random_input(void **state) {
  (void)state;
  struct lb_rng *rng = NULL;
  assert_int_equal(lb_rng_new(2024, &rng), 0);
  uint8_t data[600];
  for (int round = 0; round < 2000; round++) {
    size_t n = lb_rng_below(rng, sizeof(data));
    for (size_t i = 0; i < n; i++)
      data[i] = (uint8_t)lb_rng_below(rng, 256);
    if (n >= 4 && lb_rng_below(rng, 2)) { /* a plausible length, often */
      data[0] = data[1] = 0;
      data[2] = (uint8_t)lb_rng_below(rng, 3);
    }
    struct lb_frame_reader r = reader();
    char err[256];
    size_t off = 0;
    int rc = 0;
    while (off < n && rc >= 0) {
      size_t piece = 1 + lb_rng_below(rng, n - off);
      rc = lb_frame_reader_feed(&r, data + off, piece, err, sizeof(err));
      assert_true(rc == 0 || rc == -EMSGSIZE);
      off += piece;
      Lb__Envelope *env = NULL;
      while (rc == 0 && (rc = lb_frame_reader_next(&r, &env, err, sizeof(err))) == 1) {
        assert_int_equal(env->version, 1);
        lb__envelope__free_unpacked(env, NULL);
      }
      assert_true(rc == 0 || rc == -EMSGSIZE || rc == -EBADMSG);
    }
    lb_frame_reader_close(&r);
    Lb__Envelope *env = NULL;
    rc = lb_datagram_decode(data, n, &env, err, sizeof(err));
    assert_true(rc == 0 || rc == -EBADMSG);
    if (rc == 0)
      lb__envelope__free_unpacked(env, NULL);
  }
  lb_rng_free(rng);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_oversize),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_wrong_version),
      cmocka_unit_test(test_split_every_offset),
      cmocka_unit_test(test_encode_too_small),
      cmocka_unit_test(test_report_wire),
      cmocka_unit_test(test_random_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
