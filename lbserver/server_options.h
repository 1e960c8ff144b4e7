/* server_options: lbserver's command line. */
#ifndef LB_SERVER_OPTIONS_H
#define LB_SERVER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "scenario.h"

/* Default --wake-early-us: on the 2-core CI VM a timed wake-up is some
 * 30-40 us late at the median; waking 50 us early and spinning the rest
 * takes that to a few us. */
#define LB_SERVER_WAKE_EARLY_US 50

struct lb_server_options {
  const char *scenario;
  int index; /* -1 until given */
  int run;
  const char *listen;
  int port, udp_port;
  bool no_udp;
  const char *port_file;
  const char *board;
  const char *fleet;      /* --fleet FILE: parameters at creation from fleet run mod F */
  int threads;            /* 0: draw */
  double processing_time; /* < 0: draw */
  double rtt;             /* < 0: draw */
  int work;               /* -1: the scenario's; else enum lb_work */
  int wake_early_us;      /* timed waits wake this early and spin the rest */
  int max_queue;          /* -1: the scenario's */
  int max_connections;
  long max_frame;
  double max_runtime_s;
  const char *stats;
  int log_level;
  bool has_start_at;
  long long start_at_realtime_ns; /* the fleet's tick 0 (CLOCK_REALTIME) */
};

/* 0: options parsed; 1: --help was asked for (usage printed to out);
 * -EINVAL: err holds a sentence naming the option. */
int lb_server_options_parse(int argc, char **argv, struct lb_server_options *o, char *err,
                            size_t errlen);
void lb_server_options_usage(FILE *out);

#endif
