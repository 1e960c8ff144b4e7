/* scenario: one experiment's parameters, from a YAML file. Every field of
 * the seed's TestManager under its own name, with the seed's defaults, plus
 * the testbed's own (tick, seed, runs, transport, delay, arrivals, ...).
 * Errors name the file, the line, the field and what was expected. */
#ifndef LB_SCENARIO_H
#define LB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "faults.h"
#include "proxy.h"

/* http: HTTP/1.1 to lbserver --http-port (lbclient/client_http.h). */
enum lb_transport { LB_TRANSPORT_TCP, LB_TRANSPORT_UDP, LB_TRANSPORT_HTTP };
enum lb_delay { LB_DELAY_INPROC, LB_DELAY_NETEM, LB_DELAY_NONE };
/* Where an in-process receive delay is held: SERVER, as a network would (the
 * client learns a server is done when the response arrives); CLIENT, the
 * seed's model (Channel.receive lowers rif when the server finishes, the
 * response then takes its delay). */
enum lb_response_hold { LB_RESPONSE_HOLD_SERVER, LB_RESPONSE_HOLD_CLIENT };
/* When a simulated client sees that a server finished its request (lbsim
 * only): SAME_TICK, the seed's (Channel.receive in the Server.tick of the
 * request's last processing tick, before that tick's Client.tick picks);
 * NEXT_TICK, a corrected variant: at the end of that tick, as a real client
 * with response_hold: client learns it, so the next tick's picks see it. */
enum lb_completion_seen { LB_COMPLETION_SEEN_SAME_TICK, LB_COMPLETION_SEEN_NEXT_TICK };
enum lb_arrivals_mode { LB_ARRIVALS_SEED, LB_ARRIVALS_POISSON, LB_ARRIVALS_TRACE };
enum lb_work { LB_WORK_SLEEP, LB_WORK_SPIN };
/* How a server serves a probe: QUEUED, the seed's (a probe queues for a
 * worker thread like any request and takes probe_processing_time);
 * IMMEDIATE, Prequal's (answered on arrival, without a worker thread, from
 * the server's counters: it costs no thread time and is not counted as a
 * query). */
enum lb_probe_service { LB_PROBE_QUEUED, LB_PROBE_IMMEDIATE };

#define LB_SCENARIO_NAME_MAX 128
#define LB_SCENARIO_PATH_MAX 1024
#define LB_SCENARIO_FIELDS_MAX 64
#define LB_PICKER_EXPR_MAX 1024

struct lb_scenario {
  char name[LB_SCENARIO_NAME_MAX]; /* `name:`, else the file's base name */
  char picker[LB_PICKER_EXPR_MAX]; /* picker expression (expr.h) */
  /* The seed's TestManager, same names, same defaults. */
  int servers;                             /* 40 */
  int clients;                             /* 40 */
  int subset_size;                         /* 12; 0 = every server (seed: None) */
  double mean_requests_per_server_per_tick; /* 2.2 */
  int total_ticks;                         /* 500 */
  double mean_processing_time;             /* 6 */
  double probe_processing_time;            /* 1 */
  double mean_channel_rtt;                 /* 2 */
  double channel_rtt_variance;             /* 3 */
  double mean_server_rtt;                  /* 2 */
  double server_rtt_variance;              /* 3 */
  double mean_threads;                     /* 100 */
  double network_reset_probability;        /* 0.002 */
  double server_reset_probability;         /* 0.002 */
  double cold_channel_penalty;             /* 10 */
  int server_state_buffer;                 /* 100 */
  int client_requests_buffer;              /* 100 */
  double ewma_weight;                      /* 0.2 */
  int max_cooldown;                        /* 300 */
  int data_frequency;                      /* 30 */
  /* Alternative to the rate: target_utilization (0..1] sets
   * mean_requests_per_server_per_tick by the seed's queries_for_utilization
   * with rate_probes_per_request probes of probe_processing_time. */
  double target_utilization;      /* 0 = unset; may exceed 1 (overload) */
  double rate_probes_per_request; /* 0 */
  /* The testbed's own. */
  int64_t tick_ns;      /* `tick: 10ms`: real duration of one tick */
  uint64_t seed;        /* run r is seeded with seed + r */
  int runs;             /* 1 */
  enum lb_transport transport; /* `transport: tcp|udp|http` */
  enum lb_delay delay;         /* `delay: inproc|netem|none` */
  enum lb_response_hold response_hold; /* `response_hold: server|client` (delay: inproc) */
  enum lb_completion_seen completion_seen; /* `completion_seen: same_tick|next_tick` (lbsim) */
  enum lb_arrivals_mode arrivals; /* `arrivals: seed|poisson|trace` */
  char trace[LB_SCENARIO_PATH_MAX]; /* `trace: FILE` with arrivals: trace */
  enum lb_work work;           /* `work: sleep|spin` */
  enum lb_probe_service probe_service; /* `probe_service: queued|immediate` */
  int max_queue;               /* 0 = unbounded, as the seed */
  double timeout_ticks;        /* `timeout`: a request unanswered after this
                                  many ticks is timed out; 0 = 4 * total_ticks */
  /* Resource limits of the server containers (--hosts containers, compose,
   * Kubernetes): one value for every server or one per server, comma
   * separated; "" = none. CPUs "1,1,0.5,0.5"; memory "256m" (bytes, or k, m
   * or g: binary units). lbsim and local fleets ignore them. */
  char server_cpus[256];
  char server_memory[256];
  /* `proxy: none|haproxy|nginx` (proxy.h): a real proxy between clients and
   * servers, with `proxy_balance:` its balance in its own words ("" in a
   * file: the proxy's round robin). A proxy needs transport: http; with one,
   * lb_scenario_finish sets picker to the balance's lbsim equivalent and
   * subset_size to 0 (the proxy sees every server). */
  enum lb_proxy proxy;
  char proxy_balance[64];
  /* `faults:` (faults.h): a list of {kind, at, for, server, ...}; none by
   * default. */
  struct lb_fault faults[LB_SCENARIO_FAULTS_MAX];
  int n_faults;
  int faults_line; /* line of `faults:` in path; 0: not from the file */
  int fault_lines[LB_SCENARIO_FAULTS_MAX]; /* line of each entry; 0: not from the file */
  char path[LB_SCENARIO_PATH_MAX]; /* file it came from */
  int picker_line; /* line of `picker:` in path; 0: not from the file (default, --set) */
  /* Line of each field in path, by the parser's field order (scenario.c),
   * for errors found after parsing; 0: not from the file. */
  int field_lines[LB_SCENARIO_FIELDS_MAX];
};

