#include "harness_health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lb_harness_stall_note(struct lb_harness_health_input *in, const char *who, double late_ms,
                           long tick, long ticks_skipped) {
  if (late_ms < in->tick_ms && ticks_skipped <= 0)
    return;
  in->stalled++;
  if (in->stall[0] && late_ms <= in->stall_late_ms)
    return;
  in->stall_late_ms = late_ms;
  char at[32] = "";
  if (tick >= 0)
    snprintf(at, sizeof(at), " at tick %ld", tick);
  char skipped[48] = "";
  if (ticks_skipped > 0)
    snprintf(skipped, sizeof(skipped), ", %ld tick%s skipped", ticks_skipped,
             ticks_skipped == 1 ? "" : "s");
  snprintf(in->stall, sizeof(in->stall), "%s woke %.1f ms late%s%s", who, late_ms, at, skipped);
}

static void add(char *buf, size_t len, const char *text) {
  size_t used = strlen(buf);
  if (used + 2 < len)
    snprintf(buf + used, len - used, "%s%s", used ? "; " : "", text);
}

void lb_harness_health_check(const struct lb_harness_health_input *in,
                             struct lb_harness_health *out) {
  char line[200];
  memset(out, 0, sizeof(*out));
  bool timing = false, cpu = false;
  double limit_us = in->tick_ms * 1000.0 * LB_HARNESS_LATENESS_SHARE;
  if (in->timer_p99_us > limit_us) {
    snprintf(line, sizeof(line), "client timer p99 lateness %.2f ms > %.0f%% of tick %g ms",
             in->timer_p99_us / 1000.0, 100 * LB_HARNESS_LATENESS_SHARE, in->tick_ms);
    add(out->reason, sizeof(out->reason), line);
    timing = true;
  }
  if (in->send_p99_us > limit_us) {
    snprintf(line, sizeof(line), "client send p99 lateness %.2f ms > %.0f%% of tick %g ms",
             in->send_p99_us / 1000.0, 100 * LB_HARNESS_LATENESS_SHARE, in->tick_ms);
    add(out->reason, sizeof(out->reason), line);
    timing = true;
  }
  if (in->server_p99_us > limit_us) {
    snprintf(line, sizeof(line), "server timer p99 lateness %.2f ms > %.0f%% of tick %g ms",
             in->server_p99_us / 1000.0, 100 * LB_HARNESS_LATENESS_SHARE, in->tick_ms);
    add(out->reason, sizeof(out->reason), line);
    timing = true;
  }
  out->cpu_cores_used = in->wall_s > 0 ? in->fleet_cpu_s / in->wall_s : 0;
  if (in->cores > 0 && out->cpu_cores_used > LB_HARNESS_CPU_SHARE * in->cores) {
    snprintf(line, sizeof(line), "fleet CPU %.2f of %d cores > %.0f%%", out->cpu_cores_used,
             in->cores, 100 * LB_HARNESS_CPU_SHARE);
    add(out->reason, sizeof(out->reason), line);
    cpu = true;
  }
  long accounted = in->completed + in->failed + in->timed_out;
  if (accounted != in->sent) {
    snprintf(line, sizeof(line), "%ld requests sent but %ld accounted for", in->sent, accounted);
    add(out->reason, sizeof(out->reason), line);
  }
  if (in->have_logged && in->logged != in->sent) {
    snprintf(line, sizeof(line), "%ld requests sent but %ld in the per-request logs", in->sent,
             in->logged);
    add(out->reason, sizeof(out->reason), line);
  }
  if (in->log_errors > 0) {
    snprintf(line, sizeof(line), "%ld request records could not be logged", in->log_errors);
    add(out->reason, sizeof(out->reason), line);
  }
  long expected = in->expected_timed_out > 0 ? in->expected_timed_out : 0;
  if (in->sent > 0 &&
      (double)(in->timed_out - expected) > LB_HARNESS_TIMEOUT_SHARE * (double)in->sent) {
    if (expected > 0)
      snprintf(line, sizeof(line),
               "%ld of %ld requests timed out, %ld more than lbsim's run with the same seed "
               "(> %.0f%%)",
               in->timed_out, in->sent, in->timed_out - expected, 100 * LB_HARNESS_TIMEOUT_SHARE);
    else
      snprintf(line, sizeof(line), "%ld of %ld requests timed out (> %.0f%%)", in->timed_out,
               in->sent, 100 * LB_HARNESS_TIMEOUT_SHARE);
    add(out->reason, sizeof(out->reason), line);
    timing = true;
  }
  if (in->stalled > 0) {
    snprintf(line, sizeof(line), "%d daemon%s stalled, worst: %.160s", in->stalled,
             in->stalled == 1 ? "" : "s", in->stall);
    add(out->reason, sizeof(out->reason), line);
  }
  if (in->died > 0) {
    snprintf(line, sizeof(line), "%d daemon%s died unplanned, first: %.160s", in->died,
             in->died == 1 ? "" : "s", in->death);
    add(out->reason, sizeof(out->reason), line);
  }
  out->valid = out->reason[0] == '\0';
  if (cpu)
    snprintf(out->suggestion, sizeof(out->suggestion),
             "use a smaller fleet (fewer servers/clients, lower mean_threads) or work: sleep, "
             "or a machine with more cores");
  else if (timing && in->cores > 0 && in->load_average > LB_HARNESS_CPU_SHARE * in->cores &&
           out->cpu_cores_used < 0.5 * in->load_average)
    snprintf(out->suggestion, sizeof(out->suggestion),
             "the machine is busy with other work (load average %.1f on %d cores, the fleet "
             "used %.2f): run again when it is idle, or use a longer tick (e.g. tick: %gms)",
             in->load_average, in->cores, out->cpu_cores_used, in->tick_ms * 2);
  else if (timing)
    snprintf(out->suggestion, sizeof(out->suggestion),
             "use a longer tick (e.g. tick: %gms) or a smaller fleet", in->tick_ms * 2);
  else if (in->died > 0)
    snprintf(out->suggestion, sizeof(out->suggestion),
             "see the dead daemon's log and events.csv in the run directory; run again");
  else if (in->stalled > 0)
    snprintf(out->suggestion, sizeof(out->suggestion),
             "a daemon stopped for a tick or more (stopped, swapped out, or the host paused): "
             "run again, and if it recurs, look at what else ran on the machine then");
  else if (!out->valid)
    snprintf(out->suggestion, sizeof(out->suggestion),
             "look at the daemons' logs in the run directory");
}

double lb_harness_health_worst_late_us(const struct lb_harness_health_input *in) {
  double late = in->timer_p99_us;
  if (in->send_p99_us > late)
    late = in->send_p99_us;
  if (in->server_p99_us > late)
    late = in->server_p99_us;
  return late;
}
