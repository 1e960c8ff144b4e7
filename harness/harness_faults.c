#include "harness_faults.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lb_harness_faults_supported(const struct lb_scenario *sc, bool containers, char *err,
                                size_t errlen) {
  for (int i = 0; i < sc->n_faults; i++) {
    const struct lb_fault *f = &sc->faults[i];
    /* kill, pause: the harness; slow: lbserver (server_faults); delay,
     * partition: lbclient (client_faults), in-process, so not where netem
     * carries the channel's delay. */
    bool channel = f->kind == LB_FAULT_DELAY || f->kind == LB_FAULT_PARTITION;
    bool netem = channel && sc->delay == LB_DELAY_NETEM;
    if (!containers && !netem)
      continue;
    char at[32] = "";
    if (sc->fault_lines[i] > 0)
      snprintf(at, sizeof(at), ":%d", sc->fault_lines[i]);
    if (netem)
      snprintf(err, errlen,
               "%s%s: field 'faults': %s is carried out by lbclient in-process, not with "
               "'delay: netem' (use 'delay: inproc' or 'none', or run lbsim)",
               sc->path[0] ? sc->path : sc->name, at, lb_fault_kind_name(f->kind));
    else
      snprintf(err, errlen,
               "%s%s: field 'faults': %s is not carried out on container fleets yet; lbsim "
               "models it (run lbsim, or leave the fault out for a real run)",
               sc->path[0] ? sc->path : sc->name, at, lb_fault_kind_name(f->kind));
    return -ENOTSUP;
  }
  return 0;
}

static bool is_end(enum lb_harness_fault_step s) {
  return s == LB_FAULT_STEP_RESTART || s == LB_FAULT_STEP_CONT;
}

/* By due time; at the same time a fault's end before the next one's start. */
static int by_due(const void *a, const void *b) {
  const struct lb_harness_fault_action *x = a, *y = b;
  if (x->due_ns != y->due_ns)
    return x->due_ns < y->due_ns ? -1 : 1;
  return (int)is_end(y->step) - (int)is_end(x->step);
}

int lb_harness_faults_plan(const struct lb_scenario *sc, int64_t start_ns,
                           struct lb_harness_faults *out) {
  memset(out, 0, sizeof(*out));
  size_t n = 0;
  for (int i = 0; i < sc->n_faults; i++)
    if (sc->faults[i].kind == LB_FAULT_KILL || sc->faults[i].kind == LB_FAULT_PAUSE)
      n += 2;
  if (n == 0)
    return 0;
  out->actions = calloc(n, sizeof(*out->actions));
  if (!out->actions)
    return -ENOMEM;
  for (int i = 0; i < sc->n_faults; i++) {
    const struct lb_fault *f = &sc->faults[i];
    if (f->kind != LB_FAULT_KILL && f->kind != LB_FAULT_PAUSE)
      continue;
    bool kill = f->kind == LB_FAULT_KILL;
    struct lb_harness_fault_action *a = &out->actions[out->n++];
    a->tick = f->at;
    a->server = f->server;
    a->step = kill ? LB_FAULT_STEP_KILL : LB_FAULT_STEP_STOP;
    a->due_ns = start_ns + (int64_t)f->at * sc->tick_ns;
    a = &out->actions[out->n++];
    a->tick = f->at + f->for_ticks;
    a->server = f->server;
    a->step = kill ? LB_FAULT_STEP_RESTART : LB_FAULT_STEP_CONT;
    a->due_ns = start_ns + (int64_t)(f->at + f->for_ticks) * sc->tick_ns;
  }
  qsort(out->actions, out->n, sizeof(*out->actions), by_due);
  return 0;
}

char **lb_harness_argv_with(char *const *argv, const char *opt, const char *value) {
  size_t n = 0;
  while (argv[n])
    n++;
  char **copy = calloc(n + 1, sizeof(*copy));
  if (!copy)
    return NULL;
  for (size_t k = 0; k < n; k++)
    copy[k] = (k > 0 && strcmp(argv[k - 1], opt) == 0) ? (char *)value : argv[k];
  return copy;
}

static void note(struct lb_harness_fault_fleet *fl, const struct lb_harness_fault_action *a,
                 int64_t now_ns, const char *event, const char *what) {
  char who[32], detail[160];
  snprintf(who, sizeof(who), "server %d", a->server);
  double late_ms = (double)(now_ns - a->due_ns) / 1e6;
  snprintf(detail, sizeof(detail), "%s due at tick %d; %.1f ms late", what, a->tick, late_ms);
  lb_harness_events_note(fl->events, now_ns, who, event, detail, false);
}

