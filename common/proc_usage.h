/* proc_usage: what this process has used so far (every thread, live or
 * joined): CPU seconds and context switches, for the daemons' --stats.
 * Plumbing beside the model: it reads getrusage and keeps no state. */
#ifndef LB_PROC_USAGE_H
#define LB_PROC_USAGE_H

struct lb_proc_usage {
  double cpu_seconds;     /* user + system */
  long voluntary_switches;   /* the process's threads went to sleep */
  long involuntary_switches; /* they were preempted (a busy machine) */
};

/* 0 or -errno (then *out is zeroed). */
int lb_proc_usage_get(struct lb_proc_usage *out);

#endif
