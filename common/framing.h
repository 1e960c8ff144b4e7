/* framing: Envelopes on the wire. TCP: 4-byte big-endian length, then the
 * packed Envelope; UDP: one packed Envelope per datagram. Lengths are checked
 * before any allocation; a partial frame is kept until the rest arrives;
 * garbage comes back as an error with a reason the caller can log. */
#ifndef LB_FRAMING_H
#define LB_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "lb.pb-c.h"
#include "report.h"

#define LB_FRAME_HEADER 4
#define LB_FRAME_MAX_DEFAULT (64 * 1024)

/* Packs env with its length prefix into buf (cap bytes). Returns bytes
 * written, or -EMSGSIZE when it does not fit. */
int lb_frame_encode(const Lb__Envelope *env, uint8_t *buf, size_t cap);
size_t lb_frame_encoded_size(const Lb__Envelope *env);

/* Stream reassembly for one TCP connection. */
struct lb_frame_reader {
  uint8_t *buf;
  size_t len, cap;
  size_t max_frame; /* largest accepted payload */
  size_t start;     /* bytes of buf already handed out by _next */
};

int lb_frame_reader_init(struct lb_frame_reader *r, size_t max_frame);
void lb_frame_reader_close(struct lb_frame_reader *r);
/* Appends bytes read from the socket. -EMSGSIZE if a declared length
 * exceeds max_frame (refused before allocating for it). */
int lb_frame_reader_feed(struct lb_frame_reader *r, const uint8_t *data, size_t len,
                         char *err, size_t errlen);
/* Next complete Envelope: 1 with *out set (free with
 * lb__envelope__free_unpacked(*out, NULL)), 0 when more bytes are needed,
 * -EBADMSG on garbage (reason in err; the connection should be closed). */
int lb_frame_reader_next(struct lb_frame_reader *r, Lb__Envelope **out, char *err,
                         size_t errlen);

/* One datagram: -EBADMSG on garbage or a wrong version. */
int lb_datagram_decode(const uint8_t *data, size_t len, Lb__Envelope **out, char *err,
                       size_t errlen);

/* Report <-> wire. */
void lb_report_to_wire(const struct lb_server_report *r, Lb__ServerReport *w, Lb__Stat stats[5]);
void lb_report_from_wire(const Lb__ServerReport *w, struct lb_server_report *r);

#endif
