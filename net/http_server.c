/* http_server: HTTP/1.1 on libuv with http-parser. */
#include "http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define READ_BUF (64 * 1024)
#define WRITE_QUEUE_MAX (16u * 1024 * 1024)

struct slot {
  char *buf;
  size_t len;
  bool ready, close_after;
  bool keep_alive_10; /* an HTTP/1.0 request that asked for keep-alive */
};

struct lb_http_conn {
  uv_tcp_t tcp;
  struct lb_http_server *srv;
  struct lb_http_conn *prev, *next;
  http_parser parser;
  int refs; /* the open handle's one, and one per request the application holds */
  int nslots;
  bool in_parse; /* http_parser_execute is running: no nested parse */
  bool closing, closed, shut;
  bool no_more;         /* stop parsing: the last request said close, or a bad one */
  bool eof;             /* the peer sent everything it will */
  bool end_after_write; /* a response that ends the connection is queued */
  uint64_t next_seq, send_seq;
  struct slot *slots;
  /* The request being parsed: its URL and header bytes, offsets into hdr. */
  char *hdr;
  size_t hdr_len;
  size_t url_len;
  bool url_done, in_value;
  size_t nheaders;
  struct {
    size_t name_off, name_len, value_off, value_len;
  } h[LB_HTTP_MAX_HEADERS];
  size_t body_len;
  int err_status; /* set by a callback that refuses the request */
  /* Bytes read but not parsed yet (parsing paused at the pipeline bound). */
  char *rest;
  size_t rest_off, rest_len;
  bool reading;
  uint64_t last_active_ms;
};

struct lb_http_server {
  struct lb_http_server_config cfg;
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_timer_t sweep;
  bool listening, has_sweep, closing;
  int port;
  struct lb_http_conn *conns;
  int nconns;
  struct lb_http_server_stats stats;
  http_parser_settings settings;
  char readbuf[READ_BUF];
};

struct write_req {
  uv_write_t req;
  char *buf;
};

