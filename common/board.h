/* board: the oracle board. A POSIX shared-memory segment with one
 * slot per server of a fleet on one machine; each server writes its report
 * every tick, readers (the seed's "quantum-tunnelled" costs in lbclient, the
 * server-side PID's fleet mean utilization) read it without the network.
 * Each slot is a seqlock: a writer never waits, a reader retries while a
 * write is in progress. One writer per slot. */
#ifndef LB_BOARD_H
#define LB_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "report.h"

#define LB_BOARD_NAME_MAX 200

struct lb_board;

/* name: "fleet1" or "/fleet1" (one path component, no other '/').
 * create: make the segment if missing (O_CREAT, never truncating an
 * existing one); else it must exist. A segment made for another number of
 * servers gives -EINVAL. 0 or -errno (-ENOENT when absent). */
int lb_board_open(const char *name, int nservers, bool create, struct lb_board **out);
/* Publishes server index's report, with its utilization mean (NAN when the
 * utilization window is empty) for the fleet mean. */
int lb_board_write(struct lb_board *b, int index, const struct lb_server_report *report,
                   double utilization_mean_or_nan);
/* Latest report of server index: 0, -ENODATA when never written, -EINVAL
 * for a bad index. */
int lb_board_read(struct lb_board *b, int index, struct lb_server_report *out);
/* The seed's average_utilization: mean over servers with a utilization
 * mean. 0, or -ENODATA when no server has one. */
int lb_board_fleet_mean_utilization(struct lb_board *b, double *out);
int lb_board_servers(const struct lb_board *b);
/* Unmaps (the segment stays). NULL is a no-op. */
void lb_board_close(struct lb_board *b);
/* Removes the segment's name. 0 or -errno. */
int lb_board_unlink(const char *name);

#endif
