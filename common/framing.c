/* framing: length-prefixed Envelopes on TCP, bare Envelopes on UDP. */
#include "framing.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

size_t lb_frame_encoded_size(const Lb__Envelope *env) {
  return LB_FRAME_HEADER + lb__envelope__get_packed_size(env);
}

int lb_frame_encode(const Lb__Envelope *env, uint8_t *buf, size_t cap) {
  size_t payload = lb__envelope__get_packed_size(env);
  if (payload > UINT32_MAX || payload > (size_t)INT_MAX - LB_FRAME_HEADER ||
      cap < LB_FRAME_HEADER + payload)
    return -EMSGSIZE;
  buf[0] = (uint8_t)(payload >> 24);
  buf[1] = (uint8_t)(payload >> 16);
  buf[2] = (uint8_t)(payload >> 8);
  buf[3] = (uint8_t)payload;
  lb__envelope__pack(env, buf + LB_FRAME_HEADER);
  return (int)(LB_FRAME_HEADER + payload);
}

int lb_frame_reader_init(struct lb_frame_reader *r, size_t max_frame) {
  memset(r, 0, sizeof(*r));
  if (max_frame == 0 || max_frame > UINT32_MAX)
    return -EINVAL;
  r->max_frame = max_frame;
  return 0;
}

void lb_frame_reader_close(struct lb_frame_reader *r) {
  free(r->buf);
  memset(r, 0, sizeof(*r));
}

/* Byte i of the held bytes followed by data, without copying either. */
static uint8_t byte_at(const struct lb_frame_reader *r, const uint8_t *data, size_t i) {
  size_t held = r->len - r->start;
  return i < held ? r->buf[r->start + i] : data[i - held];
}

static uint32_t length_at(const struct lb_frame_reader *r, const uint8_t *data, size_t i) {
  return (uint32_t)byte_at(r, data, i) << 24 | (uint32_t)byte_at(r, data, i + 1) << 16 |
         (uint32_t)byte_at(r, data, i + 2) << 8 | (uint32_t)byte_at(r, data, i + 3);
}

int lb_frame_reader_feed(struct lb_frame_reader *r, const uint8_t *data, size_t len, char *err,
                         size_t errlen) {
  size_t held = r->len - r->start;
  if (len > SIZE_MAX - r->len)
    return -ENOMEM;
  size_t total = held + len;
  /* Every header that the new bytes complete is checked before we keep them. */
  size_t pos = 0;
  while (total - pos >= LB_FRAME_HEADER) {
    uint32_t n = length_at(r, data, pos);
    if (n > r->max_frame) {
      lb_errf(err, errlen, "frame of %u bytes exceeds the limit of %zu bytes", n, r->max_frame);
      return -EMSGSIZE;
    }
    if (total - pos - LB_FRAME_HEADER < n)
      break;
    pos += LB_FRAME_HEADER + n;
  }
  if (len == 0)
    return 0;
  /* Drop what was handed out, then grow to what has arrived (never to a
   * declared length). */
  if (r->start > 0) {
    memmove(r->buf, r->buf + r->start, held);
    r->len = held;
    r->start = 0;
  }
  if (total > r->cap) {
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < total)
      cap = cap > SIZE_MAX / 2 ? total : cap * 2;
    uint8_t *p = realloc(r->buf, cap);
    if (p == NULL)
      return -ENOMEM;
    r->buf = p;
    r->cap = cap;
  }
  memcpy(r->buf + r->len, data, len);
  r->len += len;
  return 0;
}

static int check_envelope(Lb__Envelope *env, char *err, size_t errlen) {
  if (env->version != LB__VERSION__VERSION_1) {
    lb_errf(err, errlen, "envelope version %u, expected %d", env->version, LB__VERSION__VERSION_1);
    return -EBADMSG;
  }
  if (env->body_case != LB__ENVELOPE__BODY_REQUEST &&
      env->body_case != LB__ENVELOPE__BODY_RESPONSE) {
    lb_errf(err, errlen, "envelope without a request or response body");
    return -EBADMSG;
  }
  if ((env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request == NULL) ||
      (env->body_case == LB__ENVELOPE__BODY_RESPONSE && env->response == NULL)) {
    lb_errf(err, errlen, "envelope with an empty body");
    return -EBADMSG;
  }
  return 0;
}

