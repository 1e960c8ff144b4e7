#define _GNU_SOURCE
#include "harness_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

volatile sig_atomic_t lb_harness_stop_signal = 0;

static void on_stop_signal(int sig) {
  lb_harness_stop_signal = sig;
}

int lb_harness_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    if (sigaction(sigs[i], &sa, NULL) != 0)
      return -errno;
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

double lb_harness_now(void) { return lb_clock_now_s(); }

void lb_harness_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL); /* a signal cuts it short: callers loop */
}

void lb_harness_group_init(struct lb_harness_group *g) {
  memset(g, 0, sizeof(*g));
}

/* In the child, before exec: join the group, die with the harness, restore
 * the signals the harness catches. Only async-signal-safe calls. */
static void child_setup(pid_t pgid, pid_t parent) {
  if (setpgid(0, pgid) != 0)
    _exit(126); /* outside the group it could outlive us */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(126); /* the harness died before prctl */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static int start_leader(struct lb_harness_group *g) {
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return -errno;
  if (pid == 0) {
    child_setup(0, parent);
    for (;;)
      pause();
  }
  setpgid(pid, pid); /* both sides set it: no race with the first member */
  g->leader = pid;
  g->pgid = pid;
  return 0;
}

int lb_harness_group_spawn(struct lb_harness_group *g, char *const argv[], const char *log_path,
                           const char *name) {
  int rc = 0;
  if (!g->leader && (rc = start_leader(g)) < 0)
    return rc;
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 16;
    struct lb_harness_proc *p = realloc(g->procs, cap * sizeof(*p));
    if (!p)
      return -ENOMEM;
    g->procs = p;
    g->cap = cap;
  }
  int out_fd = -1;
  if (log_path) {
    out_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0)
      return -errno;
  }
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    rc = -errno;
    if (out_fd >= 0)
      close(out_fd);
    return rc;
  }
  if (pid == 0) {
    child_setup(g->pgid, parent);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, 0);
    if (out_fd >= 0) {
      dup2(out_fd, 1);
      dup2(out_fd, 2);
    }
    execv(argv[0], argv);
    dprintf(2, "lbharness: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, g->pgid);
  if (out_fd >= 0)
    close(out_fd);
  struct lb_harness_proc *p = &g->procs[g->n];
  memset(p, 0, sizeof(*p));
  p->pid = pid;
  snprintf(p->name, sizeof(p->name), "%s", name);
  return (int)g->n++;
}

static void reap(struct lb_harness_proc *p, int flags) {
  if (p->exited)
    return;
  struct rusage ru;
  int status = 0;
  pid_t r;
  do {
    r = wait4(p->pid, &status, flags, &ru);
  } while (r < 0 && errno == EINTR);
  if (r == p->pid || (r < 0 && errno == ECHILD)) {
    p->exited = true;
    p->status = r == p->pid ? status : 0;
    if (r == p->pid)
      p->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  }
}

size_t lb_harness_group_poll(struct lb_harness_group *g) {
  size_t running = 0;
  for (size_t i = 0; i < g->n; i++) {
    reap(&g->procs[i], WNOHANG);
    if (!g->procs[i].exited)
      running++;
  }
  return running;
}

void lb_harness_proc_signal(struct lb_harness_group *g, size_t index, int sig) {
  if (index < g->n && !g->procs[index].exited)
    kill(g->procs[index].pid, sig);
}

bool lb_harness_group_wait(struct lb_harness_group *g, const size_t *which, size_t count,
                           int timeout_ms) {
  double deadline = lb_harness_now() + timeout_ms / 1000.0;
  for (;;) {
    lb_harness_group_poll(g);
    bool all = true;
    for (size_t k = 0; k < count; k++)
      if (which[k] < g->n && !g->procs[which[k]].exited)
        all = false;
    if (all)
      return true;
    if (lb_harness_stop_signal || lb_harness_now() >= deadline)
      return false;
    lb_harness_sleep_ms(20);
  }
}

void lb_harness_group_stop(struct lb_harness_group *g, int grace_ms) {
  if (!g->leader)
    return;
  if (lb_harness_group_poll(g) > 0) {
    kill(-g->pgid, SIGTERM);
    double deadline = lb_harness_now() + grace_ms / 1000.0;
    while (lb_harness_group_poll(g) > 0 && lb_harness_now() < deadline)
      lb_harness_sleep_ms(20);
  }
  /* Whatever is left, the leader included, and any grandchild; members and
   * the leader are also killed one by one, so the blocking reaps below
   * cannot hang on a process that left the group. */
  kill(-g->pgid, SIGKILL);
  for (size_t i = 0; i < g->n; i++) {
    if (!g->procs[i].exited)
      kill(g->procs[i].pid, SIGKILL);
    reap(&g->procs[i], 0);
  }
  kill(g->leader, SIGKILL);
  struct lb_harness_proc leader = {.pid = g->leader};
  reap(&leader, 0);
  g->leader = 0;
}

