/* pid: the seed's PidController, updates worked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "pid.h"

static void test_plain(void **state) {
  (void)state;
  struct lb_pid p;
  lb_pid_init(&p, 2, 0.5, 1);
  /* error 4, integral 4, derivative 4: 8 + 2 + 4 */
  assert_true(lb_pid_update(&p, 6, 10) == 14);
  /* error 1, integral 5, derivative -3: 2 + 2.5 - 3 */
  assert_true(lb_pid_update(&p, 9, 10) == 1.5);
  assert_true(p.integral == 5 && p.prev_error == 1);
}

/* Server tuning: kp 1, ki 1/50, kd 5. */
static void test_server_tuning(void **state) {
  (void)state;
  struct lb_pid p;
  lb_pid_init_server(&p);
  assert_true(p.kp == 1 && fabs(p.ki - 0.02) < 1e-15 && p.kd == 5);
  /* error 10, integral 10, derivative 10: 10 + 0.2 + 50 */
  assert_true(fabs(lb_pid_update(&p, 50, 60) - 60.2) < 1e-12);
  /* error 5, integral 15, derivative -5: 5 + 0.3 - 25 */
  assert_true(fabs(lb_pid_update(&p, 55, 60) - -19.7) < 1e-12);
}

/* Client tuning: kp 1, ki 1/30, kd 3. */
static void test_client_tuning(void **state) {
  (void)state;
  struct lb_pid p;
  lb_pid_init_client(&p);
  assert_true(p.kp == 1 && p.kd == 3);
  /* error 30, integral 30, derivative 30: 30 + 1 + 90 */
  assert_true(fabs(lb_pid_update(&p, 0, 30) - 121) < 1e-12);
  /* error 0, integral 30, derivative -30: 0 + 1 - 90 */
  assert_true(fabs(lb_pid_update(&p, 30, 30) - -89) < 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain),
      cmocka_unit_test(test_server_tuning),
      cmocka_unit_test(test_client_tuning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
