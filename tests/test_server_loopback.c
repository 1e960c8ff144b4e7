/* lbserver on loopback, driven by a tiny client written here with lb_proto:
 * requests and probes come back with reports that follow the load; probes
 * take the probe processing time; the egress hold is applied; a garbage or
 * oversize frame closes only its own connection; UDP replies never exceed
 * the request; SIGTERM answers what was accepted and exits 0;
 * --start-at-realtime-ns counts ticks (and resets) from the fleet's tick 0.
 * Every server
 * binds port 0, has --max-runtime, and every wait here is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "framing.h"
#include "lb.pb-c.h"
#include "report.h"
#include "board.h"

#define BOUND_S 20
#define TICK_NS 2000000LL /* tick: 2ms in the scenario below */
#define PROBE_TICKS 3
#define PENALTY_TICKS 10

struct server {
  pid_t pid;
  int tcp, udp;
  char dir[256], port_file[300], stats[300], scenario[300];
};

static double reset_probability; /* the next server_start's scenario */
static const char *scenario_extra = ""; /* lines added to it */

static void write_scenario(const char *path) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "servers: 2\n"
          "tick: 2ms\n"
          "probe_processing_time: %d\n"
          "cold_channel_penalty: %d\n"
          "server_reset_probability: %g\n"
          "seed: 7\n%s",
          PROBE_TICKS, PENALTY_TICKS, reset_probability, scenario_extra);
  assert_int_equal(fclose(f), 0);
}

/* Waits, with inotify and a bound, for the server's port file. */
static bool wait_port_file(struct server *s) {
  int in = inotify_init1(IN_CLOEXEC);
  if (in < 0)
    return false;
  inotify_add_watch(in, s->dir, IN_MOVED_TO | IN_CLOSE_WRITE);
  bool found = false;
  for (int waited_ms = 0; waited_ms < BOUND_S * 1000 && !found;) {
    FILE *f = fopen(s->port_file, "r");
    if (f) {
      found = fscanf(f, "tcp=%d udp=%d", &s->tcp, &s->udp) == 2;
      fclose(f);
      if (found)
        break;
    }
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
      break; /* it exited */
    struct pollfd p = {.fd = in, .events = POLLIN};
    if (poll(&p, 1, 200) > 0) {
      char buf[4096];
      if (read(in, buf, sizeof(buf)) < 0)
        break;
    }
    waited_ms += 200;
  }
  close(in);
  return found;
}

static void server_start(struct server *s, const char *extra_args) {
  memset(s, 0, sizeof(*s));
  snprintf(s->dir, sizeof(s->dir), "/tmp/lbtest_server_XXXXXX");
  assert_non_null(mkdtemp(s->dir));
  snprintf(s->port_file, sizeof(s->port_file), "%s/ports", s->dir);
  snprintf(s->stats, sizeof(s->stats), "%s/stats", s->dir);
  snprintf(s->scenario, sizeof(s->scenario), "%s/scenario.yaml", s->dir);
  write_scenario(s->scenario);
  char cmd[2048];
  snprintf(cmd, sizeof(cmd),
           "exec %s/lbserver/lbserver --scenario %s --index 1 --port-file %s --stats %s "
           "--max-runtime 60 --log-level warn %s",
           LB_BINARY_DIR, s->scenario, s->port_file, s->stats, extra_args);
  s->pid = fork();
  assert_true(s->pid >= 0);
  if (s->pid == 0) {
    signal(SIGPIPE, SIG_DFL); /* as a shell would start it (an ignored signal survives exec) */
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  assert_true(wait_port_file(s));
  assert_true(s->tcp > 0);
}

/* SIGTERM (when term), then the exit status; waits on a pidfd, bounded. */
static int server_wait(struct server *s, bool term) {
  int status = -1, rc = -1;
  int pfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
  if (term)
    kill(s->pid, SIGTERM);
  struct pollfd p = {.fd = pfd, .events = POLLIN};
  if (pfd >= 0 && poll(&p, 1, BOUND_S * 1000) != 1)
    kill(s->pid, SIGKILL); /* did not exit in time: fail */
  else
    rc = 0;
  if (pfd >= 0)
    close(pfd);
  waitpid(s->pid, &status, 0);
  if (rc < 0)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long stat_value(const struct server *s, const char *key) {
  FILE *f = fopen(s->stats, "r");
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  assert_non_null(f);
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, key, n) == 0 && line[n] == '=')
      v = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return v;
}

