/* client_fullspeed: lbclient's throughput mode for benchmarks. No arrivals,
 * no delays, no picker: N connections (spread over the servers), each kept
 * busy with `pipeline` outstanding requests until `requests` have been
 * answered; reports requests per second and round-trip percentiles. */
#ifndef LB_CLIENT_FULLSPEED_H
#define LB_CLIENT_FULLSPEED_H

#include <stddef.h>

#include "client_opts.h"
#include "scenario.h"

struct lb_fullspeed_config {
  const struct lb_server_addr *servers;
  int nservers;
  enum lb_transport transport;
  int connections;
  int pipeline;
  long requests;
  double max_runtime_s;
};

struct lb_fullspeed_result {
  long completed, failed, stray;
  double seconds;
  double requests_per_second;
  double rtt_p50_us, rtt_p99_us;
};

int lb_fullspeed_run(const struct lb_fullspeed_config *cfg, struct lb_fullspeed_result *res,
                     char *err, size_t errlen);

#endif
