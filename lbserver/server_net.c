/* server_net: libuv I/O, requests in, responses out.
 * Over 800 lines on purpose, for now: TCP, UDP, the ready queue and the
 * drain all act on one struct lb_server and its loop; it splits (net,
 * drain, lifetime) once the HTTP front and the bounds on it have landed. */
#include "server_net.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "clock.h"
#include "framing.h"
#include "log.h"
#include "board.h"
#include "server_faults.h"
#include "server_http.h"
#include "server_limits.h"
#include "server_metrics.h"
#include "server_pool.h"
#include "wire_check.h"

#define READ_BUF (64 * 1024)
#define DRAIN_GRACE_MS 5000
#define WRITE_QUEUE_MAX (64u * 1024 * 1024)
#define RESPONSE_ROOM 512  /* bytes: more than any response with its report */
#define FREE_REQS_MAX 4096 /* released requests kept for reuse (loop thread) */

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
  struct lb_server_limits limits; /* held replies, connections per peer, idle */
  int64_t tick0_ns;               /* the fleet's tick 0, else the server's start (faults) */
  uv_timer_t idle_timer;
};

#define REQ_OF(j) ((struct req *)((char *)(j)-offsetof(struct req, job)))

static void finish(struct lb_server *s, bool force);

/* ---- requests ---- */

static void conn_free(struct conn *c) {
  lb_frame_reader_close(&c->reader);
  free(c->out);
  free(c);
}

/* Requests are allocated and released on the loop thread only (or after
 * it stopped): a free list saves a calloc and a free per request. */
static struct req *req_new(struct lb_server *s) {
  struct req *r = s->free_reqs;
  if (!r)
    return calloc(1, sizeof(*r));
  s->free_reqs = r->next_ready;
  s->nfree_reqs--;
  memset(r, 0, sizeof(*r));
  return r;
}

static void req_release(struct req *r) {
  struct lb_server *s = r->srv;
  struct conn *c = r->conn;
  if (s->nfree_reqs < FREE_REQS_MAX) {
    r->next_ready = s->free_reqs;
    s->free_reqs = r;
    s->nfree_reqs++;
  } else {
    free(r);
  }
  s->outstanding--;
  if (r->http)
    lb_http_conn_unref(r->http);
  if (r->holds)
    lb_server_limits_hold_end(&s->limits);
  if (c && --c->refs == 0 && c->closed)
    conn_free(c);
  if (s->draining)
    finish(s, false);
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

static void on_udp_send(uv_udp_send_t *w, int status) {
  if (status < 0) {
    struct lb_server *s = w->data;
    s->stats.write_errors++;
  }
  free(w);
}

static void conn_close(struct conn *c, const char *why);

/* The response of r as HTTP, with the RIF and latency estimate of now. */
static void send_http_response(struct lb_server *s, struct req *r, const Lb__Response *resp) {
  struct lb_server_report now;
  char headers[LB_SERVER_HTTP_HEADERS_MAX];
  lb_server_model_probe_report(&s->model, lb_server_pool_pending(s->pool), &now);
  struct lb_server_http_reply rep = {
      .status = r->status,
      .report = &r->report,
      .rif_now = now.probe_rif,
      .latency_estimate = now.probe_latency,
      .queue_ns = resp->queue_ns,
      .processing_ns = resp->processing_ns,
      .hold_ns = resp->hold_ns,
  };
  int code = lb_server_http_status(r->status);
  if (lb_server_http_headers(&rep, headers, sizeof(headers)) < 0 ||
      lb_http_respond(r->http, r->http_seq, code, headers, code == 200 ? "ok\n" : "refused\n",
                      code == 200 ? 3 : 8) < 0)
    s->stats.write_errors++;
}

/* Writes the response of r (loop thread). */
static void send_response(struct lb_server *s, struct req *r) {
  Lb__Envelope env = LB__ENVELOPE__INIT;
  Lb__Response resp = LB__RESPONSE__INIT;
  Lb__ServerReport rep = LB__SERVER_REPORT__INIT;
  Lb__Stat stats[5];
  int64_t now = lb_clock_now_ns();
  lb_report_to_wire(&r->report, &rep, stats);
  resp.id = r->id;
  resp.is_probe = r->is_probe;
  resp.status = r->status;
  resp.report = &rep;
  if (r->processed) {
    resp.queue_ns = (uint64_t)r->job.queue_ns;
    resp.processing_ns = (uint64_t)r->job.processing_ns;
  }
  resp.hold_ns = now > r->done_ns ? (uint64_t)(now - r->done_ns) : 0;
  env.version = LB__VERSION__VERSION_1;
  env.body_case = LB__ENVELOPE__BODY_RESPONSE;
  env.response = &resp;
  if (r->status == LB__STATUS__STATUS_OK)
    s->stats.completed++;
  if (r->http) {
    send_http_response(s, r, &resp);
    return;
  }

  if (r->conn) {
    struct conn *c = r->conn;
    if (c->closing)
      return;
    /* Room for a typical response first, so that it is sized once (in
     * lb_frame_encode); the exact size only when that was not enough. */
    size_t n = RESPONSE_ROOM;
    int len = -EMSGSIZE;
    for (int attempt = 0; attempt < 2 && len == -EMSGSIZE; attempt++) {
      if (attempt)
        n = lb_frame_encoded_size(&env);
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
      len = lb_frame_encode(&env, c->out + c->out_len, c->out_cap - c->out_len);
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
    return;
  }
  size_t n = lb__envelope__get_packed_size(&env);
  if (n > r->udp_limit) { /* never amplify */
    s->stats.udp_dropped++;
    return;
  }
  uv_udp_send_t *w = malloc(sizeof(*w) + n);
  if (!w) {
    s->stats.write_errors++;
    return;
  }
  uint8_t *buf = (uint8_t *)(w + 1);
  lb__envelope__pack(&env, buf);
  w->data = s;
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)n);
  if (uv_udp_send(w, &s->udp, &b, 1, (const struct sockaddr *)&r->addr, on_udp_send) < 0) {
    free(w);
    s->stats.write_errors++;
  }
}

