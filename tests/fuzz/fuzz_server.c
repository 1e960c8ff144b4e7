/* fuzz_server: lbserver's request path fed a peer's bytes: as a TCP stream
 * (split into pieces, through the connection's read path,
 * lb__server_conn_read) or as datagrams (lb__server_on_udp_recv), through
 * the wire checks, the limits, the model, the pool and the response path,
 * on a real server (lb_server_new on loopback, its threads running) that
 * lives for the whole run. The work is bounded: processing takes no time
 * (the pool answers inline), and a held reply at most one 1 ms tick.
 *
 * Input: byte 0 says how. Bit 7: 0, a TCP stream fed in pieces of
 * (byte0 & 0x3f) % 17 + 1 bytes; 1, datagrams, each a length byte and that
 * many bytes. Bit 6: which server (0: probes queue as requests do; 1:
 * Prequal's probes, answered on arrival).
 *
 * What it checks besides the sanitizers: each request the input carries
 * (as a frame reader fed the same pieces sees it, up to the first bad
 * frame; each datagram that decodes to a request) is counted by the
 * server; each response read back is a version 1 response to one of the
 * input's requests that a client's wire checks accept; while the
 * connection stays open every request sent without a response delay is
 * answered at once; a UDP response is never larger than its request.
 * Replies held for their delay go out after the input ended, to a closed
 * connection or socket, so a fault in that path may show on a later
 * input. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_lbserver.h"

#define MAX_IDS 4096

static void die(const char *what) {
  lb_fuzz_die("fuzz_server", what);
}

/* The requests of one input, as the peer sent them. */
struct sent {
  uint64_t id[MAX_IDS];
  size_t size[MAX_IDS]; /* UDP: the request's datagram */
  size_t n, immediate;  /* immediate: no response delay asked */
};

static void sent_add(struct sent *s, const Lb__Request *req, size_t size) {
  if (s->n < MAX_IDS) {
    s->id[s->n] = req->id;
    s->size[s->n] = size;
  }
  s->n++;
  if (req->response_delay_ns == 0)
    s->immediate++;
}

/* The largest datagram of a request with this id, plus 1; 0: none. */
static size_t sent_has(const struct sent *s, uint64_t id) {
  size_t found = 0;
  for (size_t i = 0; i < s->n && i < MAX_IDS; i++)
    if (s->id[i] == id && s->size[i] + 1 > found)
      found = s->size[i] + 1;
  return found;
}

/* A response the server sent: what a client would accept, to a request
 * of this input. */
static void check_response(const struct lb_fuzz_lbserver *t, const Lb__Envelope *env,
                           const struct sent *s) {
  char err[256];
  if (env->version != LB__VERSION__VERSION_1 || env->body_case != LB__ENVELOPE__BODY_RESPONSE ||
      !env->response)
    die("the server sent something other than a version 1 response");
  if (lb_wire_check_response(env->response, &t->lim, err, sizeof(err)) < 0) {
    fprintf(stderr, "fuzz_server: a client would refuse the server's response: %s\n", err);
    abort();
  }
  if (!sent_has(s, env->response->id))
    die("a response to no request of this input");
}

static uint64_t handled(const struct lb_server *srv) {
  return srv->stats.requests + srv->stats.probes;
}

