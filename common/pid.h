/* pid: the seed's PidController, and its two tunings. */
#ifndef LB_PID_H
#define LB_PID_H

struct lb_pid {
  double kp, ki, kd;
  double prev_error;
  double integral;
};

void lb_pid_init(struct lb_pid *p, double kp, double ki, double kd);
/* error = target - value; integral += error; derivative = error - prev. */
double lb_pid_update(struct lb_pid *p, double value, double target);
/* Server-side tuning (kti = 50) and client-side tuning (kti = 30):
 * kp = 1, ki = 1/kti, kd = kti/10. */
void lb_pid_init_server(struct lb_pid *p);
void lb_pid_init_client(struct lb_pid *p);

#endif