void lb_harness_group_close(struct lb_harness_group *g) {
  lb_harness_group_stop(g, 0);
  free(g->procs);
  memset(g, 0, sizeof(*g));
}

double lb_harness_group_cpu_seconds(const struct lb_harness_group *g) {
  double s = 0;
  for (size_t i = 0; i < g->n; i++)
    s += g->procs[i].cpu_seconds;
  return s;
}

void lb_harness_proc_describe(const struct lb_harness_proc *p, char *buf, size_t len) {
  if (!p->exited)
    snprintf(buf, len, "running");
  else if (WIFEXITED(p->status))
    snprintf(buf, len, "exit %d", WEXITSTATUS(p->status));
  else if (WIFSIGNALED(p->status))
    snprintf(buf, len, "signal %d (%s)", WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
  else
    snprintf(buf, len, "status %d", p->status);
}

int lb_harness_capture(char *const argv[], const char *env_extra, int flags, int timeout_s,
                       char *out, size_t outlen) {
  bool interruptible = (flags & LB_CAPTURE_INTERRUPTIBLE) && (flags & LB_CAPTURE_OWN_GROUP);
  int fds[2];
  if (outlen > 0)
    out[0] = '\0';
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -errno;
  /* The environment is made before fork: the child only calls what is
   * safe between fork and exec. */
  size_t nenv = 0;
  while (environ[nenv] != NULL)
    nenv++;
  char **envp = calloc(nenv + 2, sizeof(*envp));
  if (envp == NULL) {
    close(fds[0]);
    close(fds[1]);
    return -ENOMEM;
  }
  memcpy(envp, environ, nenv * sizeof(*envp));
  envp[nenv] = (char *)env_extra;
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    free(envp);
    close(fds[0]);
    close(fds[1]);
    return -e;
  }
  if (pid == 0) {
    if (flags & LB_CAPTURE_OWN_GROUP)
      setpgid(0, 0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
    }
    if (flags & LB_CAPTURE_STDOUT)
      dup2(fds[1], 1);
    dup2(fds[1], 2);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    execvpe(argv[0], argv, envp);
    dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
    _exit(127);
  }
  /* The parent too, so that the group exists before any kill(-pid). */
  if (flags & LB_CAPTURE_OWN_GROUP)
    setpgid(pid, pid);
  free(envp);
  close(fds[1]);
  size_t used = 0;
  double deadline = lb_harness_now() + timeout_s;
  bool timed_out = false, interrupted = false;
  for (;;) {
    double left = deadline - lb_harness_now();
    if (left <= 0) {
      kill((flags & LB_CAPTURE_OWN_GROUP) ? -pid : pid, SIGKILL);
      timed_out = true;
      break;
    }
    if (interruptible && lb_harness_stop_signal) {
      kill(-pid, SIGTERM);
      for (int i = 0; i < 100 && waitpid(pid, NULL, WNOHANG) == 0; i++)
        lb_harness_sleep_ms(50);
      kill(-pid, SIGKILL);
      interrupted = true;
      break;
    }
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    if (poll(&pfd, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) <= 0)
      continue;
    char chunk[1024];
    ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (outlen > 1 && used < outlen - 1) {
      size_t take = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
      memcpy(out + used, chunk, take);
      used += take;
      out[used] = '\0';
    }
  }
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR || interrupted)
      break;
  if (interrupted) {
    snprintf(out, outlen, "%s %s: stopped by signal %d", argv[0], argv[1] ? argv[1] : "",
             (int)lb_harness_stop_signal);
    return -EINTR;
  }
  if (timed_out) {
    snprintf(out, outlen, "%s: no answer within %d s: killed", argv[0], timeout_s);
    return -ETIMEDOUT;
  }
  return status;
}

int lb_harness_run_to_end(char *const argv[], const char *log, const char *what, int limit_ms,
                          char *err, size_t errlen) {
  struct lb_harness_group g;
  lb_harness_group_init(&g);
  int k = lb_harness_group_spawn(&g, argv, log, what);
  if (k < 0) {
    snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-k));
    lb_harness_group_close(&g);
    return k;
  }
  size_t which = (size_t)k;
  bool done = lb_harness_group_wait(&g, &which, 1, limit_ms);
  struct lb_harness_proc p = g.procs[k];
  lb_harness_group_close(&g);
  if (!done) {
    if (lb_harness_stop_signal)
      snprintf(err, errlen, "interrupted: %s stopped", what);
    else
      snprintf(err, errlen, "%s ran past %d s: stopped (log: %s)", what, limit_ms / 1000, log);
    return lb_harness_stop_signal ? -EINTR : -ETIMEDOUT;
  }
  if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
    char how[80];
    lb_harness_proc_describe(&p, how, sizeof(how));
    snprintf(err, errlen, "%s failed (%s); see %s", what, how, log);
    return -ECHILD;
  }
  return 0;
}

int lb_harness_run_tool(char *const argv[], const char *env_extra, char *out, size_t outlen) {
  return lb_harness_capture(argv, env_extra, 0, LB_HARNESS_TOOL_TIMEOUT_S, out, outlen);
}