void lb_http_server_config_defaults(struct lb_http_server_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->listen = "127.0.0.1";
  cfg->max_connections = 1024;
  cfg->max_header = 8 * 1024;
  cfg->max_body = 64 * 1024;
  cfg->max_pipeline = 128;
  cfg->idle_ms = 60 * 1000;
  cfg->name = "http";
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Payload Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

static uint64_t in_flight(const struct lb_http_conn *c) {
  return c->next_seq - c->send_seq;
}

/* ---- closing ---- */

static void conn_free(struct lb_http_conn *c) {
  if (c->slots)
    for (int i = 0; i < c->nslots; i++)
      free(c->slots[i].buf);
  free(c->slots);
  free(c->hdr);
  free(c->rest);
  free(c);
}

static void on_conn_closed(uv_handle_t *h) {
  struct lb_http_conn *c = h->data;
  c->closed = true;
  if (--c->refs == 0)
    conn_free(c);
}

static void unlink_conn(struct lb_http_conn *c) {
  struct lb_http_server *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
  s->nconns--;
}

static void conn_close_now(struct lb_http_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  unlink_conn(c);
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *sh, int status) {
  struct lb_http_conn *c = sh->data;
  (void)status;
  free(sh);
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Closes after the queued writes went out. */
static void conn_close_graceful(struct lb_http_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  unlink_conn(c);
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_shutdown_t *sh = malloc(sizeof(*sh));
  if (sh) {
    sh->data = c;
    if (uv_shutdown(sh, (uv_stream_t *)&c->tcp, on_shutdown) == 0)
      return;
    free(sh);
  }
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

void lb_http_conn_unref(struct lb_http_conn *c) {
  if (--c->refs == 0)
    conn_free(c);
}

/* ---- writing ---- */

static void on_write(uv_write_t *w, int status) {
  struct write_req *wr = (struct write_req *)w;
  (void)status; /* a write error shows as a read error or EOF */
  free(wr->buf);
  free(wr);
}

static void pump(struct lb_http_conn *c);

/* Writes the answered requests that are next in order. */
static void flush(struct lb_http_conn *c) {
  size_t total = 0;
  uint64_t seq = c->send_seq;
  for (; seq < c->next_seq && c->slots[seq % (uint64_t)c->nslots].ready; seq++) {
    total += c->slots[seq % (uint64_t)c->nslots].len;
    if (c->slots[seq % (uint64_t)c->nslots].close_after) {
      seq++;
      break;
    }
  }
  if (seq == c->send_seq)
    goto done;
  char *buf = malloc(total ? total : 1);
  if (!buf) {
    conn_close_now(c);
    return;
  }
  size_t off = 0;
  bool end = false;
  for (; c->send_seq < seq; c->send_seq++) {
    struct slot *sl = &c->slots[c->send_seq % (uint64_t)c->nslots];
    memcpy(buf + off, sl->buf, sl->len);
    off += sl->len;
    end |= sl->close_after;
    free(sl->buf);
    *sl = (struct slot){0};
  }
  if (end) {
    c->end_after_write = true;
    c->send_seq = c->next_seq; /* what followed it is never answered */
  }
  size_t done = 0;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
    uv_buf_t b = uv_buf_init(buf, (unsigned)total);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
      free(buf);
      conn_close_now(c);
      return;
    }
    done = n > 0 ? (size_t)n : 0;
  }
  if (done == total) {
    free(buf);
  } else {
    struct write_req *wr = malloc(sizeof(*wr));
    uv_buf_t b = uv_buf_init(buf + done, (unsigned)(total - done));
    if (!wr || uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
      free(wr);
      free(buf);
      conn_close_now(c);
      return;
    }
    wr->buf = buf;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_MAX) {
      LB_INFO("%s: closing a connection that does not read its responses", c->srv->cfg.name);
      conn_close_now(c);
      return;
    }
  }
done:
  if (c->end_after_write || (c->eof && in_flight(c) == 0) || (c->srv->closing && in_flight(c) == 0))
    conn_close_graceful(c);
  else
    pump(c); /* room in the pipeline again */
}

int lb_http_respond(struct lb_http_conn *c, uint64_t seq, int status, const char *headers,
                    const char *body, size_t body_len) {
  if (c->closing)
    return 0;
  if (seq < c->send_seq || seq >= c->next_seq)
    return -EINVAL;
  struct slot *sl = &c->slots[seq % (uint64_t)c->nslots];
  if (sl->ready)
    return -EINVAL;
  const char *conn_hdr = sl->close_after     ? "Connection: close\r\n"
                         : sl->keep_alive_10 ? "Connection: keep-alive\r\n"
                                             : "";
  char head[256];
  int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s", status,
                   reason(status), body_len, conn_hdr);
  if (n < 0 || (size_t)n >= sizeof(head))
    return -EINVAL;
  size_t hlen = headers ? strlen(headers) : 0;
  size_t len = (size_t)n + hlen + 2 + body_len;
  char *buf = malloc(len);
  if (!buf)
    return -ENOMEM;
  memcpy(buf, head, (size_t)n);
  if (hlen)
    memcpy(buf + n, headers, hlen);
  memcpy(buf + (size_t)n + hlen, "\r\n", 2);
  if (body_len)
    memcpy(buf + (size_t)n + hlen + 2, body, body_len);
  sl->buf = buf;
  sl->len = len;
  sl->ready = true;
  if (seq == c->send_seq)
    flush(c);
  return 0;
}

/* ---- parsing ---- */

static struct lb_http_conn *conn_of(http_parser *p) {
  return p->data;
}

static int refuse(struct lb_http_conn *c, int status) {
  c->err_status = status;
  return -1; /* http-parser stops with HPE_CB_* (on_headers_complete: 1 would skip the body) */
}

static int append(struct lb_http_conn *c, const char *at, size_t len) {
  if (len > c->srv->cfg.max_header - c->hdr_len)
    return -1;
  memcpy(c->hdr + c->hdr_len, at, len);
  c->hdr_len += len;
  return 0;
}

