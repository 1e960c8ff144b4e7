/* server_limits: what one peer may make a server hold, on the loop thread.
 *   held replies  requests alive that asked for an egress hold
 *                 (response_delay_ns > 0): at most max_held; beyond it a
 *                 request is answered STATUS_REJECTED at once;
 *   per peer      open TCP connections from one address: at most
 *                 max_per_peer; beyond it a connection is closed at accept;
 *   idle          a connection that sent nothing for idle_ns and has no
 *                 request alive is closed.
 * Each refusal is counted, and said on a rate-limited log line: the first
 * of a kind at once, then at most one line a second with the count since. */
#ifndef LB_SERVER_LIMITS_H
#define LB_SERVER_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Defaults (docs: lbserver/README.md). 16384 held replies are ~9 MB; a
 * normal client holds (rate x its delay) of them, a few hundred. */
#define LB_SERVER_MAX_HELD 16384
#define LB_SERVER_MAX_PER_PEER 256
#define LB_SERVER_IDLE_TIMEOUT_S 120.0
/* A standalone lbserver's queue bound when neither the scenario
 * (max_queue) nor --max-queue sets one; lbharness passes the scenario's. */
#define LB_SERVER_DEFAULT_MAX_QUEUE 4096

enum lb_limit_kind { LB_LIMIT_HELD, LB_LIMIT_PEER, LB_LIMIT_IDLE, LB_LIMIT_KINDS };

struct lb_server_limits_config {
  int max_held;     /* 0: no bound */
  int max_per_peer; /* 0: no bound */
  int64_t idle_ns;  /* 0: no idle timeout */
};

struct lb_peer_count {
  uint8_t addr[16];
  uint8_t family;
  int count;
};

struct lb_server_limits {
  struct lb_server_limits_config cfg;
  int held;
  struct lb_peer_count *peers; /* one per address with an open connection */
  size_t npeers, cap;
  uint64_t refused[LB_LIMIT_KINDS];
  uint64_t unsaid[LB_LIMIT_KINDS]; /* refusals since the last line */
  int64_t said_ns[LB_LIMIT_KINDS]; /* when the last line was said; 0: never */
};

void lb_server_limits_init(struct lb_server_limits *l, const struct lb_server_limits_config *cfg);
void lb_server_limits_close(struct lb_server_limits *l);
/* A request that asks for a hold: true (counted) when there is room;
 * false counts a refusal. lb_server_limits_hold_end when it is released. */
bool lb_server_limits_hold_begin(struct lb_server_limits *l);
void lb_server_limits_hold_end(struct lb_server_limits *l);
/* A connection from addr: true (counted) when the peer has room, else a
 * refusal (or -ENOMEM: let it in). lb_server_limits_peer_end on close. */
bool lb_server_limits_peer_begin(struct lb_server_limits *l, const struct sockaddr *addr);
void lb_server_limits_peer_end(struct lb_server_limits *l, const struct sockaddr *addr);
/* Whether a connection last active at last_ns, with refs requests alive,
 * is idle past the bound at now_ns (the caller closes it and calls
 * lb_server_limits_refuse(LB_LIMIT_IDLE)). */
bool lb_server_limits_idle(const struct lb_server_limits *l, int64_t last_ns, int refs,
                           int64_t now_ns);
void lb_server_limits_refuse(struct lb_server_limits *l, enum lb_limit_kind kind);
/* Whether to say kind's refusals now (the first at once, then at most one
 * line a second); *count gets how many refusals the line stands for. */
bool lb_server_limits_say(struct lb_server_limits *l, enum lb_limit_kind kind, int64_t now_ns,
                          uint64_t *count);

#endif
