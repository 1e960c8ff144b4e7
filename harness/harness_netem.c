/* harness_netem: tc commands for the seed's channel delays on veth links,
 * distribution tables for netem, and the netem probe. */
#define _GNU_SOURCE
#include "harness_netem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "fleet.h"
#include "harness_deploy.h"
#include "harness_proc.h"
#include "rng.h"

extern char **environ;

/* One class per destination needs a qdisc major handle each. */
#define MAX_DESTINATIONS 0xfff0
#define HTB_OPEN_RATE "10gbit"
#define NETEM_LIMIT 100000
#define TBF_LATENCY "100ms"
#define TBF_MIN_BURST 65536.0

void lb_netem_options_defaults(struct lb_netem_options *o) {
  memset(o, 0, sizeof(*o));
  o->fleet = "f0";
  o->delay = true;
  o->dist = LB_NETEM_DIST_GAMMA;
}

/* ---- tables ---- */

int lb_netem_seed_table(const double *means, size_t n, int16_t *values, double *mu, double *scale,
                        double *stdev) {
  if (n == 0 || means == NULL || values == NULL)
    return -EINVAL;
  for (size_t c = 0; c < n; c++)
    if (!isfinite(means[c]) || means[c] <= 0)
      return -EINVAL;
  /* Channel.send: randGamma(m) = int(Gamma(a=(1.5m - 1)/1.5, scale=1.5)/1.5 + 1)
   * = floor(1 + G), G ~ Gamma(m - 2/3, 1); P(X <= k) = P(G < k), k >= 1.
   * Where the shape is not positive, rng.c returns 1. */
  static const int max_ticks = 1000000;
  int *q = malloc(sizeof(int) * LB_NETEM_TABLE_SIZE);
  if (q == NULL)
    return -ENOMEM;
  int k = 1;
  double cdf_k = -1;
  for (size_t i = 0; i < LB_NETEM_TABLE_SIZE; i++) {
    double u = ((double)i + 0.5) / LB_NETEM_TABLE_SIZE;
    for (;;) {
      if (cdf_k < 0) {
        double sum = 0;
        for (size_t c = 0; c < n; c++) {
          double shape = (LB_GAMMA_VARIANCE * means[c] - LB_GAMMA_MIN) / LB_GAMMA_VARIANCE;
          sum += shape <= 0 ? 1.0 : gsl_cdf_gamma_P((double)k, shape, 1.0);
        }
        cdf_k = sum / (double)n;
      }
      if (cdf_k >= u || k >= max_ticks)
        break;
      k++;
      cdf_k = -1;
    }
    q[i] = k;
  }
  double sum = 0;
  for (size_t i = 0; i < LB_NETEM_TABLE_SIZE; i++)
    sum += q[i];
  double mean = sum / LB_NETEM_TABLE_SIZE;
  double var = 0, maxdev = 0;
  for (size_t i = 0; i < LB_NETEM_TABLE_SIZE; i++) {
    double d = q[i] - mean;
    var += d * d;
    if (fabs(d) > maxdev)
      maxdev = fabs(d);
  }
  double sd = sqrt(var / LB_NETEM_TABLE_SIZE);
  /* Table entries are 16-bit: scale so that the farthest one fits. */
  double s = fmax(sd, maxdev / 3.99);
  for (size_t i = 0; i < LB_NETEM_TABLE_SIZE; i++) {
    double v = s > 0 ? round((q[i] - mean) / s * LB_NETEM_DIST_SCALE) : 0;
    values[i] = (int16_t)fmin(32767, fmax(-32768, v));
  }
  free(q);
  *mu = mean;
  *scale = s;
  if (stdev != NULL)
    *stdev = sd;
  return 0;
}

