/* server_request: a request from any transport to its response: checked,
 * refused (draining, limits, a full queue), answered at once or handed to
 * the pool; completions come back through the ready queue (workers) or
 * are held for their egress delay; the response goes out by the
 * request's transport. Requests are recycled on the loop thread. */
#include "server_net_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "report.h"
#include "server_faults.h"

#define FREE_REQS_MAX 4096 /* released requests kept for reuse (loop thread) */

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

void lb__server_req_release(struct req *r) {
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
    lb__server_conn_free(c);
  if (s->draining)
    lb__server_finish(s, false);
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
    lb__server_send_http(s, r, &resp);
    return;
  }
  if (r->conn) {
    lb__server_send_tcp(s, r->conn, &env);
    return;
  }
  lb__server_send_udp(s, r, &env);
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

void lb__server_on_ready(uv_async_t *a) {
  struct lb_server *s = a->data;
  pthread_mutex_lock(&s->ready_lock);
  struct req *r = s->ready_head;
  s->ready_head = s->ready_tail = NULL;
  pthread_mutex_unlock(&s->ready_lock);
  while (r) {
    struct req *next = r->next_ready;
    send_response(s, r);
    lb__server_req_release(r);
    r = next;
  }
  lb__server_flush_writes(s);
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
  lb__server_req_release(r);
}

void lb__server_on_job_done(void *ctx, struct lb_server_job *job) {
  job_done(ctx, REQ_OF(job), false);
}

int64_t lb__server_on_job_work(void *ctx, struct lb_server_job *job) {
  struct lb_server *s = ctx;
  struct req *r = REQ_OF(job);
  int64_t ns = lb_server_model_work_ns(&s->model, r->is_probe, r->channel);
  return lb_server_faults_work_ns(s->cfg.sc, s->cfg.index, s->tick0_ns, lb_clock_now_ns(), ns);
}

void lb__server_on_held_due(void *ctx, void *item) {
  ready_push(ctx, item);
}

/* Items left in the pool, the timer or the ready list at shutdown. Only
 * after the loop stopped: nothing else runs. */
void lb__server_drop_item(void *ctx, void *item) {
  (void)ctx;
  lb__server_req_release(item);
}

void lb__server_drop_job(void *ctx, struct lb_server_job *job) {
  lb__server_drop_item(ctx, REQ_OF(job));
}

/* One rate-limited line for a limit's refusals (server_limits.h). */
void lb__server_say_limit(struct lb_server *s, enum lb_limit_kind kind) {
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
void lb__server_handle_request(struct lb_server *s, const Lb__Request *in, struct conn *c,
                               const struct sockaddr *addr, size_t udp_limit,
                               struct lb_http_conn *http, uint64_t http_seq) {
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
    lb__server_say_limit(s, LB_LIMIT_HELD);
  } else if (r->is_probe && s->cfg.sc->probe_service == LB_PROBE_IMMEDIATE) {
    /* Prequal: answered on arrival, no worker thread, not a query */
    lb_server_model_probe_report(&s->model, lb_server_pool_pending(s->pool), &r->report);
    r->status = LB__STATUS__STATUS_OK;
    r->processed = false; /* no queue, no processing */
    r->done_ns = now;
    if (r->delay_ns > 0 && lb_server_timer_add(s->timer, now + (int64_t)r->delay_ns, r) == 0)
      return;
    send_response(s, r);
    lb__server_req_release(r);
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
  lb__server_req_release(r);
}
