/* sim_cli: lbsim's command line: scenarios in, runs spread over threads,
 * the seed's summary rows out in a fixed order whatever the thread count. */
#ifndef LB_SIM_CLI_H
#define LB_SIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_CLI_MAX_SETS 64

struct sim_cli {
  char **scenarios; /* paths or catalog names, as given (argv's) */
  int nscenarios;
  int runs;         /* 0: the scenario's own `runs` */
  bool have_seed;
  uint64_t seed;
  int jobs;
  const char *sets[SIM_CLI_MAX_SETS]; /* "FIELD=VALUE" */
  int nsets;
  const char *summary_csv;  /* NULL: stdout (none with --score) */
  const char *requests_csv; /* pattern: %s scenario, %r run, %% */
  const char *arrivals_out; /* pattern, as above */
  const char *fleet;        /* --fleet FILE: run r on the file's fleet r mod F */
  const char *fleet_out;    /* pattern, as above: each run's fleet as made */
  const char *catalog;      /* --catalog DIR */
  bool all, score, list_pickers, quiet, help;
  bool no_split; /* --no-send-time-probes: probing() runs at the client tick */
};

/* Parses argv; fills err on a usage error (returns -EINVAL). */
int sim_cli_parse(int argc, char **argv, struct sim_cli *cli, char *err, size_t errlen);
void sim_cli_usage(FILE *f);
/* Runs what cli asks; returns the process exit status (0 ok, 1 failure,
 * 2 usage). Errors go to errf; rows to the files cli names or out. */
int sim_cli_run(const struct sim_cli *cli, FILE *out, FILE *errf);
/* parse + run: lbsim's main. */
int sim_cli_main(int argc, char **argv);

/* A long run's progress line (no newline): ticks done, requests, rate and
 * the time the main ticks have left at that rate. Returns snprintf's. */
struct sim_progress {
  const char *scenario;
  int run, tick, total_ticks;
  long requests;
  double elapsed_s;
};
int sim_cli_format_progress(char *buf, size_t len, const struct sim_progress *p);

/* Expands a --requests-csv/--arrivals-out pattern. */
int sim_cli_expand(const char *pattern, const char *scenario, int run, char *out, size_t outlen);

#endif