static int on_message_begin(http_parser *p) {
  struct lb_http_conn *c = conn_of(p);
  if (c->closing)
    return 1;
  c->hdr_len = c->url_len = c->nheaders = c->body_len = 0;
  c->url_done = c->in_value = false;
  return 0;
}

static int end_url(struct lb_http_conn *c) {
  if (c->url_done)
    return 0;
  c->url_done = true;
  return append(c, "", 1); /* NUL after the URL */
}

static int on_url(http_parser *p, const char *at, size_t len) {
  struct lb_http_conn *c = conn_of(p);
  if (append(c, at, len) < 0)
    return refuse(c, 431);
  c->url_len += len;
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  struct lb_http_conn *c = conn_of(p);
  if (end_url(c) < 0)
    return refuse(c, 431);
  if (c->nheaders == 0 || c->in_value) { /* a new header */
    if (c->nheaders == LB_HTTP_MAX_HEADERS)
      return refuse(c, 431);
    c->h[c->nheaders].name_off = c->hdr_len;
    c->h[c->nheaders].name_len = 0;
    c->h[c->nheaders].value_off = c->hdr_len;
    c->h[c->nheaders].value_len = 0;
    c->nheaders++;
    c->in_value = false;
  }
  if (append(c, at, len) < 0)
    return refuse(c, 431);
  c->h[c->nheaders - 1].name_len += len;
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  struct lb_http_conn *c = conn_of(p);
  if (c->nheaders == 0)
    return refuse(c, 400);
  if (!c->in_value) {
    c->in_value = true;
    c->h[c->nheaders - 1].value_off = c->hdr_len;
  }
  if (append(c, at, len) < 0)
    return refuse(c, 431);
  c->h[c->nheaders - 1].value_len += len;
  return 0;
}

static int on_headers_complete(http_parser *p) {
  struct lb_http_conn *c = conn_of(p);
  if (end_url(c) < 0)
    return refuse(c, 431);
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->srv->cfg.max_body)
    return refuse(c, 413);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  struct lb_http_conn *c = conn_of(p);
  (void)at;
  c->body_len += len;
  if (c->body_len > c->srv->cfg.max_body)
    return refuse(c, 413);
  return 0;
}

static int on_message_complete(http_parser *p) {
  struct lb_http_conn *c = conn_of(p);
  struct lb_http_server *s = c->srv;
  struct lb_http_request req;
  req.method = http_method_str((enum http_method)p->method);
  req.url = c->hdr;
  req.nheaders = c->nheaders;
  for (size_t i = 0; i < c->nheaders; i++) {
    req.headers[i].name = c->hdr + c->h[i].name_off;
    req.headers[i].name_len = c->h[i].name_len;
    req.headers[i].value = c->hdr + c->h[i].value_off;
    req.headers[i].value_len = c->h[i].value_len;
  }
  req.body_len = c->body_len;
  req.keep_alive = http_should_keep_alive(p) != 0;
  uint64_t seq = c->next_seq++;
  struct slot *sl = &c->slots[seq % (uint64_t)c->nslots];
  *sl = (struct slot){0};
  sl->close_after = !req.keep_alive || s->closing;
  sl->keep_alive_10 = p->http_major == 1 && p->http_minor == 0;
  if (sl->close_after)
    c->no_more = true;
  s->stats.requests++;
  c->refs++;
  s->cfg.on_request(s->cfg.ctx, c, seq, &req);
  if (c->no_more || in_flight(c) >= (uint64_t)s->cfg.max_pipeline)
    http_parser_pause(p, 1);
  return 0;
}

/* A request that cannot be parsed or breaks a bound: answered in its turn
 * with status and no body, then the connection ends. */
