/* http_server: over loopback on one loop, a client writes raw bytes and
 * reads to EOF. Pipelined requests answered out of order come back in
 * order (through the pipeline bound, where reading pauses); a request split
 * at every byte parses as one; malformed, oversized header and oversized
 * body get 400/431/413 and the connection ends; a connection over the bound
 * is closed unanswered; HTTP/1.0 keep-alive is answered as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "http_server.h"

#define MAX_HELD 16

struct held {
  struct lb_http_conn *conn;
  uint64_t seq;
  char url[64];
  char xn[16]; /* header x-n */
};

struct client;

struct fixture {
  uv_loop_t loop;
  uv_timer_t guard;
  uv_idle_t answer_later; /* answers the held pair on the next iteration */
  struct lb_http_server *srv;
  int answer_in_pairs; /* hold requests, answer each pair in reverse, later */
  int hold_all;        /* hold until release_held() */
  struct held held[MAX_HELD];
  int nheld;
  int requests;
  struct client *second; /* connect this one when the first request came */
  struct lb_http_server_stats stats; /* at the end, before the server is freed */
  int clients_open;
};

struct client {
  struct fixture *f;
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_idle_t idle; /* writes byte by byte when bytewise */
  const char *send;
  size_t send_len, sent;
  int bytewise;
  char got[16384];
  size_t got_len;
  int eof;
  void (*on_eof)(struct client *c);
};

static void answer(struct held *h) {
  char body[128];
  int n = snprintf(body, sizeof(body), "%s %s", h->url, h->xn);
  assert_int_equal(lb_http_respond(h->conn, h->seq, 200, "x-test: 1\r\n", body, (size_t)n), 0);
  lb_http_conn_unref(h->conn);
}

/* Answers what is held, last first; answering may parse more requests,
 * which are held anew. */
static void release_held(struct fixture *f) {
  struct held now[MAX_HELD];
  int n = f->nheld;
  memcpy(now, f->held, sizeof(now));
  f->nheld = 0;
  for (int i = n - 1; i >= 0; i--)
    answer(&now[i]);
}

static void client_start(struct client *c);

static void on_answer_later(uv_idle_t *idle) {
  struct fixture *f = idle->data;
  uv_idle_stop(idle);
  release_held(f);
}

static void on_request(void *ctx, struct lb_http_conn *conn, uint64_t seq,
                       const struct lb_http_request *req) {
  struct fixture *f = ctx;
  f->requests++;
  assert_true(f->nheld < MAX_HELD);
  struct held *h = &f->held[f->nheld++];
  h->conn = conn;
  h->seq = seq;
  snprintf(h->url, sizeof(h->url), "%s", req->url);
  size_t len = 0;
  const char *xn = lb_http_request_header(req, "X-N", &len);
  snprintf(h->xn, sizeof(h->xn), "%.*s", xn ? (int)len : 1, xn ? xn : "-");
  if (f->second) {
    client_start(f->second);
    f->second = NULL;
  }
  if (f->hold_all)
    return;
  if (!f->answer_in_pairs)
    release_held(f);
  else if (f->nheld == 2)
    uv_idle_start(&f->answer_later, on_answer_later);
}

static void on_client_closed(uv_handle_t *h) {
  struct client *c = h->data;
  if (--c->f->clients_open == 0)
    lb_http_server_close(c->f->srv);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct client *c = h->data;
  (void)hint;
  *buf = uv_buf_init(c->got + c->got_len, (unsigned)(sizeof(c->got) - 1 - c->got_len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  struct client *c = st->data;
  (void)buf;
  if (n > 0) {
    c->got_len += (size_t)n;
    c->got[c->got_len] = '\0';
    return;
  }
  if (n < 0) {
    c->eof = 1;
    if (c->on_eof)
      c->on_eof(c);
    if (!uv_is_closing((uv_handle_t *)&c->idle))
      uv_close((uv_handle_t *)&c->idle, NULL);
    uv_close((uv_handle_t *)&c->tcp, on_client_closed);
  }
}

static void on_idle(uv_idle_t *idle) {
  struct client *c = idle->data;
  if (c->sent < c->send_len) {
    uv_buf_t b = uv_buf_init((char *)c->send + c->sent, 1);
    if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) == 1)
      c->sent++;
  }
  if (c->sent == c->send_len)
    uv_idle_stop(idle);
}