/* One write per connection for the responses encoded since the last
 * flush (loop thread). */
static void flush_writes(struct lb_server *s) {
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
        conn_close(c, uv_strerror(n));
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
      conn_close(c, uv_strerror(rc));
    } else if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_MAX) {
      conn_close(c, "peer does not read its responses");
    }
  }
}

static void ready_push(struct lb_server *s, struct req *r) {
  r->next_ready = NULL;
  pthread_mutex_lock(&s->ready_lock);
  if (s->ready_tail)
    s->ready_tail->next_ready = r;
  else
    s->ready_head = r;
  s->ready_tail = r;
  pthread_mutex_unlock(&s->ready_lock);
  int rc = uv_async_send(&s->ready_async);
  if (rc < 0)
    LB_ERROR("waking the loop for a finished request: %s", uv_strerror(rc));
}

static void on_ready(uv_async_t *a) {
  struct lb_server *s = a->data;
  pthread_mutex_lock(&s->ready_lock);
  struct req *r = s->ready_head;
  s->ready_head = s->ready_tail = NULL;
  pthread_mutex_unlock(&s->ready_lock);
  while (r) {
    struct req *next = r->next_ready;
    send_response(s, r);
    req_release(r);
    r = next;
  }
  flush_writes(s);
}

/* Holds r for its egress delay until deadline_ns: on the pool's clock
 * when the pool has one (one wake-up for the processing ends and the holds
 * due together), else on the timer thread. 0, or -errno (send it now). */
static int hold(struct lb_server *s, struct req *r, int64_t deadline_ns) {
  return lb_server_pool_clocked(s->pool) ? lb_server_pool_hold(s->pool, deadline_ns, r)
                                         : lb_server_timer_add(s->timer, deadline_ns, r);
}

/* Processing ended: hold for the egress delay, or send (on the loop
 * thread at once, from a worker through the ready list). */
static void job_done(struct lb_server *s, struct req *r, bool on_loop) {
  if (r->is_probe) {
    lb_server_model_probe_report(&s->model, lb_server_pool_pending(s->pool), &r->report);
  } else {
    lb_server_model_on_complete(&s->model, r->rif_at_arrival, r->job.end_ns - r->job.arrival_ns);
    lb_server_model_report(&s->model, &r->report);
  }
  r->status = LB__STATUS__STATUS_OK;
  r->processed = true;
  r->done_ns = r->job.end_ns;
  lb_prom_hist_observe_ns(&s->duration, r->job.end_ns - r->job.arrival_ns);
  lb_prom_hist_observe_ns(&s->queue_wait, r->job.queue_ns);
  if (r->delay_ns > 0 && hold(s, r, r->done_ns + (int64_t)r->delay_ns) == 0)
    return;
  if (!on_loop) {
    ready_push(s, r);
    return;
  }
  send_response(s, r);
  req_release(r);
}

static void on_job_done(void *ctx, struct lb_server_job *job) {
  job_done(ctx, REQ_OF(job), false);
}

static int64_t on_job_work(void *ctx, struct lb_server_job *job) {
  struct lb_server *s = ctx;
  struct req *r = REQ_OF(job);
  int64_t ns = lb_server_model_work_ns(&s->model, r->is_probe, r->channel);
  return lb_server_faults_work_ns(s->cfg.sc, s->cfg.index, s->tick0_ns, lb_clock_now_ns(), ns);
}

