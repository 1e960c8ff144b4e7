/* faults: windows of a scenario's faults, read the same way by both
 * drivers. */
#include "faults.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "errbuf.h"
#include "reqlog.h"

static const char *const kind_names[LB_FAULT_KINDS] = {"kill", "pause", "slow", "delay",
                                                       "partition"};

const char *lb_fault_kind_name(enum lb_fault_kind kind) {
  return (unsigned)kind < LB_FAULT_KINDS ? kind_names[kind] : "?";
}

int lb_fault_kind_parse(const char *word, enum lb_fault_kind *out) {
  for (int k = 0; k < LB_FAULT_KINDS; k++) {
    if (strcmp(word, kind_names[k]) == 0) {
      *out = (enum lb_fault_kind)k;
      return 0;
    }
  }
  return -EINVAL;
}

void lb_fault_init(struct lb_fault *f, enum lb_fault_kind kind) {
  memset(f, 0, sizeof(*f));
  f->kind = kind;
  f->client = -1;
  f->factor = kind == LB_FAULT_SLOW ? LB_FAULT_SLOW_DEFAULT : 1;
  f->ticks = 0;
}

/* Delay and partition act on a channel; the other kinds on a server. */
static bool on_channel(enum lb_fault_kind kind) {
  return kind == LB_FAULT_DELAY || kind == LB_FAULT_PARTITION;
}

bool lb_fault_holds(const struct lb_fault *f, int tick) {
  /* at + for_ticks <= INT_MAX: lb_faults_check. */
  return tick >= f->at && tick - f->at < f->for_ticks;
}

static bool targets(const struct lb_fault *f, enum lb_fault_kind kind, int server, int client) {
  if (f->kind != kind || f->server != server)
    return false;
  return !on_channel(kind) || f->client < 0 || f->client == client;
}

bool lb_faults_active(const struct lb_fault *f, int n, enum lb_fault_kind kind, int server,
                      int client, int tick, const struct lb_fault **hit) {
  for (int i = 0; i < n; i++) {
    if (targets(&f[i], kind, server, client) && lb_fault_holds(&f[i], tick)) {
      if (hit != NULL)
        *hit = &f[i];
      return true;
    }
  }
  return false;
}

const struct lb_fault *lb_faults_starting(const struct lb_fault *f, int n, enum lb_fault_kind kind,
                                          int server, int client, int tick) {
  for (int i = 0; i < n; i++)
    if (targets(&f[i], kind, server, client) && f[i].at == tick)
      return &f[i];
  return NULL;
}

double lb_faults_slow_factor(const struct lb_fault *f, int n, int server, int tick) {
  const struct lb_fault *hit = NULL;
  return lb_faults_active(f, n, LB_FAULT_SLOW, server, -1, tick, &hit) ? hit->factor : 1.0;
}

double lb_faults_delay_ticks(const struct lb_fault *f, int n, int server, int client, int tick) {
  const struct lb_fault *hit = NULL;
  return lb_faults_active(f, n, LB_FAULT_DELAY, server, client, tick, &hit) ? hit->ticks : 0.0;
}

bool lb_faults_partitioned(const struct lb_fault *f, int n, int server, int client, int tick) {
  return lb_faults_active(f, n, LB_FAULT_PARTITION, server, client, tick, NULL);
}

bool lb_faults_dead(const struct lb_fault *f, int n, int server, int tick) {
  return lb_faults_active(f, n, LB_FAULT_KILL, server, -1, tick, NULL);
}

bool lb_faults_paused(const struct lb_fault *f, int n, int server, int tick) {
  return lb_faults_active(f, n, LB_FAULT_PAUSE, server, -1, tick, NULL);
}

/* Two faults that may not hold on one target at once: the same kind, or a
 * kill and a pause (a dead process cannot be stopped). */
static bool clash(const struct lb_fault *a, const struct lb_fault *b) {
  bool kinds = a->kind == b->kind || (a->kind <= LB_FAULT_PAUSE && b->kind <= LB_FAULT_PAUSE);
  if (!kinds || a->server != b->server)
    return false;
  if (on_channel(a->kind) && a->client >= 0 && b->client >= 0 && a->client != b->client)
    return false;
  return a->at < b->at + b->for_ticks && b->at < a->at + a->for_ticks;
}

