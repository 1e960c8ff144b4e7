/* client_opts: lbclient's command line. */
#ifndef LB_CLIENT_OPTS_H
#define LB_CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

#define LB_CLIENT_HOST_MAX 256

struct lb_server_addr {
  char host[LB_CLIENT_HOST_MAX];
  int tcp_port, udp_port;
  int http_port; /* --http-ports; 0: none given */
};

struct lb_client_opts {
  const char *scenario;
  int first_client, client_count;
  int run;
  struct lb_server_addr *servers; /* malloc'd */
  int nservers;
  const char *log_path;
  const char *board;
  const char *fleet; /* --fleet FILE */
  const char *http_ports; /* --http-ports LIST, applied to servers at the end */
  bool has_start_at;
  int64_t start_at_realtime_ns;
  const char *stats_path;
  double max_runtime_s; /* 0: no bound */
  int wake_early_us;    /* 0: sleep to each deadline */
  bool full_speed;
  int connections;
  int64_t requests;
  int pipeline; /* outstanding requests per connection, full speed */
  int log_level;
  bool metrics; /* --metrics-port given */
  int metrics_port;
  int metrics_linger_s;
  bool help;
};

/* Parses argv. -EINVAL with a sentence in err on bad input. */
int lb_client_opts_parse(int argc, char **argv, struct lb_client_opts *o, char *err, size_t errlen);
void lb_client_opts_close(struct lb_client_opts *o);
/* "host:tcpport:udpport,..." into servers. */
int lb_client_parse_servers(const char *text, struct lb_server_addr **out, int *n, char *err,
                            size_t errlen);
/* "port,..." one per server, in --servers' order, into servers[].http_port. */
int lb_client_parse_http_ports(const char *text, struct lb_server_addr *servers, int n, char *err,
                               size_t errlen);
/* The port of a's server for transport t; -EINVAL with a sentence in err
 * when t is http and no --http-ports were given. */
int lb_client_server_port(const struct lb_server_addr *a, enum lb_transport t, char *err,
                          size_t errlen);
void lb_client_usage(FILE *f);

#endif
