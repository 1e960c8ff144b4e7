/* prom: Prometheus text exposition and its endpoint. */
#include "prom.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"
#include "log.h"

const double lb_prom_bucket_bounds[LB_PROM_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

void lb_prom_hist_init(struct lb_prom_hist *h) {
  for (int i = 0; i <= LB_PROM_BUCKETS; i++)
    atomic_init(&h->bucket[i], 0);
  atomic_init(&h->count, 0);
  atomic_init(&h->sum_ns, 0);
}

void lb_prom_hist_observe_ns(struct lb_prom_hist *h, int64_t ns) {
  if (ns < 0)
    ns = 0;
  double s = (double)ns / 1e9;
  int i = 0;
  while (i < LB_PROM_BUCKETS && s > lb_prom_bucket_bounds[i])
    i++;
  atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_ns, (uint_fast64_t)ns, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

static void appendf(struct lb_prom_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void appendf(struct lb_prom_text *t, const char *fmt, ...) {
  if (t->err)
    return;
  for (int attempt = 0; attempt < 2; attempt++) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->err = -EINVAL;
      return;
    }
    if (t->buf && (size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + (size_t)n + 1)
      cap *= 2;
    char *buf = realloc(t->buf, cap);
    if (!buf) {
      t->err = -ENOMEM;
      return;
    }
    t->buf = buf;
    t->cap = cap;
  }
}

void lb_prom_family(struct lb_prom_text *t, const char *name, const char *type, const char *help) {
  appendf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void lb_prom_sample(struct lb_prom_text *t, const char *name, const char *labels, double value) {
  if (labels)
    appendf(t, "%s{%s} %.17g\n", name, labels, value);
  else
    appendf(t, "%s %.17g\n", name, value);
}

void lb_prom_sample_u64(struct lb_prom_text *t, const char *name, const char *labels, uint64_t v) {
  if (labels)
    appendf(t, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
  else
    appendf(t, "%s %llu\n", name, (unsigned long long)v);
}

void lb_prom_hist_write(struct lb_prom_text *t, const char *name, const char *help,
                        const struct lb_prom_hist *h) {
  lb_prom_family(t, name, "histogram", help);
  /* Read the buckets first: the count is then at least their sum's, and
   * the +Inf bucket is reported as the count, so le="+Inf" == _count. */
  uint64_t cum = 0;
  for (int i = 0; i < LB_PROM_BUCKETS; i++) {
    cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
    appendf(t, "%s_bucket{le=\"%g\"} %llu\n", name, lb_prom_bucket_bounds[i],
            (unsigned long long)cum);
  }
  cum += atomic_load_explicit(&h->bucket[LB_PROM_BUCKETS], memory_order_relaxed);
  uint64_t sum = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
  uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
  if (count < cum)
    count = cum;
  appendf(t, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name,
          (unsigned long long)count, name, (double)sum / 1e9, name, (unsigned long long)count);
}

struct lb_prom_server {
  struct lb_http_server *http;
  lb_prom_collect_cb collect;
  void *ctx;
  uint64_t scrapes;
};

static void on_request(void *ctx, struct lb_http_conn *conn, uint64_t seq,
                       const struct lb_http_request *req) {
  struct lb_prom_server *p = ctx;
  size_t path = strcspn(req->url, "?#");
  if (strcmp(req->method, "GET") != 0 || path != 8 || strncmp(req->url, "/metrics", 8) != 0) {
    static const char msg[] = "try GET /metrics\n";
    lb_http_respond(conn, seq, 404, NULL, msg, sizeof(msg) - 1);
    lb_http_conn_unref(conn);
    return;
  }
  struct lb_prom_text t = {0};
  p->collect(p->ctx, &t);
  p->scrapes++;
  if (t.err)
    lb_http_respond(conn, seq, 500, NULL, NULL, 0);
  else
    lb_http_respond(conn, seq, 200, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
                    t.buf, t.len);
  free(t.buf);
  lb_http_conn_unref(conn);
}

int lb_prom_server_new(uv_loop_t *loop, const char *listen, int port, lb_prom_collect_cb collect,
                       void *ctx, struct lb_prom_server **out, char *err, size_t errlen) {
  struct lb_prom_server *p = calloc(1, sizeof(*p));
  *out = NULL;
  if (!p)
    return -ENOMEM;
  p->collect = collect;
  p->ctx = ctx;
  struct lb_http_server_config cfg;
  lb_http_server_config_defaults(&cfg);
  cfg.listen = listen;
  cfg.port = port;
  cfg.max_connections = 16;
  cfg.max_body = 0;
  cfg.name = "metrics";
  cfg.on_request = on_request;
  cfg.ctx = p;
  *out = p;
  return lb_http_server_new(loop, &cfg, &p->http, err, errlen);
}

int lb_prom_server_port(const struct lb_prom_server *p) {
  return p && p->http ? lb_http_server_port(p->http) : 0;
}

uint64_t lb_prom_server_scrapes(const struct lb_prom_server *p) {
  return p ? p->scrapes : 0;
}

void lb_prom_server_close(struct lb_prom_server *p) {
  if (p)
    lb_http_server_close(p->http);
}

void lb_prom_server_free(struct lb_prom_server *p) {
  if (!p)
    return;
  lb_http_server_free(p->http);
  free(p);
}

struct lb_prom_thread {
  uv_loop_t loop;
  uv_async_t stop;
  struct lb_prom_server *srv;
  pthread_t thread;
};

static void on_stop(uv_async_t *a) {
  struct lb_prom_thread *pt = a->data;
  lb_prom_server_close(pt->srv);
  uv_close((uv_handle_t *)&pt->stop, NULL);
}

static void *thread_main(void *arg) {
  struct lb_prom_thread *pt = arg;
  uv_run(&pt->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void on_walk_close(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void thread_free(struct lb_prom_thread *pt) {
  lb_prom_server_close(pt->srv);
  uv_walk(&pt->loop, on_walk_close, NULL);
  uv_run(&pt->loop, UV_RUN_DEFAULT);
  uv_loop_close(&pt->loop);
  lb_prom_server_free(pt->srv);
  free(pt);
}

int lb_prom_thread_start(const char *listen, int port, lb_prom_collect_cb collect, void *ctx,
                         struct lb_prom_thread **out, char *err, size_t errlen) {
  *out = NULL;
  struct lb_prom_thread *pt = calloc(1, sizeof(*pt));
  if (!pt)
    return -ENOMEM;
  int rc = uv_loop_init(&pt->loop);
  if (rc < 0) {
    free(pt);
    snprintf(err, errlen, "metrics: event loop: %s", uv_strerror(rc));
    return rc;
  }
  if ((rc = uv_async_init(&pt->loop, &pt->stop, on_stop)) < 0) {
    uv_loop_close(&pt->loop);
    free(pt);
    snprintf(err, errlen, "metrics: stop handle: %s", uv_strerror(rc));
    return rc;
  }
  pt->stop.data = pt;
  rc = lb_prom_server_new(&pt->loop, listen, port, collect, ctx, &pt->srv, err, errlen);
  if (rc == 0) {
    rc = -pthread_create(&pt->thread, NULL, thread_main, pt);
    if (rc < 0)
      snprintf(err, errlen, "metrics thread: %s", strerror(-rc));
  }
  if (rc < 0) {
    thread_free(pt);
    return rc;
  }
  *out = pt;
  return 0;
}

int lb_prom_thread_port(const struct lb_prom_thread *pt) {
  return pt ? lb_prom_server_port(pt->srv) : 0;
}

void lb_prom_thread_stop(struct lb_prom_thread *pt) {
  if (!pt)
    return;
  int rc = uv_async_send(&pt->stop);
  if (rc < 0) { /* the thread would never stop: leave it, do not join */
    LB_ERROR("metrics: cannot stop the metrics thread: %s", uv_strerror(rc));
    return;
  }
  pthread_join(pt->thread, NULL);
  thread_free(pt);
}