/* Seed defaults. */
void lb_scenario_defaults(struct lb_scenario *sc);
/* Parses a YAML mapping of field: value. On error returns -EINVAL and fills
 * err with "FILE:LINE: field 'x': expected ..., got '...'". */
int lb_scenario_load(const char *path, struct lb_scenario *sc, char *err, size_t errlen);
int lb_scenario_parse_string(const char *text, const char *origin, struct lb_scenario *sc,
                             char *err, size_t errlen);
/* Sets one field by name from text (the parser and --set FIELD=VALUE).
 * `faults` takes a YAML flow sequence ("[{kind: kill, at: 5, for: 2,
 * server: 0}]"), or "none" / "[]" for no faults. */
int lb_scenario_set(struct lb_scenario *sc, const char *field, const char *value, char *err,
                    size_t errlen);
/* Applies target_utilization, checks ranges and cross-field rules. */
int lb_scenario_finish(struct lb_scenario *sc, char *err, size_t errlen);
/* Where the picker expression came from, for errors about it: "FILE:LINE",
 * or "FILE: --set 'picker=EXPR'" when it was set by name (lb_scenario_set,
 * as --set does) after the file. */
void lb_scenario_picker_origin(const struct lb_scenario *sc, char *buf, size_t len);
/* What is allowed but probably not meant (subset_size above servers: the
 * seed draws a subset with replacement, so servers repeat; a file's
 * mean_requests_per_server_per_tick that target_utilization overrides), as
 * one line into buf ("; " between two); returns 0 when there is nothing
 * to say, else 1. Callers say it once per scenario. */
int lb_scenario_warning(const struct lb_scenario *sc, char *buf, size_t len);
/* Writes the scenario back as YAML (every field), for the fleet's processes. */
int lb_scenario_write(const struct lb_scenario *sc, FILE *f);
/* Server i's limit: 1 with *out set, 0 when the field is empty, -EINVAL
 * when it does not parse (lb_scenario_finish has said why). */
int lb_scenario_server_cpus(const struct lb_scenario *sc, int i, double *out);
int lb_scenario_server_memory(const struct lb_scenario *sc, int i, long long *bytes);
/* Parses "10ms", "2.5s", "500us", "1000ns". */
int lb_parse_duration_ns(const char *text, int64_t *out);
/* The seed's queries_for_utilization. */
double lb_queries_for_utilization(double threads, double processing_time,
                                  double probes_per_request, double probe_processing_time,
                                  double target_utilization);

#endif
