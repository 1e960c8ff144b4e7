/* http_server: a small HTTP/1.1 server on a libuv loop the caller owns.
 *
 * The parser is Joyent/Node's http-parser (Debian's libhttp-parser 2.9.4),
 * not a hand-written one. Chosen over libmicrohttpd and h2o because it is
 * only a parser: it plugs into the loop, the threads and the buffers we
 * already run (the binary protocol's libuv loop in lbserver), where
 * libmicrohttpd brings its own select/epoll threads and h2o its own event
 * loop and configuration; a second event loop would mean a hand-off between
 * loops per request and a second set of bounds to keep.
 *
 * What it does: keep-alive (HTTP/1.1 by default, HTTP/1.0 on request);
 * pipelining, with the responses written in the order of the requests
 * whatever order the application answers them in; 400 (malformed), 413
 * (body too large) and 431 (header too large) with one log line each, after
 * which the connection is closed; bounds on the connections, the header
 * bytes of a request, its body, the requests in flight per connection (read
 * pauses at the bound) and idle time (a connection with nothing in flight
 * is closed after idle_ms). Bodies are counted and dropped: the
 * applications here read headers only.
 *
 * Threads: everything on the loop's thread. */
#ifndef LB_HTTP_SERVER_H
#define LB_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define LB_HTTP_MAX_HEADERS 64

struct lb_http_server;
struct lb_http_conn;

struct lb_http_header {
  const char *name, *value;
  size_t name_len, value_len;
};

/* A parsed request; valid during the request callback only. */
struct lb_http_request {
  const char *method; /* "GET", "POST", ... */
  const char *url;    /* NUL-terminated, as sent (path and query) */
  size_t nheaders;
  struct lb_http_header headers[LB_HTTP_MAX_HEADERS];
  size_t body_len;
  bool keep_alive;
};

/* A request arrived on conn as number seq of the connection. The
 * application answers it with lb_http_respond(conn, seq, ...) now or later
 * (on the loop thread), and calls lb_http_conn_unref(conn) once when it no
 * longer holds conn (after responding, or dropping the request at
 * shutdown). */
typedef void (*lb_http_request_cb)(void *ctx, struct lb_http_conn *conn, uint64_t seq,
                                   const struct lb_http_request *req);

struct lb_http_server_stats {
  uint64_t connections, connections_refused, requests, bad_requests, idle_closed;
};

struct lb_http_server_config {
  const char *listen; /* address to bind */
  int port;           /* 0: kernel-chosen */
  int max_connections;
  size_t max_header; /* bytes of request line and headers */
  size_t max_body;
  int max_pipeline; /* requests in flight per connection */
  int idle_ms;      /* 0: no idle timeout */
  const char *name; /* for log lines: "http", "metrics" */
  lb_http_request_cb on_request;
  void *ctx;
};

/* Defaults: 1024 connections, 8 KiB of header, 64 KiB of body, 128
 * pipelined requests, 60 s idle. */
void lb_http_server_config_defaults(struct lb_http_server_config *cfg);

/* Binds and listens. err: a sentence naming the address and port. */
int lb_http_server_new(uv_loop_t *loop, const struct lb_http_server_config *cfg,
                       struct lb_http_server **out, char *err, size_t errlen);
int lb_http_server_port(const struct lb_http_server *srv);
void lb_http_server_get_stats(const struct lb_http_server *srv, struct lb_http_server_stats *out);
/* Serves fd, an open stream socket, as an accepted connection (the same
 * bounds, counts and reads): the way in for a fuzz target
 * (tests/fuzz/fuzz_http.c), without a listener. 0, or -errno (fd is closed
 * unless it could not be opened). Loop thread. */
int lb_http_server_adopt(struct lb_http_server *srv, uv_os_sock_t fd);
/* Stops accepting; connections stay until their requests are answered. */
void lb_http_server_stop_accepting(struct lb_http_server *srv);
/* Closes every handle: connections after writing what is answered (a
 * graceful shutdown of each), the listener and the timer. The loop must then
 * run for the close callbacks; lb_http_server_free after it has. */
void lb_http_server_close(struct lb_http_server *srv);
/* Frees it; NULL is a no-op. Only after lb_http_server_close and the
 * loop's run. Connections still referenced by the application are freed by
 * their last lb_http_conn_unref. */
void lb_http_server_free(struct lb_http_server *srv);

/* Answers request seq of conn: status code, extra header lines (each
 * "Name: value\r\n", may be NULL) and a body. Content-Length and, where the
 * connection ends, "Connection: close" are added. Written once every earlier
 * request of conn has been answered. A no-op when conn is closing. 0, or
 * -ENOMEM / -EINVAL (seq not in flight). */
int lb_http_respond(struct lb_http_conn *conn, uint64_t seq, int status, const char *headers,
                    const char *body, size_t body_len);
void lb_http_conn_unref(struct lb_http_conn *conn);

/* The value of header name (case-insensitive), or NULL; *len its length. */
const char *lb_http_request_header(const struct lb_http_request *req, const char *name,
                                   size_t *len);

#endif
