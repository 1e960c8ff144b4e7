/* fuzz_http: lbserver's HTTP front (net/http_server.c, then
 * server_net_http.c and the request path) fed a peer's bytes as a TCP
 * stream: the input written in pieces into one end of a socketpair whose
 * other end the HTTP server serves as an accepted connection
 * (lb_http_server_adopt), the loop turned after each piece so that its
 * read path parses them as they come; then the peer's end is shut for
 * writing and the loop turned until the server has ended the connection.
 * The server is fuzz_lbserver.h's (bounded work per request).
 *
 * Input: byte 0 says how: (byte0 & 0x3f) + 1 bytes a piece; bit 6, which
 * server (0: probes queued; 1: Prequal's, answered on arrival).
 *
 * What it checks besides the sanitizers: what the server wrote is a
 * sequence of well-formed HTTP/1.1 responses (http_parser in response
 * mode), one for each request it counted, good or bad; and the
 * connection ends within 2 s of the peer's end of input. */
#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fuzz.h"
#include "fuzz_lbserver.h"

#define END_WAIT_NS (2 * 1000000000LL)

static void die(const char *what) {
  lb_fuzz_die("fuzz_http", what);
}

/* What came back, parsed as responses. */
struct back {
  http_parser parser;
  size_t responses;
  bool eof;
};

static int on_response(http_parser *p) {
  struct back *b = p->data;
  b->responses++;
  return 0;
}

static const http_parser_settings response_settings = {.on_message_complete = on_response};

/* Reads what the server wrote so far (all of it, to the end, when the
 * server closed), parsing it. */
static void drain(int fd, struct back *b) {
  char buf[8192];
  ssize_t got;
  while (!b->eof) {
    got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (got < 0 && errno != ECONNRESET)
      die("recv from the server");
    if (got <= 0) {
      b->eof = true;
      http_parser_execute(&b->parser, &response_settings, NULL, 0);
    } else if (http_parser_execute(&b->parser, &response_settings, buf, (size_t)got) !=
               (size_t)got) {
      fprintf(stderr, "fuzz_http: the server wrote a malformed response: %s\n",
              http_errno_description(HTTP_PARSER_ERRNO(&b->parser)));
      abort();
    }
    if (HTTP_PARSER_ERRNO(&b->parser) != HPE_OK) {
      fprintf(stderr, "fuzz_http: the server's output ends mid-response: %s\n",
              http_errno_description(HTTP_PARSER_ERRNO(&b->parser)));
      abort();
    }
  }
}

/* Writes all of data to fd, turning the loop and draining while the
 * socket is full. */
static void send_all(struct lb_fuzz_lbserver *t, int fd, const uint8_t *data, size_t n,
                     struct back *b) {
  while (n > 0) {
    ssize_t put = send(fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return; /* the server closed the connection: the rest is never read */
    if (put > 0) {
      data += put;
      n -= (size_t)put;
    }
    lb_fuzz_lbserver_turn(t);
    drain(fd, b);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  struct lb_fuzz_lbserver *t = lb_fuzz_lbserver((data[0] >> 6) & 1, true);
  size_t piece = (size_t)(data[0] & 0x3f) + 1;
  data++;
  size--;
  struct lb_http_server_stats before, after;
  lb_http_server_get_stats(t->srv->http, &before);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    die("socketpair");
  if (lb_http_server_adopt(t->srv->http, sv[0]) < 0)
    die("the HTTP server refused the connection");
  struct back b = {.responses = 0};
  http_parser_init(&b.parser, HTTP_RESPONSE);
  b.parser.data = &b;
  for (size_t off = 0; off < size; off += piece)
    send_all(t, sv[1], data + off, size - off < piece ? size - off : piece, &b);
  shutdown(sv[1], SHUT_WR);
  int64_t end = lb_clock_now_ns() + END_WAIT_NS;
  while (!b.eof) {
    lb_fuzz_lbserver_turn(t);
    drain(sv[1], &b);
    if (b.eof)
      break;
    if (lb_clock_now_ns() > end)
      die("the connection did not end 2 s after the peer's end of input");
    struct timespec nap = {0, 20000};
    nanosleep(&nap, NULL); /* a held reply is due within a tick (1 ms) */
  }
  close(sv[1]);
  lb_fuzz_lbserver_turn(t); /* the close callbacks */
  lb_http_server_get_stats(t->srv->http, &after);
  uint64_t answered =
      (after.requests - before.requests) + (after.bad_requests - before.bad_requests);
  if (b.responses != answered) {
    fprintf(stderr, "fuzz_http: %zu responses to %llu requests (bad ones included)\n", b.responses,
            (unsigned long long)answered);
    abort();
  }
  return 0;
}
