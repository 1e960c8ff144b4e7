/* server_tcp: the framed TCP transport: accepting (bounded in all and per
 * peer), reading frames into requests, batching the responses of a
 * connection into one write, closing connections that are idle past
 * --idle-timeout or do not read their responses. */
#include "server_net_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define WRITE_QUEUE_MAX (64u * 1024 * 1024)
#define RESPONSE_ROOM 512 /* bytes: more than any response with its report */

void lb__server_conn_free(struct conn *c) {
  lb_frame_reader_close(&c->reader);
  free(c->out);
  free(c);
}

struct write_req {
  uv_write_t req;
  struct lb_server *srv;
  uint8_t *buf;
};

static void on_write(uv_write_t *w, int status) {
  struct write_req *wr = (struct write_req *)w;
  if (status < 0 && status != UV_ECANCELED)
    wr->srv->stats.write_errors++;
  free(wr->buf);
  free(wr);
}

/* Encodes the response env into c's batch, flushed by
 * lb__server_flush_writes (loop thread). */
void lb__server_send_tcp(struct lb_server *s, struct conn *c, const Lb__Envelope *env) {
  if (c->closing)
    return;
  /* Room for a typical response first, so that it is sized once (in
   * lb_frame_encode); the exact size only when that was not enough. */
  size_t n = RESPONSE_ROOM;
  int len = -EMSGSIZE;
  for (int attempt = 0; attempt < 2 && len == -EMSGSIZE; attempt++) {
    if (attempt)
      n = lb_frame_encoded_size(env);
    if (c->out_len + n > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 4096;
      while (cap < c->out_len + n)
        cap *= 2;
      uint8_t *out = realloc(c->out, cap);
      if (!out) {
        s->stats.write_errors++;
        return;
      }
      c->out = out;
      c->out_cap = cap;
    }
    len = lb_frame_encode(env, c->out + c->out_len, c->out_cap - c->out_len);
  }
  if (len < 0) {
    s->stats.write_errors++;
    return;
  }
  c->out_len += (size_t)len;
  if (!c->dirty) {
    c->dirty = true;
    c->next_dirty = s->dirty;
    s->dirty = c;
  }
}

/* One write per connection for the responses encoded since the last
 * flush (loop thread). */
void lb__server_flush_writes(struct lb_server *s) {
  while (s->dirty) {
    struct conn *c = s->dirty;
    s->dirty = c->next_dirty;
    c->dirty = false;
    c->next_dirty = NULL;
    if (c->closing || c->out_len == 0) {
      c->out_len = 0;
      continue;
    }
    size_t done = 0;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
      /* Nothing queued before it: straight to the socket, and the buffer
       * stays for the next batch. */
      uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
      int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
      if (n == (int)c->out_len) {
        c->out_len = 0;
        continue;
      }
      if (n < 0 && n != UV_EAGAIN) {
        s->stats.write_errors++;
        c->out_len = 0;
        lb__server_conn_close(c, uv_strerror(n));
        continue;
      }
      done = n > 0 ? (size_t)n : 0;
    }
    struct write_req *wr = malloc(sizeof(*wr));
    if (!wr) {
      s->stats.write_errors++;
      c->out_len = 0;
      continue;
    }
    wr->srv = s;
    wr->buf = c->out;
    uv_buf_t b = uv_buf_init((char *)c->out + done, (unsigned)(c->out_len - done));
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
      free(wr->buf);
      free(wr);
      s->stats.write_errors++;
      lb__server_conn_close(c, uv_strerror(rc));
    } else if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_MAX) {
      lb__server_conn_close(c, "peer does not read its responses");
    }
  }
}

static void on_conn_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  c->closed = true;
  if (c->refs == 0)
    lb__server_conn_free(c);
}

void lb__server_conn_close(struct conn *c, const char *why) {
  struct lb_server *s = c->srv;
  if (c->closing)
    return;
  c->closing = true;
  if (why)
    LB_INFO("closing connection: %s", why);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->nconns--;
  if (c->peer_counted)
    lb_server_limits_peer_end(&s->limits, (const struct sockaddr *)&c->peer);
  c->peer_counted = false;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

void lb__server_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct lb_server *s = h->loop->data;
  (void)hint;
  if (h->type == UV_UDP)
    *buf = uv_buf_init((char *)s->udpbuf, sizeof(s->udpbuf));
  else
    *buf = uv_buf_init((char *)s->readbuf, sizeof(s->readbuf));
}

static void bad_frame(struct conn *c, const char *why) {
  char msg[320];
  c->srv->stats.bad_frames++;
  snprintf(msg, sizeof(msg), "bad frame: %s", why);
  lb__server_conn_close(c, msg);
}

/* Bytes read on c: framed into requests, each handled; the answers given
 * at once are flushed. on_read's work, apart so that a fuzz target drives
 * the same path without a socket to read from (tests/fuzz/fuzz_server.c). */
