/* faults: a scenario's schedule of faults (kill, pause, slow, delay,
 * partition), each holding for the ticks [at, at + for_ticks). Both drivers
 * read a window through these helpers, so lbsim and a real fleet agree on
 * when a fault holds and on whom. The format and semantics: docs/faults.md.
 *
 * At most one fault of a kind holds on one target at a time (a server; for
 * delay and partition a server's channel to one client or to every client),
 * and kill and pause of one server never overlap: lb_faults_check refuses
 * the rest, so no driver has to decide how two such faults combine. */
#ifndef LB_FAULTS_H
#define LB_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum lb_fault_kind {
  LB_FAULT_KILL,
  LB_FAULT_PAUSE,
  LB_FAULT_SLOW,
  LB_FAULT_DELAY,
  LB_FAULT_PARTITION
};
#define LB_FAULT_KINDS 5

struct lb_fault {
  enum lb_fault_kind kind;
  int at, for_ticks; /* window [at, at + for_ticks) */
  int server;        /* index */
  int client;        /* index, -1 = every client */
  double factor;     /* slow: processing x factor (default 2); else 1 */
  double ticks;      /* delay: added to each one-way delay; else 0 */
};

#define LB_SCENARIO_FAULTS_MAX 64
#define LB_FAULT_SLOW_DEFAULT 2.0

/* "kill", "pause", ...; "?" for a value out of range. */
const char *lb_fault_kind_name(enum lb_fault_kind kind);
/* 0 with *out set, or -EINVAL for a word that names no kind. */
int lb_fault_kind_parse(const char *word, enum lb_fault_kind *out);
/* A fault of kind with the spec's defaults: client -1, factor 2 for slow
 * (else 1), ticks 0. */
void lb_fault_init(struct lb_fault *f, enum lb_fault_kind kind);

/* Whether f holds at tick: at <= tick < at + for_ticks. */
bool lb_fault_holds(const struct lb_fault *f, int tick);
/* Whether a fault of kind holds at tick on server (and, for delay and
 * partition, on its channel to client; client -1 in a fault matches every
 * client). *hit (may be NULL) gets the first such fault. kill, pause and
 * slow ignore client. */
bool lb_faults_active(const struct lb_fault *f, int n, enum lb_fault_kind kind, int server,
                      int client, int tick, const struct lb_fault **hit);
/* The fault of kind on server (channel to client) whose window starts at
 * tick, or NULL: for drivers that act on a fault's edges. */
const struct lb_fault *lb_faults_starting(const struct lb_fault *f, int n, enum lb_fault_kind kind,
                                          int server, int client, int tick);
/* Processing time multiplier for work that starts on server at tick: the
 * factor of the slow fault holding, else 1. */
double lb_faults_slow_factor(const struct lb_fault *f, int n, int server, int tick);
/* Ticks added to a one-way delay of server's channel to client for a
 * message sent at tick: the delay fault's ticks, else 0. */
double lb_faults_delay_ticks(const struct lb_fault *f, int n, int server, int client, int tick);
/* Whether a message on server's channel to client sent at tick is dropped
 * (a partition holds on it). */
bool lb_faults_partitioned(const struct lb_fault *f, int n, int server, int client, int tick);
/* Whether server is dead (a kill holds) at tick. */
bool lb_faults_dead(const struct lb_fault *f, int n, int server, int tick);
/* Whether server is paused at tick. */
bool lb_faults_paused(const struct lb_fault *f, int n, int server, int tick);

/* Checks fault i against the run's sizes and the faults before it. On a
 * problem returns -EINVAL, points *field at the field at fault ("at",
 * "for", "server", "client", "factor", "ticks", "kind") and writes what was
 * expected and what was got into why. */
int lb_faults_check(const struct lb_fault *f, int n, int i, int servers, int clients,
                    int total_ticks, const char **field, char *why, size_t len);

/* One fault as a YAML flow mapping ("{kind: slow, at: 100, ...}"), the way
 * a scenario file spells it. */
int lb_fault_write(const struct lb_fault *f, FILE *out);

#endif
