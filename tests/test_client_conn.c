/* client_conn: a connection against an in-process TCP server on loopback
 * (port 0): a request goes out framed and its response comes back; when the
 * server closes the connection the owner hears it once, and the connection
 * comes back up by itself; sends while down fail fast. UDP requests are
 * padded to the largest response. HTTP answers are matched by order, a bad
 * one fails only its request, a close fails what is left. Stopped by a
 * timer if anything hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <uv.h>

#include "client_conn.h"
#include "framing.h"
#include "orca_text.h"

struct srv_conn {
  uv_tcp_t tcp;
  struct lb_frame_reader reader;
  uint8_t buf[4096];
};

struct fixture {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_timer_t guard;
  struct srv_conn *peer;
  struct lb_conn conn;
  int accepted, ups, downs, responses;
  uint64_t last_id;
  bool down_send_failed;
  bool done;
};

static void srv_closed(uv_handle_t *h) {
  struct srv_conn *sc = h->data;
  lb_frame_reader_close(&sc->reader);
  free(sc);
}

static void srv_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)n;
  struct srv_conn *sc = h->data;
  *b = uv_buf_init((char *)sc->buf, sizeof(sc->buf));
}

static void srv_written(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void finish(struct fixture *f) {
  f->done = true;
  lb_conn_close(&f->conn);
  if (f->peer) {
    uv_close((uv_handle_t *)&f->peer->tcp, srv_closed);
    f->peer = NULL;
  }
  uv_close((uv_handle_t *)&f->listener, NULL);
  uv_close((uv_handle_t *)&f->guard, NULL);
}

/* The server answers each request with a response of the same id. */
static void srv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct srv_conn *sc = s->data;
  struct fixture *f = s->loop->data;
  if (n < 0) {
    if (f->peer == sc)
      f->peer = NULL;
    uv_close((uv_handle_t *)s, srv_closed);
    return;
  }
  char err[128];
  assert_int_equal(
      lb_frame_reader_feed(&sc->reader, (uint8_t *)b->base, (size_t)n, err, sizeof(err)), 0);
  Lb__Envelope *env = NULL;
  while (lb_frame_reader_next(&sc->reader, &env, err, sizeof(err)) == 1) {
    assert_int_equal(env->body_case, LB__ENVELOPE__BODY_REQUEST);
    Lb__Response resp = LB__RESPONSE__INIT;
    resp.id = env->request->id;
    Lb__Envelope out = LB__ENVELOPE__INIT;
    out.version = LB__VERSION__VERSION_1;
    out.body_case = LB__ENVELOPE__BODY_RESPONSE;
    out.response = &resp;
    size_t len = lb_frame_encoded_size(&out);
    uv_write_t *w = malloc(sizeof(*w) + len);
    uint8_t *data = (uint8_t *)(w + 1);
    assert_true(lb_frame_encode(&out, data, len) > 0);
    uv_buf_t wb = uv_buf_init((char *)data, (unsigned)len);
    assert_int_equal(uv_write(w, s, &wb, 1, srv_written), 0);
    lb__envelope__free_unpacked(env, NULL);
  }
}

static void on_connection(uv_stream_t *l, int status) {
  struct fixture *f = l->loop->data;
  assert_int_equal(status, 0);
  struct srv_conn *sc = calloc(1, sizeof(*sc));
  lb_frame_reader_init(&sc->reader, LB_FRAME_MAX_DEFAULT);
  uv_tcp_init(l->loop, &sc->tcp);
  sc->tcp.data = sc;
  assert_int_equal(uv_accept(l, (uv_stream_t *)&sc->tcp), 0);
  uv_read_start((uv_stream_t *)&sc->tcp, srv_alloc, srv_read);
  f->peer = sc;
  f->accepted++;
}

/* Sends as the driver does: gathered, then written when flushed. */
static int send_one(struct fixture *f, uint64_t id) {
  Lb__Request req = LB__REQUEST__INIT;
  req.id = id;
  int rc = lb_conn_send_request(&f->conn, &req);
  if (rc == 0) {
    assert_true(f->conn.pending_len > 0); /* nothing written yet */
    lb_conn_flush(&f->conn);
    assert_int_equal(f->conn.pending_len, 0);
  }
  return rc;
}