static void on_held_due(void *ctx, void *item) {
  ready_push(ctx, item);
}

/* Items left in the pool, the timer or the ready list at shutdown. Only
 * after the loop stopped: nothing else runs. */
static void drop_item(void *ctx, void *item) {
  (void)ctx;
  req_release(item);
}

static void drop_job(void *ctx, struct lb_server_job *job) {
  drop_item(ctx, REQ_OF(job));
}

static void *resizer_main(void *arg) {
  struct lb_server *s = arg;
  pthread_mutex_lock(&s->resize_lock);
  for (;;) {
    while (!s->resize_stop && s->resize_to == 0)
      pthread_cond_wait(&s->resize_cond, &s->resize_lock);
    if (s->resize_stop)
      break;
    int threads = s->resize_to;
    s->resize_to = 0;
    pthread_mutex_unlock(&s->resize_lock);
    int rc = lb_server_pool_resize(s->pool, threads);
    if (rc < 0)
      LB_WARN("reset: cannot resize the pool to %d threads: %s", threads, strerror(-rc));
    else
      LB_DEBUG("reset: %d threads", threads);
    pthread_mutex_lock(&s->resize_lock);
  }
  pthread_mutex_unlock(&s->resize_lock);
  return NULL;
}

static void resizer_stop(struct lb_server *s) {
  if (!s->has_resizer)
    return;
  pthread_mutex_lock(&s->resize_lock);
  s->resize_stop = true;
  pthread_cond_signal(&s->resize_cond);
  pthread_mutex_unlock(&s->resize_lock);
  pthread_join(s->resizer, NULL);
  s->has_resizer = false;
}

static void on_tick(void *ctx, int64_t deadline_ns, int64_t now_ns) {
  struct lb_server *s = ctx;
  struct lb_server_pool_sample sample;
  lb_server_pool_sample(s->pool, now_ns, &sample);
  int threads = s->cfg.start_ns > 0
                    ? lb_server_model_tick_at(&s->model, &sample,
                                              (deadline_ns - s->cfg.start_ns) / s->cfg.sc->tick_ns)
                    : lb_server_model_tick(&s->model, &sample);
  if (threads > 0) { /* the latest reset wins */
    pthread_mutex_lock(&s->resize_lock);
    s->resize_to = threads;
    pthread_cond_signal(&s->resize_cond);
    pthread_mutex_unlock(&s->resize_lock);
  }
}

/* One rate-limited line for a limit's refusals (server_limits.h). */
static void say_limit(struct lb_server *s, enum lb_limit_kind kind) {
  static const char *const what[] = {
      "requests refused: too many replies held (--max-held)",
      "connections refused: too many from one address (--max-connections-per-peer)",
      "idle connections closed (--idle-timeout)"};
  uint64_t n;
  if (lb_server_limits_say(&s->limits, kind, lb_clock_now_ns(), &n))
    LB_WARN("%llu %s; %llu in all", (unsigned long long)n, what[kind],
            (unsigned long long)s->limits.refused[kind]);
}

/* A request from the wire (loop thread). conn or addr says where from. */
static void handle_request(struct lb_server *s, const Lb__Request *in, struct conn *c,
                           const struct sockaddr *addr, size_t udp_limit, struct lb_http_conn *http,
                           uint64_t http_seq) {
  struct req *r = req_new(s);
  if (!r) {
    s->stats.write_errors++;
    return;
  }
  r->srv = s;
  r->conn = c;
  r->http = http; /* its reference, taken by the HTTP server, is the request's */
  r->http_seq = http_seq;
  if (c)
    c->refs++;
  else if (addr)
    memcpy(&r->addr, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  r->udp_limit = udp_limit;
  r->id = in->id;
  r->is_probe = in->is_probe;
  r->channel = in->channel;
  r->delay_ns = in->response_delay_ns;
  s->outstanding++;
  if (in->is_probe)
    s->stats.probes++;
  else
    s->stats.requests++;

  int64_t now = lb_clock_now_ns();
  char why[160];
  if (lb_wire_check_request(in, &s->wire, why, sizeof(why)) < 0) {
    LB_DEBUG("bad request: %s", why); /* counted: bad_requests */
    r->delay_ns = 0;
    r->status = LB__STATUS__STATUS_BAD_REQUEST;
    s->stats.bad_requests++;
  } else if (s->draining) {
    r->status = LB__STATUS__STATUS_DRAINING;
    s->stats.draining_replies++;
  } else if (r->delay_ns > 0 && !(r->holds = lb_server_limits_hold_begin(&s->limits))) {
    r->delay_ns = 0; /* too many replies held: refused at once */
    r->status = LB__STATUS__STATUS_REJECTED;
    say_limit(s, LB_LIMIT_HELD);
  } else if (r->is_probe && s->cfg.sc->probe_service == LB_PROBE_IMMEDIATE) {
    /* Prequal: answered on arrival, no worker thread, not a query */
    lb_server_model_probe_report(&s->model, lb_server_pool_pending(s->pool), &r->report);
    r->status = LB__STATUS__STATUS_OK;
    r->processed = false; /* no queue, no processing */
    r->done_ns = now;
    if (r->delay_ns > 0 && lb_server_timer_add(s->timer, now + (int64_t)r->delay_ns, r) == 0)
      return;
    send_response(s, r);
    req_release(r);
    return;
  } else {
    r->rif_at_arrival = lb_server_pool_pending(s->pool);
    lb_server_model_on_arrival(&s->model);
    int rc = lb_server_pool_submit_inline(s->pool, &r->job, now);
    if (rc == 1) { /* no processing: done here, no hand-off to a worker */
      job_done(s, r, true);
      return;
    }
    if (rc == 0)
      return;
    lb_server_model_on_reject(&s->model);
    r->status = LB__STATUS__STATUS_REJECTED;
    s->stats.rejected++;
  }
  lb_server_model_report(&s->model, &r->report);
  r->done_ns = now;
  if (r->delay_ns > 0 && hold(s, r, now + (int64_t)r->delay_ns) == 0)
    return;
  send_response(s, r);
  req_release(r);
}

/* ---- TCP ---- */

static void on_conn_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  c->closed = true;
  if (c->refs == 0)
    conn_free(c);
}

