/* client_fullspeed: closed-loop request rate over many connections. */
#include "client_fullspeed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "clock.h"
#include "client_conn.h"
#include "client_driver.h"
#include "client_samples.h"
#include "log.h"

struct fs {
  const struct lb_fullspeed_config *cfg;
  struct lb_fullspeed_result *res;
  uv_loop_t loop;
  uv_timer_t deadline;
  struct lb_conn *conns;
  int *outstanding;
  int up;
  long sent, done;
  int64_t *sent_at; /* by request id */
  int64_t t_start, t_end;
  bool stopped;
  struct lb_samples rtt;
};

static void fs_stop(struct fs *f) {
  if (f->stopped)
    return;
  f->stopped = true;
  f->t_end = lb_clock_now_ns();
  for (int i = 0; i < f->cfg->connections; i++)
    lb_conn_close(&f->conns[i]);
  uv_close((uv_handle_t *)&f->deadline, NULL);
}

static void fs_send(struct fs *f, struct lb_conn *c) {
  if (f->sent >= f->cfg->requests || f->stopped)
    return;
  Lb__Request req = LB__REQUEST__INIT;
  req.id = (uint64_t)f->sent;
  req.client = 0;
  req.channel = 0; /* one client: the server checks channel < the scenario's clients */
  f->sent_at[f->sent] = lb_clock_now_ns();
  if (lb_conn_send_request(c, &req) < 0) {
    f->res->failed++;
    f->done++;
    f->sent++;
    return;
  }
  lb_conn_flush(c); /* one request at a time per connection: written at once */
  f->sent++;
  f->outstanding[c->index]++;
}

static void fs_check_done(struct fs *f) {
  if (f->done >= f->cfg->requests)
    fs_stop(f);
}

static void fs_up(void *arg, struct lb_conn *c) {
  struct fs *f = arg;
  if (!f->t_start && ++f->up < f->cfg->connections)
    return;
  if (!f->t_start) {
    f->t_start = lb_clock_now_ns();
    for (int i = 0; i < f->cfg->connections; i++)
      for (int k = 0; k < f->cfg->pipeline; k++)
        fs_send(f, &f->conns[i]);
    fs_check_done(f);
    return;
  }
  for (int k = 0; k < f->cfg->pipeline; k++) /* a reconnect */
    fs_send(f, c);
}

static void fs_down(void *arg, struct lb_conn *c, const char *reason) {
  struct fs *f = arg;
  (void)reason;
  f->res->failed += f->outstanding[c->index];
  f->done += f->outstanding[c->index];
  f->outstanding[c->index] = 0;
  fs_check_done(f);
}

static void fs_response(void *arg, struct lb_conn *c, const Lb__Response *resp) {
  struct fs *f = arg;
  if (resp->id >= (uint64_t)f->sent || f->outstanding[c->index] <= 0) {
    f->res->stray++;
    return;
  }
  f->outstanding[c->index]--;
  f->done++;
  if (resp->status == LB__STATUS__STATUS_OK) {
    f->res->completed++;
    lb_samples_add(&f->rtt, lb_clock_now_ns() - f->sent_at[resp->id]);
  } else {
    f->res->failed++;
  }
  fs_send(f, c);
  fs_check_done(f);
}

/* HTTP: a bad answer (client_conn.h) is a failed request. */
static void fs_bad_response(void *arg, struct lb_conn *c, uint64_t id, const char *why) {
  struct fs *f = arg;
  (void)why;
  Lb__Response failed = LB__RESPONSE__INIT;
  failed.id = id;
  failed.status = LB__STATUS__STATUS_BAD_REQUEST;
  fs_response(f, c, &failed);
}

static void fs_deadline(uv_timer_t *t) {
  struct fs *f = t->data;
  LB_WARN("--max-runtime reached after %ld of %ld requests", f->done, f->cfg->requests);
  fs_stop(f);
}

int lb_fullspeed_run(const struct lb_fullspeed_config *cfg, struct lb_fullspeed_result *res,
                     char *err, size_t errlen) {
  memset(res, 0, sizeof(*res));
  struct fs f = {.cfg = cfg, .res = res};
  int rc = -ENOMEM;
  lb_samples_init(&f.rtt, 1u << 20);
  f.conns = calloc((size_t)cfg->connections, sizeof(*f.conns));
  f.outstanding = calloc((size_t)cfg->connections, sizeof(int));
  f.sent_at = malloc((size_t)cfg->requests * sizeof(int64_t));
  if (!f.conns || !f.outstanding || !f.sent_at) {
    snprintf(err, errlen, "out of memory for %ld requests", cfg->requests);
    goto out;
  }
  if ((rc = uv_loop_init(&f.loop)) < 0) {
    snprintf(err, errlen, "uv_loop_init: %s", uv_strerror(rc));
    goto out;
  }
  if ((rc = uv_timer_init(&f.loop, &f.deadline)) < 0) {
    snprintf(err, errlen, "--max-runtime timer: %s", uv_strerror(rc));
    uv_loop_close(&f.loop);
    goto out;
  }
  f.deadline.data = &f;
  struct lb_conn_callbacks cb = {
      .arg = &f,
      .on_up = fs_up,
      .on_down = fs_down,
      .on_response = fs_response,
      .on_bad_response = fs_bad_response};
  int n = 0;
  for (; n < cfg->connections; n++) {
    const struct lb_server_addr *a = &cfg->servers[n % cfg->nservers];
    struct sockaddr_storage addr;
    int port = lb_client_server_port(a, cfg->transport, err, errlen);
    if (port < 0) {
      rc = port;
      break;
    }
    if ((rc = lb_conn_resolve(a->host, port, &addr)) < 0) {
      snprintf(err, errlen, "--servers: cannot resolve '%s'", a->host);
      break;
    }
    if ((rc = lb_conn_init(&f.conns[n], &f.loop, n, n % cfg->nservers, cfg->transport, &addr,
                           &cb)) < 0) {
      snprintf(err, errlen, "connection %d: %s", n, uv_strerror(rc));
      break;
    }
  }
  if (rc >= 0 && cfg->max_runtime_s > 0 &&
      (rc = uv_timer_start(&f.deadline, fs_deadline, (uint64_t)(cfg->max_runtime_s * 1000), 0)) <
          0)
    snprintf(err, errlen, "--max-runtime timer: %s", uv_strerror(rc));
  if (rc < 0) {
    for (int i = 0; i < n; i++)
      lb_conn_close(&f.conns[i]);
    uv_close((uv_handle_t *)&f.deadline, NULL);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    uv_loop_close(&f.loop);
    goto out;
  }
  for (int i = 0; i < cfg->connections; i++)
    lb_conn_start(&f.conns[i]);
  uv_run(&f.loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&f.loop) < 0)
    LB_WARN("uv_loop_close: handles still open");
  if (f.t_start && f.t_end > f.t_start) {
    res->seconds = (double)(f.t_end - f.t_start) / 1e9;
    res->requests_per_second = (double)res->completed / res->seconds;
  }
  res->rtt_p50_us = lb_samples_quantile(&f.rtt, 0.5) / 1e3;
  res->rtt_p99_us = lb_samples_quantile(&f.rtt, 0.99) / 1e3;
  rc = 0;
out:
  lb_samples_close(&f.rtt);
  free(f.conns);
  free(f.outstanding);
  free(f.sent_at);
  return rc;
}