static void on_up(void *arg, struct lb_conn *c) {
  struct fixture *f = arg;
  (void)c;
  f->ups++;
  assert_int_equal(send_one(f, 100 + (uint64_t)f->ups), 0);
}

static void on_down(void *arg, struct lb_conn *c, const char *reason) {
  struct fixture *f = arg;
  (void)reason;
  f->downs++;
  assert_int_equal(c->state, LB_CONN_DOWN);
  f->down_send_failed = send_one(f, 999) == -ENOTCONN;
}

static void on_response(void *arg, struct lb_conn *c, const Lb__Response *resp) {
  struct fixture *f = arg;
  (void)c;
  f->responses++;
  f->last_id = resp->id;
  if (f->responses == 1) {
    /* the server drops the connection: the client must notice and come back */
    uv_close((uv_handle_t *)&f->peer->tcp, srv_closed);
    f->peer = NULL;
  } else {
    finish(f);
  }
}

static void guard_cb(uv_timer_t *t) {
  struct fixture *f = t->loop->data;
  finish(f);
}

/* A loop whose data is fixture, a listener on 127.0.0.1 port 0 (its
 * address into addr) and a guard timer that ends a test that hangs. */
static void loopback_server(uv_loop_t *loop, void *fixture, uv_tcp_t *listener,
                            uv_connection_cb on_conn, uv_timer_t *guard, uv_timer_cb on_guard,
                            struct sockaddr_storage *addr) {
  assert_int_equal(uv_loop_init(loop), 0);
  loop->data = fixture;
  uv_tcp_init(loop, listener);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  assert_int_equal(uv_tcp_bind(listener, (struct sockaddr *)&any, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)listener, 16, on_conn), 0);
  int len = sizeof(*addr);
  uv_tcp_getsockname(listener, (struct sockaddr *)addr, &len);
  uv_timer_init(loop, guard);
  uv_timer_start(guard, on_guard, 10000, 0);
}

static void test_tcp_roundtrip_and_reconnect(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  struct fixture *f = calloc(1, sizeof(*f));
  struct sockaddr_storage addr;
  loopback_server(&f->loop, f, &f->listener, on_connection, &f->guard, guard_cb, &addr);
  struct lb_conn_callbacks cb = {
      .arg = f, .on_up = on_up, .on_down = on_down, .on_response = on_response};
  assert_int_equal(lb_conn_init(&f->conn, &f->loop, 0, 7, LB_TRANSPORT_TCP, &addr, &cb), 0);
  assert_int_equal(send_one(f, 1), -ENOTCONN); /* not up yet */
  assert_int_equal(lb_conn_start(&f->conn), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  assert_true(f->done);
  assert_int_equal(f->ups, 2);   /* first connect, then the reconnect */
  assert_int_equal(f->downs, 1); /* the server's close, heard once */
  assert_int_equal(f->accepted, 2);
  assert_int_equal(f->responses, 2);
  assert_true(f->last_id == 102);   /* the request sent after reconnecting */
  assert_true(f->down_send_failed); /* fail fast while down */
  assert_int_equal(f->conn.connects, 2);
  assert_int_equal(f->conn.disconnects, 1);
  free(f);
}

static void test_udp_padding_covers_responses(void **state) {
  (void)state;
  /* A full report with every field at its widest fits within the target. */
  size_t max = lb_conn_max_response_size();
  assert_true(max > 100);
  Lb__Request req = LB__REQUEST__INIT;
  Lb__Envelope env = LB__ENVELOPE__INIT;
  env.version = LB__VERSION__VERSION_1;
  env.body_case = LB__ENVELOPE__BODY_REQUEST;
  env.request = &req;
  assert_true(lb__envelope__get_packed_size(&env) < max); /* so padding is needed */
}

struct udp_fixture {
  uv_loop_t loop;
  uv_udp_t server;
  uv_timer_t guard;
  struct lb_conn conn;
  uint8_t buf[4096];
  ssize_t got;
};

static void udp_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)n;
  struct udp_fixture *f = h->loop->data;
  *b = uv_buf_init((char *)f->buf, sizeof(f->buf));
}

