/* client_conn: TCP/UDP/HTTP client connections on libuv with reconnects. */
#include "client_conn.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_http.h"
#include "log.h"

#define RBUF_SIZE (64 * 1024)
#define BACKOFF_MIN_MS 20
#define BACKOFF_MAX_MS 1000

struct conn_handle {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_udp_t udp;
  } u;
  uv_connect_t connect_req;
  struct lb_conn *conn; /* NULL once detached: the handle is closing */
  struct lb_frame_reader reader;
  struct lb_http_reader http; /* HTTP: responses matched to requests by order */
  uint8_t rbuf[RBUF_SIZE];
};

struct write_req {
  uv_write_t req;
  uv_udp_send_t sreq;
  size_t len;
  uint8_t data[];
};

int lb_conn_resolve(const char *host, int port, struct sockaddr_storage *addr) {
  char portstr[16];
  snprintf(portstr, sizeof(portstr), "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(host, portstr, &hints, &res);
  if (rc || !res)
    return -EHOSTUNREACH;
  memset(addr, 0, sizeof(*addr));
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

size_t lb_conn_max_response_size(void) {
  Lb__Stat st[5];
  Lb__ServerReport rep = LB__SERVER_REPORT__INIT;
  Lb__Stat *ptrs[5];
  for (int i = 0; i < 5; i++) {
    lb__stat__init(&st[i]);
    st[i].valid = 1;
    st[i].latest = st[i].mean = st[i].ewma = 1e300;
    ptrs[i] = &st[i];
  }
  rep.utilization = ptrs[0];
  rep.queries_per_tick = ptrs[1];
  rep.requests_in_flight = ptrs[2];
  rep.queued_requests = ptrs[3];
  rep.latency = ptrs[4];
  rep.has_expected_latency = 1;
  rep.expected_latency = rep.pid_weight = rep.orca_utilization = rep.orca_qps = rep.orca_eps =
      1e300;
  rep.server = rep.threads = UINT32_MAX;
  Lb__Response resp = LB__RESPONSE__INIT;
  resp.id = UINT64_MAX;
  resp.is_probe = 1;
  resp.status = LB__STATUS__STATUS_DRAINING;
  resp.report = &rep;
  resp.queue_ns = resp.processing_ns = resp.hold_ns = UINT64_MAX;
  Lb__Envelope env = LB__ENVELOPE__INIT;
  env.version = UINT32_MAX;
  env.body_case = LB__ENVELOPE__BODY_RESPONSE;
  env.response = &resp;
  return lb__envelope__get_packed_size(&env);
}

static void handle_closed(uv_handle_t *handle) {
  struct conn_handle *h = handle->data;
  lb_frame_reader_close(&h->reader);
  lb_http_reader_close(&h->http);
  free(h);
}

static void retry_cb(uv_timer_t *t);

/* Arms the reconnect timer for the current backoff. */
static void retry_later(struct lb_conn *c) {
  int rc = uv_timer_start(c->retry, retry_cb, (uint64_t)c->backoff_ms, 0);
  if (rc < 0)
    LB_ERROR("server %d: no reconnect timer (%s): the connection stays down", c->server,
             uv_strerror(rc));
}

static void detach_one(struct lb_conn *c, struct conn_handle *h) {
  h->conn = NULL;
  if (c->transport == LB_TRANSPORT_UDP) {
    int rc = uv_udp_recv_stop(&h->u.udp);
    if (rc < 0) /* the close below stops it anyway */
      LB_DEBUG("server %d: stopping UDP reads: %s", c->server, uv_strerror(rc));
  }
  uv_close(&h->u.handle, handle_closed);
}

static void detach(struct lb_conn *c) {
  if (c->transport == LB_TRANSPORT_HTTP) {
    for (int k = 0; k < LB_CONN_HTTP_POOL_MAX; k++)
      if (c->pool[k]) {
        detach_one(c, c->pool[k]);
        c->pool[k] = NULL;
      }
    c->pool_up = 0;
    c->h = NULL;
    return;
  }
  struct conn_handle *h = c->h;
  if (!h)
    return;
  c->h = NULL;
  detach_one(c, h);
}

static void take_down(struct lb_conn *c, const char *reason) {
  bool was_up = c->state == LB_CONN_UP;
  c->pending_len = 0; /* lost with the connection, as written ones are */
  detach(c);
  if (c->state == LB_CONN_CLOSED)
    return;
  c->state = LB_CONN_DOWN;
  if (was_up) {
    c->disconnects++;
    LB_WARN("server %d: connection lost (%s); reconnecting", c->server, reason);
  } else if (c->backoff_ms == BACKOFF_MIN_MS) {
    LB_INFO("server %d: cannot connect (%s); retrying with backoff", c->server, reason);
  }
  if (c->cb.on_down)
    c->cb.on_down(c->cb.arg, c, reason);
  if (c->state == LB_CONN_DOWN && c->retry) {
    retry_later(c);
    c->backoff_ms = c->backoff_ms * 2 > c->backoff_max_ms ? c->backoff_max_ms : c->backoff_ms * 2;
  }
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  struct conn_handle *h = handle->data;
  *buf = uv_buf_init((char *)h->rbuf, RBUF_SIZE);
}

static void deliver(struct lb_conn *c, Lb__Envelope *env) {
  if (env->body_case == LB__ENVELOPE__BODY_RESPONSE && env->response && c->cb.on_response)
    c->cb.on_response(c->cb.arg, c, env->response);
  else
    c->bad_frames++;
  lb__envelope__free_unpacked(env, NULL);
}

static bool http_answer(void *arg, const struct lb_http_answer *a) {
  struct conn_handle *h = arg;
  struct lb_conn *c = h->conn;
  if (a->ok) {
    if (c->cb.on_response)
      c->cb.on_response(c->cb.arg, c, &a->resp);
  } else {
    c->bad_frames++;
    if (c->cb.on_bad_response)
      c->cb.on_bad_response(c->cb.arg, c, a->id, a->why);
  }
  return h->conn == c; /* false: the callback took the connection down */
}

static void http_read(struct lb_conn *c, struct conn_handle *h, const uint8_t *data, size_t len) {
  char err[256] = "";
  if (lb_http_reader_feed(&h->http, data, len, http_answer, h, err, sizeof(err)) < 0 &&
      h->conn == c) {
    c->bad_frames++;
    take_down(c, err);
  }
}

static int open_socket(struct lb_conn *c);

/* HTTP: the server closed h, a connection of an up pool with nothing
 * unanswered on it (its idle timeout): h alone is replaced, nothing is
 * lost. -EAGAIN when that is not the case (the pool goes down). */
static int http_idle_closed(struct lb_conn *c, struct conn_handle *h) {
  if (c->transport != LB_TRANSPORT_HTTP || c->state != LB_CONN_UP ||
      lb_http_reader_pending(&h->http) != 0)
    return -EAGAIN;
  for (int k = 0; k < c->http_pool; k++)
    if (c->pool[k] == h) {
      c->pool[k] = NULL;
      detach_one(c, h);
      int rc = open_socket(c); /* into slot k; its writes wait for the connect */
      if (c->state == LB_CONN_DOWN)
        return 0; /* the connect failed at once: the pool went down there */
      if (rc < 0)
        return -EAGAIN;
      c->state = LB_CONN_UP;
      c->h = c->pool[0];
      LB_DEBUG("server %d: idle HTTP connection closed by the server; replaced", c->server);
      return 0;
    }
  return -EAGAIN;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  struct conn_handle *h = stream->data;
  struct lb_conn *c = h->conn;
  if (!c || nread == 0)
    return;
  if (nread < 0) {
    if (nread == UV_EOF && http_idle_closed(c, h) == 0)
      return;
    take_down(c, nread == UV_EOF ? "closed by server" : uv_strerror((int)nread));
    return;
  }
  char err[256] = "";
  if (c->transport == LB_TRANSPORT_HTTP) {
    http_read(c, h, (const uint8_t *)buf->base, (size_t)nread);
    return;
  }
  if (lb_frame_reader_feed(&h->reader, (const uint8_t *)buf->base, (size_t)nread, err,
                           sizeof(err)) < 0) {
    c->bad_frames++;
    take_down(c, err[0] ? err : "oversized frame");
    return;
  }
  for (;;) {
    Lb__Envelope *env = NULL;
    int rc = lb_frame_reader_next(&h->reader, &env, err, sizeof(err));
    if (rc == 0)
      break;
    if (rc < 0) {
      c->bad_frames++;
      take_down(c, err[0] ? err : "malformed frame");
      return;
    }
    deliver(c, env);
    if (h->conn != c) /* the callback took the connection down */
      return;
  }
}

static void udp_recv_cb(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags) {
  struct conn_handle *h = udp->data;
  struct lb_conn *c = h->conn;
  (void)addr;
  if (!c || nread == 0)
    return;
  if (nread < 0) {
    c->send_errors++;
    /* An ICMP port unreachable: nothing listens there any more, so what is
     * in flight will never be answered. Down, as a TCP connection lost. */
    if (nread == UV_ECONNREFUSED)
      take_down(c, "port unreachable (no server listening)");
    return;
  }
  if (flags & UV_UDP_PARTIAL) {
    c->bad_frames++;
    return;
  }
  char err[256];
  Lb__Envelope *env = NULL;
  if (lb_datagram_decode((const uint8_t *)buf->base, (size_t)nread, &env, err, sizeof(err)) < 0) {
    c->bad_frames++;
    LB_DEBUG("server %d: bad datagram: %s", c->server, err);
    return;
  }
  if (c->backoff_ms != BACKOFF_MIN_MS) {
    /* UDP has no connect to tell: an answer says the server is back. */
    LB_INFO("server %d: answering again", c->server);
    c->backoff_ms = BACKOFF_MIN_MS;
  }
  deliver(c, env);
}

static void connect_cb(uv_connect_t *req, int status) {
  struct conn_handle *h = req->data;
  struct lb_conn *c = h->conn;
  if (!c)
    return;
  if (status < 0) {
    take_down(c, uv_strerror(status));
    return;
  }
  int rc = uv_tcp_nodelay(&h->u.tcp, 1);
  if (rc < 0) /* latency only: keep the connection */
    LB_DEBUG("server %d: TCP_NODELAY: %s", c->server, uv_strerror(rc));
  rc = uv_read_start(&h->u.stream, alloc_cb, read_cb);
  if (rc < 0) {
    take_down(c, uv_strerror(rc));
    return;
  }
  if (c->transport == LB_TRANSPORT_HTTP && c->state == LB_CONN_UP)
    return; /* a replacement in an up pool */
  if (c->transport == LB_TRANSPORT_HTTP && ++c->pool_up < c->http_pool)
    return; /* up when the whole pool is */
  c->state = LB_CONN_UP;
  c->connects++;
  if (c->ever_up)
    LB_INFO("server %d: reconnected", c->server);
  c->ever_up = true;
  c->backoff_ms = BACKOFF_MIN_MS;
  if (c->cb.on_up)
    c->cb.on_up(c->cb.arg, c);
}

/* HTTP: the pool, connecting; up when all of it is. */
static int open_pool(struct lb_conn *c) {
  if (c->http_pool < 1 || c->http_pool > LB_CONN_HTTP_POOL_MAX)
    c->http_pool = c->http_pool < 1 ? 1 : LB_CONN_HTTP_POOL_MAX;
  for (int k = 0; k < c->http_pool; k++) {
    int rc = open_socket(c); /* joins the pool */
    if (rc < 0 || c->state != LB_CONN_CONNECTING) { /* taken down already */
      if (rc < 0)
        take_down(c, uv_strerror(rc));
      return 0;
    }
  }
  c->h = c->pool[0];
  return 0;
}

static int open_socket(struct lb_conn *c) {
  struct conn_handle *h = calloc(1, sizeof(*h));
  if (!h)
    return -ENOMEM;
  int rc = lb_frame_reader_init(&h->reader, LB_FRAME_MAX_DEFAULT);
  if (rc < 0) {
    free(h);
    return rc;
  }
  if (c->transport == LB_TRANSPORT_HTTP)
    lb_http_reader_init(&h->http);
  rc = c->transport != LB_TRANSPORT_UDP ? uv_tcp_init(c->loop, &h->u.tcp)
                                        : uv_udp_init(c->loop, &h->u.udp);
  if (rc < 0) {
    lb_frame_reader_close(&h->reader);
    free(h);
    return rc;
  }
  h->u.handle.data = h;
  h->connect_req.data = h;
  h->conn = c;
  c->h = h;
  for (int k = 0; c->transport == LB_TRANSPORT_HTTP && k < LB_CONN_HTTP_POOL_MAX; k++)
    if (!c->pool[k]) {
      c->pool[k] = h;
      break;
    }
  if (c->transport != LB_TRANSPORT_UDP) {
    c->state = LB_CONN_CONNECTING;
    rc = uv_tcp_connect(&h->connect_req, &h->u.tcp, (const struct sockaddr *)&c->addr, connect_cb);
    if (rc < 0)
      take_down(c, uv_strerror(rc));
    return 0;
  }
  rc = uv_udp_connect(&h->u.udp, (const struct sockaddr *)&c->addr);
  if (rc == 0)
    rc = uv_udp_recv_start(&h->u.udp, alloc_cb, udp_recv_cb);
  if (rc < 0) {
    detach(c);
    c->state = LB_CONN_DOWN;
    return rc;
  }
  c->state = LB_CONN_UP;
  c->ever_up = true;
  c->connects++;
  if (c->cb.on_up)
    c->cb.on_up(c->cb.arg, c);
  return 0;
}

static void retry_cb(uv_timer_t *t) {
  struct lb_conn *c = t->data;
  if (c->state != LB_CONN_DOWN)
    return;
  int rc = c->transport == LB_TRANSPORT_HTTP ? open_pool(c) : open_socket(c);
  if (rc < 0) {
    LB_WARN("server %d: %s", c->server, uv_strerror(rc));
    retry_later(c);
  }
}

void lb_conn_set_backoff_max(struct lb_conn *c, int max_ms) {
  c->backoff_max_ms = max_ms < BACKOFF_MIN_MS   ? BACKOFF_MIN_MS
                      : max_ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                : max_ms;
}

int lb_conn_init(struct lb_conn *c, uv_loop_t *loop, int index, int server,
                 enum lb_transport transport, const struct sockaddr_storage *addr,
                 const struct lb_conn_callbacks *cb) {
  memset(c, 0, sizeof(*c));
  c->index = index;
  c->server = server;
  c->transport = transport;
  c->state = LB_CONN_DOWN;
  c->addr = *addr;
  c->loop = loop;
  c->cb = *cb;
  c->backoff_ms = BACKOFF_MIN_MS;
  c->backoff_max_ms = BACKOFF_MAX_MS;
  c->inflight_head = UINT32_MAX;
  c->udp_min_request = lb_conn_max_response_size();
  c->http_pool = LB_CONN_HTTP_POOL;
  c->retry = malloc(sizeof(*c->retry));
  if (!c->retry)
    return -ENOMEM;
  int rc = uv_timer_init(loop, c->retry);
  if (rc < 0) {
    free(c->retry);
    c->retry = NULL;
    return rc;
  }
  c->retry->data = c;
  return 0;
}

int lb_conn_start(struct lb_conn *c) {
  return c->transport == LB_TRANSPORT_HTTP ? open_pool(c) : open_socket(c);
}

static void free_handle(uv_handle_t *h) {
  free(h);
}

void lb_conn_close(struct lb_conn *c) {
  c->state = LB_CONN_CLOSED;
  free(c->pending);
  c->pending = NULL;
  c->pending_len = c->pending_cap = 0;
  detach(c);
  if (c->retry) {
    uv_timer_stop(c->retry);
    uv_close((uv_handle_t *)c->retry, free_handle);
    c->retry = NULL;
  }
}

static void write_done(uv_write_t *req, int status) {
  struct write_req *w = req->data;
  struct conn_handle *h = w->req.handle->data;
  free(w);
  if (status < 0 && h->conn) {
    h->conn->send_errors++;
    take_down(h->conn, uv_strerror(status));
  }
}

static void udp_send_done(uv_udp_send_t *req, int status) {
  struct write_req *w = req->data;
  (void)status;
  free(w);
}

/* Writes data on h: at once where the socket takes it, the rest queued.
 * An error takes the connection down. */
static void write_on(struct lb_conn *c, struct conn_handle *h, const uint8_t *data, size_t len) {
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int rc = uv_try_write(&h->u.stream, &b, 1);
  if (rc == (int)len)
    return;
  if (rc < 0 && rc != UV_EAGAIN) {
    c->send_errors++;
    take_down(c, uv_strerror(rc));
    return;
  }
  size_t done = rc > 0 ? (size_t)rc : 0;
  struct write_req *w = malloc(sizeof(*w) + len - done);
  if (!w) {
    take_down(c, "out of memory");
    return;
  }
  memcpy(w->data, data + done, len - done);
  w->len = len - done;
  w->req.data = w;
  b = uv_buf_init((char *)w->data, (unsigned)w->len);
  rc = uv_write(&w->req, &h->u.stream, &b, 1, write_done);
  if (rc < 0) {
    free(w);
    c->send_errors++;
    take_down(c, uv_strerror(rc));
  }
}

void lb_conn_flush(struct lb_conn *c) {
  size_t len = c->pending_len;
  if (len == 0 || c->state != LB_CONN_UP || !c->h)
    return;
  c->pending_len = 0;
  write_on(c, c->h, c->pending, len);
}

/* Room for need more bytes in pending. */
static int pending_reserve(struct lb_conn *c, size_t need) {
  if (c->pending_len + need <= c->pending_cap)
    return 0;
  size_t cap = c->pending_cap ? c->pending_cap : 8192;
  while (cap < c->pending_len + need)
    cap *= 2;
  uint8_t *grown = realloc(c->pending, cap);
  if (!grown)
    return -ENOMEM;
  c->pending = grown;
  c->pending_cap = cap;
  return 0;
}

/* HTTP: written at once on the pool's connection with the fewest
 * unanswered requests; its answer is the one the server writes there after
 * those of the requests before it. */
static int http_send_request(struct lb_conn *c, const Lb__Request *req) {
  if (c->state != LB_CONN_UP || !c->h)
    return -ENOTCONN;
  struct conn_handle *h = NULL;
  for (int k = 0; k < c->http_pool; k++)
    if (c->pool[k] &&
        (!h || lb_http_reader_pending(&c->pool[k]->http) < lb_http_reader_pending(&h->http)))
      h = c->pool[k];
  if (!h)
    return -ENOTCONN;
  char buf[LB_HTTP_REQUEST_MAX];
  int rc = lb_http_request_format(req, buf, sizeof(buf));
  if (rc < 0)
    return rc;
  int e = lb_http_reader_expect(&h->http, req->id);
  if (e < 0)
    return e;
  write_on(c, h, (const uint8_t *)buf, (size_t)rc);
  return h->conn == c ? 0 : -ECONNRESET; /* the write took the pool down */
}

int lb_conn_send(struct lb_conn *c, const Lb__Envelope *env) {
  if (c->transport == LB_TRANSPORT_HTTP)
    return env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request
               ? http_send_request(c, env->request)
               : -EPROTONOSUPPORT;
  if (c->state != LB_CONN_UP || !c->h)
    return -ENOTCONN;
  uint8_t stack[2048];
  uint8_t *buf = stack;
  size_t len;
  int rc;
  if (c->transport == LB_TRANSPORT_TCP) {
    /* Room for any request is kept free, so a frame is sized once (in
     * lb_frame_encode); the exact size only for a larger one. */
    size_t need = sizeof(stack);
    for (int attempt = 0; attempt < 2; attempt++) {
      if ((rc = pending_reserve(c, need)) < 0)
        return rc;
      rc = lb_frame_encode(env, c->pending + c->pending_len, c->pending_cap - c->pending_len);
      if (rc != -EMSGSIZE)
        break;
      need = lb_frame_encoded_size(env);
    }
    if (rc < 0)
      return rc;
    c->pending_len += (size_t)rc;
    return 0;
  }
  /* UDP */
  len = lb__envelope__get_packed_size(env);
  if (len > sizeof(stack) && !(buf = malloc(len)))
    return -ENOMEM;
  len = lb__envelope__pack(env, buf);
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
  rc = uv_udp_try_send(&c->h->u.udp, &b, 1, NULL);
  if (rc == (int)len) {
    rc = 0;
    goto out;
  }
  if (rc < 0 && rc != UV_EAGAIN) {
    c->send_errors++;
    if (rc == UV_ECONNREFUSED) /* a port unreachable, reported on this send */
      take_down(c, "port unreachable (no server listening)");
    goto out;
  }
  struct write_req *w = malloc(sizeof(*w) + len);
  if (!w) {
    rc = -ENOMEM;
    goto out;
  }
  memcpy(w->data, buf, len);
  w->len = len;
  w->sreq.data = w;
  b = uv_buf_init((char *)w->data, (unsigned)len);
  rc = uv_udp_send(&w->sreq, &c->h->u.udp, &b, 1, NULL, udp_send_done);
  if (rc < 0) {
    free(w);
    c->send_errors++;
  }
out:
  if (buf != stack)
    free(buf);
  return rc;
}

int lb_conn_send_request(struct lb_conn *c, Lb__Request *req) {
  if (c->transport == LB_TRANSPORT_HTTP)
    return http_send_request(c, req);
  Lb__Envelope env = LB__ENVELOPE__INIT;
  env.version = LB__VERSION__VERSION_1;
  env.body_case = LB__ENVELOPE__BODY_REQUEST;
  env.request = req;
  uint8_t pad[1024];
  if (c->transport == LB_TRANSPORT_UDP) {
    /* no amplification: the request is at least as large as any reply */
    size_t size = lb__envelope__get_packed_size(&env);
    if (size < c->udp_min_request) {
      size_t need = c->udp_min_request - size;
      if (need > sizeof(pad))
        need = sizeof(pad);
      memset(pad, 0, need);
      req->padding.data = pad;
      req->padding.len = need;
    }
  }
  int rc = lb_conn_send(c, &env);
  req->padding.data = NULL;
  req->padding.len = 0;
  return rc;
}
