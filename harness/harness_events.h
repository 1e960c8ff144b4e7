/* harness_events: what happened to a real run's daemons while it ran, as
 * it happened: a daemon that died unplanned (which one, at which tick, how)
 * and the faults the harness carried out (their actual start and end).
 * One line per event, on stderr and in RUN_DIR/events.csv (columns tick,
 * seconds, daemon, event, detail; tick and seconds from the fleet's tick
 * 0), so a run that lost a daemon still finishes and says so. */
#ifndef LB_HARNESS_EVENTS_H
#define LB_HARNESS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct lb_harness_events {
  FILE *f;          /* RUN_DIR/events.csv; NULL: stderr only */
  FILE *echo;       /* stderr, or NULL (tests) */
  char prefix[160]; /* "SCENARIO run R" for the stderr lines */
  int64_t start_ns; /* the fleet's tick 0, CLOCK_REALTIME */
  int64_t tick_ns;
  int unplanned;   /* daemons that died unplanned */
  char first[200]; /* the first of them: "server 1 died at tick 40 (signal 9 (Killed))" */
};

/* Opens path (truncated; NULL: no file) and writes the header. echo gets
 * each event as a line starting "lbharness: PREFIX: ". 0 or -errno. */
int lb_harness_events_open(struct lb_harness_events *ev, const char *path, FILE *echo,
                           const char *prefix, int64_t start_realtime_ns, int64_t tick_ns);
/* Notes one event at realtime now_ns: daemon ("server 1"), event (a word:
 * "died", "fault_start"), detail (free text; commas and quotes replaced).
 * unplanned: a death the run did not ask for (counted, first kept). */
void lb_harness_events_note(struct lb_harness_events *ev, int64_t now_ns, const char *daemon,
                            const char *event, const char *detail, bool unplanned);
void lb_harness_events_close(struct lb_harness_events *ev);

#endif
