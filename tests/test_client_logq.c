/* client_logq: records handed to the writer thread all reach the file, in
 * order, even when the queue is much smaller than the number of records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_logq.h"
#include "reqlog.h"

static void test_all_in_order(void **state) {
  (void)state;
  char path[] = "/tmp/test_client_logq.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  lb_reqlog_write_header(f);
  struct lb_logq *q = NULL;
  assert_int_equal(lb_logq_new(f, 8, &q), 0); /* tiny: the producer must wait */
  enum { N = 5000 };
  for (int i = 0; i < N; i++) {
    struct lb_request_record rec = {0};
    rec.stage = LB_STAGE_RUNNING;
    rec.client = i % 3;
    rec.server = i % 5;
    rec.outcome = i % 7 == 0 ? LB_OUTCOME_FAILED : LB_OUTCOME_COMPLETED;
    rec.started_on_tick = i;
    rec.total_ticks = i * 0.5;
    rec.intended_ns = 1000 + i;
    lb_logq_push(q, &rec);
  }
  assert_int_equal(lb_logq_close(q), 0);
  assert_int_equal(fclose(f), 0);

  struct lb_reqlog_reader *r = NULL;
  char err[256];
  assert_int_equal(lb_reqlog_reader_open(path, &r, err, sizeof(err)), 0);
  struct lb_request_record rec;
  int n = 0, rc;
  while ((rc = lb_reqlog_reader_next(r, &rec, err, sizeof(err))) == 1) {
    assert_true(rec.started_on_tick == n);
    assert_int_equal(rec.server, n % 5);
    assert_int_equal(rec.outcome, n % 7 == 0 ? LB_OUTCOME_FAILED : LB_OUTCOME_COMPLETED);
    assert_true(rec.intended_ns == 1000 + n);
    n++;
  }
  assert_int_equal(rc, 0);
  assert_int_equal(n, N);
  lb_reqlog_reader_close(r);
  unlink(path);
}

static void test_close_null(void **state) {
  (void)state;
  assert_int_equal(lb_logq_close(NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_in_order),
      cmocka_unit_test(test_close_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
