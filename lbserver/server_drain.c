/* server_drain: the drain (SIGTERM, SIGINT, lb_server_stop,
 * --max-runtime): new connections refused, every request answered, then
 * every handle closed so that the loop returns; forced after a grace
 * period. */
#include "server_net_int.h"

#include <signal.h>
#include <stdlib.h>

#include "log.h"

#define DRAIN_GRACE_MS 5000

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

void lb__server_close_if_open(uv_handle_t *h) {
  if (h->loop && !uv_is_closing(h))
    uv_close(h, on_handle_closed);
}

void lb__server_close_all_conns(struct lb_server *s) {
  while (s->conns)
    lb__server_conn_close(s->conns, NULL);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  struct conn *c = req->data;
  (void)status;
  free(req);
  lb__server_conn_close(c, NULL);
}

/* Everything answered (or force): close every handle so that uv_run
 * returns. */
void lb__server_finish(struct lb_server *s, bool force) {
  if (s->finished || (s->outstanding > 0 && !force))
    return;
  s->finished = true;
  lb__server_flush_writes(s);
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
    lb__server_conn_close(c, NULL);
    c = next;
  }
  if (s->has_udp)
    lb__server_close_if_open((uv_handle_t *)&s->udp);
  lb_http_server_close(s->http);
  lb_prom_server_close(s->metrics);
  lb__server_close_if_open((uv_handle_t *)&s->ready_async);
  lb__server_close_if_open((uv_handle_t *)&s->stop_async);
  lb__server_close_if_open((uv_handle_t *)&s->runtime_timer);
  lb__server_close_if_open((uv_handle_t *)&s->grace_timer);
  lb__server_close_if_open((uv_handle_t *)&s->idle_timer);
  if (s->cfg.handle_signals) { /* kept until free: a second signal is ignored */
    uv_unref((uv_handle_t *)&s->sigterm);
    uv_unref((uv_handle_t *)&s->sigint);
  }
}

static void on_grace(uv_timer_t *t) {
  struct lb_server *s = t->data;
  LB_WARN("drain did not finish in %d ms: %llu requests unanswered", DRAIN_GRACE_MS,
          (unsigned long long)s->outstanding);
  s->stats.forced = true;
  /* Stop the threads first, so that nothing signals a closed handle; what
   * they still held is dropped (req_release runs here, on the loop). */
  lb__server_stop_threads(s);
  lb__server_on_ready(&s->ready_async);
  lb__server_close_all_conns(s);
  lb__server_finish(s, true);
}

static void begin_drain(struct lb_server *s, const char *why) {
  if (s->draining)
    return;
  s->draining = true;
  LB_INFO("draining (%s): %llu requests to answer", why, (unsigned long long)s->outstanding);
  if (s->has_listener)
    lb__server_close_if_open((uv_handle_t *)&s->listener);
  lb_http_server_stop_accepting(s->http);
  int rc = uv_timer_start(&s->grace_timer, on_grace, DRAIN_GRACE_MS, 0);
  if (rc < 0)
    LB_ERROR("drain: no grace timer (%s): waiting for every answer", uv_strerror(rc));
  lb__server_finish(s, false);
}

void lb__server_on_signal(uv_signal_t *h, int signum) {
  begin_drain(h->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

void lb__server_on_stop(uv_async_t *a) {
  begin_drain(a->data, "stop");
}

void lb__server_on_runtime(uv_timer_t *t) {
  begin_drain(t->data, "max runtime");
}