static void udp_finish(struct udp_fixture *f) {
  lb_conn_close(&f->conn);
  uv_close((uv_handle_t *)&f->server, NULL);
  uv_close((uv_handle_t *)&f->guard, NULL);
}

static void udp_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *addr,
                     unsigned flags) {
  struct udp_fixture *f = u->loop->data;
  (void)b;
  (void)flags;
  if (n <= 0 || !addr)
    return;
  f->got = n;
  udp_finish(f);
}

static void udp_guard(uv_timer_t *t) {
  udp_finish(t->loop->data);
}

static void test_udp_request_padded(void **state) {
  (void)state;
  struct udp_fixture *f = calloc(1, sizeof(*f));
  assert_int_equal(uv_loop_init(&f->loop), 0);
  f->loop.data = f;
  uv_udp_init(&f->loop, &f->server);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  assert_int_equal(uv_udp_bind(&f->server, (struct sockaddr *)&any, 0), 0);
  assert_int_equal(uv_udp_recv_start(&f->server, udp_alloc, udp_recv), 0);
  struct sockaddr_storage addr;
  int len = sizeof(addr);
  uv_udp_getsockname(&f->server, (struct sockaddr *)&addr, &len);
  uv_timer_init(&f->loop, &f->guard);
  uv_timer_start(&f->guard, udp_guard, 10000, 0);
  struct lb_conn_callbacks cb = {0};
  assert_int_equal(lb_conn_init(&f->conn, &f->loop, 0, 0, LB_TRANSPORT_UDP, &addr, &cb), 0);
  assert_int_equal(lb_conn_start(&f->conn), 0);
  assert_int_equal(f->conn.state, LB_CONN_UP); /* UDP: up at once */
  Lb__Request req = LB__REQUEST__INIT;
  req.id = 5;
  assert_int_equal(lb_conn_send_request(&f->conn, &req), 0);
  assert_null(req.padding.data); /* the caller's request is left as it was */
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  /* the datagram is at least as large as any response could be */
  assert_true(f->got >= (ssize_t)lb_conn_max_response_size());
  Lb__Envelope *env = NULL;
  char err[128];
  assert_int_equal(lb_datagram_decode(f->buf, (size_t)f->got, &env, err, sizeof(err)), 0);
  assert_true(env->request->id == 5);
  lb__envelope__free_unpacked(env, NULL);
  free(f);
}

/* ---- HTTP: pipelined answers matched by order; a good one, a bad one, a
 * 503; then the server closes with one request unanswered. ---- */

struct http_fixture {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_timer_t guard;
  uv_tcp_t *peer;
  uv_shutdown_t shutdown;
  struct lb_conn conn;
  char rx[16384];
  size_t rxlen;
  int accepted, ups, downs, answered;
  uint64_t ok_id, rejected_id, bad_id, last_id;
  int rejected_status;
  bool ok_had_report, done;
  char bad_why[192];
};

static void free_tcp(uv_handle_t *h) {
  free(h);
}

static int count_requests(const char *buf, size_t len) {
  int n = 0;
  for (size_t i = 0; i + 4 <= len; i++)
    n += memcmp(buf + i, "\r\n\r\n", 4) == 0;
  return n;
}

static void http_finish(struct http_fixture *f) {
  f->done = true;
  lb_conn_close(&f->conn);
  if (f->peer && !uv_is_closing((uv_handle_t *)f->peer))
    uv_close((uv_handle_t *)f->peer, free_tcp);
  f->peer = NULL;
  uv_close((uv_handle_t *)&f->listener, NULL);
  uv_close((uv_handle_t *)&f->guard, NULL);
}

