/* harness_netem: the delay of the seed's channels on real links, as the
 * exact list of `tc` commands for a fleet in network namespaces
 * (deploy/netns.sh), and a probe for whether the kernel has netem at all.
 *
 * The seed's channel (client c, slot k -> server s) has a mean of m ticks
 * (fleet.h) and delays each request and each response by randGamma(m)
 * ticks, i.e. floor(1 + Gamma(shape m - 2/3, scale 1)). On the links:
 *   - every client host's egress (lb0) gets an htb root with one class per
 *     server it has channels to, picked by a u32 filter on the server's
 *     address, whose leaf is `netem delay MU JITTER distribution TABLE`;
 *   - every server host's egress gets the same per client host, for the
 *     responses.
 * The table (gamma distribution) is the quantile function of the channel's
 * seed delay, so netem draws the seed's distribution itself, to the tick;
 * where one host has several channels to one server (several logical
 * clients in one process, or a subset that repeats a server) the table is
 * the equal-weight mixture of them. `normal` uses tc's normal table with
 * the same mean and standard deviation; `none` delays by the mean only.
 * What netem cannot reproduce: channel and server resets redraw the means
 * mid-run in the seed, and TCP delivers in order (a late segment holds up
 * the ones behind it on the connection).
 *
 * Optionally (rate), a tbf on each host's bridge port limits what the host
 * receives, for bandwidth experiments. */
#ifndef LB_HARNESS_NETEM_H
#define LB_HARNESS_NETEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

#define LB_NETEM_MISSING                                                                           \
  "netem: this kernel has no netem qdisc (sch_netem missing: 'tc qdisc add ... netem' says "       \
  "unknown qdisc); use delay: inproc, or --fallback-inproc to run with in-process delay"

/* Entries in a generated distribution table (tc's own tables have 4096). */
#define LB_NETEM_TABLE_SIZE 4096
/* netem scales table entries by this (the kernel's NETEM_DIST_SCALE). */
#define LB_NETEM_DIST_SCALE 8192

enum lb_netem_dist { LB_NETEM_DIST_GAMMA, LB_NETEM_DIST_NORMAL, LB_NETEM_DIST_NONE };

struct lb_netem_options {
  const char *fleet;       /* netns fleet id (namespaces lbt-FLEET-s<i>, -c<j>) */
  int run;                 /* the run whose channel draws are planned */
  int client_procs;        /* client processes (hosts); 0 = min(clients, 4) */
  bool delay;              /* plan netem delay (delay: netem) */
  enum lb_netem_dist dist; /* with delay */
  const char *dist_dir;    /* where gamma tables go; tc reads them through TC_LIB_DIR */
  const char *rate;        /* tbf rate on each host's bridge port ("100mbit"), or NULL */
};
void lb_netem_options_defaults(struct lb_netem_options *o);

struct lb_netem_cmd {
  char ns[64];   /* namespace it runs in */
  char *args;    /* tc's arguments, separated by single spaces */
  bool may_fail; /* clears what an earlier plan left: failure is expected */
};

struct lb_netem_table {
  char name[32]; /* file name without ".dist" */
  int16_t values[LB_NETEM_TABLE_SIZE];
};

struct lb_netem_plan {
  struct lb_netem_cmd *cmds;
  size_t ncmds;
  struct lb_netem_table *tables;
  size_t ntables;
  char dist_dir[1024]; /* TC_LIB_DIR for the commands; "" when no table is used */
};

/* Plans the commands for sc (its servers, clients and seed) on the netns
 * layout. Returns 0, or -EINVAL with err filled. */
int lb_netem_plan_build(const struct lb_scenario *sc, const struct lb_netem_options *opt,
                        struct lb_netem_plan **out, char *err, size_t errlen);
void lb_netem_plan_free(struct lb_netem_plan *plan);
/* Command i as a shell line: "ip netns exec NS tc ARGS" (with
 * " 2>/dev/null || true" where it may fail). */
int lb_netem_plan_format(const struct lb_netem_plan *plan, size_t i, char *buf, size_t len);
/* Writes the plan's tables as DIST_DIR/NAME.dist (tc's format). */
int lb_netem_plan_write_tables(const struct lb_netem_plan *plan, char *err, size_t errlen);
/* Runs every command in order (root, the fleet up); stops at the first
 * failure with err naming the command and what tc said (LB_NETEM_MISSING
 * where the kernel has no netem). */
int lb_netem_plan_apply(const struct lb_netem_plan *plan, char *err, size_t errlen);

/* All of it for `lbharness run --hosts netns` with delay: netem, once the
 * fleet's namespaces are up: probes netem (-ENOTSUP with LB_NETEM_MISSING,
 * or why it cannot tell, in err), plans run `run` of sc for the fleet with
 * the gamma tables written into tables_dir (created), applies the plan. */
int lb_netem_fleet_apply(const struct lb_scenario *sc, const char *fleet, int run, int client_procs,
                         const char *tables_dir, char *err, size_t errlen);

/* The seed's delay of a mixture of channels with mean ticks means[0..n), as
 * a netem table: delay = mu + scale * values[i] / LB_NETEM_DIST_SCALE ticks,
 * i uniform. Fills values (LB_NETEM_TABLE_SIZE), *mu and *scale (0 when the
 * delay never varies). */
int lb_netem_seed_table(const double *means, size_t n, int16_t *values, double *mu, double *scale,
                        double *stdev);

/* Parses a tc rate ("100mbit", "1gbit", "500kbps", "8000bit") into bits/s. */
int lb_netem_parse_rate(const char *text, double *bits_per_s);

/* What a failed `tc qdisc add ... netem` means: fills msg with
 * LB_NETEM_MISSING and returns 1 where tc said the qdisc kind is unknown,
 * else fills msg with "netem: tc: <what it said>" and returns 0. */
int lb_netem_explain_failure(const char *tc_stderr, char *msg, size_t len);
/* Tries a netem qdisc on the loopback of a throwaway network namespace.
 * Returns 1 (netem works; msg says so), 0 (it does not; msg is one line
 * saying why: LB_NETEM_MISSING, not root, no tc), or a negative errno. */
int lb_netem_probe(char *msg, size_t len);

#endif