static void conn_close(struct conn *c, const char *why) {
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

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
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
  conn_close(c, msg);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct conn *c = st->data;
  char err[256] = "";
  if (nread < 0) {
    conn_close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
    return;
  }
  if (nread == 0 || c->closing)
    return;
  c->last_ns = lb_clock_now_ns();
  int rc =
      lb_frame_reader_feed(&c->reader, (const uint8_t *)buf->base, (size_t)nread, err, sizeof(err));
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
      handle_request(c->srv, env->request, c, NULL, 0, NULL, 0);
    lb__envelope__free_unpacked(env, NULL);
  }
  flush_writes(c->srv); /* answers given at once (rejected, draining) */
}

static void on_connection(uv_stream_t *server, int status) {
  struct lb_server *s = server->data;
  if (status < 0) {
    LB_WARN("accept: %s", uv_strerror(status));
    return;
  }
  struct conn *c = calloc(1, sizeof(*c));
  if (!c)
    return;
  c->srv = s;
  int rc = uv_tcp_init(&s->loop, &c->tcp);
  if (rc < 0) { /* nothing to close: the handle never joined the loop */
    LB_WARN("accept: a TCP handle: %s", uv_strerror(rc));
    s->stats.connections_refused++;
    free(c);
    return;
  }
  c->tcp.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || s->draining ||
      s->nconns >= s->cfg.max_connections ||
      lb_frame_reader_init(&c->reader, s->cfg.max_frame) < 0) {
    s->stats.connections_refused++;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    return;
  }
  int plen = sizeof(c->peer);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &plen) == 0) {
    if (!lb_server_limits_peer_begin(&s->limits, (const struct sockaddr *)&c->peer)) {
      say_limit(s, LB_LIMIT_PEER);
      c->closing = true;
      uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
      return;
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
  rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc < 0)
    conn_close(c, uv_strerror(rc));
}

/* ---- HTTP (server_http.h) ---- */

static void on_http_request(void *ctx, struct lb_http_conn *hc, uint64_t seq,
                            const struct lb_http_request *hr) {
  struct lb_server *s = ctx;
  Lb__Request in = LB__REQUEST__INIT;
  char why[200];
  int code = lb_server_http_request(hr, &in, why, sizeof(why));
  if (code != 0) {
    LB_INFO("http: %d: %s", code, why);
    s->stats.http_refused++;
    size_t n = strlen(why);
    why[n] = '\n';
    if (lb_http_respond(hc, seq, code, NULL, why, n + 1) < 0)
      s->stats.write_errors++;
    lb_http_conn_unref(hc);
    return;
  }
  in.id = seq;
  handle_request(s, &in, NULL, NULL, 0, hc, seq);
}

static int http_start(struct lb_server *s, char *err, size_t errlen) {
  struct lb_http_server_config hc;
  lb_http_server_config_defaults(&hc);
  hc.listen = s->cfg.listen;
  hc.port = s->cfg.http_port;
  hc.max_connections = s->cfg.max_connections;
  hc.max_body = s->cfg.max_frame;
  hc.name = "http";
  hc.on_request = on_http_request;
  hc.ctx = s;
  return lb_http_server_new(&s->loop, &hc, &s->http, err, errlen);
}