/* FNV-1a over the table: equal tables get equal names. */
static uint64_t table_hash(const int16_t *values) {
  uint64_t h = 1469598103934665603ULL;
  const unsigned char *p = (const unsigned char *)values;
  for (size_t i = 0; i < sizeof(int16_t) * LB_NETEM_TABLE_SIZE; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int lb_netem_parse_rate(const char *text, double *bits_per_s) {
  static const struct {
    const char *unit;
    double bits;
  } units[] = {{"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12},
               {"bps", 8}, {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}, {"tbps", 8e12}};
  if (text == NULL || !isdigit((unsigned char)text[0]))
    return -EINVAL;
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno != 0 || !isfinite(v) || v <= 0)
    return -EINVAL;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(end, units[i].unit) == 0) {
      *bits_per_s = v * units[i].bits;
      return *bits_per_s >= 8 ? 0 : -EINVAL;
    }
  }
  return -EINVAL;
}

/* ---- the plan ---- */

struct pair {
  double *means;
  size_t n, cap;
  size_t table; /* index into plan->tables, or SIZE_MAX for no table */
  double mu, scale, stdev;
};

static int pair_add(struct pair *p, double mean) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 4;
    double *m = realloc(p->means, cap * sizeof(*m));
    if (m == NULL)
      return -ENOMEM;
    p->means = m;
    p->cap = cap;
  }
  p->means[p->n++] = mean;
  return 0;
}

static int plan_add(struct lb_netem_plan *plan, size_t *cap, const char *ns, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int plan_add(struct lb_netem_plan *plan, size_t *cap, const char *ns, const char *fmt, ...) {
  if (plan->ncmds == *cap) {
    size_t c = *cap ? 2 * *cap : 64;
    struct lb_netem_cmd *cmds = realloc(plan->cmds, c * sizeof(*cmds));
    if (cmds == NULL)
      return -ENOMEM;
    plan->cmds = cmds;
    *cap = c;
  }
  struct lb_netem_cmd *cmd = &plan->cmds[plan->ncmds];
  memset(cmd, 0, sizeof(*cmd));
  snprintf(cmd->ns, sizeof(cmd->ns), "%s", ns);
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&cmd->args, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -ENOMEM;
  plan->ncmds++;
  return 0;
}

/* Finds or adds the table of pair p; fills its mu/scale. */
static int pair_table(struct lb_netem_plan *plan, size_t *tcap, struct pair *p,
                      enum lb_netem_dist dist) {
  int16_t *values = malloc(sizeof(int16_t) * LB_NETEM_TABLE_SIZE);
  if (values == NULL)
    return -ENOMEM;
  int rc = lb_netem_seed_table(p->means, p->n, values, &p->mu, &p->scale, &p->stdev);
  if (rc != 0 || dist != LB_NETEM_DIST_GAMMA || p->scale <= 0) {
    free(values);
    p->table = SIZE_MAX;
    return rc;
  }
  char name[32];
  snprintf(name, sizeof(name), "lbg-%012llx",
           (unsigned long long)(table_hash(values) & 0xffffffffffffULL));
  for (size_t t = 0; t < plan->ntables; t++) {
    if (strcmp(plan->tables[t].name, name) == 0) {
      p->table = t;
      free(values);
      return 0;
    }
  }
  if (plan->ntables == *tcap) {
    size_t c = *tcap ? 2 * *tcap : 8;
    struct lb_netem_table *t = realloc(plan->tables, c * sizeof(*t));
    if (t == NULL) {
      free(values);
      return -ENOMEM;
    }
    plan->tables = t;
    *tcap = c;
  }
  struct lb_netem_table *t = &plan->tables[plan->ntables];
  snprintf(t->name, sizeof(t->name), "%s", name);
  memcpy(t->values, values, sizeof(t->values));
  free(values);
  p->table = plan->ntables++;
  return 0;
}

static bool valid_fleet(const char *fleet) {
  size_t n = fleet ? strlen(fleet) : 0;
  if (n == 0 || n > 8)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!islower((unsigned char)fleet[i]) && !isdigit((unsigned char)fleet[i]))
      return false;
  return true;
}

/* Microseconds of `ticks` ticks. */
static long long ticks_us(const struct lb_scenario *sc, double ticks) {
  return llround(ticks * (double)sc->tick_ns / 1000.0);
}

/* The egress of host (kind, index): an htb with a netem class per
 * destination that has pairs. pairs[d] is the pair with destination d. */
