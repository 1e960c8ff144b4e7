/* server_net_http: the server's hook on the HTTP front (net/http_server.h):
 * its requests into the request path, their responses back as HTTP
 * (server_http.h maps both ways). */
#include "server_net_int.h"

#include <string.h>

#include "log.h"

/* The response of r as HTTP, with the RIF and latency estimate of now. */
void lb__server_send_http(struct lb_server *s, struct req *r, const Lb__Response *resp) {
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
  lb__server_handle_request(s, &in, NULL, NULL, 0, hc, seq);
}

int lb__server_http_start(struct lb_server *s, char *err, size_t errlen) {
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