static void http_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)n;
  struct http_fixture *f = h->loop->data;
  *b = uv_buf_init(f->rx + f->rxlen, (unsigned)(sizeof(f->rx) - f->rxlen));
}

static void http_shut(uv_shutdown_t *req, int status) {
  (void)status;
  uv_close((uv_handle_t *)req->handle, free_tcp);
}

static void http_answer(uv_stream_t *s, const char *text) {
  size_t len = strlen(text);
  uv_write_t *w = malloc(sizeof(*w) + len);
  memcpy(w + 1, text, len);
  uv_buf_t wb = uv_buf_init((char *)(w + 1), (unsigned)len);
  assert_int_equal(uv_write(w, s, &wb, 1, srv_written), 0);
}

static void good_response(char *out, size_t cap) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.server = 7;
  r.requests_in_flight = (struct lb_stat){true, 2, 2, 2};
  char orca[LB_ORCA_TEXT_MAX + 1];
  assert_true(lb_orca_text_format(&r, orca, sizeof(orca)) > 0);
  snprintf(out, cap,
           "HTTP/1.1 200 OK\r\nendpoint-load-metrics: %s\r\nx-lb-queue-ns: 1\r\n"
           "x-lb-processing-ns: 2\r\nx-lb-hold-ns: 3\r\nContent-Length: 3\r\n\r\nok\n",
           orca);
}

static void http_srv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct http_fixture *f = s->loop->data;
  (void)b;
  if (n < 0) {
    if (f->peer == (uv_tcp_t *)s)
      f->peer = NULL;
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, free_tcp);
    return;
  }
  f->rxlen += (size_t)n;
  int requests = count_requests(f->rx, f->rxlen);
  char good[LB_ORCA_TEXT_MAX + 256];
  good_response(good, sizeof(good));
  if (f->accepted == 1 && requests == 4) {
    /* ids 1..4 in one flush: answer three, in order, then close. */
    http_answer(s, good);
    http_answer(s, "HTTP/1.1 200 OK\r\nendpoint-load-metrics: TEXT eps:-1\r\n"
                      "x-lb-queue-ns: 1\r\nx-lb-processing-ns: 2\r\nx-lb-hold-ns: 3\r\n"
                      "Content-Length: 0\r\n\r\n");
    http_answer(s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nfull\n");
    uv_read_stop(s);
    f->peer = NULL;
    assert_int_equal(uv_shutdown(&f->shutdown, s, http_shut), 0);
  } else if (f->accepted == 2 && requests == 1) {
    http_answer(s, good);
  }
}

static void http_on_connection(uv_stream_t *l, int status) {
  struct http_fixture *f = l->loop->data;
  assert_int_equal(status, 0);
  uv_tcp_t *t = malloc(sizeof(*t));
  uv_tcp_init(l->loop, t);
  assert_int_equal(uv_accept(l, (uv_stream_t *)t), 0);
  f->rxlen = 0;
  uv_read_start((uv_stream_t *)t, http_alloc, http_srv_read);
  f->peer = t;
  f->accepted++;
}

static void http_send(struct http_fixture *f, uint64_t id) {
  Lb__Request req = LB__REQUEST__INIT;
  req.id = id;
  req.client = 1;
  req.channel = 1;
  assert_int_equal(lb_conn_send_request(&f->conn, &req), 0);
}

static void http_up(void *arg, struct lb_conn *c) {
  struct http_fixture *f = arg;
  f->ups++;
  if (f->ups == 1)
    for (uint64_t id = 1; id <= 4; id++)
      http_send(f, id);
  else
    http_send(f, 5);
  lb_conn_flush(c);
}

static void http_down(void *arg, struct lb_conn *c, const char *reason) {
  struct http_fixture *f = arg;
  (void)c;
  (void)reason;
  f->downs++;
  assert_int_equal(f->answered, 3); /* id 4 was never answered */
}

