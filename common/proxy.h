/* proxy: a real proxy between the clients and the servers (scenario
 * `proxy:` and `proxy_balance:`), and what lbsim models it as: one picker
 * over every server, shared by every client, whose expression is the
 * balance's equivalent (docs/proxies.md says where it is not exact). The
 * proxy's own configuration is the harness's (harness/harness_proxy.h). */
#ifndef LB_PROXY_H
#define LB_PROXY_H

#include <stddef.h>

/* The most servers behind a proxy: the most channels a picker takes
 * (picker.h's LB_PICK_MAX_CHANNELS). */
#define LB_PROXY_SERVERS_MAX 256

enum lb_proxy { LB_PROXY_NONE, LB_PROXY_HAPROXY, LB_PROXY_NGINX };

struct lb_proxy_balance {
  enum lb_proxy proxy;
  const char *word; /* the proxy's own name for it: `proxy_balance:` */
  const char *expr; /* lbsim's equivalent picker expression (expr.h) */
};

/* "none", "haproxy", "nginx". */
const char *lb_proxy_name(enum lb_proxy proxy);
/* The balance a proxy takes when `proxy_balance:` is left out: its round
 * robin (the default of both). */
const char *lb_proxy_default_balance(enum lb_proxy proxy);
/* The entry of proxy's balance word, or NULL when proxy has no such one. */
const struct lb_proxy_balance *lb_proxy_balance_find(enum lb_proxy proxy, const char *word);
/* The balances proxy takes, quoted and comma separated, into buf. */
void lb_proxy_balance_list(enum lb_proxy proxy, char *buf, size_t len);

#endif
