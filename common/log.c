#include "log.h"

int lb_log_level = LB_LOG_INFO;
const char *lb_log_prog = "lbtestbed";
const char *const lb_log_level_names[] = {"error", "warn", "info", "debug", NULL};