static void http_response(void *arg, struct lb_conn *c, const Lb__Response *resp) {
  struct http_fixture *f = arg;
  (void)c;
  f->answered++;
  f->last_id = resp->id;
  if (resp->status == LB__STATUS__STATUS_OK) {
    f->ok_id = resp->id;
    f->ok_had_report = resp->report && resp->report->server == 7 &&
                       resp->report->requests_in_flight->latest == 2 && resp->queue_ns == 1 &&
                       resp->processing_ns == 2 && resp->hold_ns == 3;
  } else {
    f->rejected_id = resp->id;
    f->rejected_status = (int)resp->status;
  }
  if (f->ups == 2)
    http_finish(f);
}

static void http_bad(void *arg, struct lb_conn *c, uint64_t id, const char *why) {
  struct http_fixture *f = arg;
  (void)c;
  f->answered++;
  f->bad_id = id;
  snprintf(f->bad_why, sizeof(f->bad_why), "%s", why);
}

static void http_guard(uv_timer_t *t) {
  http_finish(t->loop->data);
}

static void test_http_pipeline_bad_answer_and_close(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  struct http_fixture *f = calloc(1, sizeof(*f));
  struct sockaddr_storage addr;
  loopback_server(&f->loop, f, &f->listener, http_on_connection, &f->guard, http_guard, &addr);
  struct lb_conn_callbacks cb = {.arg = f,
                                 .on_up = http_up,
                                 .on_down = http_down,
                                 .on_response = http_response,
                                 .on_bad_response = http_bad};
  assert_int_equal(lb_conn_init(&f->conn, &f->loop, 0, 7, LB_TRANSPORT_HTTP, &addr, &cb), 0);
  f->conn.http_pool = 1; /* all four pipelined on one connection */
  assert_int_equal(lb_conn_start(&f->conn), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  assert_true(f->done);
  assert_true(f->ok_id == 5); /* the last good answer: after the reconnect */
  assert_true(f->ok_had_report);
  assert_true(f->bad_id == 2);
  assert_non_null(strstr(f->bad_why, "endpoint-load-metrics"));
  assert_true(f->rejected_id == 3);
  assert_int_equal(f->rejected_status, LB__STATUS__STATUS_REJECTED);
  assert_int_equal(f->answered, 4);
  assert_int_equal(f->downs, 1);
  assert_int_equal(f->ups, 2);
  assert_int_equal(f->accepted, 2);
  assert_int_equal(f->conn.bad_frames, 1);
  free(f);
}

/* ---- HTTP: the server closes an idle connection of the pool (its idle
 * timeout): that one is replaced, nothing fails, the pool stays up. ---- */

struct idle_peer {
  uv_tcp_t tcp;
  struct idle_fixture *f;
  char rx[4096];
  size_t rxlen;
  int answered;
};

struct idle_fixture {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_timer_t guard;
  struct lb_conn conn;
  struct idle_peer *peers[8];
  int accepted, requests, ups, downs, responses;
  uint64_t last_id;
  bool done;
};

static void idle_peer_closed(uv_handle_t *h) {
  struct idle_peer *p = h->data;
  for (int i = 0; i < 8; i++)
    if (p->f->peers[i] == p)
      p->f->peers[i] = NULL;
  free(p);
}

static void idle_close_peer(struct idle_peer *p) {
  if (!uv_is_closing((uv_handle_t *)&p->tcp))
    uv_close((uv_handle_t *)&p->tcp, idle_peer_closed);
}

static void idle_finish(struct idle_fixture *f) {
  f->done = true;
  lb_conn_close(&f->conn);
  for (int i = 0; i < 8; i++)
    if (f->peers[i])
      idle_close_peer(f->peers[i]);
  uv_close((uv_handle_t *)&f->listener, NULL);
  uv_close((uv_handle_t *)&f->guard, NULL);
}

static void idle_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)n;
  struct idle_peer *p = h->data;
  *b = uv_buf_init(p->rx + p->rxlen, (unsigned)(sizeof(p->rx) - p->rxlen));
}

static void idle_send(struct idle_fixture *f, uint64_t id) {
  Lb__Request req = LB__REQUEST__INIT;
  req.id = id;
  assert_int_equal(lb_conn_send_request(&f->conn, &req), 0);
}