/* Closes the connections idle past --idle-timeout (nothing read, nothing
 * alive); runs every quarter of it. */
static void on_idle_check(uv_timer_t *t) {
  struct lb_server *s = t->data;
  int64_t now = lb_clock_now_ns();
  for (struct conn *c = s->conns; c;) {
    struct conn *next = c->next;
    if (lb_server_limits_idle(&s->limits, c->last_ns, c->refs, now)) {
      lb_server_limits_refuse(&s->limits, LB_LIMIT_IDLE);
      say_limit(s, LB_LIMIT_IDLE);
      conn_close(c, NULL);
    }
    c = next;
  }
}

/* ---- UDP ---- */

static void on_udp_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags) {
  struct lb_server *s = u->data;
  char err[256];
  Lb__Envelope *env = NULL;
  if (nread <= 0 || !addr)
    return;
  if (flags & UV_UDP_PARTIAL) {
    s->stats.udp_bad++;
    return;
  }
  if (lb_datagram_decode((const uint8_t *)buf->base, (size_t)nread, &env, err, sizeof(err)) < 0) {
    s->stats.udp_bad++;
    LB_DEBUG("bad datagram: %s", err);
    return;
  }
  if (env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request)
    handle_request(s, env->request, NULL, addr, (size_t)nread, NULL, 0);
  else
    s->stats.udp_bad++;
  lb__envelope__free_unpacked(env, NULL);
}

/* ---- lifecycle ---- */

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void close_if_open(uv_handle_t *h) {
  if (h->loop && !uv_is_closing(h))
    uv_close(h, on_handle_closed);
}

static void close_all_conns(struct lb_server *s) {
  while (s->conns)
    conn_close(s->conns, NULL);
}

static void walk_close(uv_handle_t *h, void *arg) {
  (void)arg;
  close_if_open(h);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  struct conn *c = req->data;
  (void)status;
  free(req);
  conn_close(c, NULL);
}

/* Everything answered (or force): close every handle so that uv_run
 * returns. */
static void finish(struct lb_server *s, bool force) {
  if (s->finished || (s->outstanding > 0 && !force))
    return;
  s->finished = true;
  flush_writes(s);
  for (struct conn *c = s->conns; c;) {
    struct conn *next = c->next;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_shutdown_t *sh = malloc(sizeof(*sh));
    if (sh) {
      sh->data = c;
      if (uv_shutdown(sh, (uv_stream_t *)&c->tcp, on_shutdown) == 0) {
        c = next;
        continue;
      }
      free(sh);
    }
    conn_close(c, NULL);
    c = next;
  }
  if (s->has_udp)
    close_if_open((uv_handle_t *)&s->udp);
  lb_http_server_close(s->http);
  lb_prom_server_close(s->metrics);
  close_if_open((uv_handle_t *)&s->ready_async);
  close_if_open((uv_handle_t *)&s->stop_async);
  close_if_open((uv_handle_t *)&s->runtime_timer);
  close_if_open((uv_handle_t *)&s->grace_timer);
  close_if_open((uv_handle_t *)&s->idle_timer);
  if (s->cfg.handle_signals) { /* kept until free: a second signal is ignored */
    uv_unref((uv_handle_t *)&s->sigterm);
    uv_unref((uv_handle_t *)&s->sigint);
  }
}

/* Timer (ticks) before the resizer and the pool that ticks use; workers
 * before the timer's heap, which their completions may still join. Keeps
 * the counts of what it frees in s->stats. */
static void thread_stats(struct lb_server *s, struct lb_server_stats *out);

static void stop_threads(struct lb_server *s) {
  lb_server_timer_stop(s->timer);
  resizer_stop(s);
  thread_stats(s, &s->stats);
  lb_server_pool_free(s->pool);
  s->pool = NULL;
  lb_server_timer_free(s->timer, drop_item);
  s->timer = NULL;
}

static void on_grace(uv_timer_t *t) {
  struct lb_server *s = t->data;
  LB_WARN("drain did not finish in %d ms: %llu requests unanswered", DRAIN_GRACE_MS,
          (unsigned long long)s->outstanding);
  s->stats.forced = true;
  /* Stop the threads first, so that nothing signals a closed handle; what
   * they still held is dropped (req_release runs here, on the loop). */
  stop_threads(s);
  on_ready(&s->ready_async);
  close_all_conns(s);
  finish(s, true);
}

static void begin_drain(struct lb_server *s, const char *why) {
  if (s->draining)
    return;
  s->draining = true;
  LB_INFO("draining (%s): %llu requests to answer", why, (unsigned long long)s->outstanding);
  if (s->has_listener)
    close_if_open((uv_handle_t *)&s->listener);
  lb_http_server_stop_accepting(s->http);
  int rc = uv_timer_start(&s->grace_timer, on_grace, DRAIN_GRACE_MS, 0);
  if (rc < 0)
    LB_ERROR("drain: no grace timer (%s): waiting for every answer", uv_strerror(rc));
  finish(s, false);
}

