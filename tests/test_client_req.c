/* client_req: the request accounting state machine; client_record: the
 * phases and stage of a finished request. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "client_record.h"
#include "client_req.h"

static void check_invariant(const struct lb_creq_table *t) {
  const struct lb_creq_counts *c = &t->counts;
  assert_int_equal(c->sent, c->completed + c->failed + c->timed_out + c->live);
}

static void test_happy_path(void **state) {
  (void)state;
  struct lb_creq_table t;
  lb_creq_table_init(&t);
  struct lb_creq *r = NULL;
  assert_int_equal(lb_creq_new(&t, false, &r), 0);
  assert_int_equal(r->state, LB_CREQ_PICKING);
  assert_int_equal(t.counts.sent, 1);
  assert_int_equal(t.counts.live, 1);
  assert_int_equal(lb_creq_commit(&t, r), 0);
  assert_int_equal(r->state, LB_CREQ_HOLDING);
  assert_int_equal(lb_creq_written(&t, r), 0);
  assert_int_equal(r->state, LB_CREQ_IN_FLIGHT);
  uint64_t id = lb_creq_wire_id(r);
  assert_ptr_equal(lb_creq_by_wire_id(&t, id), r);
  assert_int_equal(lb_creq_end(&t, r, LB_OUTCOME_COMPLETED), 0);
  assert_int_equal(t.counts.completed, 1);
  assert_int_equal(t.counts.live, 0);
  /* the same id no longer finds anything: a late answer is recognised */
  assert_null(lb_creq_by_wire_id(&t, id));
  check_invariant(&t);
  lb_creq_table_close(&t);
}

static void test_invalid_transitions(void **state) {
  (void)state;
  struct lb_creq_table t;
  lb_creq_table_init(&t);
  struct lb_creq *r = NULL;
  lb_creq_new(&t, false, &r);
  /* cannot write before committing, cannot complete before writing */
  assert_int_equal(lb_creq_written(&t, r), -EINVAL);
  assert_int_equal(lb_creq_end(&t, r, LB_OUTCOME_COMPLETED), -EINVAL);
  lb_creq_commit(&t, r);
  assert_int_equal(lb_creq_commit(&t, r), -EINVAL);
  assert_int_equal(lb_creq_end(&t, r, LB_OUTCOME_COMPLETED), -EINVAL);
  assert_int_equal(lb_creq_end(&t, r, LB_OUTCOME_FAILED), 0);
  /* ends exactly once */
  assert_int_equal(lb_creq_end(&t, r, LB_OUTCOME_FAILED), -EINVAL);
  assert_int_equal(lb_creq_end(&t, r, LB_OUTCOME_TIMED_OUT), -EINVAL);
  assert_int_equal(t.counts.failed, 1);
  assert_int_equal(t.counts.timed_out, 0);
  check_invariant(&t);
  lb_creq_table_close(&t);
}

/* A response held for its delay: answered (RECEIVING), then completed or
 * timed out; it cannot be held twice, nor before it was written. */
static void test_received_then_end(void **state) {
  (void)state;
  struct lb_creq_table t;
  lb_creq_table_init(&t);
  struct lb_creq *a, *b;
  lb_creq_new(&t, false, &a);
  assert_int_equal(lb_creq_received(&t, a), -EINVAL);
  lb_creq_commit(&t, a);
  assert_int_equal(lb_creq_received(&t, a), -EINVAL);
  lb_creq_written(&t, a);
  assert_int_equal(lb_creq_received(&t, a), 0);
  assert_int_equal(a->state, LB_CREQ_RECEIVING);
  assert_int_equal(lb_creq_received(&t, a), -EINVAL);
  assert_int_equal(lb_creq_end(&t, a, LB_OUTCOME_COMPLETED), 0);
  lb_creq_new(&t, false, &b);
  lb_creq_commit(&t, b);
  lb_creq_written(&t, b);
  lb_creq_received(&t, b);
  assert_int_equal(lb_creq_end(&t, b, LB_OUTCOME_TIMED_OUT), 0);
  assert_int_equal(t.counts.completed, 1);
  assert_int_equal(t.counts.timed_out, 1);
  check_invariant(&t);
  lb_creq_table_close(&t);
}

static void test_timeout_from_any_state(void **state) {
  (void)state;
  struct lb_creq_table t;
  lb_creq_table_init(&t);
  struct lb_creq *a, *b, *c;
  lb_creq_new(&t, false, &a); /* picking */
  lb_creq_new(&t, true, &b);  /* holding */
  lb_creq_commit(&t, b);
  lb_creq_new(&t, false, &c); /* in flight */
  lb_creq_commit(&t, c);
  lb_creq_written(&t, c);
  assert_int_equal(t.counts.probes, 1);
  assert_int_equal(lb_creq_end(&t, a, LB_OUTCOME_TIMED_OUT), 0);
  assert_int_equal(lb_creq_end(&t, b, LB_OUTCOME_TIMED_OUT), 0);
  assert_int_equal(lb_creq_end(&t, c, LB_OUTCOME_TIMED_OUT), 0);
  assert_int_equal(t.counts.timed_out, 3);
  check_invariant(&t);
  lb_creq_table_close(&t);
}