static void bad_request(struct lb_http_conn *c, int status, const char *why) {
  struct lb_http_server *s = c->srv;
  s->stats.bad_requests++;
  LB_INFO("%s: %d %s: %s", s->cfg.name, status, reason(status), why);
  c->no_more = true;
  free(c->rest);
  c->rest = NULL;
  c->rest_len = c->rest_off = 0;
  uint64_t seq = c->next_seq++;
  struct slot *sl = &c->slots[seq % (uint64_t)c->nslots];
  *sl = (struct slot){0};
  sl->close_after = true;
  if (lb_http_respond(c, seq, status, NULL, NULL, 0) < 0)
    conn_close_now(c);
}

/* Parses data; what the parser did not take (paused) is kept in rest. */
static void parse(struct lb_http_conn *c, const char *data, size_t len) {
  struct lb_http_server *s = c->srv;
  c->in_parse = true;
  size_t n = http_parser_execute(&c->parser, &s->settings, data, len);
  c->in_parse = false;
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (c->closing)
    return;
  if (e == HPE_PAUSED) {
    if (c->no_more || n >= len)
      return; /* nothing left, or what is left is never read */
    char *rest = malloc(len - n);
    if (!rest) {
      conn_close_now(c);
      return;
    }
    memcpy(rest, data + n, len - n);
    free(c->rest);
    c->rest = rest;
    c->rest_off = 0;
    c->rest_len = len - n;
    return;
  }
  if (e != HPE_OK) {
    int status = c->err_status ? c->err_status : 400;
    c->err_status = 0;
    bad_request(c, status,
                status == 400   ? http_errno_description(e)
                : status == 413 ? "body over the bound"
                                : "request line and headers over the bound");
  }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct lb_http_conn *c = h->data;
  (void)hint;
  *buf = uv_buf_init(c->srv->readbuf, sizeof(c->srv->readbuf));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void set_reading(struct lb_http_conn *c, bool on) {
  if (c->closing || on == c->reading)
    return;
  c->reading = on;
  if (on) {
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0)
      conn_close_now(c);
  } else {
    uv_read_stop((uv_stream_t *)&c->tcp);
  }
}

/* Parses what was kept while the pipeline has room; reads when all is
 * parsed. */
static void pump(struct lb_http_conn *c) {
  const uint64_t max = (uint64_t)c->srv->cfg.max_pipeline;
  if (c->in_parse)
    return; /* the parse running resumes itself */
  while (!c->closing && !c->no_more && c->rest_len > 0 && in_flight(c) < max) {
    char *rest = c->rest;
    size_t off = c->rest_off, len = c->rest_len;
    c->rest = NULL;
    c->rest_len = c->rest_off = 0;
    http_parser_pause(&c->parser, 0);
    parse(c, rest + off, len);
    free(rest);
  }
  if (c->closing)
    return;
  if (!c->no_more && in_flight(c) < max && !c->eof)
    http_parser_pause(&c->parser, 0);
  set_reading(c, !c->no_more && !c->eof && c->rest_len == 0 && in_flight(c) < max);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct lb_http_conn *c = st->data;
  if (c->closing)
    return;
  if (nread < 0) {
    if (nread != UV_EOF) {
      conn_close_now(c);
      return;
    }
    c->eof = true;
    set_reading(c, false);
    if (in_flight(c) == 0)
      conn_close_graceful(c);
    return;
  }
  if (nread == 0)
    return;
  c->last_active_ms = uv_now(c->srv->loop);
  if (c->no_more)
    return;
  parse(c, buf->base, (size_t)nread);
  if (!c->closing)
    pump(c);
}

/* ---- accepting ---- */

static void on_refused_closed(uv_handle_t *h) {
  free(h);
}

/* A connection's state; NULL when out of memory. */
static struct lb_http_conn *conn_alloc(struct lb_http_server *s) {
  struct lb_http_conn *c = calloc(1, sizeof(*c));
  if (!c || !(c->slots = calloc((size_t)s->cfg.max_pipeline + 1, sizeof(*c->slots))) ||
      !(c->hdr = malloc(s->cfg.max_header + 1))) {
    if (c)
      free(c->slots);
    free(c);
    return NULL;
  }
  c->srv = s;
  c->refs = 1;
  c->nslots = s->cfg.max_pipeline + 1; /* + a 400 after a full pipeline */
  return c;
}