static void idle_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct idle_peer *p = s->data;
  struct idle_fixture *f = p->f;
  (void)b;
  if (n < 0) {
    idle_close_peer(p);
    return;
  }
  p->rxlen += (size_t)n;
  char good[LB_ORCA_TEXT_MAX + 256];
  good_response(good, sizeof(good));
  while (p->answered < count_requests(p->rx, p->rxlen)) {
    p->answered++;
    http_answer(s, good);
    if (++f->requests == 1) /* the first: close every connection idle so far */
      for (int i = 0; i < 8; i++)
        if (f->peers[i] && f->peers[i] != p && f->peers[i]->rxlen == 0)
          idle_close_peer(f->peers[i]);
  }
}

static void idle_on_connection(uv_stream_t *l, int status) {
  struct idle_fixture *f = l->loop->data;
  assert_int_equal(status, 0);
  struct idle_peer *p = calloc(1, sizeof(*p));
  p->f = f;
  uv_tcp_init(l->loop, &p->tcp);
  p->tcp.data = p;
  assert_int_equal(uv_accept(l, (uv_stream_t *)&p->tcp), 0);
  uv_read_start((uv_stream_t *)&p->tcp, idle_alloc, idle_read);
  assert_true(f->accepted < 8);
  f->peers[f->accepted++] = p;
  if (f->accepted == 3) /* the replacement: the client sends again */
    idle_send(f, 2);
}

static void idle_up(void *arg, struct lb_conn *c) {
  struct idle_fixture *f = arg;
  (void)c;
  f->ups++;
  idle_send(f, 1);
}

static void idle_down(void *arg, struct lb_conn *c, const char *reason) {
  struct idle_fixture *f = arg;
  (void)c;
  (void)reason;
  f->downs++;
  idle_finish(f);
}

static void idle_response(void *arg, struct lb_conn *c, const Lb__Response *resp) {
  struct idle_fixture *f = arg;
  (void)c;
  f->responses++;
  f->last_id = resp->id;
  if (resp->id == 2)
    idle_finish(f);
}

static void idle_guard(uv_timer_t *t) {
  idle_finish(t->loop->data);
}

static void test_http_idle_connection_replaced(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  struct idle_fixture *f = calloc(1, sizeof(*f));
  struct sockaddr_storage addr;
  loopback_server(&f->loop, f, &f->listener, idle_on_connection, &f->guard, idle_guard, &addr);
  struct lb_conn_callbacks cb = {
      .arg = f, .on_up = idle_up, .on_down = idle_down, .on_response = idle_response};
  assert_int_equal(lb_conn_init(&f->conn, &f->loop, 0, 3, LB_TRANSPORT_HTTP, &addr, &cb), 0);
  f->conn.http_pool = 2;
  assert_int_equal(lb_conn_start(&f->conn), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  assert_true(f->done);
  assert_int_equal(f->downs, 0); /* nothing was lost */
  assert_int_equal(f->ups, 1);
  assert_int_equal(f->accepted, 3); /* the pool of 2, then the replacement */
  assert_int_equal(f->responses, 2);
  assert_true(f->last_id == 2);
  assert_int_equal(f->conn.disconnects, 0);
  free(f);
}

static void test_resolve(void **state) {
  (void)state;
  struct sockaddr_storage a;
  assert_int_equal(lb_conn_resolve("127.0.0.1", 4242, &a), 0);
  assert_int_equal(a.ss_family, AF_INET);
  assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 4242);
  assert_int_equal(lb_conn_resolve("no such host.invalid", 1, &a), -EHOSTUNREACH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tcp_roundtrip_and_reconnect),
      cmocka_unit_test(test_udp_padding_covers_responses),
      cmocka_unit_test(test_udp_request_padded),
      cmocka_unit_test(test_http_pipeline_bad_answer_and_close),
      cmocka_unit_test(test_http_idle_connection_replaced),
      cmocka_unit_test(test_resolve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
