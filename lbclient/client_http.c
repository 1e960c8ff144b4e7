/* client_http: HTTP/1.1 requests out, pipelined responses in, matched by
 * order. */
#include "client_http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "framing.h"

enum { V_ORCA, V_QUEUE, V_PROCESSING, V_HOLD, V_COUNT };

static const char *const value_names[V_COUNT] = {LB_ORCA_HEADER, LB_HTTP_H_QUEUE_NS,
                                                 LB_HTTP_H_PROCESSING_NS, LB_HTTP_H_HOLD_NS};

int lb_http_request_format(const Lb__Request *req, char *buf, size_t cap) {
  int n = snprintf(buf, cap,
                   "POST /work HTTP/1.1\r\n"
                   "Host: lbserver\r\n"
                   "Content-Length: 0\r\n"
                   "%s: %" PRIu64 "\r\n"
                   "%s: %" PRIu32 "\r\n"
                   "%s: %" PRIu32 "\r\n"
                   "%s: %d\r\n"
                   "%s: %" PRIu64 "\r\n"
                   "\r\n",
                   LB_HTTP_H_ID, req->id, LB_HTTP_H_CLIENT, req->client, LB_HTTP_H_CHANNEL,
                   req->channel, LB_HTTP_H_PROBE, req->is_probe ? 1 : 0,
                   LB_HTTP_H_RESPONSE_DELAY_NS, req->response_delay_ns);
  if (n < 0 || (size_t)n >= cap)
    return -EMSGSIZE;
  return n;
}

/* ---- the parser's callbacks ---- */

static struct lb_http_reader *reader_of(http_parser *p) {
  return p->data;
}

static int broken(struct lb_http_reader *r, const char *why) {
  snprintf(r->err, sizeof(r->err), "%s", why);
  return -1;
}

static int count_head(struct lb_http_reader *r, size_t len) {
  r->head_bytes += len;
  if (r->head_bytes > LB_HTTP_RESPONSE_HEAD_MAX)
    return broken(r, "response head over 16 KiB");
  return 0;
}

static int on_message_begin(http_parser *p) {
  struct lb_http_reader *r = reader_of(p);
  if (r->count == 0)
    return broken(r, "a response to no request");
  r->head_bytes = r->body_bytes = 0;
  r->field = -1;
  r->in_value = false;
  r->name_len = 0;
  for (int i = 0; i < V_COUNT; i++) {
    r->value_len[i] = 0;
    r->value_seen[i] = r->value_over[i] = false;
  }
  return 0;
}

static int on_status(http_parser *p, const char *at, size_t len) {
  (void)at;
  return count_head(reader_of(p), len);
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  struct lb_http_reader *r = reader_of(p);
  if (r->in_value) { /* a new header */
    r->in_value = false;
    r->name_len = 0;
  }
  size_t room = sizeof(r->name) - 1 - r->name_len;
  size_t take = len < room ? len : room;
  memcpy(r->name + r->name_len, at, take);
  r->name_len += take;
  r->name[r->name_len] = '\0';
  if (take < len) /* longer than any name looked for: matches none */
    r->name[0] = '\0';
  return count_head(r, len);
}

static char *value_buf(struct lb_http_reader *r, int i, size_t *cap) {
  if (i == V_ORCA) {
    *cap = sizeof(r->orca);
    return r->orca;
  }
  *cap = sizeof(r->nums[0]);
  return r->nums[i - 1];
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  struct lb_http_reader *r = reader_of(p);
  if (!r->in_value) { /* the first piece of this header's value */
    r->in_value = true;
    r->field = -1;
    for (int i = 0; i < V_COUNT; i++)
      if (!strcasecmp(r->name, value_names[i]))
        r->field = i;
    if (r->field >= 0) {
      if (r->value_seen[r->field]) /* twice: which one holds? neither */
        r->value_over[r->field] = true;
      r->value_seen[r->field] = true;
      r->value_len[r->field] = 0;
    }
  }
  if (r->field >= 0 && !r->value_over[r->field]) {
    size_t cap;
    char *buf = value_buf(r, r->field, &cap);
    size_t *used = &r->value_len[r->field];
    if (len >= cap - *used) {
      r->value_over[r->field] = true;
    } else {
      memcpy(buf + *used, at, len);
      *used += len;
      buf[*used] = '\0';
    }
  }
  return count_head(r, len);
}

static int on_body(http_parser *p, const char *at, size_t len) {
  struct lb_http_reader *r = reader_of(p);
  (void)at;
  r->body_bytes += len;
  if (r->body_bytes > LB_HTTP_RESPONSE_BODY_MAX)
    return broken(r, "response body over 64 KiB");
  return 0;
}

