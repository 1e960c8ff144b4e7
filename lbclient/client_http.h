/* client_http: the bytes of lbclient's HTTP/1.1 transport (transport:
 * http), with no sockets: client_conn.c writes what lb_http_request_format
 * makes and feeds what it reads to a reader.
 *
 * A request is `POST /work` with the model's fields in headers (lbserver's
 * HTTP front, --http-port). On a keep-alive connection the server answers
 * in the order the requests came (HTTP/1.1 pipelining), so the reader keeps
 * the ids written, oldest first, and gives each response the oldest id not
 * yet answered. Responses are parsed by libhttp-parser in response mode and
 * turned into the Lb__Response the binary transports deliver:
 *  - 2xx: STATUS_OK, with the server report parsed from ORCA's
 *    `endpoint-load-metrics: TEXT ...` header (orca_text.h, range-checked)
 *    and the request's queue, processing and hold times from headers of
 *    their own; a missing or bad header makes the answer bad (the request
 *    fails; the connection stays, the stream being intact);
 *  - 503: STATUS_REJECTED (queue full, draining); other 5xx and 4xx:
 *    STATUS_REJECTED and STATUS_BAD_REQUEST: failures, without a report;
 *  - anything else (1xx, 3xx): a bad answer.
 * A stream that is not HTTP, a response to no request or a head or body
 * over the bounds breaks the reader: the connection must go. */
#ifndef LB_CLIENT_HTTP_H
#define LB_CLIENT_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb.pb-c.h"
#include "orca_text.h"

/* Request headers: what the model needs of a request (proto/lb.proto's
 * Request), as lbserver's HTTP front reads them. */
#define LB_HTTP_H_ID "X-Lb-Id" /* not read by lbserver: for traces */
#define LB_HTTP_H_CLIENT "X-Lb-Client"
#define LB_HTTP_H_CHANNEL "X-Lb-Channel"
#define LB_HTTP_H_PROBE "X-Lb-Probe"
#define LB_HTTP_H_RESPONSE_DELAY_NS "X-Lb-Response-Delay-Ns"
/* Response headers besides the ORCA one. */
#define LB_HTTP_H_QUEUE_NS "X-Lb-Queue-Ns"
#define LB_HTTP_H_PROCESSING_NS "X-Lb-Processing-Ns"
#define LB_HTTP_H_HOLD_NS "X-Lb-Hold-Ns"

/* The longest request lb_http_request_format writes. */
#define LB_HTTP_REQUEST_MAX 512
/* Bounds on a response: its status line and headers, and its body (the
 * body is counted and dropped). */
#define LB_HTTP_RESPONSE_HEAD_MAX (16 * 1024)
#define LB_HTTP_RESPONSE_BODY_MAX (64 * 1024)

/* Formats req as one HTTP/1.1 request into buf: its length, or -EMSGSIZE. */
int lb_http_request_format(const Lb__Request *req, char *buf, size_t cap);

/* One response, matched to its request. */
struct lb_http_answer {
  uint64_t id;      /* the request's, by order */
  int http_status;  /* 0 when none was parsed */
  bool ok;          /* false: a bad answer, the request fails; why says why */
  char why[192];
  Lb__Response resp; /* when ok; resp.report NULL on a failure status */
  Lb__ServerReport report;
  Lb__Stat stats[5];
};

/* Called for each complete response, in order. Returns false to stop the
 * feed (the connection went down under the callback). */
typedef bool (*lb_http_answer_cb)(void *arg, const struct lb_http_answer *a);

struct lb_http_reader {
  http_parser parser;
  /* ids written and not answered, a ring, oldest at head */
  uint64_t *ids;
  size_t head, count, cap;
  /* the response being parsed */
  size_t head_bytes, body_bytes;
  int field;          /* which of the captured headers the value is for; -1: none */
  bool in_value;      /* last callback was a value (a new field starts a header) */
  char name[64];      /* the current header name, truncated */
  size_t name_len;
  /* captured values: ORCA, then queue, processing, hold */
  char orca[LB_ORCA_TEXT_MAX + 1];
  char nums[3][24];
  size_t value_len[4];
  bool value_seen[4], value_over[4]; /* over: longer than its room */
  /* during a feed */
  lb_http_answer_cb cb;
  void *cb_arg;
  bool stop;
  char err[192];
  struct lb_http_answer answer;
};

int lb_http_reader_init(struct lb_http_reader *r);
void lb_http_reader_close(struct lb_http_reader *r);
/* A request with this id was written: the next unanswered response is its.
 * -ENOMEM. */
int lb_http_reader_expect(struct lb_http_reader *r, uint64_t id);
/* Requests written and not yet answered. */
size_t lb_http_reader_pending(const struct lb_http_reader *r);
/* Feeds len bytes (len 0: the peer closed). Calls cb for each complete
 * response. 0, or -EPROTO with a sentence in err when the stream is broken
 * (then the connection must be closed: what is pending will never be
 * answered). A feed cut short by cb returning false returns 0. */
int lb_http_reader_feed(struct lb_http_reader *r, const uint8_t *data, size_t len,
                        lb_http_answer_cb cb, void *arg, char *err, size_t errlen);

#endif
