/* proxy: the table of proxy balances and their lbsim equivalents.
 *
 * - roundrobin / round_robin: servers in turn, over the whole fleet: the
 *   round_robin picker, one counter for all clients.
 * - leastconn / least_conn: fewest connections busy with a request, which
 *   with keep-alive upstream connections is the proxy's requests in
 *   flight: least(client.rif, rotate_ties=true) over the proxy's own
 *   channels: both proxies go round the servers of equal load (HAProxy
 *   re-queues a used server behind its equals, nginx's weighted round
 *   robin among them), where the seed's least draws among ties at random.
 * - random(2) / random two least_conn: two servers drawn, the one with
 *   fewer in flight: least(client.rif, choices=2). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static const struct lb_proxy_balance balances[] = {
    {LB_PROXY_HAPROXY, "roundrobin", "round_robin"},
    {LB_PROXY_HAPROXY, "leastconn", "least(client.rif, rotate_ties=true)"},
    {LB_PROXY_HAPROXY, "random(2)", "least(client.rif, choices=2)"},
    {LB_PROXY_NGINX, "round_robin", "round_robin"},
    {LB_PROXY_NGINX, "least_conn", "least(client.rif, rotate_ties=true)"},
    {LB_PROXY_NGINX, "random two least_conn", "least(client.rif, choices=2)"},
};
#define NBALANCES (sizeof(balances) / sizeof(balances[0]))

const char *lb_proxy_name(enum lb_proxy proxy) {
  switch (proxy) {
  case LB_PROXY_HAPROXY:
    return "haproxy";
  case LB_PROXY_NGINX:
    return "nginx";
  case LB_PROXY_NONE:
    break;
  }
  return "none";
}

const char *lb_proxy_default_balance(enum lb_proxy proxy) {
  for (size_t i = 0; i < NBALANCES; i++)
    if (balances[i].proxy == proxy)
      return balances[i].word;
  return "";
}

const struct lb_proxy_balance *lb_proxy_balance_find(enum lb_proxy proxy, const char *word) {
  for (size_t i = 0; i < NBALANCES; i++)
    if (balances[i].proxy == proxy && strcmp(balances[i].word, word) == 0)
      return &balances[i];
  return NULL;
}

void lb_proxy_balance_list(enum lb_proxy proxy, char *buf, size_t len) {
  size_t used = 0;
  if (len)
    buf[0] = '\0';
  for (size_t i = 0; i < NBALANCES && used < len; i++) {
    if (balances[i].proxy != proxy)
      continue;
    int n = snprintf(buf + used, len - used, "%s'%s'", used ? ", " : "", balances[i].word);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}
