/* fleet_file: a run's fleet written down (fleet.h's draws: each server's
 * parameters, each client's subset and each channel's mean ticks), so that
 * a simulation can run on a given fleet instead of drawing one: a fleet the
 * seed's own code drew (tools/seed_reference/dump_seed_fleets.py, for
 * comparisons that hold the fleet fixed), one lbsim drew (lbsim
 * --fleet-out), or one measured. Text, one fleet after another:
 *
 *   # comment (a whole line)
 *   fleet LABEL                       starts a fleet (LABEL: the rest of the line)
 *   server THREADS MEAN_PROCESSING_TIME MEAN_RTT     server 0, 1, ... in order
 *   client SERVER:MEAN_TICKS ...      client 0, 1, ...: one per channel slot
 *
 * A fleet's server lines come before its client lines; every client has
 * the same number of slots. Lines before the first `fleet` line start an
 * unlabelled fleet. */
#ifndef LB_FLEET_FILE_H
#define LB_FLEET_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "fleet.h"
#include "scenario.h"

struct lb_fleet_spec {
  char label[128];
  size_t line;                      /* of its `fleet` line (or first line); 0: not read */
  int servers, clients, slots;      /* slots: channels a client has */
  struct lb_server_params *server;  /* [servers] */
  int *subset;                      /* [clients * slots]: server of (client, slot) */
  double *mean_ticks;               /* [clients * slots] */
};

struct lb_fleet_file {
  struct lb_fleet_spec *fleets;
  size_t n;
};

/* Reads every fleet of path. Errors say "PATH:LINE: what". */
int lb_fleet_file_load(const char *path, struct lb_fleet_file *out, char *err, size_t errlen);
void lb_fleet_file_close(struct lb_fleet_file *f);

/* Is the fleet one for sc (servers, clients, channels a client)? The error
 * names the fleet by its label. */
int lb_fleet_spec_check(const struct lb_fleet_spec *f, const struct lb_scenario *sc, char *err,
                        size_t errlen);
/* Reads path for sc: every fleet must fit the scenario ("PATH:LINE: ..."
 * otherwise). Run r then takes fleet r mod n, as lbsim --fleet does
 * (lb_fleet_file_for_run). */
int lb_fleet_file_load_for(const char *path, const struct lb_scenario *sc,
                           struct lb_fleet_file *out, char *err, size_t errlen);
const struct lb_fleet_spec *lb_fleet_file_for_run(const struct lb_fleet_file *f, int run);
/* Writes one fleet in the file's format. */
int lb_fleet_spec_write(const struct lb_fleet_spec *f, FILE *out);
/* An empty fleet of that shape (zeroed arrays), for a driver to fill. */
int lb_fleet_spec_alloc(struct lb_fleet_spec *f, int servers, int clients, int slots);
void lb_fleet_spec_free(struct lb_fleet_spec *f);

#endif