static void server_cleanup(struct server *s) {
  char path[400];
  const char *files[] = {"ports", "stats", "scenario.yaml"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
    unlink(path);
  }
  rmdir(s->dir);
}

static int tcp_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  struct timeval tv = {.tv_sec = BOUND_S};
  assert_true(fd >= 0);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    assert_true(w > 0);
    p += w;
    n -= (size_t)w;
  }
}

/* Packs one request (with its length prefix) into buf; returns its size. */
static size_t pack_request(uint8_t *buf, size_t cap, uint64_t id, bool probe, uint32_t channel,
                           uint64_t delay_ns, size_t padding) {
  Lb__Envelope env = LB__ENVELOPE__INIT;
  Lb__Request req = LB__REQUEST__INIT;
  static uint8_t pad[2048];
  req.id = id;
  req.is_probe = probe;
  req.channel = channel;
  req.response_delay_ns = delay_ns;
  req.padding.data = pad;
  req.padding.len = padding;
  env.version = LB__VERSION__VERSION_1;
  env.body_case = LB__ENVELOPE__BODY_REQUEST;
  env.request = &req;
  int n = lb_frame_encode(&env, buf, cap);
  assert_true(n > 0);
  return (size_t)n;
}

static void send_request(int fd, uint64_t id, bool probe, uint32_t channel, uint64_t delay_ns) {
  uint8_t buf[512];
  size_t n = pack_request(buf, sizeof(buf), id, probe, channel, delay_ns, 0);
  write_all(fd, buf, n);
}

static bool read_full(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0)
      return false;
    p += r;
    n -= (size_t)r;
  }
  return true;
}

/* Next response on fd, or NULL at EOF (or on the bound). */
static Lb__Response *recv_response(int fd, Lb__Envelope **env_out) {
  uint8_t hdr[4], body[65536];
  if (!read_full(fd, hdr, 4))
    return NULL;
  uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
  assert_true(len <= sizeof(body));
  assert_true(read_full(fd, body, len));
  Lb__Envelope *env = lb__envelope__unpack(NULL, len, body);
  assert_non_null(env);
  assert_int_equal(env->body_case, LB__ENVELOPE__BODY_RESPONSE);
  *env_out = env;
  return env->response;
}