static int decode(const uint8_t *data, size_t len, Lb__Envelope **out, char *err, size_t errlen) {
  *out = NULL;
  Lb__Envelope *env = lb__envelope__unpack(NULL, len, data);
  if (env == NULL) {
    lb_errf(err, errlen, "%zu bytes that are not a protobuf Envelope", len);
    return -EBADMSG;
  }
  int rc = check_envelope(env, err, errlen);
  if (rc != 0) {
    lb__envelope__free_unpacked(env, NULL);
    return rc;
  }
  *out = env;
  return 0;
}

int lb_frame_reader_next(struct lb_frame_reader *r, Lb__Envelope **out, char *err, size_t errlen) {
  *out = NULL;
  size_t held = r->len - r->start;
  if (held < LB_FRAME_HEADER)
    return 0;
  uint32_t n = length_at(r, NULL, 0);
  if (n > r->max_frame) {
    lb_errf(err, errlen, "frame of %u bytes exceeds the limit of %zu bytes", n, r->max_frame);
    return -EBADMSG;
  }
  if (held - LB_FRAME_HEADER < n)
    return 0;
  int rc = decode(r->buf + r->start + LB_FRAME_HEADER, n, out, err, errlen);
  if (rc != 0)
    return rc;
  r->start += LB_FRAME_HEADER + n;
  if (r->start == r->len)
    r->start = r->len = 0;
  return 1;
}

int lb_datagram_decode(const uint8_t *data, size_t len, Lb__Envelope **out, char *err,
                       size_t errlen) {
  return decode(data, len, out, err, errlen);
}

static void stat_to_wire(const struct lb_stat *st, Lb__Stat *w) {
  Lb__Stat init = LB__STAT__INIT;
  *w = init;
  w->valid = st->valid;
  w->latest = st->latest;
  w->mean = st->mean;
  w->ewma = st->ewma;
}

static void stat_from_wire(const Lb__Stat *w, struct lb_stat *st) {
  if (w == NULL || !w->valid) {
    st->valid = false;
    st->latest = st->mean = st->ewma = 0;
    return;
  }
  st->valid = true;
  st->latest = w->latest;
  st->mean = w->mean;
  st->ewma = w->ewma;
}

void lb_report_to_wire(const struct lb_server_report *r, Lb__ServerReport *w, Lb__Stat stats[5]) {
  Lb__ServerReport init = LB__SERVER_REPORT__INIT;
  *w = init;
  stat_to_wire(&r->utilization, &stats[0]);
  stat_to_wire(&r->queries_per_tick, &stats[1]);
  stat_to_wire(&r->requests_in_flight, &stats[2]);
  stat_to_wire(&r->queued_requests, &stats[3]);
  stat_to_wire(&r->latency, &stats[4]);
  w->utilization = &stats[0];
  w->queries_per_tick = &stats[1];
  w->requests_in_flight = &stats[2];
  w->queued_requests = &stats[3];
  w->latency = &stats[4];
  w->has_expected_latency = r->has_expected_latency;
  w->expected_latency = r->expected_latency;
  w->pid_weight = r->pid_weight;
  w->orca_utilization = r->orca_utilization;
  w->orca_qps = r->orca_qps;
  w->orca_eps = r->orca_eps;
  w->server = r->server;
  w->threads = r->threads;
  w->has_probe_answer = r->has_probe_answer;
  w->probe_rif = r->probe_rif;
  w->probe_latency = r->probe_latency;
  w->resets = r->resets;
}

void lb_report_from_wire(const Lb__ServerReport *w, struct lb_server_report *r) {
  memset(r, 0, sizeof(*r));
  stat_from_wire(w->utilization, &r->utilization);
  stat_from_wire(w->queries_per_tick, &r->queries_per_tick);
  stat_from_wire(w->requests_in_flight, &r->requests_in_flight);
  stat_from_wire(w->queued_requests, &r->queued_requests);
  stat_from_wire(w->latency, &r->latency);
  r->has_expected_latency = w->has_expected_latency;
  r->expected_latency = w->has_expected_latency ? w->expected_latency : 0;
  r->pid_weight = w->pid_weight;
  r->orca_utilization = w->orca_utilization;
  r->orca_qps = w->orca_qps;
  r->orca_eps = w->orca_eps;
  r->server = w->server;
  r->threads = w->threads;
  r->has_probe_answer = w->has_probe_answer;
  r->probe_rif = w->has_probe_answer ? w->probe_rif : 0;
  r->probe_latency = w->has_probe_answer ? w->probe_latency : 0;
  r->resets = w->resets;
}
