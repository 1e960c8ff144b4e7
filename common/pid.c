/* pid: the seed's PidController. */
#include "pid.h"

void lb_pid_init(struct lb_pid *p, double kp, double ki, double kd) {
  p->kp = kp;
  p->ki = ki;
  p->kd = kd;
  p->prev_error = 0;
  p->integral = 0;
}

double lb_pid_update(struct lb_pid *p, double value, double target) {
  double error = target - value;
  p->integral += error;
  double derivative = error - p->prev_error;
  p->prev_error = error;
  return p->kp * error + p->ki * p->integral + p->kd * derivative;
}

/* Seed tuning: kp = 1, ki = kp / kti, kd = kp * (kti / 10). */
static void init_tuned(struct lb_pid *p, double kti) {
  double kp = 1;
  lb_pid_init(p, kp, kp / kti, kp * (kti / 10));
}

void lb_pid_init_server(struct lb_pid *p) {
  init_tuned(p, 50);
}

void lb_pid_init_client(struct lb_pid *p) {
  init_tuned(p, 30);
}