/* True when the peer closed fd (EOF or reset), within the bound. */
static bool closed_by_peer(int fd) {
  uint8_t b;
  ssize_t r = read(fd, &b, 1);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

static void test_requests_probes_reports(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  char board[64], args[256];
  snprintf(board, sizeof(board), "lbtest_loopback_%d", (int)getpid());
  lb_board_unlink(board);
  snprintf(args, sizeof(args), "--threads 2 --processing-time 4 --board %s", board);
  server_start(&s, args);
  int fd = tcp_connect(s.tcp);

  /* An idle server: a probe takes exactly the probe processing time. */
  send_request(fd, 1, true, 5, 0);
  Lb__Response *r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 1);
  assert_true(r->is_probe);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  assert_true(r->processing_ns >= (uint64_t)(PROBE_TICKS * TICK_NS));
  struct lb_server_report idle;
  assert_non_null(r->report);
  lb_report_from_wire(r->report, &idle);
  assert_int_equal(idle.server, 1);
  assert_int_equal(idle.threads, 2);
  assert_true(!idle.queued_requests.valid || idle.queued_requests.mean == 0);
  lb__envelope__free_unpacked(env, NULL);

  /* The first request of a channel pays the cold penalty. */
  send_request(fd, 2, false, 9, 0);
  r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 2);
  assert_true(r->processing_ns >= (uint64_t)((1 + PENALTY_TICKS) * TICK_NS));
  lb__envelope__free_unpacked(env, NULL);

  /* A burst of 30 on 2 threads: each takes >= 1 tick, so ticks pass with
   * requests queued, and the reports carry it. */
  uint8_t burst[30 * 64];
  size_t n = 0;
  for (int i = 0; i < 30; i++)
    n += pack_request(burst + n, sizeof(burst) - n, 100 + (uint64_t)i, false, 9, 0, 0);
  write_all(fd, burst, n);
  bool seen[30] = {false};
  bool some_queued = false;
  struct lb_server_report last;
  for (int i = 0; i < 30; i++) {
    r = recv_response(fd, &env);
    assert_non_null(r);
    assert_true(r->id >= 100 && r->id < 130);
    assert_false(seen[r->id - 100]);
    seen[r->id - 100] = true;
    assert_int_equal(r->status, LB__STATUS__STATUS_OK);
    assert_true(r->processing_ns >= (uint64_t)TICK_NS);
    some_queued |= r->queue_ns > 0;
    lb_report_from_wire(r->report, &last);
    lb__envelope__free_unpacked(env, NULL);
  }
  assert_true(some_queued);
  assert_true(last.requests_in_flight.valid && last.requests_in_flight.mean > 0);
  assert_true(last.queued_requests.mean > 0);
  assert_true(last.utilization.mean > 0);
  assert_true(last.queries_per_tick.mean > 0);
  assert_true(last.latency.valid && last.latency.mean >= 1);
  assert_true(last.orca_qps > 0);
  /* With a board, the server-side PID has a fleet mean to chase. */
  assert_true(last.pid_weight != 0);
  struct lb_board *b = NULL;
  struct lb_server_report on_board;
  assert_int_equal(lb_board_open(board, 2, false, &b), 0);
  assert_int_equal(lb_board_read(b, 1, &on_board), 0);
  assert_int_equal(on_board.threads, 2);
  assert_int_equal(lb_board_read(b, 0, &on_board), -ENODATA);
  lb_board_close(b);
  lb_board_unlink(board);

  /* The egress hold: never shorter than asked. */
  send_request(fd, 3, true, 5, 30 * 1000 * 1000);
  r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 3);
  assert_true(r->hold_ns >= 30u * 1000 * 1000);
  lb__envelope__free_unpacked(env, NULL);

  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "requests"), 31);
  assert_int_equal(stat_value(&s, "probes"), 2);
  assert_int_equal(stat_value(&s, "completed"), 33);
  assert_int_equal(stat_value(&s, "bad_frames"), 0);
  server_cleanup(&s);
}

static void test_bad_frames_close_only_their_connection(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 2 --processing-time 1 --max-frame 4096");
  int good = tcp_connect(s.tcp);
  int garbage = tcp_connect(s.tcp);
  int oversize = tcp_connect(s.tcp);

  /* The good connection works before... */
  send_request(good, 1, false, 1, 0);
  Lb__Response *r = recv_response(good, &env);
  assert_non_null(r);
  lb__envelope__free_unpacked(env, NULL);

  const uint8_t junk[] = {0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  write_all(garbage, junk, sizeof(junk));
  assert_true(closed_by_peer(garbage));
  const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
  write_all(oversize, huge, sizeof(huge));
  assert_true(closed_by_peer(oversize));

  /* ...and after. */
  send_request(good, 2, true, 1, 0);
  r = recv_response(good, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 2);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  lb__envelope__free_unpacked(env, NULL);

  close(good);
  close(garbage);
  close(oversize);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "bad_frames"), 2);
  assert_int_equal(stat_value(&s, "completed"), 2);
  server_cleanup(&s);
}

/* Numbers out of range (a delay near 2^63, a channel past the scenario's
 * clients) are answered STATUS_BAD_REQUEST at once and counted; the
 * connection stays usable. */
static void test_out_of_range_requests_refused(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 1 --processing-time 1");
  int fd = tcp_connect(s.tcp);
  send_request(fd, 1, false, 1, (uint64_t)INT64_MAX - 5);
  Lb__Response *r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 1);
  assert_int_equal(r->status, LB__STATUS__STATUS_BAD_REQUEST);
  assert_int_equal(r->hold_ns < 1000000000ull, 1); /* not held */
  lb__envelope__free_unpacked(env, NULL);
  send_request(fd, 2, false, 40, 0); /* clients: 40 (the default) */
  r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->status, LB__STATUS__STATUS_BAD_REQUEST);
  lb__envelope__free_unpacked(env, NULL);
  send_request(fd, 3, false, 39, 1000); /* in range: served */
  r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 3);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  lb__envelope__free_unpacked(env, NULL);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "bad_requests"), 2);
  assert_int_equal(stat_value(&s, "completed"), 1);
  server_cleanup(&s);
}