static void restart(struct lb_harness_fault_fleet *fl, const struct lb_harness_fault_action *a,
                    int64_t now_ns) {
  int i = a->server;
  char tcp[16], udp[16], name[32], why[160];
  snprintf(tcp, sizeof(tcp), "%d", fl->tcp[i]);
  snprintf(udp, sizeof(udp), "%d", fl->udp[i]);
  snprintf(name, sizeof(name), "server %d", i);
  char **with_tcp = lb_harness_argv_with(fl->argv[i], "--port", tcp);
  char **argv = with_tcp ? lb_harness_argv_with(with_tcp, "--udp-port", udp) : NULL;
  int k = argv ? lb_harness_group_spawn(fl->group, argv, fl->logs[i], name) : -ENOMEM;
  free(with_tcp);
  free(argv);
  if (k < 0) {
    snprintf(why, sizeof(why), "restart failed: %s", strerror(-k));
    note(fl, a, now_ns, "fault_end", why);
    return; /* stays gone: its requests fail, as while it was killed */
  }
  fl->servers[i] = (size_t)k;
  fl->gone[i] = false;
  note(fl, a, now_ns, "fault_end", "kill: restarted (same arguments and ports)");
}

static void act(struct lb_harness_fault_fleet *fl, struct lb_harness_fault_action *a,
                int64_t now_ns) {
  a->done = true;
  if (a->server < 0 || a->server >= fl->nservers)
    return;
  size_t idx = fl->servers[a->server];
  bool alive = idx < fl->group->n && !fl->group->procs[idx].exited;
  switch (a->step) {
  case LB_FAULT_STEP_KILL:
    if (!alive) {
      note(fl, a, now_ns, "fault_start", "kill: the server was not running");
      return;
    }
    fl->gone[a->server] = true; /* planned: not reported as a death */
    lb_harness_proc_signal(fl->group, idx, SIGKILL);
    note(fl, a, now_ns, "fault_start", "kill: SIGKILL");
    return;
  case LB_FAULT_STEP_RESTART:
    if (alive) {
      note(fl, a, now_ns, "fault_end", "kill: the server was still running");
      return;
    }
    restart(fl, a, now_ns);
    return;
  case LB_FAULT_STEP_STOP:
    lb_harness_proc_signal(fl->group, idx, SIGSTOP);
    note(fl, a, now_ns, "fault_start", alive ? "pause: SIGSTOP" : "pause: the server is gone");
    return;
  case LB_FAULT_STEP_CONT:
    lb_harness_proc_signal(fl->group, idx, SIGCONT);
    note(fl, a, now_ns, "fault_end", alive ? "pause: SIGCONT" : "pause: the server is gone");
    return;
  }
}

void lb_harness_faults_run(struct lb_harness_faults *p, struct lb_harness_fault_fleet *fleet,
                           int64_t now_ns) {
  for (size_t k = 0; k < p->n && p->actions[k].due_ns <= now_ns; k++)
    if (!p->actions[k].done)
      act(fleet, &p->actions[k], now_ns);
}

int lb_harness_faults_sleep_ms(const struct lb_harness_faults *p, int64_t now_ns, int max_ms) {
  for (size_t k = 0; k < p->n; k++) {
    if (p->actions[k].done)
      continue;
    int64_t left_ms = (p->actions[k].due_ns - now_ns) / 1000000;
    return left_ms < 1 ? 1 : left_ms < max_ms ? (int)left_ms : max_ms;
  }
  return max_ms;
}

bool lb_harness_faults_stop(const struct lb_scenario *sc, int server) {
  for (int i = 0; i < sc->n_faults; i++)
    if ((sc->faults[i].kind == LB_FAULT_KILL || sc->faults[i].kind == LB_FAULT_PAUSE) &&
        sc->faults[i].server == server)
      return true;
  return false;
}

void lb_harness_faults_finish(struct lb_harness_faults *p, struct lb_harness_fault_fleet *fleet,
                              int64_t now_ns) {
  for (size_t k = 0; k < p->n; k++)
    if (!p->actions[k].done && p->actions[k].step == LB_FAULT_STEP_CONT)
      act(fleet, &p->actions[k], now_ns);
  for (size_t k = 0; k < p->n; k++)
    p->actions[k].done = true;
}

void lb_harness_faults_close(struct lb_harness_faults *p) {
  free(p->actions);
  memset(p, 0, sizeof(*p));
}
