#include "server_limits.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define SAY_EVERY_NS 1000000000LL

void lb_server_limits_init(struct lb_server_limits *l, const struct lb_server_limits_config *cfg) {
  memset(l, 0, sizeof(*l));
  l->cfg = *cfg;
}

void lb_server_limits_close(struct lb_server_limits *l) {
  free(l->peers);
  memset(l, 0, sizeof(*l));
}

void lb_server_limits_refuse(struct lb_server_limits *l, enum lb_limit_kind kind) {
  l->refused[kind]++;
  l->unsaid[kind]++;
}

bool lb_server_limits_hold_begin(struct lb_server_limits *l) {
  if (l->cfg.max_held > 0 && l->held >= l->cfg.max_held) {
    lb_server_limits_refuse(l, LB_LIMIT_HELD);
    return false;
  }
  l->held++;
  return true;
}

void lb_server_limits_hold_end(struct lb_server_limits *l) {
  if (l->held > 0)
    l->held--;
}

/* The address part of addr (4 or 16 bytes) and its family. */
static void key_of(const struct sockaddr *addr, struct lb_peer_count *k) {
  memset(k, 0, sizeof(*k));
  k->family = (uint8_t)addr->sa_family;
  if (addr->sa_family == AF_INET6)
    memcpy(k->addr, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
  else if (addr->sa_family == AF_INET)
    memcpy(k->addr, &((const struct sockaddr_in *)addr)->sin_addr, 4);
}

static struct lb_peer_count *find(struct lb_server_limits *l, const struct lb_peer_count *k) {
  for (size_t i = 0; i < l->npeers; i++)
    if (l->peers[i].family == k->family && memcmp(l->peers[i].addr, k->addr, 16) == 0)
      return &l->peers[i];
  return NULL;
}

bool lb_server_limits_peer_begin(struct lb_server_limits *l, const struct sockaddr *addr) {
  struct lb_peer_count k;
  key_of(addr, &k);
  struct lb_peer_count *p = find(l, &k);
  if (p && l->cfg.max_per_peer > 0 && p->count >= l->cfg.max_per_peer) {
    lb_server_limits_refuse(l, LB_LIMIT_PEER);
    return false;
  }
  if (!p) {
    if (l->npeers == l->cap) {
      size_t cap = l->cap ? 2 * l->cap : 16;
      struct lb_peer_count *grown = realloc(l->peers, cap * sizeof(*grown));
      if (!grown)
        return true; /* not counted: the connection bound still holds */
      l->peers = grown;
      l->cap = cap;
    }
    p = &l->peers[l->npeers++];
    *p = k;
  }
  p->count++;
  return true;
}

void lb_server_limits_peer_end(struct lb_server_limits *l, const struct sockaddr *addr) {
  struct lb_peer_count k;
  key_of(addr, &k);
  struct lb_peer_count *p = find(l, &k);
  if (p && --p->count == 0)
    *p = l->peers[--l->npeers];
}

bool lb_server_limits_idle(const struct lb_server_limits *l, int64_t last_ns, int refs,
                           int64_t now_ns) {
  return l->cfg.idle_ns > 0 && refs == 0 && now_ns - last_ns >= l->cfg.idle_ns;
}

bool lb_server_limits_say(struct lb_server_limits *l, enum lb_limit_kind kind, int64_t now_ns,
                          uint64_t *count) {
  if (l->unsaid[kind] == 0)
    return false;
  if (l->said_ns[kind] != 0 && now_ns - l->said_ns[kind] < SAY_EVERY_NS)
    return false;
  *count = l->unsaid[kind];
  l->unsaid[kind] = 0;
  l->said_ns[kind] = now_ns;
  return true;
}
