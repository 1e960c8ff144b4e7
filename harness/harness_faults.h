/* harness_faults: the scenario's faults that the harness carries out on a
 * real local fleet, on the fleet's clock (docs/faults.md):
 *   kill   SIGKILL to server s at tick `at`; at `at + for` the same lbserver
 *          started again with the same arguments on the same ports;
 *   pause  SIGSTOP at `at`, SIGCONT at `at + for`.
 * slow, delay and partition are the daemons' own (they read the faults
 * from the scenario they are given: lbserver applies slow, lbclient delay
 * and partition, in-process: refused with delay: netem). Each action's actual time goes to
 * the run's events (events.csv): fault_start / fault_end rows with the
 * tick they were due at and how late they came. */
#ifndef LB_HARNESS_FAULTS_H
#define LB_HARNESS_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness_events.h"
#include "harness_proc.h"
#include "scenario.h"

enum lb_harness_fault_step {
  LB_FAULT_STEP_KILL,
  LB_FAULT_STEP_RESTART,
  LB_FAULT_STEP_STOP,
  LB_FAULT_STEP_CONT
};

struct lb_harness_fault_action {
  int64_t due_ns; /* CLOCK_REALTIME */
  int tick;       /* the tick it is due at */
  int server;
  enum lb_harness_fault_step step;
  bool done;
};

/* What the actions act on: the fleet's servers. servers[i] is server i's
 * index in group->procs (a restart changes it); argv[i] its command line
 * (NULL-terminated, kept for a restart); gone[i] is set while a kill holds,
 * so the run does not report that end as unplanned. */
struct lb_harness_fault_fleet {
  struct lb_harness_group *group;
  size_t *servers;
  char ***argv;
  char (*logs)[1024];
  const int *tcp, *udp;
  bool *gone;
  int nservers;
  struct lb_harness_events *events;
};

struct lb_harness_faults {
  struct lb_harness_fault_action *actions; /* by due time */
  size_t n;
};

/* Whether a real fleet can carry out sc's faults: every kind on a local or
 * netns fleet (none in containers), delay and partition only where
 * lbclient holds the channel's delay (not delay: netem). -ENOTSUP with err
 * naming the file, the fault's line and kind. */
int lb_harness_faults_supported(const struct lb_scenario *sc, bool containers, char *err,
                                size_t errlen);
/* The actions of sc's kill and pause faults, on a fleet whose tick 0 is
 * start_ns (CLOCK_REALTIME). 0, or -ENOMEM. */
int lb_harness_faults_plan(const struct lb_scenario *sc, int64_t start_ns,
                           struct lb_harness_faults *out);
/* Carries out every action due by now_ns (CLOCK_REALTIME), in order. */
void lb_harness_faults_run(struct lb_harness_faults *p, struct lb_harness_fault_fleet *fleet,
                           int64_t now_ns);
/* Milliseconds from now_ns to the next action not done, at most max_ms
 * (the run's polling period): the run sleeps that long. */
int lb_harness_faults_sleep_ms(const struct lb_harness_faults *p, int64_t now_ns, int max_ms);
/* Whether sc kills or pauses server: its ticks skipped while it was
 * stopped or gone were planned, and its timing is left out of the run's
 * health checks. */
bool lb_harness_faults_stop(const struct lb_scenario *sc, int server);
/* At the end of the run: SIGCONT to a server still paused, so that it
 * can drain (a killed one stays dead). */
void lb_harness_faults_finish(struct lb_harness_faults *p, struct lb_harness_fault_fleet *fleet,
                              int64_t now_ns);
void lb_harness_faults_close(struct lb_harness_faults *p);

/* argv with the value after option opt replaced by value (a new array that
 * points into argv and at value; free() it). NULL on -ENOMEM. */
char **lb_harness_argv_with(char *const *argv, const char *opt, const char *value);

#endif