static void on_signal(uv_signal_t *h, int signum) {
  begin_drain(h->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_stop(uv_async_t *a) {
  begin_drain(a->data, "stop");
}

static void on_runtime(uv_timer_t *t) {
  begin_drain(t->data, "max runtime");
}

static int bind_all(struct lb_server *s, char *err, size_t errlen) {
  struct sockaddr_storage addr;
  int rc, len;
  const char *host = s->cfg.listen;
  struct sockaddr_storage bound;
  if (uv_ip4_addr(host, s->cfg.port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(host, s->cfg.port, (struct sockaddr_in6 *)&addr) != 0) {
    snprintf(err, errlen, "--listen %s: not an IPv4 or IPv6 address", host);
    return -EINVAL;
  }
  if ((rc = uv_tcp_init(&s->loop, &s->listener)) < 0) {
    snprintf(err, errlen, "TCP listener handle: %s", uv_strerror(rc));
    return rc;
  }
  s->listener.data = s;
  s->has_listener = true;
  rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
  if (rc < 0) {
    snprintf(err, errlen, "cannot listen on TCP %s port %d: %s", host, s->cfg.port,
             uv_strerror(rc));
    return rc;
  }
  len = sizeof(bound);
  if ((rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len)) < 0) {
    snprintf(err, errlen, "the TCP port bound on %s: %s", host, uv_strerror(rc));
    return rc;
  }
  s->tcp_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  if (s->cfg.no_udp)
    return 0;
  if (addr.ss_family == AF_INET)
    ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)s->cfg.udp_port);
  else
    ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)s->cfg.udp_port);
  if ((rc = uv_udp_init(&s->loop, &s->udp)) < 0) {
    snprintf(err, errlen, "UDP socket handle: %s", uv_strerror(rc));
    return rc;
  }
  s->udp.data = s;
  s->has_udp = true;
  rc = uv_udp_bind(&s->udp, (struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_udp_recv_start(&s->udp, on_alloc, on_udp_recv);
  if (rc < 0) {
    snprintf(err, errlen, "cannot bind UDP %s port %d: %s", host, s->cfg.udp_port, uv_strerror(rc));
    return rc;
  }
  len = sizeof(bound);
  if ((rc = uv_udp_getsockname(&s->udp, (struct sockaddr *)&bound, &len)) < 0) {
    snprintf(err, errlen, "the UDP port bound on %s: %s", host, uv_strerror(rc));
    return rc;
  }
  s->udp_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  return 0;
}

int lb_server_new(const struct lb_server_config *cfg, struct lb_server **out, char *err,
                  size_t errlen) {
  int rc = 0;
  struct lb_server *s = NULL;
  *out = NULL;
  err[0] = '\0';
  s = calloc(1, sizeof(*s));
  if (!s)
    return -ENOMEM;
  s->cfg = *cfg;
  lb_wire_limits_from_scenario(cfg->sc, &s->wire);
  lb_server_limits_init(&s->limits, &cfg->limits);
  s->stats.tick_late_max_tick = -1;
  lb_prom_hist_init(&s->duration);
  lb_prom_hist_init(&s->queue_wait);
  pthread_mutex_init(&s->ready_lock, NULL);
  pthread_mutex_init(&s->resize_lock, NULL);
  pthread_cond_init(&s->resize_cond, NULL);
  rc = uv_loop_init(&s->loop);
  if (rc < 0) {
    snprintf(err, errlen, "event loop: %s", uv_strerror(rc));
    lb_server_free(s);
    return rc;
  }
  s->loop_init = true;
  s->loop.data = s;
  if (cfg->board) {
    rc = lb_board_open(cfg->board, cfg->sc->servers, true, &s->board);
    if (rc < 0) {
      snprintf(err, errlen, "oracle board '%s' for %d servers: %s", cfg->board, cfg->sc->servers,
               rc == -EINVAL ? "bad name, or it exists with another number of servers"
                             : strerror(-rc));
      goto fail;
    }
  }
  rc = lb_server_model_init(&s->model, cfg->sc, cfg->index, cfg->run, &cfg->overrides, s->board);
  if (rc < 0) {
    snprintf(err, errlen, "server model: %s", strerror(-rc));
    goto fail;
  }
  s->model_init = true;
  /* A handle that failed to initialise never joined the loop, so
   * lb_server_free's walk closes only those that did. */
  if ((rc = uv_async_init(&s->loop, &s->ready_async, on_ready)) < 0 ||
      (rc = uv_async_init(&s->loop, &s->stop_async, on_stop)) < 0 ||
      (rc = uv_timer_init(&s->loop, &s->runtime_timer)) < 0 ||
      (rc = uv_timer_init(&s->loop, &s->grace_timer)) < 0) {
    snprintf(err, errlen, "event loop handles (wake-ups, timers): %s", uv_strerror(rc));
    goto fail;
  }
  s->ready_async.data = s;
  s->stop_async.data = s;
  s->runtime_timer.data = s;
  s->grace_timer.data = s;
  uv_unref((uv_handle_t *)&s->grace_timer);
  if ((rc = uv_timer_init(&s->loop, &s->idle_timer)) < 0) {
    snprintf(err, errlen, "idle timer: %s", uv_strerror(rc));
    goto fail;
  }
  s->idle_timer.data = s;
  if (cfg->limits.idle_ns > 0) {
    uint64_t every_ms = (uint64_t)(cfg->limits.idle_ns / 4000000);
    if ((rc = uv_timer_start(&s->idle_timer, on_idle_check, every_ms ? every_ms : 1,
                             every_ms ? every_ms : 1)) < 0) {
      snprintf(err, errlen, "idle timer: %s", uv_strerror(rc));
      goto fail;
    }
  }
  uv_unref((uv_handle_t *)&s->idle_timer);
  if (cfg->handle_signals) {
    if ((rc = uv_signal_init(&s->loop, &s->sigterm)) < 0 ||
        (rc = uv_signal_init(&s->loop, &s->sigint)) < 0) {
      snprintf(err, errlen, "signal handles (SIGTERM, SIGINT): %s", uv_strerror(rc));
      goto fail;
    }
    s->sigterm.data = s->sigint.data = s;
    if ((rc = uv_signal_start(&s->sigterm, on_signal, SIGTERM)) < 0 ||
        (rc = uv_signal_start(&s->sigint, on_signal, SIGINT)) < 0) {
      snprintf(err, errlen, "catching SIGTERM and SIGINT: %s", uv_strerror(rc));
      goto fail;
    }
  }
  rc = bind_all(s, err, errlen);
  if (rc == 0 && cfg->http)
    rc = http_start(s, err, errlen);
  if (rc == 0 && cfg->metrics)
    rc = lb_prom_server_new(&s->loop, cfg->listen, cfg->metrics_port, lb_server_metrics_collect, s,
                            &s->metrics, err, errlen);
  if (rc < 0)
    goto fail;

  int64_t now = lb_clock_now_ns();
  s->tick0_ns = cfg->start_ns > 0 ? cfg->start_ns : now;
  if (cfg->start_ns > 0) /* tick 0's reset (and any since) sizes the pool */
    lb_server_model_align(&s->model,
                          now > cfg->start_ns ? (now - cfg->start_ns) / cfg->sc->tick_ns : 0);
  /* The first sample's interval: from tick 0 when it is still to come. */
  int64_t base = cfg->start_ns > now ? cfg->start_ns : now;
  struct lb_server_pool_config pc = {
      .threads = lb_server_model_threads(&s->model),
      .max_queue = cfg->max_queue,
      .work = cfg->work,
      .wake_early_ns = cfg->wake_early_ns,
      .clock_slack_ns = cfg->sc->tick_ns / LB_SERVER_CLOCK_SLACK_DIV,
      .work_cb = on_job_work,
      .done_cb = on_job_done,
      .drop_cb = drop_job,
      .held_cb = on_held_due,
      .held_drop_cb = drop_item,
      .ctx = s,
  };
  rc = lb_server_pool_new(&pc, base, &s->pool);
  if (rc < 0) {
    snprintf(err, errlen, "worker pool of %d threads: %s", pc.threads, strerror(-rc));
    goto fail;
  }
  rc = -pthread_create(&s->resizer, NULL, resizer_main, s);
  if (rc < 0) {
    snprintf(err, errlen, "resize thread: %s", strerror(-rc));
    goto fail;
  }
  s->has_resizer = true;
  struct lb_server_timer_config tc = {
      .tick_ns = cfg->sc->tick_ns,
      .wake_early_ns = cfg->wake_early_ns,
      .start_ns = cfg->start_ns > 0 ? cfg->start_ns : now,
      .tick_cb = on_tick,
      .due_cb = on_held_due,
      .ctx = s,
  };
  rc = lb_server_timer_new(&tc, &s->timer);
  if (rc < 0) {
    snprintf(err, errlen, "timer thread: %s", strerror(-rc));
    goto fail;
  }
  if (cfg->max_runtime_s > 0 &&
      (rc = uv_timer_start(&s->runtime_timer, on_runtime, (uint64_t)(cfg->max_runtime_s * 1000),
                           0)) < 0) {
    snprintf(err, errlen, "--max-runtime timer: %s", uv_strerror(rc));
    goto fail;
  }
  *out = s;
  return 0;
fail:
  lb_server_free(s);
  return rc;
}

void lb_server_ports(const struct lb_server *s, int *tcp, int *udp) {
  if (tcp)
    *tcp = s->tcp_port;
  if (udp)
    *udp = s->has_udp ? s->udp_port : 0;
}

int lb_server_metrics_port(const struct lb_server *s) {
  return lb_prom_server_port(s->metrics);
}

void lb_server_gauges(struct lb_server *s, struct lb_server_gauges *out) {
  memset(out, 0, sizeof(*out));
  out->duration = &s->duration;
  out->queue_wait = &s->queue_wait;
  out->outstanding = s->outstanding;
  if (!s->pool)
    return;
  out->in_flight = lb_server_pool_pending(s->pool);
  out->queued = (int)lb_server_pool_queued_jobs(s->pool, NULL, 0);
  out->threads = lb_server_pool_threads(s->pool);
  int busy = out->in_flight - out->queued; /* two reads: bounded, not exact */
  out->busy = busy < 0 ? 0 : busy > out->threads ? out->threads : busy;
}

int lb_server_http_port(const struct lb_server *s) {
  return s->http ? lb_http_server_port(s->http) : 0;
}

int lb_server_run(struct lb_server *s) {
  return uv_run(&s->loop, UV_RUN_DEFAULT);
}

void lb_server_stop(struct lb_server *s) {
  int rc = uv_async_send(&s->stop_async);
  if (rc < 0)
    LB_ERROR("stopping the server's loop: %s", uv_strerror(rc));
}

int lb_server_threads(struct lb_server *s) {
  return s->pool ? lb_server_pool_threads(s->pool) : lb_server_model_threads(&s->model);
}

/* The threads' figures (pool and timer), while they are alive. */
static void thread_stats(struct lb_server *s, struct lb_server_stats *out) {
  if (s->pool) {
    struct lb_server_pool_counts pc;
    lb_server_pool_counts(s->pool, &pc);
    out->demoted = pc.demoted;
    lb_server_pool_lateness(s->pool, &out->work_late);
    if (lb_server_pool_clocked(s->pool))
      lb_server_pool_hold_lateness(s->pool, &out->hold_late);
  }
  if (s->timer) {
    lb_server_timer_lateness(s->timer, &out->tick_late,
                             s->pool && lb_server_pool_clocked(s->pool) ? NULL : &out->hold_late,
                             &out->ticks_skipped);
    out->tick_late_max_tick =
        out->tick_late.count > 0 ? lb_server_timer_tick_of(s->timer, out->tick_late.max_at_ns) : -1;
  }
}

void lb_server_stats(struct lb_server *s, struct lb_server_stats *out) {
  *out = s->stats;
  thread_stats(s, out);
  if (s->http) {
    struct lb_http_server_stats hs;
    lb_http_server_get_stats(s->http, &hs);
    out->http_connections = hs.connections;
    out->http_malformed = hs.bad_requests;
  }
  out->held_refused = s->limits.refused[LB_LIMIT_HELD];
  out->peer_refused = s->limits.refused[LB_LIMIT_PEER];
  out->idle_closed = s->limits.refused[LB_LIMIT_IDLE];
  if (s->model_init) {
    pthread_mutex_lock(&s->model.lock);
    out->resets = s->model.resets;
    out->board_errors = s->model.board_errors;
    pthread_mutex_unlock(&s->model.lock);
  }
}

void lb_server_free(struct lb_server *s) {
  if (!s)
    return;
  /* Threads first: nothing calls back into the loop after this. */
  s->finished = true;
  stop_threads(s);
  struct req *r = s->ready_head;
  s->ready_head = s->ready_tail = NULL;
  while (r) {
    struct req *next = r->next_ready;
    req_release(r);
    r = next;
  }
  if (s->loop_init) {
    s->finished = true;
    s->draining = false;
    /* Connections close through their own callback, the rest after. */
    close_all_conns(s);
    lb_http_server_close(s->http);
    lb_prom_server_close(s->metrics);
    uv_walk(&s->loop, walk_close, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
  }
  lb_http_server_free(s->http);
  lb_prom_server_free(s->metrics);
  while (s->free_reqs) {
    struct req *next = s->free_reqs->next_ready;
    free(s->free_reqs);
    s->free_reqs = next;
  }
  if (s->model_init)
    lb_server_model_close(&s->model);
  lb_server_limits_close(&s->limits);
  lb_board_close(s->board);
  pthread_mutex_destroy(&s->ready_lock);
  pthread_mutex_destroy(&s->resize_lock);
  pthread_cond_destroy(&s->resize_cond);
  free(s);
}