void lb__server_conn_read(struct conn *c, const uint8_t *data, size_t n) {
  char err[256] = "";
  if (n == 0 || c->closing)
    return;
  c->last_ns = lb_clock_now_ns();
  int rc = lb_frame_reader_feed(&c->reader, data, n, err, sizeof(err));
  if (rc < 0) {
    bad_frame(c, err[0] ? err : strerror(-rc));
    return;
  }
  while (!c->closing) {
    Lb__Envelope *env = NULL;
    rc = lb_frame_reader_next(&c->reader, &env, err, sizeof(err));
    if (rc == 0)
      break;
    if (rc < 0) {
      bad_frame(c, err[0] ? err : strerror(-rc));
      break;
    }
    if (env->version != LB__VERSION__VERSION_1 || env->body_case != LB__ENVELOPE__BODY_REQUEST ||
        !env->request)
      bad_frame(c, "expected a version 1 request");
    else
      lb__server_handle_request(c->srv, env->request, c, NULL, 0, NULL, 0);
    lb__envelope__free_unpacked(env, NULL);
  }
  lb__server_flush_writes(c->srv); /* answers given at once (rejected, draining) */
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct conn *c = st->data;
  if (nread < 0) {
    lb__server_conn_close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
    return;
  }
  lb__server_conn_read(c, (const uint8_t *)buf->base, (size_t)nread);
}

/* c's handle accepted or opened: bounded in all and per peer, counted,
 * read from. 0, or -errno with c closing (freed by its close callback). */
static int conn_start(struct lb_server *s, struct conn *c) {
  int rc;
  if (s->draining || s->nconns >= s->cfg.max_connections ||
      lb_frame_reader_init(&c->reader, s->cfg.max_frame) < 0) {
    s->stats.connections_refused++;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    return -ECONNREFUSED;
  }
  int plen = sizeof(c->peer);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &plen) == 0) {
    if (!lb_server_limits_peer_begin(&s->limits, (const struct sockaddr *)&c->peer)) {
      lb__server_say_limit(s, LB_LIMIT_PEER);
      c->closing = true;
      uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
      return -ECONNREFUSED;
    }
    c->peer_counted = true;
  }
  c->last_ns = lb_clock_now_ns();
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  s->stats.connections++;
  if ((rc = uv_tcp_nodelay(&c->tcp, 1)) < 0) /* latency only: keep the connection */
    LB_DEBUG("TCP_NODELAY: %s", uv_strerror(rc));
  rc = uv_read_start((uv_stream_t *)&c->tcp, lb__server_on_alloc, on_read);
  if (rc < 0) {
    lb__server_conn_close(c, uv_strerror(rc));
    return rc;
  }
  return 0;
}

/* A new handle for a connection of s; NULL when out of memory or handles
 * (counted as refused). */
static struct conn *conn_new(struct lb_server *s) {
  struct conn *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->srv = s;
  int rc = uv_tcp_init(&s->loop, &c->tcp);
  if (rc < 0) { /* nothing to close: the handle never joined the loop */
    LB_WARN("accept: a TCP handle: %s", uv_strerror(rc));
    s->stats.connections_refused++;
    free(c);
    return NULL;
  }
  c->tcp.data = c;
  return c;
}

void lb__server_on_connection(uv_stream_t *server, int status) {
  struct lb_server *s = server->data;
  if (status < 0) {
    LB_WARN("accept: %s", uv_strerror(status));
    return;
  }
  struct conn *c = conn_new(s);
  if (!c)
    return;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
    s->stats.connections_refused++;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    return;
  }
  conn_start(s, c);
}

int lb__server_conn_adopt(struct lb_server *s, uv_os_sock_t fd, struct conn **out) {
  *out = NULL;
  struct conn *c = conn_new(s);
  if (!c)
    return -ENOMEM;
  int rc = uv_tcp_open(&c->tcp, fd);
  if (rc < 0) {
    s->stats.connections_refused++;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    return rc;
  }
  rc = conn_start(s, c);
  if (rc == 0)
    *out = c;
  return rc;
}

/* Closes the connections idle past --idle-timeout (nothing read, nothing
 * alive); runs every quarter of it. */
void lb__server_on_idle_check(uv_timer_t *t) {
  struct lb_server *s = t->data;
  int64_t now = lb_clock_now_ns();
  for (struct conn *c = s->conns; c;) {
    struct conn *next = c->next;
    if (lb_server_limits_idle(&s->limits, c->last_ns, c->refs, now)) {
      lb_server_limits_refuse(&s->limits, LB_LIMIT_IDLE);
      lb__server_say_limit(s, LB_LIMIT_IDLE);
      lb__server_conn_close(c, NULL);
    }
    c = next;
  }
}