static void test_udp_no_amplification(void **state) {
  (void)state;
  struct server s;
  uint8_t buf[4096];
  server_start(&s, "--threads 1 --processing-time 1");
  assert_true(s.udp > 0);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.udp)};
  struct timeval tv = {.tv_sec = BOUND_S};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);

  /* Unpadded: the reply would be larger than the request, so none comes
   * (counted); padded: the reply fits. Datagrams carry no length prefix. */
  size_t n = pack_request(buf, sizeof(buf), 1, true, 1, 0, 0);
  assert_int_equal(send(fd, buf + LB_FRAME_HEADER, n - LB_FRAME_HEADER, 0),
                   (ssize_t)(n - LB_FRAME_HEADER));
  n = pack_request(buf, sizeof(buf), 2, true, 1, 0, 600);
  assert_int_equal(send(fd, buf + LB_FRAME_HEADER, n - LB_FRAME_HEADER, 0),
                   (ssize_t)(n - LB_FRAME_HEADER));
  ssize_t got = recv(fd, buf, sizeof(buf), 0);
  assert_true(got > 0);
  assert_true((size_t)got <= n - LB_FRAME_HEADER);
  Lb__Envelope *env = lb__envelope__unpack(NULL, (size_t)got, buf);
  assert_non_null(env);
  assert_int_equal(env->body_case, LB__ENVELOPE__BODY_RESPONSE);
  assert_int_equal(env->response->id, 2);
  assert_true(env->response->processing_ns >= (uint64_t)(PROBE_TICKS * TICK_NS));
  lb__envelope__free_unpacked(env, NULL);
  /* Garbage datagrams are counted and dropped. */
  assert_int_equal(send(fd, "\xff\xff\xff", 3, 0), 3);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "udp_dropped"), 1);
  assert_int_equal(stat_value(&s, "probes"), 2);
  server_cleanup(&s);
}

/* SIGTERM with requests processing and held: each is answered STATUS_OK,
 * then the connection closes and the server exits 0. */
static void test_sigterm_drains(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 3 --processing-time 40");
  int fd = tcp_connect(s.tcp);
  uint8_t buf[512];
  size_t n = 0;
  n += pack_request(buf + n, sizeof(buf) - n, 1, false, 1, 50 * 1000 * 1000, 0);
  n += pack_request(buf + n, sizeof(buf) - n, 2, false, 2, 50 * 1000 * 1000, 0);
  n += pack_request(buf + n, sizeof(buf) - n, 3, true, 3, 0, 0);
  write_all(fd, buf, n);
  /* The probe's answer proves the two requests before it were accepted. */
  bool answered[4] = {false};
  while (!answered[3]) {
    Lb__Response *r = recv_response(fd, &env);
    assert_non_null(r);
    assert_int_equal(r->status, LB__STATUS__STATUS_OK);
    assert_true(r->id >= 1 && r->id <= 3);
    answered[r->id] = true;
    lb__envelope__free_unpacked(env, NULL);
  }
  kill(s.pid, SIGTERM);
  while (!answered[1] || !answered[2]) {
    Lb__Response *r = recv_response(fd, &env);
    assert_non_null(r);
    assert_int_equal(r->status, LB__STATUS__STATUS_OK);
    assert_true(r->id == 1 || r->id == 2);
    assert_true(r->hold_ns >= 50u * 1000 * 1000);
    answered[r->id] = true;
    lb__envelope__free_unpacked(env, NULL);
  }
  assert_true(closed_by_peer(fd));
  close(fd);
  assert_int_equal(server_wait(&s, false), 0);
  assert_int_equal(stat_value(&s, "completed"), 3);
  assert_int_equal(stat_value(&s, "forced"), 0);
  server_cleanup(&s);
}

