/* server_udp: the UDP transport: one request per datagram, its response
 * sent back no larger than the request (never amplify). */
#include "server_net_int.h"

#include <stdlib.h>

#include "log.h"

static void on_udp_send(uv_udp_send_t *w, int status) {
  if (status < 0) {
    struct lb_server *s = w->data;
    s->stats.write_errors++;
  }
  free(w);
}

/* Sends the response env of r to its datagram's source, when it is no
 * larger than that datagram (loop thread). */
void lb__server_send_udp(struct lb_server *s, const struct req *r, const Lb__Envelope *env) {
  size_t n = lb__envelope__get_packed_size(env);
  if (n > r->udp_limit) { /* never amplify */
    s->stats.udp_dropped++;
    return;
  }
  uv_udp_send_t *w = malloc(sizeof(*w) + n);
  if (!w) {
    s->stats.write_errors++;
    return;
  }
  uint8_t *buf = (uint8_t *)(w + 1);
  lb__envelope__pack(env, buf);
  w->data = s;
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)n);
  if (uv_udp_send(w, &s->udp, &b, 1, (const struct sockaddr *)&r->addr, on_udp_send) < 0) {
    free(w);
    s->stats.write_errors++;
  }
}

void lb__server_on_udp_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                            const struct sockaddr *addr, unsigned flags) {
  struct lb_server *s = u->data;
  char err[256];
  Lb__Envelope *env = NULL;
  if (nread <= 0 || !addr)
    return;
  if (flags & UV_UDP_PARTIAL) {
    s->stats.udp_bad++;
    return;
  }
  if (lb_datagram_decode((const uint8_t *)buf->base, (size_t)nread, &env, err, sizeof(err)) < 0) {
    s->stats.udp_bad++;
    LB_DEBUG("bad datagram: %s", err);
    return;
  }
  if (env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request)
    lb__server_handle_request(s, env->request, NULL, addr, (size_t)nread, NULL, 0);
  else
    s->stats.udp_bad++;
  lb__envelope__free_unpacked(env, NULL);
}