/* c's handle on the loop, c in the list of connections. 0, or -errno with
 * c freed (counted as refused). */
static int conn_link(struct lb_http_server *s, struct lb_http_conn *c) {
  int rc = uv_tcp_init(s->loop, &c->tcp);
  if (rc < 0) {
    LB_WARN("%s: connection handle: %s", s->cfg.name, uv_strerror(rc));
    free(c->hdr);
    free(c->slots);
    free(c);
    s->stats.connections_refused++;
    return rc;
  }
  c->tcp.data = c;
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  return 0;
}

/* c's handle accepted or opened: bounded, counted, read from. 0, or
 * -ECONNREFUSED with c closing. */
static int conn_start(struct lb_http_server *s, struct lb_http_conn *c) {
  if (s->closing || s->nconns > s->cfg.max_connections) {
    s->stats.connections_refused++;
    conn_close_now(c);
    return -ECONNREFUSED;
  }
  s->stats.connections++;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  c->last_active_ms = uv_now(s->loop);
  int rc;
  if ((rc = uv_tcp_nodelay(&c->tcp, 1)) < 0) /* slower answers, still answers */
    LB_DEBUG("%s: TCP_NODELAY: %s", s->cfg.name, uv_strerror(rc));
  set_reading(c, true);
  return 0;
}

static void on_connection(uv_stream_t *server, int status) {
  struct lb_http_server *s = server->data;
  if (status < 0) {
    LB_WARN("%s: accept: %s", s->cfg.name, uv_strerror(status));
    return;
  }
  struct lb_http_conn *c = conn_alloc(s);
  if (!c) {
    uv_tcp_t *t = malloc(sizeof(*t)); /* take the connection off the backlog */
    if (t && uv_tcp_init(s->loop, t) == 0) {
      (void)uv_accept(server, (uv_stream_t *)t); /* closed whether or not it took one */
      uv_close((uv_handle_t *)t, on_refused_closed);
    } else {
      free(t);
    }
    s->stats.connections_refused++;
    return;
  }
  /* a handle that failed leaves the connection in the backlog */
  if (conn_link(s, c) < 0)
    return;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
    s->stats.connections_refused++;
    conn_close_now(c);
    return;
  }
  conn_start(s, c);
}

int lb_http_server_adopt(struct lb_http_server *s, uv_os_sock_t fd) {
  struct lb_http_conn *c = conn_alloc(s);
  if (!c) {
    s->stats.connections_refused++;
    return -ENOMEM;
  }
  int rc = conn_link(s, c);
  if (rc < 0)
    return rc;
  if ((rc = uv_tcp_open(&c->tcp, fd)) < 0) {
    s->stats.connections_refused++;
    conn_close_now(c);
    return rc;
  }
  return conn_start(s, c);
}

static void on_sweep(uv_timer_t *t) {
  struct lb_http_server *s = t->data;
  uint64_t now = uv_now(s->loop);
  for (struct lb_http_conn *c = s->conns; c;) {
    struct lb_http_conn *next = c->next;
    if (in_flight(c) == 0 && now - c->last_active_ms >= (uint64_t)s->cfg.idle_ms) {
      s->stats.idle_closed++;
      conn_close_graceful(c);
    }
    c = next;
  }
}