/* A header value as nanoseconds: digits only. */
static int parse_ns(struct lb_http_reader *r, int i, uint64_t *out, struct lb_http_answer *a) {
  if (!r->value_seen[i] || r->value_over[i]) {
    snprintf(a->why, sizeof(a->why), "%s header %s", value_names[i],
             r->value_seen[i] ? "too long or repeated" : "missing");
    return -EINVAL;
  }
  const char *s = r->nums[i - 1];
  uint64_t v = 0;
  size_t n = 0;
  for (; s[n] >= '0' && s[n] <= '9'; n++) {
    if (v > (UINT64_MAX - (uint64_t)(s[n] - '0')) / 10)
      break;
    v = v * 10 + (uint64_t)(s[n] - '0');
  }
  if (n == 0 || s[n]) {
    snprintf(a->why, sizeof(a->why), "%s header: expected nanoseconds, got '%.40s'",
             value_names[i], s);
    return -EINVAL;
  }
  *out = v;
  return 0;
}

/* The ORCA header into a's report. */
static int parse_report(struct lb_http_reader *r, struct lb_http_answer *a) {
  if (!r->value_seen[V_ORCA] || r->value_over[V_ORCA]) {
    snprintf(a->why, sizeof(a->why), "%s header %s", LB_ORCA_HEADER,
             r->value_seen[V_ORCA] ? "too long or repeated" : "missing");
    return -EINVAL;
  }
  struct lb_server_report rep;
  char err[160] = "";
  int rc = lb_orca_text_parse(r->orca, r->value_len[V_ORCA], &rep, err, sizeof(err));
  if (rc < 0) {
    snprintf(a->why, sizeof(a->why), "%s header: %s", LB_ORCA_HEADER, err);
    return rc;
  }
  lb_report_to_wire(&rep, &a->report, a->stats);
  a->resp.report = &a->report;
  return 0;
}

static void answer_fill(struct lb_http_reader *r, struct lb_http_answer *a, uint64_t id) {
  int status = (int)r->parser.status_code;
  lb__response__init(&a->resp);
  a->resp.id = id;
  a->id = id;
  a->http_status = status;
  a->ok = false;
  a->why[0] = '\0';
  if (status >= 200 && status < 300) {
    a->resp.status = LB__STATUS__STATUS_OK;
    if (parse_report(r, a) < 0 || parse_ns(r, V_QUEUE, &a->resp.queue_ns, a) < 0 ||
        parse_ns(r, V_PROCESSING, &a->resp.processing_ns, a) < 0 ||
        parse_ns(r, V_HOLD, &a->resp.hold_ns, a) < 0)
      return;
  } else if (status >= 400 && status < 600) {
    /* A failure: its report, where one came and parses, for the log. */
    a->resp.status = status >= 500 ? LB__STATUS__STATUS_REJECTED : LB__STATUS__STATUS_BAD_REQUEST;
    if (r->value_seen[V_ORCA] && parse_report(r, a) < 0) {
      a->resp.report = NULL;
      a->why[0] = '\0';
    }
  } else {
    snprintf(a->why, sizeof(a->why), "unexpected HTTP status %d", status);
    return;
  }
  a->ok = true;
}

static int on_message_complete(http_parser *p) {
  struct lb_http_reader *r = reader_of(p);
  if (p->status_code < 200) /* 1xx: informational, the answer is still to come */
    return 0;
  uint64_t id = r->ids[r->head]; /* count > 0: checked at the message's begin */
  r->head = (r->head + 1) % r->cap;
  r->count--;
  answer_fill(r, &r->answer, id);
  if (r->cb && !r->cb(r->cb_arg, &r->answer)) {
    r->stop = true;
    return -1;
  }
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the reader ---- */

int lb_http_reader_init(struct lb_http_reader *r) {
  memset(r, 0, sizeof(*r));
  http_parser_init(&r->parser, HTTP_RESPONSE);
  r->parser.data = r;
  r->field = -1;
  return 0;
}

void lb_http_reader_close(struct lb_http_reader *r) {
  free(r->ids);
  r->ids = NULL;
  r->head = r->count = r->cap = 0;
}

int lb_http_reader_expect(struct lb_http_reader *r, uint64_t id) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    uint64_t *ids = malloc(cap * sizeof(*ids));
    if (!ids)
      return -ENOMEM;
    for (size_t i = 0; i < r->count; i++) /* unrolled: oldest first again */
      ids[i] = r->ids[(r->head + i) % r->cap];
    free(r->ids);
    r->ids = ids;
    r->cap = cap;
    r->head = 0;
  }
  r->ids[(r->head + r->count) % r->cap] = id;
  r->count++;
  return 0;
}

size_t lb_http_reader_pending(const struct lb_http_reader *r) {
  return r->count;
}

int lb_http_reader_feed(struct lb_http_reader *r, const uint8_t *data, size_t len,
                        lb_http_answer_cb cb, void *arg, char *err, size_t errlen) {
  r->cb = cb;
  r->cb_arg = arg;
  r->stop = false;
  r->err[0] = '\0';
  size_t n = http_parser_execute(&r->parser, &settings, (const char *)data, len);
  r->cb = NULL;
  if (r->stop)
    return 0;
  enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
  if (e != HPE_OK || n != len) {
    snprintf(err, errlen, "bad HTTP response: %s",
             r->err[0] ? r->err : e != HPE_OK ? http_errno_description(e) : "upgrade");
    return -EPROTO;
  }
  return 0;
}