static void on_connect(uv_connect_t *req, int status) {
  struct client *c = req->data;
  assert_int_equal(status, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (c->bytewise) {
    uv_idle_start(&c->idle, on_idle);
    return;
  }
  uv_buf_t b = uv_buf_init((char *)c->send, (unsigned)c->send_len);
  assert_int_equal(uv_try_write((uv_stream_t *)&c->tcp, &b, 1), (int)c->send_len);
}

static void client_start(struct client *c) {
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", lb_http_server_port(c->f->srv), &addr);
  uv_tcp_init(&c->f->loop, &c->tcp);
  uv_idle_init(&c->f->loop, &c->idle);
  c->tcp.data = c->idle.data = c->connect.data = c;
  c->send_len = strlen(c->send);
  c->f->clients_open++;
  assert_int_equal(uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&addr, on_connect), 0);
}

static void on_guard(uv_timer_t *t) {
  (void)t;
  fail_msg("the exchange did not end");
}

static void fixture_init(struct fixture *f, int max_pipeline, int max_connections) {
  memset(f, 0, sizeof(*f));
  assert_int_equal(uv_loop_init(&f->loop), 0);
  struct lb_http_server_config cfg;
  lb_http_server_config_defaults(&cfg);
  cfg.max_pipeline = max_pipeline;
  cfg.max_connections = max_connections;
  cfg.max_header = 512;
  cfg.max_body = 100;
  cfg.idle_ms = 0;
  cfg.name = "test";
  cfg.on_request = on_request;
  cfg.ctx = f;
  char err[200];
  assert_int_equal(lb_http_server_new(&f->loop, &cfg, &f->srv, err, sizeof(err)), 0);
  assert_true(lb_http_server_port(f->srv) > 0);
  uv_timer_init(&f->loop, &f->guard);
  uv_timer_start(&f->guard, on_guard, 10000, 0);
  uv_unref((uv_handle_t *)&f->guard);
  uv_idle_init(&f->loop, &f->answer_later);
  f->answer_later.data = f;
}

static void fixture_run(struct fixture *f) {
  uv_run(&f->loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&f->guard, NULL);
  uv_close((uv_handle_t *)&f->answer_later, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  lb_http_server_get_stats(f->srv, &f->stats);
  lb_http_server_free(f->srv);
}

static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void test_pipelined_in_order(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 2, 8); /* two in flight: reading pauses at each pair */
  f.answer_in_pairs = 1;
  struct client c = {.f = &f,
                     .send = "GET /1 HTTP/1.1\r\nX-N: a\r\n\r\n"
                             "POST /2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
                             "GET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n"
                             "GET /5?q=1 HTTP/1.1\r\nx-n: e\r\n\r\n"
                             "GET /6 HTTP/1.1\r\nConnection: close\r\n\r\n"
                             "GET /never HTTP/1.1\r\n\r\n"};
  client_start(&c);
  fixture_run(&f);
  assert_int_equal(f.requests, 6); /* nothing parsed after Connection: close */
  const char *order[] = {"/1 a", "/2 -", "/3 -", "/4 -", "/5?q=1 e", "/6 -"};
  const char *p = c.got;
  for (int i = 0; i < 6; i++) {
    p = strstr(p, "HTTP/1.1 200 OK\r\n");
    assert_non_null(p);
    const char *body = strstr(p, "\r\n\r\n") + 4;
    assert_memory_equal(body, order[i], strlen(order[i]));
    p = body;
  }
  assert_int_equal(count(c.got, "HTTP/1.1"), 6);
  assert_int_equal(count(c.got, "Connection: close"), 1);
  assert_non_null(strstr(c.got, "Connection: close\r\nx-test: 1\r\n\r\n/6 -"));
  struct lb_http_server_stats st = f.stats;
  assert_int_equal(st.requests, 6);
  assert_int_equal(st.bad_requests, 0);
}