static int plan_host(struct lb_netem_plan *plan, size_t *cap, const struct lb_scenario *sc,
                     const struct lb_netem_options *opt, char kind, int index,
                     struct pair *const *pairs, int ndest, char *err, size_t errlen) {
  char ns[64], addr[32];
  const char *dev = LB_DEPLOY_NETNS_IFACE;
  char dest_kind = kind == 's' ? 'c' : 's';
  int rc = lb_deploy_netns_name(opt->fleet, kind, index, ns, sizeof(ns));
  if (rc != 0)
    return rc;
  if ((rc = plan_add(plan, cap, ns, "qdisc del dev %s root", dev)) != 0)
    return rc;
  plan->cmds[plan->ncmds - 1].may_fail = true;
  if ((rc = plan_add(plan, cap, ns, "qdisc add dev %s root handle 1: htb default 1", dev)) ||
      (rc = plan_add(plan, cap, ns, "class add dev %s parent 1: classid 1:1 htb rate %s", dev,
                     HTB_OPEN_RATE)))
    return rc;
  for (int d = 0; d < ndest; d++) {
    const struct pair *p = pairs[d];
    if (p == NULL || p->n == 0)
      continue;
    unsigned h = (unsigned)d + 2;
    long long mu = ticks_us(sc, p->mu);
    long long jitter = 0;
    const char *dist = NULL;
    if (opt->dist == LB_NETEM_DIST_GAMMA && p->table != SIZE_MAX) {
      jitter = ticks_us(sc, p->scale);
      dist = plan->tables[p->table].name;
    } else if (opt->dist == LB_NETEM_DIST_NORMAL) {
      jitter = ticks_us(sc, p->stdev);
      dist = "normal";
    }
    if (jitter * 1000 > INT32_MAX) {
      lb_errf(err, errlen,
              "netem: host %c%d: jitter of %lldus is more than netem takes (2.1 s); "
              "use a shorter tick",
              kind, index, jitter);
      return -EINVAL;
    }
    if ((rc = lb_deploy_netns_addr(dest_kind, d, addr, sizeof(addr))) != 0)
      return rc;
    rc = plan_add(plan, cap, ns, "class add dev %s parent 1: classid 1:%x htb rate %s", dev, h,
                  HTB_OPEN_RATE);
    if (rc == 0 && jitter > 0)
      rc = plan_add(plan, cap, ns,
                    "qdisc add dev %s parent 1:%x handle %x: netem limit %d delay %lldus %lldus "
                    "distribution %s",
                    dev, h, h, NETEM_LIMIT, mu, jitter, dist);
    else if (rc == 0)
      rc = plan_add(plan, cap, ns,
                    "qdisc add dev %s parent 1:%x handle %x: netem limit %d delay %lldus", dev, h,
                    h, NETEM_LIMIT, mu);
    if (rc == 0)
      rc = plan_add(plan, cap, ns,
                    "filter add dev %s parent 1: protocol ip prio 1 u32 match ip dst %s/32 "
                    "flowid 1:%x",
                    dev, addr, h);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int plan_rate(struct lb_netem_plan *plan, size_t *cap, const struct lb_netem_options *opt,
                     int servers, int procs, char *err, size_t errlen) {
  double bits = 0;
  if (lb_netem_parse_rate(opt->rate, &bits) != 0) {
    lb_errf(err, errlen, "netem: rate '%s': expected a tc rate such as 100mbit, 1gbit or 500kbps",
            opt->rate);
    return -EINVAL;
  }
  /* At least 10 ms of traffic, and room for a 64 KiB GSO segment. */
  long long burst = llround(fmax(TBF_MIN_BURST, bits / 8.0 / 100.0));
  char ns[64];
  int rc = lb_deploy_netns_name(opt->fleet, 'b', 0, ns, sizeof(ns));
  for (int i = 0; rc == 0 && i < servers + procs; i++) {
    char kind = i < servers ? 's' : 'c';
    int index = i < servers ? i : i - servers;
    rc = plan_add(plan, cap, ns, "qdisc del dev %c%d root", kind, index);
    if (rc != 0)
      break;
    plan->cmds[plan->ncmds - 1].may_fail = true;
    rc = plan_add(plan, cap, ns,
                  "qdisc add dev %c%d root handle 1: tbf rate %s burst %lld latency %s", kind,
                  index, opt->rate, burst, TBF_LATENCY);
  }
  return rc;
}

int lb_netem_plan_build(const struct lb_scenario *sc, const struct lb_netem_options *opt,
                        struct lb_netem_plan **out, char *err, size_t errlen) {
  *out = NULL;
  if (!valid_fleet(opt->fleet)) {
    lb_errf(err, errlen, "netem: fleet id '%s': expected 1-8 characters of [a-z0-9]",
            opt->fleet ? opt->fleet : "");
    return -EINVAL;
  }
  int procs = lb_deploy_client_procs(sc, opt->client_procs);
  int servers = sc->servers;
  if (servers < 1 || procs < 1 || servers > MAX_DESTINATIONS || procs > MAX_DESTINATIONS ||
      servers > LB_DEPLOY_NETNS_MAX_HOSTS || procs > LB_DEPLOY_NETNS_MAX_HOSTS) {
    lb_errf(err, errlen, "netem: %s: expected 1 to %d servers and client processes, got %d and %d",
            sc->name, LB_DEPLOY_NETNS_MAX_HOSTS, servers, procs);
    return -EINVAL;
  }
  if (opt->delay && opt->dist == LB_NETEM_DIST_GAMMA &&
      (opt->dist_dir == NULL || opt->dist_dir[0] == '\0' || strchr(opt->dist_dir, ' ') ||
       strlen(opt->dist_dir) >= sizeof((*out)->dist_dir))) {
    lb_errf(err, errlen,
            "netem: the gamma distribution needs a folder for its tables (--dist-dir), "
            "without spaces, got '%s'",
            opt->dist_dir ? opt->dist_dir : "");
    return -EINVAL;
  }
  struct lb_netem_plan *plan = calloc(1, sizeof(*plan));
  struct pair *pairs = NULL;
  struct pair **row = NULL;
  int *subset = NULL;
  struct lb_rng *rng = NULL;
  int *server_rtt = NULL;
  size_t cap = 0, tcap = 0;
  int rc = -ENOMEM;
  size_t npairs = (size_t)procs * (size_t)servers;
  int slots = lb_fleet_subset_len(sc);
  if (plan == NULL)
    goto done;
  if (opt->delay) {
    pairs = calloc(npairs, sizeof(*pairs));
    row = calloc((size_t)(servers > procs ? servers : procs), sizeof(*row));
    subset = calloc((size_t)slots, sizeof(*subset));
    server_rtt = calloc((size_t)servers, sizeof(*server_rtt));
    if (pairs == NULL || row == NULL || subset == NULL || server_rtt == NULL ||
        lb_rng_new(0, &rng) != 0)
      goto done;
    uint64_t seed = lb_fleet_run_seed(sc, opt->run);
    for (int s = 0; s < servers; s++) {
      struct lb_server_params sp;
      lb_rng_seed(rng, lb_seed_derive(seed, LB_STREAM_SERVER, (uint64_t)s));
      lb_fleet_draw_server(sc, rng, &sp);
      server_rtt[s] = sp.mean_rtt;
    }
    for (int j = 0; j < procs; j++) {
      int first, count;
      lb_deploy_client_range(sc->clients, procs, j, &first, &count);
      for (int c = first; c < first + count; c++) {
        lb_rng_seed(rng, lb_seed_derive(seed, LB_STREAM_CLIENT, (uint64_t)c));
        lb_fleet_draw_subset(sc, rng, subset);
        for (int k = 0; k < slots; k++) {
          struct lb_rng *ch_rng = NULL;
          if ((rc = lb_fleet_channel_rng(sc, seed, c, k, &ch_rng)) != 0)
            goto done;
          int s = subset[k];
          double m = lb_fleet_draw_channel_mean(sc, ch_rng, server_rtt[s]);
          lb_rng_free(ch_rng);
          if ((rc = pair_add(&pairs[(size_t)j * servers + s], m)) != 0)
            goto done;
        }
      }
    }
    for (size_t i = 0; i < npairs; i++)
      if (pairs[i].n > 0 && (rc = pair_table(plan, &tcap, &pairs[i], opt->dist)) != 0)
        goto done;
    /* Requests: each client host to the servers it has channels to. */
    for (int j = 0; j < procs; j++) {
      for (int s = 0; s < servers; s++)
        row[s] = &pairs[(size_t)j * servers + s];
      if ((rc = plan_host(plan, &cap, sc, opt, 'c', j, row, servers, err, errlen)) != 0)
        goto done;
    }
    /* Responses: each server host to the client hosts with channels to it. */
    for (int s = 0; s < servers; s++) {
      for (int j = 0; j < procs; j++)
        row[j] = &pairs[(size_t)j * servers + s];
      if ((rc = plan_host(plan, &cap, sc, opt, 's', s, row, procs, err, errlen)) != 0)
        goto done;
    }
    if (plan->ntables > 0)
      snprintf(plan->dist_dir, sizeof(plan->dist_dir), "%s", opt->dist_dir);
  }
  if (opt->rate != NULL && (rc = plan_rate(plan, &cap, opt, servers, procs, err, errlen)) != 0)
    goto done;
  rc = 0;
done:
  if (pairs != NULL)
    for (size_t i = 0; i < npairs; i++)
      free(pairs[i].means);
  free(pairs);
  free(row);
  free(subset);
  free(server_rtt);
  lb_rng_free(rng);
  if (rc != 0) {
    if (rc == -ENOMEM)
      lb_errf(err, errlen, "netem: out of memory planning %s", sc->name);
    lb_netem_plan_free(plan);
    return rc;
  }
  *out = plan;
  return 0;
}

void lb_netem_plan_free(struct lb_netem_plan *plan) {
  if (plan == NULL)
    return;
  for (size_t i = 0; i < plan->ncmds; i++)
    free(plan->cmds[i].args);
  free(plan->cmds);
  free(plan->tables);
  free(plan);
}

int lb_netem_plan_format(const struct lb_netem_plan *plan, size_t i, char *buf, size_t len) {
  if (i >= plan->ncmds)
    return -EINVAL;
  int n = snprintf(buf, len, "ip netns exec %s tc %s%s", plan->cmds[i].ns, plan->cmds[i].args,
                   plan->cmds[i].may_fail ? " 2>/dev/null || true" : "");
  return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int lb_netem_plan_write_tables(const struct lb_netem_plan *plan, char *err, size_t errlen) {
  for (size_t t = 0; t < plan->ntables; t++) {
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s.dist", plan->dist_dir, plan->tables[t].name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
      int e = errno;
      lb_errf(err, errlen, "netem: cannot write %s: %s", path, strerror(e));
      return -e;
    }
    fprintf(f,
            "# lbtestbed: the seed's channel delay (randGamma of the channel mean), as the\n"
            "# quantiles of delay = mu + jitter * value / %d\n",
            LB_NETEM_DIST_SCALE);
    for (size_t i = 0; i < LB_NETEM_TABLE_SIZE; i++)
      fprintf(f, " %d%s", plan->tables[t].values[i], i % 8 == 7 ? "\n" : "");
    if (fclose(f) != 0) {
      int e = errno;
      lb_errf(err, errlen, "netem: cannot write %s: %s", path, strerror(e));
      return -e;
    }
  }
  return 0;
}

/* ---- running tc ---- */

static void first_line(char *s) {
  char *nl = strchr(s, '\n');
  if (nl != NULL)
    *nl = '\0';
}

int lb_netem_explain_failure(const char *tc_stderr, char *msg, size_t len) {
  const char *s = tc_stderr ? tc_stderr : "";
  /* iproute2 >= 5: "Error: Specified qdisc kind is unknown."; older tc:
   * "Unknown qdisc \"netem\", hence option ... is unparsable". */
  if (strcasestr(s, "qdisc kind is unknown") || strcasestr(s, "unknown qdisc")) {
    snprintf(msg, len, "%s", LB_NETEM_MISSING);
    return 1;
  }
  char line[256];
  snprintf(line, sizeof(line), "%s", s);
  first_line(line);
  snprintf(msg, len, "netem: tc: %s", line[0] ? line : "failed without a message");
  return 0;
}

int lb_netem_plan_apply(const struct lb_netem_plan *plan, char *err, size_t errlen) {
  char env[1100];
  snprintf(env, sizeof(env), "TC_LIB_DIR=%s", plan->dist_dir);
  for (size_t i = 0; i < plan->ncmds; i++) {
    const struct lb_netem_cmd *cmd = &plan->cmds[i];
    char *copy = strdup(cmd->args);
    char *argv[64] = {"ip", "netns", "exec", (char *)cmd->ns, "tc"};
    size_t argc = 5;
    if (copy == NULL)
      return -ENOMEM;
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok != NULL && argc < 63;
         tok = strtok_r(NULL, " ", &save))
      argv[argc++] = tok;
    argv[argc] = NULL;
    char out[1024];
    int status = lb_harness_run_tool(argv, plan->dist_dir[0] ? env : NULL, out, sizeof(out));
    free(copy);
    if (status < 0) {
      lb_errf(err, errlen, "netem: 'ip netns exec %s tc %s': %s", cmd->ns, cmd->args,
              status == -ETIMEDOUT ? out : strerror(-status));
      return status;
    }
    if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) || cmd->may_fail)
      continue;
    char why[512];
    if (strstr(cmd->args, " netem ") != NULL && lb_netem_explain_failure(out, why, sizeof(why)))
      lb_errf(err, errlen, "%s", why);
    else {
      first_line(out);
      lb_errf(err, errlen, "netem: 'ip netns exec %s tc %s' failed: %s", cmd->ns, cmd->args,
              out[0] ? out : "no message");
    }
    return -EIO;
  }
  return 0;
}