static void test_slot_reuse_changes_generation(void **state) {
  (void)state;
  struct lb_creq_table t;
  lb_creq_table_init(&t);
  struct lb_creq *r;
  lb_creq_new(&t, false, &r);
  uint32_t slot = r->slot, gen = r->gen;
  lb_creq_end(&t, r, LB_OUTCOME_FAILED);
  lb_creq_new(&t, false, &r);
  assert_int_equal(r->slot, slot); /* reused */
  assert_int_not_equal(r->gen, gen);
  assert_null(lb_creq_get(&t, slot, gen)); /* a stale timer finds nothing */
  assert_ptr_equal(lb_creq_get(&t, slot, r->gen), r);
  assert_null(lb_creq_get(&t, slot + 1000, 0));
  lb_creq_end(&t, r, LB_OUTCOME_FAILED);
  lb_creq_table_close(&t);
}

static void end_failed(struct lb_creq *r, void *arg) {
  lb_creq_end(arg, r, LB_OUTCOME_FAILED);
}

static void test_many_and_foreach(void **state) {
  (void)state;
  struct lb_creq_table t;
  lb_creq_table_init(&t);
  enum { N = 10000 }; /* more than one chunk */
  struct lb_creq *first = NULL;
  for (int i = 0; i < N; i++) {
    struct lb_creq *r;
    assert_int_equal(lb_creq_new(&t, i % 3 == 0, &r), 0);
    if (i == 0)
      first = r;
    r->client = i;
    if (i % 2 == 0)
      lb_creq_commit(&t, r);
  }
  assert_int_equal(first->client, 0); /* pointers stay valid as chunks are added */
  for (uint32_t s = 0; s < N; s += 5)
    lb_creq_end(&t, lb_creq_at(&t, s), LB_OUTCOME_TIMED_OUT);
  check_invariant(&t);
  lb_creq_foreach_live(&t, end_failed, &t);
  assert_int_equal(t.counts.live, 0);
  assert_int_equal(t.counts.timed_out, N / 5);
  assert_int_equal(t.counts.failed, N - N / 5);
  assert_int_equal(t.counts.probes, (N + 2) / 3);
  check_invariant(&t);
  lb_creq_table_close(&t);
}

/* ---- records ---- */

static const struct lb_record_clock clk = {
    .t0_ns = 1000000000, .tick_ns = 1000000, .warm_period = 30, .total_ticks = 100};

static void test_phases(void **state) {
  (void)state;
  /* intended at tick 40, picked 0.5 tick later, held 2 ticks, then 0.2
   * tick of wire each way, 1 tick queue, 3 ticks processing, held 2 ticks
   * by the server. */
  const int64_t T = 1000000;
  struct lb_record_input in = {
      .client = 3,
      .server = 1,
      .outcome = LB_OUTCOME_COMPLETED,
      .committed = true,
      .written = true,
      .answered = true,
      .intended_ns = clk.t0_ns + 40 * T,
      .pick_done_ns = clk.t0_ns + 40 * T + T / 2,
      .queue_ns = (uint64_t)T,
      .processing_ns = (uint64_t)(3 * T),
      .hold_ns = (uint64_t)(2 * T),
      .send_delay_ticks = 2,
      .response_delay_ticks = 2,
  };
  in.written_ns = in.pick_done_ns + 2 * T;
  in.completion_ns = in.written_ns + T / 5 + T + 3 * T + 2 * T + T / 5;
  struct lb_request_record rec;
  lb_record_fill(&clk, &in, &rec);
  assert_true(fabs(rec.started_on_tick - 40) < 1e-9);
  assert_true(fabs(rec.picking_ticks - 0.5) < 1e-9);
  assert_true(fabs(rec.send_ticks - 2.2) < 1e-9);
  assert_true(fabs(rec.server_queue_ticks - 1) < 1e-9);
  assert_true(fabs(rec.processing_ticks - 3) < 1e-9);
  assert_true(fabs(rec.receive_ticks - 2.2) < 1e-9);
  assert_true(fabs(rec.total_ticks - 8.9) < 1e-9);
  assert_true(fabs(rec.picking_ticks + rec.send_ticks + rec.server_queue_ticks +
                   rec.processing_ticks + rec.receive_ticks - rec.total_ticks) < 1e-9);
  assert_true(fabs(rec.tick_at_processing - 43.7) < 1e-9);
  assert_true(fabs(rec.modelled_ticks - 7) < 1e-9); /* 2 + 2 + 3 */
  assert_int_equal(rec.stage, LB_STAGE_RUNNING);
  assert_true(rec.completion_ns == in.completion_ns);
  assert_true(rec.server_queue_ns == in.pick_done_ns + 2 * T + T / 5);
}

static void test_phases_failed(void **state) {
  (void)state;
  struct lb_record_input in = {
      .client = 0,
      .server = 0,
      .outcome = LB_OUTCOME_FAILED,
      .committed = true,
      .intended_ns = clk.t0_ns,
      .pick_done_ns = clk.t0_ns,
      .completion_ns = clk.t0_ns + 5000000,
  };
  struct lb_request_record rec;
  lb_record_fill(&clk, &in, &rec);
  assert_int_equal(rec.outcome, LB_OUTCOME_FAILED);
  assert_true(fabs(rec.send_ticks - 5) < 1e-9);
  assert_true(rec.processing_ticks == 0 && rec.receive_ticks == 0);
  assert_true(fabs(rec.total_ticks - 5) < 1e-9);
  assert_true(rec.modelled_ticks == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_happy_path),
      cmocka_unit_test(test_invalid_transitions),
      cmocka_unit_test(test_timeout_from_any_state),
      cmocka_unit_test(test_received_then_end),
      cmocka_unit_test(test_slot_reuse_changes_generation),
      cmocka_unit_test(test_many_and_foreach),
      cmocka_unit_test(test_phases),
      cmocka_unit_test(test_phases_failed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
