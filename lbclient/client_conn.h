/* client_conn: one client-side connection to one server over TCP (framed
 * Envelopes, framing.h), UDP (one Envelope per datagram, on a connected
 * socket) or HTTP/1.1 (http_pool keep-alive TCP connections, pipelined
 * when all are busy, client_http.h); a pool is up when all of it is, and
 * down (all of it) when any of it is lost. A TCP connection that fails or closes reports itself down and
 * reconnects by itself with exponential backoff; while down, sends fail
 * fast with -ENOTCONN. Responses are handed to the owner's callback.
 * Handles are freed in their close callbacks only (libuv rule). */
#ifndef LB_CLIENT_CONN_H
#define LB_CLIENT_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "framing.h"
#include "scenario.h"

struct lb_conn;

struct lb_conn_callbacks {
  void *arg;
  void (*on_up)(void *arg, struct lb_conn *c);
  /* The connection was lost (TCP): whatever was written on it is lost. */
  void (*on_down)(void *arg, struct lb_conn *c, const char *reason);
  /* One response; owned by the callee only for the call. */
  void (*on_response)(void *arg, struct lb_conn *c, const Lb__Response *resp);
  /* HTTP: the answer to request id was bad (a header missing, malformed or
   * out of range; an unexpected status): the request failed. NULL: the
   * answer is dropped (counted in bad_frames). */
  void (*on_bad_response)(void *arg, struct lb_conn *c, uint64_t id, const char *why);
};

enum lb_conn_state { LB_CONN_DOWN, LB_CONN_CONNECTING, LB_CONN_UP, LB_CONN_CLOSED };

/* HTTP: connections per server. HTTP/1.1 answers a connection's requests
 * in order, so a short request pipelined behind a long one waits for it
 * (head-of-line blocking, which the model does not have): each request
 * goes on the connection with the fewest unanswered, and requests queue
 * behind others only when every connection has one. */
#define LB_CONN_HTTP_POOL 8
#define LB_CONN_HTTP_POOL_MAX 64

struct lb_conn {
  int index;  /* owner's numbering */
  int server; /* fleet-wide server index */
  enum lb_transport transport;
  enum lb_conn_state state;
  struct sockaddr_storage addr;
  uv_loop_t *loop;
  struct lb_conn_callbacks cb;
  struct conn_handle *h; /* current socket, NULL while down (HTTP: pool[0]) */
  int http_pool;          /* HTTP: connections to open (set before start) */
  int pool_up;            /* HTTP: of them connected */
  struct conn_handle *pool[LB_CONN_HTTP_POOL_MAX];
  uv_timer_t *retry;     /* reconnect timer */
  int backoff_ms;
  int backoff_max_ms; /* the longest wait between reconnects */
  bool ever_up;
  size_t udp_min_request; /* UDP: pad requests to at least this size */
  uint32_t inflight_head; /* owner's list of written requests */
  /* TCP frames sent since the last lb_conn_flush, written together then:
   * the requests of a tick leave in one write per connection. */
  uint8_t *pending;
  size_t pending_len, pending_cap;
  /* Counters. */
  long connects, disconnects, bad_frames, send_errors;
};

/* Resolves host:port (numeric or by name) into addr. */
int lb_conn_resolve(const char *host, int port, struct sockaddr_storage *addr);
int lb_conn_init(struct lb_conn *c, uv_loop_t *loop, int index, int server,
                 enum lb_transport transport, const struct sockaddr_storage *addr,
                 const struct lb_conn_callbacks *cb);
/* Caps the wait between reconnects at max_ms (clamped to 20..1000 ms;
 * 1000 unless set), so a restarted server is reached that soon after. */
void lb_conn_set_backoff_max(struct lb_conn *c, int max_ms);
/* Starts connecting (TCP) or opens the socket (UDP). */
int lb_conn_start(struct lb_conn *c);
/* Sends one envelope: UDP at once; TCP frames are gathered until
 * lb_conn_flush (the owner flushes every connection before its loop
 * polls). -ENOTCONN while down; other negative errno on error (the
 * connection is then taken down and reconnects). */
int lb_conn_send(struct lb_conn *c, const Lb__Envelope *env);
/* Writes the gathered TCP frames (one write). */
void lb_conn_flush(struct lb_conn *c);
/* Wraps req in a version-1 Envelope and sends it; on UDP pads it to at
 * least the largest response (a reply never exceeds its request). On HTTP:
 * writes it as a `POST /work` request at once, on the pool's connection
 * with the fewest unanswered requests. */
int lb_conn_send_request(struct lb_conn *c, Lb__Request *req);
/* Closes for good (no reconnect); handles are freed by the loop. */
void lb_conn_close(struct lb_conn *c);
/* Largest packed Response the server can send (UDP padding target). */
size_t lb_conn_max_response_size(void);

#endif
