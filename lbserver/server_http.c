/* server_http: HTTP requests to the model's requests, reports to headers. */
#include "server_http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "orca_text.h"

/* A whole decimal number of at most 19 digits (no sign, no spaces). */
static int header_u64(const struct lb_http_request *req, const char *name, uint64_t max,
                      bool *given, uint64_t *out, char *err, size_t errlen) {
  size_t len = 0;
  const char *v = lb_http_request_header(req, name, &len);
  *given = v != NULL;
  if (!v)
    return 0;
  uint64_t x = 0;
  bool ok = len > 0 && len <= 19;
  for (size_t i = 0; ok && i < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      ok = false;
    else
      x = x * 10 + (uint64_t)(v[i] - '0');
  }
  if (!ok || x > max) {
    lb_errf(err, errlen, "header %s: expected a whole number of at most %llu, got \"%.*s\"", name,
            (unsigned long long)max, (int)(len < 40 ? len : 40), v);
    return -EINVAL;
  }
  *out = x;
  return 0;
}

int lb_server_http_request(const struct lb_http_request *req, Lb__Request *out, char *err,
                           size_t errlen) {
  const char *url = req->url;
  size_t path_len = strcspn(url, "?#");
  bool root = path_len == 1 && url[0] == '/';
  bool work = path_len == 5 && strncmp(url, "/work", 5) == 0;
  if (!root && !work) {
    lb_errf(err, errlen, "no such path %.*s: expected / or /work",
            (int)(path_len < 64 ? path_len : 64), url);
    return 404;
  }
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
    lb_errf(err, errlen, "method %s: expected GET or POST", req->method);
    return 405;
  }
  uint64_t client = 0, channel = 0, probe = 0, delay = 0;
  bool has_client, has_channel, has_probe, has_delay;
  if (header_u64(req, "x-lb-client", UINT32_MAX, &has_client, &client, err, errlen) < 0 ||
      header_u64(req, "x-lb-channel", UINT32_MAX, &has_channel, &channel, err, errlen) < 0 ||
      header_u64(req, "x-lb-probe", 1, &has_probe, &probe, err, errlen) < 0 ||
      header_u64(req, "x-lb-response-delay-ns", UINT64_MAX / 2, &has_delay, &delay, err, errlen) <
          0)
    return 400;
  out->client = (uint32_t)client;
  out->channel = (uint32_t)(has_channel ? channel : client);
  out->is_probe = probe != 0;
  out->response_delay_ns = delay;
  return 0;
}

int lb_server_http_status(Lb__Status status) {
  switch (status) {
  case LB__STATUS__STATUS_OK:
    return 200;
  case LB__STATUS__STATUS_BAD_REQUEST:
    return 400;
  default:
    return 503; /* rejected (queue full) or draining */
  }
}

static const char *status_name(Lb__Status status) {
  switch (status) {
  case LB__STATUS__STATUS_OK:
    return "ok";
  case LB__STATUS__STATUS_REJECTED:
    return "rejected";
  case LB__STATUS__STATUS_BAD_REQUEST:
    return "bad_request";
  case LB__STATUS__STATUS_DRAINING:
    return "draining";
  default:
    return "unknown";
  }
}

int lb_server_http_headers(const struct lb_server_http_reply *rep, char *buf, size_t cap) {
  static const char name[] = LB_ORCA_HEADER ": ";
  if (cap < sizeof(name))
    return -EMSGSIZE;
  memcpy(buf, name, sizeof(name) - 1);
  size_t len = sizeof(name) - 1;
  int n = lb_orca_text_format(rep->report, buf + len, cap - len);
  if (n < 0)
    return n;
  len += (size_t)n;
  n = snprintf(buf + len, cap - len,
               "\r\nx-lb-requests-in-flight: %.0f\r\nx-lb-latency-estimate: %.6g\r\n"
               "x-lb-status: %s\r\nx-lb-queue-ns: %llu\r\nx-lb-processing-ns: %llu\r\n"
               "x-lb-hold-ns: %llu\r\ncontent-type: text/plain\r\n",
               rep->rif_now, rep->latency_estimate < 0 ? -1 : rep->latency_estimate,
               status_name(rep->status), (unsigned long long)rep->queue_ns,
               (unsigned long long)rep->processing_ns, (unsigned long long)rep->hold_ns);
  if (n < 0 || (size_t)n >= cap - len)
    return -EMSGSIZE;
  return (int)(len + (size_t)n);
}
