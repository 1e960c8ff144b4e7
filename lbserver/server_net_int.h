/* server_net_int: struct lb_server and what the files of lbserver's I/O
 * share. server_net.c: the server's lifetime (binding, lb_server_new,
 * the threads, stats, lb_server_free); server_request.c: a request from
 * any transport to its response (the pool's callbacks, the ready queue,
 * held replies, the limits' refusals); server_tcp.c: connections, framed
 * reads, batched writes, the idle check; server_udp.c: datagrams;
 * server_net_http.c: the HTTP front's hook (server_http.h maps it);
 * server_drain.c: the drain and the closing of the loop. Internal to
 * lbserver. */
#ifndef LB_SERVER_NET_INT_H
#define LB_SERVER_NET_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "board.h"
#include "framing.h"
#include "server_http.h"
#include "server_limits.h"
#include "server_metrics.h"
#include "server_net.h"
#include "server_pool.h"
#include "wire_check.h"

#define READ_BUF (64 * 1024)

struct conn {
  uv_tcp_t tcp;
  struct lb_server *srv;
  struct lb_frame_reader reader;
  struct conn *prev, *next; /* open connections */
  int refs;                 /* requests not yet answered */
  bool closing, closed;
  /* Responses encoded since the last flush: one write per batch. */
  uint8_t *out;
  size_t out_len, out_cap;
  struct conn *next_dirty;
  bool dirty;
  struct sockaddr_storage peer; /* counted in srv->limits while open */
  bool peer_counted;
  int64_t last_ns; /* the latest bytes read (idle timeout) */
};

struct req {
  struct lb_server_job job;
  struct req *next_ready;
  struct lb_server *srv;
  struct conn *conn;         /* TCP; NULL for UDP and HTTP */
  struct lb_http_conn *http; /* HTTP (server_http.h): request http_seq of it */
  uint64_t http_seq;
  struct sockaddr_storage addr;
  size_t udp_limit; /* the request datagram's size */
  uint64_t id, delay_ns;
  uint32_t channel;
  int rif_at_arrival; /* the server's requests in flight on arrival (Prequal) */
  bool is_probe, processed;
  bool holds; /* counted in srv->limits' held replies */
  Lb__Status status;
  struct lb_server_report report;
  int64_t done_ns;
};

struct lb_server {
  struct lb_server_config cfg;
  uv_loop_t loop;
  bool loop_init;
  uv_tcp_t listener;
  uv_udp_t udp;
  bool has_listener, has_udp;
  uv_async_t ready_async, stop_async;
  uv_signal_t sigterm, sigint;
  uv_timer_t runtime_timer, grace_timer;
  pthread_mutex_t ready_lock;
  struct req *ready_head, *ready_tail;
  struct conn *conns;
  struct conn *dirty; /* connections with responses to flush */
  int nconns;
  uint64_t outstanding; /* requests alive */
  bool draining, finished;
  int tcp_port, udp_port;
  uint8_t readbuf[READ_BUF], udpbuf[READ_BUF];
  struct lb_board *board;
  struct lb_server_model model;
  bool model_init;
  struct lb_server_pool *pool;
  struct lb_server_timer *timer;
  /* Resizes after a reset run on their own thread: creating and joining
   * threads would make the timer thread late. */
  pthread_t resizer;
  bool has_resizer;
  pthread_mutex_t resize_lock;
  pthread_cond_t resize_cond;
  int resize_to; /* 0: nothing pending */
  bool resize_stop;
  struct lb_server_stats stats; /* loop-thread counters */
  struct req *free_reqs;        /* loop thread: released, for reuse */
  int nfree_reqs;
  struct lb_wire_limits wire;               /* what a request's numbers may be */
  struct lb_http_server *http;              /* --http-port; NULL: none */
  struct lb_prom_server *metrics;           /* --metrics-port; NULL: none */
  struct lb_prom_hist duration, queue_wait; /* processed requests (workers observe) */
  struct lb_server_limits limits;           /* held replies, connections per peer, idle */
  int64_t tick0_ns; /* the fleet's tick 0, else the server's start (faults) */
  uv_timer_t idle_timer;
};

#define REQ_OF(j) ((struct req *)((char *)(j)-offsetof(struct req, job)))

/* ---- server_request.c ---- */

/* A request from the wire (loop thread). conn (TCP), addr (UDP) or http
 * says where from. */
void lb__server_handle_request(struct lb_server *s, const Lb__Request *in, struct conn *c,
                               const struct sockaddr *addr, size_t udp_limit,
                               struct lb_http_conn *http, uint64_t http_seq);
/* Back to the free list; the last reference frees a closed connection, and
 * a drain may finish. Loop thread, or after the loop stopped. */
void lb__server_req_release(struct req *r);
/* ready_async: the responses finished on other threads, sent. */
void lb__server_on_ready(uv_async_t *a);
/* The pool's and the timer's callbacks (server_pool.h, server_timer.h). */
int64_t lb__server_on_job_work(void *ctx, struct lb_server_job *job);
void lb__server_on_job_done(void *ctx, struct lb_server_job *job);
void lb__server_on_held_due(void *ctx, void *item);
void lb__server_drop_item(void *ctx, void *item);
void lb__server_drop_job(void *ctx, struct lb_server_job *job);
/* One rate-limited line for a limit's refusals (server_limits.h). */
void lb__server_say_limit(struct lb_server *s, enum lb_limit_kind kind);

/* ---- server_tcp.c ---- */

void lb__server_on_connection(uv_stream_t *server, int status);
/* Serves fd, an open stream socket, as an accepted connection (the same
 * bounds, counts and reads); *out is it. The way in for the fuzz target
 * (tests/fuzz/fuzz_server.c), without a listener. 0, or -errno (fd is
 * closed unless uv_tcp_open refused it). Loop thread. */
int lb__server_conn_adopt(struct lb_server *s, uv_os_sock_t fd, struct conn **out);
/* Bytes read on c (on_read's work): frames to requests, handled, answers
 * given at once flushed. A no-op once c is closing. Loop thread. */
void lb__server_conn_read(struct conn *c, const uint8_t *data, size_t n);
/* The loop's read buffer: TCP's or UDP's. */
void lb__server_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
void lb__server_send_tcp(struct lb_server *s, struct conn *c, const Lb__Envelope *env);
void lb__server_flush_writes(struct lb_server *s);
void lb__server_conn_close(struct conn *c, const char *why);
void lb__server_conn_free(struct conn *c);
void lb__server_on_idle_check(uv_timer_t *t);

/* ---- server_udp.c ---- */

void lb__server_on_udp_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                            const struct sockaddr *addr, unsigned flags);
void lb__server_send_udp(struct lb_server *s, const struct req *r, const Lb__Envelope *env);

/* ---- server_net_http.c ---- */

int lb__server_http_start(struct lb_server *s, char *err, size_t errlen);
void lb__server_send_http(struct lb_server *s, struct req *r, const Lb__Response *resp);

/* ---- server_drain.c ---- */

/* Everything answered (or force): close every handle so that uv_run
 * returns. */
void lb__server_finish(struct lb_server *s, bool force);
void lb__server_close_if_open(uv_handle_t *h);
void lb__server_close_all_conns(struct lb_server *s);
void lb__server_on_signal(uv_signal_t *h, int signum);
void lb__server_on_stop(uv_async_t *a);
void lb__server_on_runtime(uv_timer_t *t);

/* ---- server_net.c ---- */

/* Stops and frees the pool and the timer thread, their counts kept in
 * s->stats; what they held is dropped. */
void lb__server_stop_threads(struct lb_server *s);

#endif
