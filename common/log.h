/* log: one level-gated macro for the daemons and tools (never the model).
 * One line per event to stderr: "lbserver[pid] level: message". */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stdio.h>
#include <unistd.h>

enum lb_log_level { LB_LOG_ERROR, LB_LOG_WARN, LB_LOG_INFO, LB_LOG_DEBUG };
extern int lb_log_level;
extern const char *lb_log_prog;
/* "error", "warn", "info", "debug" (by level), then NULL: --log-level's words. */
extern const char *const lb_log_level_names[];

#define LB_LOG(level, ...)                                                              \
  do {                                                                                  \
    if ((level) <= lb_log_level) {                                                      \
      static const char *const lb__names[] = {"error", "warn", "info", "debug"};        \
      fprintf(stderr, "%s[%d] %s: ", lb_log_prog, (int)getpid(), lb__names[(level)]);   \
      fprintf(stderr, __VA_ARGS__);                                                     \
      fputc('\n', stderr);                                                              \
    }                                                                                   \
  } while (0)
#define LB_ERROR(...) LB_LOG(LB_LOG_ERROR, __VA_ARGS__)
#define LB_WARN(...) LB_LOG(LB_LOG_WARN, __VA_ARGS__)
#define LB_INFO(...) LB_LOG(LB_LOG_INFO, __VA_ARGS__)
#define LB_DEBUG(...) LB_LOG(LB_LOG_DEBUG, __VA_ARGS__)

#endif