static void test_split_at_every_byte(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, 8);
  struct client c = {.f = &f,
                     .bytewise = 1,
                     .send = "GET /split HTTP/1.1\r\nX-Long-Name: x\r\nX-N: 12345\r\n"
                             "Connection: close\r\n\r\n"};
  client_start(&c);
  fixture_run(&f);
  assert_int_equal(f.requests, 1);
  assert_non_null(strstr(c.got, "\r\n\r\n/split 12345"));
}

static void expect_refusal(const char *send, const char *status, int requests) {
  struct fixture f;
  fixture_init(&f, 4, 8);
  struct client c = {.f = &f, .send = send};
  client_start(&c);
  fixture_run(&f);
  assert_int_equal(f.requests, requests);
  const char *p = strstr(c.got, status);
  if (!p)
    fail_msg("expected %s, got \"%s\"", status, c.got);
  assert_non_null(strstr(p, "Connection: close\r\n"));
  assert_int_equal(count(c.got, "HTTP/1.1"), requests + 1);
  struct lb_http_server_stats st = f.stats;
  assert_int_equal(st.bad_requests, 1);
}

static void test_bad_requests(void **state) {
  (void)state;
  /* A good request first: the 400 comes after its answer. */
  expect_refusal("GET /ok HTTP/1.1\r\n\r\nBLAH\r\n\r\n", "HTTP/1.1 400 Bad Request", 1);
  expect_refusal("GET / HTTP/1.1\r\nHost x\r\n\r\n", "HTTP/1.1 400 Bad Request", 0);
  char big[1024];
  snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX-Big: %0600d\r\n\r\n", 7);
  expect_refusal(big, "HTTP/1.1 431 ", 0);
  expect_refusal("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", "HTTP/1.1 413 ", 0);
  expect_refusal("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
                 "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
                 "0\r\n\r\n",
                 "HTTP/1.1 413 ", 0);
}

static void on_second_eof(struct client *c) {
  release_held(c->f); /* the first's request, held until now */
}

static void test_connection_bound(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, 1);
  f.hold_all = 1;
  struct client a = {.f = &f, .send = "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n"};
  struct client b = {.f = &f, .send = "GET /b HTTP/1.1\r\n\r\n", .on_eof = on_second_eof};
  f.second = &b; /* connects once a's request arrived */
  client_start(&a);
  fixture_run(&f);
  assert_int_equal(f.requests, 1);
  assert_int_equal(b.got_len, 0); /* closed unanswered */
  assert_non_null(strstr(a.got, "\r\n\r\n/a -"));
  struct lb_http_server_stats st = f.stats;
  assert_int_equal(st.connections, 1);
  assert_int_equal(st.connections_refused, 1);
}

static void test_http10(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, 8);
  struct client c = {.f = &f,
                     .send = "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                             "GET /c HTTP/1.0\r\n\r\n"};
  client_start(&c);
  fixture_run(&f);
  assert_int_equal(f.requests, 2);
  assert_non_null(strstr(c.got, "Connection: keep-alive\r\nx-test: 1\r\n\r\n/k -"));
  assert_non_null(strstr(c.got, "Connection: close\r\nx-test: 1\r\n\r\n/c -"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pipelined_in_order),
      cmocka_unit_test(test_split_at_every_byte),
      cmocka_unit_test(test_bad_requests),
      cmocka_unit_test(test_connection_bound),
      cmocka_unit_test(test_http10),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
