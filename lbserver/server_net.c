/* server_net: the server's lifetime: binding its sockets, lb_server_new
 * (the loop, its handles, the pool, the resize and timer threads),
 * ports, gauges and stats, lb_server_free. The request path is
 * server_request.c, the transports server_tcp.c, server_udp.c and
 * server_net_http.c, the drain server_drain.c (server_net_int.h). */
#include "server_net.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "board.h"
#include "clock.h"
#include "log.h"
#include "server_net_int.h"

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

/* Timer (ticks) before the resizer and the pool that ticks use; workers
 * before the timer's heap, which their completions may still join. Keeps
 * the counts of what it frees in s->stats. */
static void thread_stats(struct lb_server *s, struct lb_server_stats *out);

void lb__server_stop_threads(struct lb_server *s) {
  lb_server_timer_stop(s->timer);
  resizer_stop(s);
  thread_stats(s, &s->stats);
  lb_server_pool_free(s->pool);
  s->pool = NULL;
  lb_server_timer_free(s->timer, lb__server_drop_item);
  s->timer = NULL;
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
    rc = uv_listen((uv_stream_t *)&s->listener, 511, lb__server_on_connection);
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
    rc = uv_udp_recv_start(&s->udp, lb__server_on_alloc, lb__server_on_udp_recv);
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
  if ((rc = uv_async_init(&s->loop, &s->ready_async, lb__server_on_ready)) < 0 ||
      (rc = uv_async_init(&s->loop, &s->stop_async, lb__server_on_stop)) < 0 ||
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
    if ((rc = uv_timer_start(&s->idle_timer, lb__server_on_idle_check, every_ms ? every_ms : 1,
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
    if ((rc = uv_signal_start(&s->sigterm, lb__server_on_signal, SIGTERM)) < 0 ||
        (rc = uv_signal_start(&s->sigint, lb__server_on_signal, SIGINT)) < 0) {
      snprintf(err, errlen, "catching SIGTERM and SIGINT: %s", uv_strerror(rc));
      goto fail;
    }
  }
  rc = bind_all(s, err, errlen);
  if (rc == 0 && cfg->http)
    rc = lb__server_http_start(s, err, errlen);
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
      .work_cb = lb__server_on_job_work,
      .done_cb = lb__server_on_job_done,
      .drop_cb = lb__server_drop_job,
      .held_cb = lb__server_on_held_due,
      .held_drop_cb = lb__server_drop_item,
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
      .due_cb = lb__server_on_held_due,
      .ctx = s,
  };
  rc = lb_server_timer_new(&tc, &s->timer);
  if (rc < 0) {
    snprintf(err, errlen, "timer thread: %s", strerror(-rc));
    goto fail;
  }
  if (cfg->max_runtime_s > 0 &&
      (rc = uv_timer_start(&s->runtime_timer, lb__server_on_runtime,
                           (uint64_t)(cfg->max_runtime_s * 1000), 0)) < 0) {
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

static void walk_close(uv_handle_t *h, void *arg) {
  (void)arg;
  lb__server_close_if_open(h);
}

void lb_server_free(struct lb_server *s) {
  if (!s)
    return;
  /* Threads first: nothing calls back into the loop after this. */
  s->finished = true;
  lb__server_stop_threads(s);
  struct req *r = s->ready_head;
  s->ready_head = s->ready_tail = NULL;
  while (r) {
    struct req *next = r->next_ready;
    lb__server_req_release(r);
    r = next;
  }
  if (s->loop_init) {
    s->finished = true;
    s->draining = false;
    /* Connections close through their own callback, the rest after. */
    lb__server_close_all_conns(s);
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