int lb_http_server_new(uv_loop_t *loop, const struct lb_http_server_config *cfg,
                       struct lb_http_server **out, char *err, size_t errlen) {
  struct sockaddr_storage addr;
  *out = NULL;
  if (!cfg->on_request || cfg->max_pipeline < 1 || cfg->max_connections < 1 ||
      cfg->max_header < 64) {
    snprintf(err, errlen, "%s: bad server configuration", cfg->name ? cfg->name : "http");
    return -EINVAL;
  }
  if (uv_ip4_addr(cfg->listen, cfg->port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(cfg->listen, cfg->port, (struct sockaddr_in6 *)&addr) != 0) {
    snprintf(err, errlen, "%s: %s is not an IPv4 or IPv6 address", cfg->name, cfg->listen);
    return -EINVAL;
  }
  struct lb_http_server *s = calloc(1, sizeof(*s));
  if (!s)
    return -ENOMEM;
  s->cfg = *cfg;
  s->loop = loop;
  http_parser_settings_init(&s->settings);
  s->settings.on_message_begin = on_message_begin;
  s->settings.on_url = on_url;
  s->settings.on_header_field = on_header_field;
  s->settings.on_header_value = on_header_value;
  s->settings.on_headers_complete = on_headers_complete;
  s->settings.on_body = on_body;
  s->settings.on_message_complete = on_message_complete;
  int rc = uv_tcp_init(loop, &s->listener);
  if (rc < 0) {
    free(s);
    snprintf(err, errlen, "%s: %s", cfg->name, uv_strerror(rc));
    return rc;
  }
  s->listener.data = s;
  s->listening = true;
  rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
  if (rc < 0) {
    snprintf(err, errlen, "cannot listen for %s on TCP %s port %d: %s", cfg->name, cfg->listen,
             cfg->port, uv_strerror(rc));
    *out = s; /* the caller closes and frees it with the loop */
    return rc;
  }
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  if ((rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len)) < 0) {
    snprintf(err, errlen, "%s: the port bound: %s", cfg->name, uv_strerror(rc));
    *out = s;
    return rc;
  }
  s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  if (cfg->idle_ms > 0) {
    if ((rc = uv_timer_init(loop, &s->sweep)) < 0) {
      snprintf(err, errlen, "%s: idle timer: %s", cfg->name, uv_strerror(rc));
      *out = s;
      return rc;
    }
    s->sweep.data = s;
    s->has_sweep = true;
    uint64_t every = (uint64_t)cfg->idle_ms / 4 > 100 ? (uint64_t)cfg->idle_ms / 4 : 100;
    if ((rc = uv_timer_start(&s->sweep, on_sweep, every, every)) < 0) {
      snprintf(err, errlen, "%s: idle timer: %s", cfg->name, uv_strerror(rc));
      *out = s;
      return rc;
    }
    uv_unref((uv_handle_t *)&s->sweep); /* it alone keeps no loop running */
  }
  *out = s;
  return 0;
}

int lb_http_server_port(const struct lb_http_server *s) {
  return s->port;
}

void lb_http_server_get_stats(const struct lb_http_server *s, struct lb_http_server_stats *out) {
  *out = s->stats;
}

static void on_own_closed(uv_handle_t *h) {
  (void)h;
}

void lb_http_server_stop_accepting(struct lb_http_server *s) {
  if (s && s->listening && !uv_is_closing((uv_handle_t *)&s->listener))
    uv_close((uv_handle_t *)&s->listener, on_own_closed);
}

void lb_http_server_close(struct lb_http_server *s) {
  if (!s)
    return;
  s->closing = true;
  lb_http_server_stop_accepting(s);
  if (s->has_sweep && !uv_is_closing((uv_handle_t *)&s->sweep))
    uv_close((uv_handle_t *)&s->sweep, on_own_closed);
  while (s->conns)
    conn_close_graceful(s->conns);
}

void lb_http_server_free(struct lb_http_server *s) {
  free(s);
}

const char *lb_http_request_header(const struct lb_http_request *req, const char *name,
                                   size_t *len) {
  size_t n = strlen(name);
  for (size_t i = 0; i < req->nheaders; i++)
    if (req->headers[i].name_len == n && strncasecmp(req->headers[i].name, name, n) == 0) {
      if (len)
        *len = req->headers[i].value_len;
      return req->headers[i].value;
    }
  return NULL;
}