int lb_netem_probe(char *msg, size_t len) {
  if (geteuid() != 0) {
    snprintf(msg, len,
             "netem: cannot probe: needs root (a network namespace and CAP_NET_ADMIN); "
             "use delay: inproc");
    return 0;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -errno;
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return -e;
  }
  if (pid == 0) {
    /* A network namespace of this child's own: it and the qdisc die with it. */
    if (dup2(fds[1], 2) < 0)
      _exit(125);
    if (unshare(CLONE_NEWNET) != 0)
      _exit(126);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
    }
    execlp("tc", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char out[1024] = "";
  size_t used = 0;
  for (;;) {
    ssize_t n = read(fds[0], out + used, sizeof(out) - 1 - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    used += (size_t)n;
    out[used] = '\0';
    if (used == sizeof(out) - 1)
      break;
  }
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return -errno;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0) {
    snprintf(msg, len, "netem: available (a netem qdisc was created in a throwaway namespace)");
    return 1;
  }
  if (code == 126)
    snprintf(msg, len, "netem: cannot probe: unshare(CLONE_NEWNET) was refused; use delay: inproc");
  else if (code == 127)
    snprintf(msg, len, "netem: tc not found (install iproute2); use delay: inproc");
  else
    lb_netem_explain_failure(out, msg, len);
  return 0;
}

int lb_netem_fleet_apply(const struct lb_scenario *sc, const char *fleet, int run, int client_procs,
                         const char *tables_dir, char *err, size_t errlen) {
  char msg[512];
  int rc = lb_netem_probe(msg, sizeof(msg));
  if (rc != 1) {
    lb_errf(err, errlen, "%s", rc < 0 ? "netem: cannot probe for netem" : msg);
    return -ENOTSUP;
  }
  if (mkdir(tables_dir, 0755) != 0 && errno != EEXIST) {
    int e = errno;
    lb_errf(err, errlen, "netem: cannot create %s: %s", tables_dir, strerror(e));
    return -e;
  }
  struct lb_netem_options o;
  lb_netem_options_defaults(&o);
  o.fleet = fleet;
  o.run = run;
  o.client_procs = client_procs;
  o.dist_dir = tables_dir;
  struct lb_netem_plan *plan = NULL;
  if ((rc = lb_netem_plan_build(sc, &o, &plan, err, errlen)) == 0 &&
      (rc = lb_netem_plan_write_tables(plan, err, errlen)) == 0)
    rc = lb_netem_plan_apply(plan, err, errlen);
  lb_netem_plan_free(plan);
  return rc;
}
