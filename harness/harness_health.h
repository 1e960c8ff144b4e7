/* harness_health: whether a real run could keep the model's schedule.
 * From the daemons' --stats figures (statsfile.h) it decides whether a
 * run is valid for comparison with the simulator:
 *   - timer and send lateness p99 of the clients, tick and response-hold
 *     lateness p99 of the servers (worst daemon each) <= 10% of the tick;
 *   - the fleet's CPU (user+system of every daemon over the run's wall
 *     time) <= 80% of the machine's cores;
 *   - every request sent is accounted for (completed + failed + timed out)
 *     and has its record in the logs;
 *   - at most 1% of requests timed out;
 *   - no daemon stalled: no server skipped a tick, and no daemon's worst
 *     timed wake-up (server tick, client timer) came a whole tick or more
 *     late (a p99 hides a stop of a few seconds; the maximum does not).
 * An invalid run carries the reasons and a suggestion. */
#ifndef LB_HARNESS_HEALTH_H
#define LB_HARNESS_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

struct lb_harness_health_input {
  double tick_ms;
  double timer_p99_us;  /* worst client's timer_lateness_p99_us; <0 unknown */
  double send_p99_us;   /* worst client's send_lateness_p99_us; <0 unknown */
  double server_p99_us; /* worst server's tick_late_p99_ns or hold_late_p99_ns, in
                           us; <0 unknown */
  double fleet_cpu_s;   /* every daemon's CPU over the run */
  double wall_s;        /* the run's duration */
  int cores;
  double load_average;                     /* 1-minute load average at the end; <0 unknown */
  long sent, completed, failed, timed_out; /* the clients' counts */
  /* Timeouts the model predicts for this run (lbsim's run with the same
   * seed: a partition, a kill, a bounded timeout); only those beyond it
   * count against the run. 0: none expected. */
  long expected_timed_out;
  long log_errors;                         /* records the clients could not log */
  bool have_logged;                        /* logged is known (the counts came from the daemons) */
  long logged;                             /* records in the run's per-request logs */
  /* The worst stall among the daemons (see lb_harness_stall_note), "" if none. */
  char stall[200];
  double stall_late_ms; /* the noted stall's lateness */
  int stalled;          /* daemons that stalled */
  /* Daemons that died unplanned during the run, and the first of them. */
  int died;
  char death[200];
};

/* Notes a daemon's worst wake-up in in->stall when it is a stall (a wake-up
 * a whole tick or more late, or ticks skipped) and worse than the one noted
 * so far; `who` names the daemon ("server 3"), tick is the tick the worst
 * wake-up was due in (-1: unknown). The count of stalled daemons goes to
 * in->stalled. */
void lb_harness_stall_note(struct lb_harness_health_input *in, const char *who, double late_ms,
                           long tick, long ticks_skipped);

struct lb_harness_health {
  bool valid;
  double cpu_cores_used; /* fleet_cpu_s / wall_s */
  char reason[512];      /* "; "-separated, empty when valid */
  char suggestion[256];
};

#define LB_HARNESS_LATENESS_SHARE 0.10
#define LB_HARNESS_CPU_SHARE 0.80
#define LB_HARNESS_TIMEOUT_SHARE 0.01

void lb_harness_health_check(const struct lb_harness_health_input *in,
                             struct lb_harness_health *out);
/* The fleet's worst p99 lateness (client timer, client send, server), in
 * us; < 0 when none is known. */
double lb_harness_health_worst_late_us(const struct lb_harness_health_input *in);

#endif