/* A bounded queue answers STATUS_REJECTED and counts it for ORCA eps; a
 * connection over --max-connections is closed at once. */
static void test_limits(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 1 --processing-time 20 --max-queue 1 --max-connections 1");
  int fd = tcp_connect(s.tcp);
  uint8_t buf[512];
  size_t n = 0;
  for (int i = 1; i <= 4; i++)
    n += pack_request(buf + n, sizeof(buf) - n, (uint64_t)i, false, 1, 0, 0);
  write_all(fd, buf, n);
  int ok = 0, rejected = 0;
  for (int i = 0; i < 4; i++) {
    Lb__Response *r = recv_response(fd, &env);
    assert_non_null(r);
    if (r->status == LB__STATUS__STATUS_REJECTED) {
      rejected++;
      assert_non_null(r->report);
      assert_int_equal(r->processing_ns, 0);
    } else {
      assert_int_equal(r->status, LB__STATUS__STATUS_OK);
      ok++;
    }
    lb__envelope__free_unpacked(env, NULL);
  }
  /* One processing and one queued at the most. */
  assert_true(rejected >= 2);
  assert_int_equal(ok + rejected, 4);
  /* A request after that reports the errors (>= 1 tick of processing). */
  send_request(fd, 9, false, 1, 0);
  Lb__Response *r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  assert_true(r->report->orca_eps > 0);
  lb__envelope__free_unpacked(env, NULL);

  int second = tcp_connect(s.tcp);
  assert_true(closed_by_peer(second));
  close(second);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "rejected"), rejected);
  assert_int_equal(stat_value(&s, "connections_refused"), 1);
  server_cleanup(&s);
}

/* A peer cannot make the server hold replies without bound: past
 * --max-held requests that ask for an egress hold are refused at once
 * (STATUS_REJECTED), counted in held_refused; the held ones still come. */
static void test_held_replies_bounded(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 1 --processing-time 0 --max-held 3");
  int fd = tcp_connect(s.tcp);
  uint8_t buf[1024];
  size_t n = 0;
  for (int i = 1; i <= 7; i++) /* each held 300 ms after its processing */
    n += pack_request(buf + n, sizeof(buf) - n, (uint64_t)i, false, 1, 300000000, 0);
  write_all(fd, buf, n);
  int ok = 0, refused = 0;
  for (int i = 0; i < 7; i++) {
    Lb__Response *r = recv_response(fd, &env);
    assert_non_null(r);
    if (r->status == LB__STATUS__STATUS_REJECTED) {
      assert_int_equal(ok, 0); /* refused at once, before any held reply */
      refused++;
    } else {
      assert_int_equal(r->status, LB__STATUS__STATUS_OK);
      ok++;
    }
    lb__envelope__free_unpacked(env, NULL);
  }
  assert_int_equal(ok, 3);
  assert_int_equal(refused, 4);
  /* Room again once they went: held, not refused. */
  send_request(fd, 8, false, 1, 1000000);
  Lb__Response *r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  lb__envelope__free_unpacked(env, NULL);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "held_refused"), 4);
  assert_int_equal(stat_value(&s, "rejected"), 0); /* not the queue's */
  server_cleanup(&s);
}

/* Connections per address are bounded (the one past the bound is closed at
 * once, peer_refused), and a connection idle past --idle-timeout with
 * nothing alive is closed (idle_closed); one with a request alive is not. */
static void test_peer_bound_and_idle_timeout(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--max-connections-per-peer 2 --idle-timeout 0.3 --threads 1 "
                   "--processing-time 0");
  int a = tcp_connect(s.tcp), b = tcp_connect(s.tcp), c = tcp_connect(s.tcp);
  assert_true(closed_by_peer(c));
  close(c);
  /* b asks for a reply held 1 s: alive past the idle bound, so kept. */
  send_request(b, 1, false, 1, 1000000000);
  assert_true(closed_by_peer(a)); /* idle: closed after ~0.3 s */
  close(a);
  Lb__Response *r = recv_response(b, &env);
  assert_non_null(r);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  lb__envelope__free_unpacked(env, NULL);
  assert_true(closed_by_peer(b)); /* idle once answered */
  close(b);
  /* The address has room again. */
  int d = tcp_connect(s.tcp);
  send_request(d, 2, false, 1, 0);
  r = recv_response(d, &env);
  assert_non_null(r);
  lb__envelope__free_unpacked(env, NULL);
  close(d);
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "peer_refused"), 1);
  assert_true(stat_value(&s, "idle_closed") >= 2);
  server_cleanup(&s);
}

