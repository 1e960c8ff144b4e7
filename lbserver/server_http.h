/* server_http: lbserver's HTTP/1.1 front (--http-port), the binary
 * protocol's requests and responses as HTTP. The connections, parsing and
 * bounds are net/http_server.h's; this module says what a request means and
 * what a response carries. The requests go to the same model, pool and
 * queue as the binary protocol's (server_request.c, through
 * server_net_http.c).
 *
 * Requests: `GET /` or `POST /work` (a body is read and dropped). Headers,
 * all optional; without them a request is a plain query on channel 0, so
 * curl and wrk work as they are:
 *   x-lb-client: N             the fleet-wide logical client index (default 0)
 *   x-lb-channel: N            the warm-channel key, the client index
 *                              (default: x-lb-client)
 *   x-lb-probe: 0|1            a probe rather than a query (default 0)
 *   x-lb-response-delay-ns: N  hold the response N ns after processing
 *                              (egress delay; default 0)
 * Numbers are whole and decimal; the binary protocol's range checks
 * (wire_check.h) apply after. Another path: 404; another method: 405; a
 * malformed header value: 400.
 *
 * Responses: 200 (processed), 503 (rejected: queue full; or draining), 400
 * (numbers out of range), each with the headers
 *   endpoint-load-metrics: TEXT ...    the server report (orca_text.h)
 *   x-lb-requests-in-flight: N         requests queued or processing now
 *   x-lb-latency-estimate: T           the server's latency estimate at that
 *                                      count, in ticks (Prequal's
 *                                      rif_latency.h; -1: no estimate yet)
 *   x-lb-status: ok|rejected|bad_request|draining
 *   x-lb-queue-ns, x-lb-processing-ns, x-lb-hold-ns   this request's times
 * and a one-line text body. */
#ifndef LB_SERVER_HTTP_H
#define LB_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "http_server.h"
#include "lb.pb-c.h"
#include "orca_text.h"
#include "report.h"

/* Room for the header lines of any reply. */
#define LB_SERVER_HTTP_HEADERS_MAX (LB_ORCA_TEXT_MAX + 512)

/* The request's model fields into *out (id left alone). 0, or the HTTP
 * status to answer with (404, 405, 400) and the reason in err. */
int lb_server_http_request(const struct lb_http_request *req, Lb__Request *out, char *err,
                           size_t errlen);

struct lb_server_http_reply {
  Lb__Status status;
  const struct lb_server_report *report;
  double rif_now;          /* requests in flight when answered */
  double latency_estimate; /* ticks at rif_now; < 0: none */
  uint64_t queue_ns, processing_ns, hold_ns;
};

/* The HTTP status of a reply. */
int lb_server_http_status(Lb__Status status);
/* The header lines ("Name: value\r\n" each) of a reply into buf. Returns
 * their length, or -EMSGSIZE. */
int lb_server_http_headers(const struct lb_server_http_reply *rep, char *buf, size_t cap);

#endif