static void fuzz_stream(struct lb_fuzz_lbserver *t, size_t piece, const uint8_t *data,
                        size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    die("socketpair");
  struct conn *c;
  if (lb__server_conn_adopt(t->srv, sv[0], &c) < 0)
    die("the server refused the connection");
  c->refs++; /* pinned: the loop runs below, and a closed c is freed at refs 0 */
  /* The server's frames as its reader sees them: the same pieces. */
  struct lb_frame_reader mirror;
  if (lb_frame_reader_init(&mirror, t->srv->cfg.max_frame) < 0)
    die("out of memory");
  static struct sent s;
  s.n = s.immediate = 0;
  uint64_t before = handled(t->srv);
  bool bad = false;
  char err[256];
  for (size_t off = 0; off < size && !c->closing; off += piece) {
    size_t n = size - off < piece ? size - off : piece;
    lb__server_conn_read(c, data + off, n);
    if (bad || lb_frame_reader_feed(&mirror, data + off, n, err, sizeof(err)) < 0) {
      bad = true;
      continue;
    }
    Lb__Envelope *env = NULL;
    int rc = 0;
    while (!bad && (rc = lb_frame_reader_next(&mirror, &env, err, sizeof(err))) == 1) {
      if (env->version == LB__VERSION__VERSION_1 && env->body_case == LB__ENVELOPE__BODY_REQUEST &&
          env->request)
        sent_add(&s, env->request, 0);
      else
        bad = true;
      lb__envelope__free_unpacked(env, NULL);
    }
    if (rc < 0)
      bad = true;
  }
  lb_frame_reader_close(&mirror);
  if (handled(t->srv) - before != s.n)
    die("the server did not count every request the stream carried");
  bool open = !c->closing;
  lb_fuzz_lbserver_turn(t);

  /* What the server wrote, until nothing more comes (a write the socket
   * took only in part goes on from the loop). */
  struct lb_frame_reader back;
  if (lb_frame_reader_init(&back, LB_FRAME_MAX_DEFAULT) < 0)
    die("out of memory");
  size_t responses = 0;
  uint8_t buf[4096];
  for (bool more = true; more;) {
    more = false;
    ssize_t got;
    while ((got = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
      more = true;
      if (lb_frame_reader_feed(&back, buf, (size_t)got, err, sizeof(err)) < 0)
        die(err);
      Lb__Envelope *env = NULL;
      int rc;
      while ((rc = lb_frame_reader_next(&back, &env, err, sizeof(err))) == 1) {
        check_response(t, env, &s);
        responses++;
        lb__envelope__free_unpacked(env, NULL);
      }
      if (rc < 0)
        die(err);
    }
    if (more)
      lb_fuzz_lbserver_turn(t);
  }
  lb_frame_reader_close(&back);
  if (responses > s.n)
    die("more responses than requests");
  if (open && responses < s.immediate)
    die("a request without a response delay was not answered at once");
  if (!c->closing)
    lb__server_conn_close(c, NULL);
  lb_fuzz_lbserver_turn(t); /* the close callback */
  if (--c->refs == 0 && c->closed)
    lb__server_conn_free(c); /* else its last held reply does */
  close(sv[1]);
}

/* The peer's UDP socket, new for each input and on an address of its own
 * (127.0.0.0/8, 2^24 - 2 of them in turn): a reply held past its input goes
 * to an earlier one, closed by then, never to this one (a port alone could
 * come round again at once). */
static int udp_peer(struct sockaddr_in *addr) {
  static uint32_t turn;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(0x7f000000u | (1 + turn++ % 0xfffffeu));
  socklen_t len = sizeof(*addr);
  if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
      getsockname(fd, (struct sockaddr *)addr, &len) < 0)
    lb_fuzz_die("fuzz_server", "a loopback UDP socket");
  return fd;
}

static void fuzz_datagrams(struct lb_fuzz_lbserver *t, const uint8_t *data, size_t size) {
  static struct sent s;
  s.n = s.immediate = 0;
  struct sockaddr_in addr;
  int fd = udp_peer(&addr);
  uint64_t before = handled(t->srv);
  for (size_t off = 0, dgrams = 0; off < size && dgrams < 256; dgrams++) {
    size_t n = data[off++];
    if (n > size - off)
      n = size - off;
    if (n == 0)
      continue;
    Lb__Envelope *env = NULL;
    char err[256];
    if (lb_datagram_decode(data + off, n, &env, err, sizeof(err)) == 0) {
      if (env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request)
        sent_add(&s, env->request, n);
      lb__envelope__free_unpacked(env, NULL);
    }
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)(data + off), (unsigned)n);
    lb__server_on_udp_recv(&t->srv->udp, (ssize_t)n, &b, (const struct sockaddr *)&addr, 0);
    off += n;
  }
  if (handled(t->srv) - before != s.n)
    die("the server did not count every request the datagrams carried");
  lb_fuzz_lbserver_turn(t);
  uint8_t buf[65536];
  ssize_t got;
  while ((got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
    Lb__Envelope *env = NULL;
    char err[256];
    if (lb_datagram_decode(buf, (size_t)got, &env, err, sizeof(err)) < 0)
      die(err);
    check_response(t, env, &s);
    if ((size_t)got + 1 > sent_has(&s, env->response->id))
      die("a UDP response larger than its request");
    lb__envelope__free_unpacked(env, NULL);
  }
  close(fd);
  lb_fuzz_lbserver_turn(t); /* the sends' callbacks */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  struct lb_fuzz_lbserver *t = lb_fuzz_lbserver((data[0] >> 6) & 1, false);
  if (data[0] & 0x80)
    fuzz_datagrams(t, data + 1, size - 1);
  else
    fuzz_stream(t, (size_t)(data[0] & 0x3f) % 17 + 1, data + 1, size - 1);
  return 0;
}