/* A standalone lbserver whose scenario sets no max_queue (the seed's
 * unbounded queue) still bounds its queue (LB_SERVER_DEFAULT_MAX_QUEUE,
 * 4096): of 4200 requests on one thread busy for a long time, at least
 * 4200 - 4096 - 1 are refused at once. --max-queue 0 is unbounded. */
static void test_default_queue_bound(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 1 --processing-time 100000");
  int fd = tcp_connect(s.tcp);
  enum { N = 4200 };
  uint8_t *buf = malloc((size_t)N * 64);
  assert_non_null(buf);
  size_t n = 0;
  for (int i = 1; i <= N; i++)
    n += pack_request(buf + n, (size_t)N * 64 - n, (uint64_t)i, false, 1, 0, 0);
  write_all(fd, buf, n);
  free(buf);
  int refused = 0;
  while (refused < N - 4096 - 1) {
    Lb__Response *r = recv_response(fd, &env);
    assert_non_null(r); /* NULL: no more answers within the bound */
    assert_int_equal(r->status, LB__STATUS__STATUS_REJECTED);
    refused++;
    lb__envelope__free_unpacked(env, NULL);
  }
  close(fd);
  kill(s.pid, SIGKILL); /* the queued work would take hours */
  waitpid(s.pid, NULL, 0);
  server_cleanup(&s);
}

/* A slow fault in the scenario: lbserver multiplies the processing time of
 * work that starts in its window (probes too: 3 ticks of 2 ms take 4 x as
 * long, a sleep never ends early); outside the window, or on another
 * server, the time is the model's. */
static void test_slow_fault(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  const int64_t probe_ns = PROBE_TICKS * TICK_NS;
  /* index 1 (server_start's): slowed over the whole run */
  scenario_extra = "faults:\n  - {kind: slow, at: 0, for: 500, server: 1, factor: 4}\n";
  server_start(&s, "--threads 1");
  scenario_extra = "";
  int fd = tcp_connect(s.tcp);
  send_request(fd, 1, true, 1, 0);
  Lb__Response *r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  if ((int64_t)r->processing_ns < 4 * probe_ns)
    fail_msg("a probe took %llu ns under slow x4, expected >= %lld",
             (unsigned long long)r->processing_ns, (long long)(4 * probe_ns));
  lb__envelope__free_unpacked(env, NULL);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  server_cleanup(&s);
  /* the same fault on server 0 leaves server 1 alone */
  scenario_extra = "faults:\n  - {kind: slow, at: 0, for: 500, server: 0, factor: 4}\n";
  server_start(&s, "--threads 1");
  scenario_extra = "";
  fd = tcp_connect(s.tcp);
  send_request(fd, 1, true, 1, 0);
  r = recv_response(fd, &env);
  assert_non_null(r);
  if ((int64_t)r->processing_ns >= 4 * probe_ns)
    fail_msg("server 1 was slowed by a fault on server 0 (%llu ns)",
             (unsigned long long)r->processing_ns);
  lb__envelope__free_unpacked(env, NULL);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  server_cleanup(&s);
}

/* A request that would outlive the drain's grace (5 s): the server gives
 * up on it, closes the connection and still exits 0, saying so. */
static void test_forced_drain(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 2 --processing-time 100000");
  int fd = tcp_connect(s.tcp);
  uint8_t buf[256];
  size_t n = pack_request(buf, sizeof(buf), 1, false, 1, 0, 0);
  n += pack_request(buf + n, sizeof(buf) - n, 2, true, 1, 0, 0);
  write_all(fd, buf, n);
  Lb__Response *r = recv_response(fd, &env); /* the probe: 1 was accepted */
  assert_non_null(r);
  assert_int_equal(r->id, 2);
  lb__envelope__free_unpacked(env, NULL);
  kill(s.pid, SIGTERM);
  assert_true(closed_by_peer(fd));
  close(fd);
  assert_int_equal(server_wait(&s, false), 0);
  assert_int_equal(stat_value(&s, "forced"), 1);
  assert_int_equal(stat_value(&s, "completed"), 1);
  server_cleanup(&s);
}