int lb_faults_check(const struct lb_fault *f, int n, int i, int servers, int clients,
                    int total_ticks, const char **field, char *why, size_t len) {
  const struct lb_fault *x = &f[i];
  if ((unsigned)x->kind >= LB_FAULT_KINDS) {
    *field = "kind";
    lb_errf(why, len, "expected kill, pause, slow, delay or partition, got %d", (int)x->kind);
    return -EINVAL;
  }
  if (x->at < 0 || x->at >= total_ticks) {
    *field = "at";
    lb_errf(why, len, "expected a tick from 0 to %d (total_ticks - 1), got '%d'", total_ticks - 1,
            x->at);
    return -EINVAL;
  }
  if (x->for_ticks < 1 || x->for_ticks > INT_MAX - x->at) {
    *field = "for";
    lb_errf(why, len, "expected a number of ticks from 1 to %d, got '%d'", INT_MAX - x->at,
            x->for_ticks);
    return -EINVAL;
  }
  if (x->server < 0 || x->server >= servers) {
    *field = "server";
    lb_errf(why, len, "expected a server index from 0 to %d (servers: %d), got '%d'", servers - 1,
            servers, x->server);
    return -EINVAL;
  }
  if (x->client >= 0 && !on_channel(x->kind)) {
    *field = "client";
    lb_errf(why, len, "expected no client with kind %s (it acts on a whole server), got '%d'",
            lb_fault_kind_name(x->kind), x->client);
    return -EINVAL;
  }
  if (x->client < -1 || x->client >= clients) {
    *field = "client";
    lb_errf(why, len, "expected a client index from 0 to %d (clients: %d), got '%d'", clients - 1,
            clients, x->client);
    return -EINVAL;
  }
  char num[64];
  if (!(isfinite(x->factor) && x->factor > 0) || (x->kind != LB_FAULT_SLOW && x->factor != 1)) {
    *field = "factor";
    lb_reqlog_format_double(num, sizeof(num), x->factor);
    lb_errf(why, len, "expected %s, got '%s'",
            x->kind == LB_FAULT_SLOW ? "a finite number > 0" : "no factor (slow only)", num);
    return -EINVAL;
  }
  if (!(isfinite(x->ticks) && x->ticks >= 0) || (x->kind != LB_FAULT_DELAY && x->ticks != 0)) {
    *field = "ticks";
    lb_reqlog_format_double(num, sizeof(num), x->ticks);
    lb_errf(why, len, "expected %s, got '%s'",
            x->kind == LB_FAULT_DELAY ? "a finite number of ticks >= 0" : "no ticks (delay only)",
            num);
    return -EINVAL;
  }
  for (int j = 0; j < i && j < n; j++) {
    if (!clash(&f[j], x))
      continue;
    *field = "at";
    lb_errf(why, len,
            "expected no overlap with faults[%d] (%s of server %d, ticks %d to %d): at most one "
            "fault of a kind on a target at a time, and no kill and pause of a server at once; "
            "got %s from tick %d to %d",
            j, lb_fault_kind_name(f[j].kind), f[j].server, f[j].at, f[j].at + f[j].for_ticks - 1,
            lb_fault_kind_name(x->kind), x->at, x->at + x->for_ticks - 1);
    return -EINVAL;
  }
  return 0;
}

int lb_fault_write(const struct lb_fault *f, FILE *out) {
  char num[64];
  fprintf(out, "{kind: %s, at: %d, for: %d, server: %d", lb_fault_kind_name(f->kind), f->at,
          f->for_ticks, f->server);
  if (f->client >= 0)
    fprintf(out, ", client: %d", f->client);
  if (f->kind == LB_FAULT_SLOW) {
    lb_reqlog_format_double(num, sizeof(num), f->factor);
    fprintf(out, ", factor: %s", num);
  }
  if (f->kind == LB_FAULT_DELAY) {
    lb_reqlog_format_double(num, sizeof(num), f->ticks);
    fprintf(out, ", ticks: %s", num);
  }
  fputc('}', out);
  return ferror(out) ? -EIO : 0;
}
