/* server_options: lbserver's command line. */
#ifndef LB_SERVER_OPTIONS_H
#define LB_SERVER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "scenario.h"

/* Default --wake-early-us: on the 2-core CI VM a timed wake-up is some
 * 30-40 us late at the median; waking 50 us early and spinning the rest
 * takes that to a few us. The spin costs up to 50 us of CPU per processed
 * request and response hold, so it is the default only for ticks below
 * LB_SERVER_SPIN_BELOW_TICK_NS, where 30 us is a sizeable share of a tick;
 * at 40 ms ticks it is 0.1 % of one, and the CPU is better left to the
 * fleet (a 40x40 fleet spun more than it worked). */
#define LB_SERVER_WAKE_EARLY_US 50
#define LB_SERVER_SPIN_BELOW_TICK_NS (10 * 1000 * 1000LL)

struct lb_server_options {
  const char *scenario;
  int index; /* -1 until given */
  int run;
  const char *listen;
  int port, udp_port;
  bool http; /* --http-port given */
  int http_port;
  bool metrics; /* --metrics-port given */
  int metrics_port;
  bool no_udp;
  const char *port_file;
  const char *board;
  const char *fleet;      /* --fleet FILE: parameters at creation from fleet run mod F */
  int threads;            /* 0: draw */
  double processing_time; /* < 0: draw */
  double rtt;             /* < 0: draw */
  int work;               /* -1: the scenario's; else enum lb_work */
  int wake_early_us;      /* timed waits wake this early and spin the rest;
                             -1: lb_server_wake_early_default */
  int max_queue;          /* -1: the scenario's */
  int max_connections;
  int max_held;          /* --max-held: replies held at once; 0 = no bound */
  int max_per_peer;      /* --max-connections-per-peer; 0 = no bound */
  double idle_timeout_s; /* --idle-timeout; 0 = none */
  int64_t max_frame;
  double max_runtime_s;
  const char *stats;
  int log_level;
  bool has_start_at;
  int64_t start_at_realtime_ns; /* the fleet's tick 0 (CLOCK_REALTIME) */
  bool help;
};

/* The default --wake-early-us for a tick: LB_SERVER_WAKE_EARLY_US below
 * LB_SERVER_SPIN_BELOW_TICK_NS, else 0. */
int lb_server_wake_early_default(int64_t tick_ns);

/* 0: options parsed; 1: --help was asked for (usage printed to out);
 * -EINVAL: err holds a sentence naming the option. */
int lb_server_options_parse(int argc, char **argv, struct lb_server_options *o, char *err,
                            size_t errlen);
void lb_server_options_usage(FILE *out);

#endif