/* A client dying mid-write raises SIGPIPE in the server; it must cost that
 * connection only. The disposition is checked directly: a SIGPIPE sent to
 * the server leaves it answering. */
static void test_sigpipe_ignored(void **state) {
  (void)state;
  struct server s;
  Lb__Envelope *env = NULL;
  server_start(&s, "--threads 2 --processing-time 0");
  kill(s.pid, SIGPIPE);
  int fd = tcp_connect(s.tcp);
  send_request(fd, 7, false, 1, 0);
  Lb__Response *r = recv_response(fd, &env);
  assert_non_null(r);
  assert_int_equal(r->id, 7);
  assert_int_equal(r->status, LB__STATUS__STATUS_OK);
  lb__envelope__free_unpacked(env, NULL);
  close(fd);
  assert_int_equal(server_wait(&s, true), 0);
  server_cleanup(&s);
}

/* --start-at-realtime-ns: the server's ticks count from the fleet's tick 0,
 * before any request, and the ticks it was not running for are drawn for
 * too (resets on every tick here: one per tick since T, at least 500 for a
 * T one second ago at 2 ms a tick). Without it, a server that has had no
 * request has begun no run: no reset at all. */
static void test_start_at_aligns_ticks(void **state) {
  (void)state;
  struct server s;
  struct timespec now;
  char extra[128];
  reset_probability = 1;
  clock_gettime(CLOCK_REALTIME, &now);
  long long t = (long long)now.tv_sec * 1000000000LL + now.tv_nsec - 1000000000LL;
  snprintf(extra, sizeof(extra), "--start-at-realtime-ns %lld", t);
  server_start(&s, extra);
  assert_int_equal(server_wait(&s, true), 0);
  long resets = stat_value(&s, "resets");
  assert_true(resets >= 1000000000LL / TICK_NS);
  server_cleanup(&s);

  server_start(&s, "");
  assert_int_equal(server_wait(&s, true), 0);
  assert_int_equal(stat_value(&s, "resets"), 0);
  server_cleanup(&s);
  reset_probability = 0;

  char cmd[1024];
  snprintf(cmd, sizeof(cmd),
           "%s/lbserver/lbserver --index 0 --scenario x --start-at-realtime-ns soon 2>/dev/null",
           LB_BINARY_DIR);
  int st = system(cmd);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

static void test_bad_options(void **state) {
  (void)state;
  char cmd[1024];
  snprintf(cmd, sizeof(cmd),
           "%s/lbserver/lbserver --scenario /nonexistent.yaml --index 0 2>/dev/null",
           LB_BINARY_DIR);
  int st = system(cmd);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
  snprintf(cmd, sizeof(cmd), "%s/lbserver/lbserver --index 0 --threads x 2>/dev/null",
           LB_BINARY_DIR);
  st = system(cmd);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
  snprintf(cmd, sizeof(cmd), "%s/lbserver/lbserver --index 0 --wake-early-us -1 2>/dev/null",
           LB_BINARY_DIR);
  st = system(cmd);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
  snprintf(cmd, sizeof(cmd), "%s/lbserver/lbserver --help >/dev/null", LB_BINARY_DIR);
  st = system(cmd);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_requests_probes_reports),
      cmocka_unit_test(test_bad_frames_close_only_their_connection),
      cmocka_unit_test(test_out_of_range_requests_refused),
      cmocka_unit_test(test_udp_no_amplification),
      cmocka_unit_test(test_sigterm_drains),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_held_replies_bounded),
      cmocka_unit_test(test_peer_bound_and_idle_timeout),
      cmocka_unit_test(test_default_queue_bound),
      cmocka_unit_test(test_slow_fault),
      cmocka_unit_test(test_forced_drain),
      cmocka_unit_test(test_sigpipe_ignored),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_start_at_aligns_ticks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
