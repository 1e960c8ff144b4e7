/* harness_proc: the fleet's processes. Every process of a run lives in one
 * process group of its own, led by a small idle process the harness forks
 * first, so the group outlives any member; every child asks the kernel to
 * kill it when the harness dies (PR_SET_PDEATHSIG). Stopping a run signals
 * the whole group and reaps every pid: no process outlives the harness. */
#ifndef LB_HARNESS_PROC_H
#define LB_HARNESS_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

struct lb_harness_proc {
  pid_t pid;
  char name[64]; /* "server 0", "client 0-1", "lbsim" */
  bool exited;
  int status;         /* waitpid status once exited */
  double cpu_seconds; /* user + system, from wait4 */
};

struct lb_harness_group {
  pid_t pgid;   /* = the leader's pid; 0 until the first spawn */
  pid_t leader; /* the idle process that holds the group open */
  struct lb_harness_proc *procs;
  size_t n, cap;
};

/* Set by SIGINT, SIGTERM and SIGHUP once lb_harness_signals_install ran. */
extern volatile sig_atomic_t lb_harness_stop_signal;
int lb_harness_signals_install(void);

void lb_harness_group_init(struct lb_harness_group *g);
/* Forks and execs argv[0] in the group, stdin from /dev/null, stdout and
 * stderr appended to log_path (NULL: inherited). Returns the index of the
 * new process in g->procs, or a negative errno. */
int lb_harness_group_spawn(struct lb_harness_group *g, char *const argv[], const char *log_path,
                           const char *name);
/* Reaps whatever exited (never blocks). Returns how many are still running. */
size_t lb_harness_group_poll(struct lb_harness_group *g);
/* Signals one member (if still running). */
void lb_harness_proc_signal(struct lb_harness_group *g, size_t index, int sig);
/* Waits up to timeout_ms for the listed members to exit; returns true when
 * they all did. Returns early (false) when a stop signal arrives. */
bool lb_harness_group_wait(struct lb_harness_group *g, const size_t *which, size_t count,
                           int timeout_ms);
/* SIGTERM to the whole group, up to grace_ms for it to go, then SIGKILL,
 * and reaps every member and the leader. Safe to call twice. */
void lb_harness_group_stop(struct lb_harness_group *g, int grace_ms);
void lb_harness_group_close(struct lb_harness_group *g);
/* Sum of the exited members' CPU seconds. */
double lb_harness_group_cpu_seconds(const struct lb_harness_group *g);
/* "exit 3", "signal 9 (Killed)", "running" */
void lb_harness_proc_describe(const struct lb_harness_proc *p, char *buf, size_t len);

/* Runs one child (argv[0] a path; its output to log) to its end, at most
 * limit_ms. 0 when it exited 0; else err says so, naming `what` (e.g.
 * "lbsim", "lbsim on x.yaml") and the log: -EINTR (a stop signal),
 * -ETIMEDOUT (stopped at the bound), -ECHILD (it failed), or the spawn's
 * -errno. */
int lb_harness_run_to_end(char *const argv[], const char *log, const char *what, int limit_ms,
                          char *err, size_t errlen);
/* A short command whose output the harness reads (tc, netns.sh, podman):
 * argv (PATH searched) with env_extra added to the environment (or NULL),
 * stdin on /dev/null, stderr (and stdout with LB_CAPTURE_STDOUT, else
 * /dev/null) into out, the start kept. Killed after timeout_s (-ETIMEDOUT,
 * out says so). LB_CAPTURE_OWN_GROUP: in a process group of its own, so a
 * Ctrl-C at the terminal does not cut it (a clean-up) short;
 * LB_CAPTURE_INTERRUPTIBLE (with it): a stop signal ends its whole group
 * (SIGTERM, then SIGKILL), -EINTR. Returns the wait status, or a negative
 * errno. */
#define LB_CAPTURE_STDOUT 1
#define LB_CAPTURE_OWN_GROUP 2
#define LB_CAPTURE_INTERRUPTIBLE 4
int lb_harness_capture(char *const argv[], const char *env_extra, int flags, int timeout_s,
                       char *out, size_t outlen);

/* A tool the harness waits for (tc, ip, netns.sh): lb_harness_capture
 * with stdout on /dev/null, in this process group, killed after
 * LB_HARNESS_TOOL_TIMEOUT_S (-ETIMEDOUT, out says so). Returns the wait
 * status, or a negative errno when it cannot start. */
#define LB_HARNESS_TOOL_TIMEOUT_S 300
int lb_harness_run_tool(char *const argv[], const char *env_extra, char *out, size_t outlen);

/* CLOCK_MONOTONIC in seconds. */
double lb_harness_now(void);
void lb_harness_sleep_ms(int ms);

#endif
