/* pickers: each of the seed's pickers on hand-built channel states, against
 * what the seed's code does for that state. Random pickers: frequencies over
 * DRAWS picks with a fixed seed, each within TOL (absolute) of the
 * probability worked out by hand (TOL is over 4 standard deviations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "expr.h"
#include "picker.h"
#include "pickers/picker_impl.h"
#include "rng.h"

#define DRAWS 10000
#define TOL 0.02
#define MAXCH 8

struct fake_driver {
  int sent;    /* probes sent */
  int watched; /* of which watched */
  int unwatched;
  int sent_on[MAXCH]; /* per channel index */
  struct lb_probe *watches[64];
};

static int fake_send(void *driver, struct lb_channel *ch, struct lb_probe *watch) {
  struct fake_driver *d = driver;
  d->sent++;
  d->sent_on[ch->index]++;
  if (watch) {
    assert_true(d->watched < 64);
    d->watches[d->watched++] = watch;
  }
  lb_channel_on_sent(ch); /* a driver counts a probe as in flight at once */
  return 0;
}

static void fake_unwatch(void *driver, struct lb_probe *watch) {
  struct fake_driver *d = driver;
  (void)watch;
  d->unwatched++;
}

struct fixture {
  struct lb_rng *rng;
  struct fake_driver drv;
  struct lb_pick_env env;
  struct lb_channel ch[MAXCH];
  struct lb_channel *list[MAXCH];
  int n;
};

static void fixture_init(struct fixture *f, int n, const int *servers) {
  memset(f, 0, sizeof(*f));
  assert_int_equal(lb_rng_new(42, &f->rng), 0);
  f->env = (struct lb_pick_env){
      .rng = f->rng, .driver = &f->drv, .send_probe = fake_send, .unwatch_probe = fake_unwatch};
  f->n = n;
  for (int i = 0; i < n; i++) {
    assert_int_equal(lb_channel_init(&f->ch[i], i, servers ? servers[i] : 100 + i, 100), 0);
    f->list[i] = &f->ch[i];
  }
}

static void fixture_close(struct fixture *f) {
  for (int i = 0; i < f->n; i++)
    lb_channel_close(&f->ch[i]);
  lb_rng_free(f->rng);
}

static struct lb_picker *make(const char *expr, int nchannels) {
  struct lb_picker_spec *spec = NULL;
  char err[512];
  if (lb_picker_spec_parse(expr, &spec, err, sizeof(err)) != 0)
    fail_msg("%s: %s", expr, err);
  struct lb_picker *p = NULL;
  assert_int_equal(lb_picker_new(spec, nchannels, &p), 0);
  lb_picker_spec_free(spec);
  return p;
}

static int pick_once(struct fixture *f, struct lb_picker *p) {
  struct lb_probe room[LB_PICK_MAX_PROBES];
  struct lb_pick pick;
  lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
  struct lb_channel *out = NULL;
  int rc = lb_picker_pick(p, &f->env, f->list, f->n, &pick, &out);
  assert_int_equal(rc, LB_PICK_DONE);
  assert_non_null(out);
  return out->index;
}

/* Weights to probabilities. */
static void normalize(double *w, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += w[i];
  for (int i = 0; i < n; i++)
    w[i] /= sum;
}

static void check_freq(const char *what, const int *counts, const double *want, int n, int draws) {
  for (int i = 0; i < n; i++) {
    double got = (double)counts[i] / draws;
    if (fabs(got - want[i]) > TOL)
      fail_msg("%s: channel %d chosen %.4f of the time, expected %.4f +- %.2f", what, i, got,
               want[i], TOL);
  }
}

/* Picks DRAWS times with one instance (or a fresh one per pick). */
static void freq(struct fixture *f, const char *expr, bool fresh, const double *want) {
  int counts[MAXCH] = {0};
  struct lb_picker *p = make(expr, f->n);
  for (int i = 0; i < DRAWS; i++) {
    if (fresh && i) {
      lb_picker_free(p);
      p = make(expr, f->n);
    }
    counts[pick_once(f, p)]++;
  }
  lb_picker_free(p);
  check_freq(expr, counts, want, f->n, DRAWS);
}

static void set_report(struct lb_channel *ch, double rif, double util, double expected) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.requests_in_flight = (struct lb_stat){true, rif, rif, rif};
  r.utilization = (struct lb_stat){true, util, util, util};
  r.has_expected_latency = expected >= 0;
  r.expected_latency = expected;
  lb_channel_on_completed(ch, 1, &r);
}

static void test_first_random_round_robin(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  struct lb_picker *p = make("first", 4);
  for (int i = 0; i < 10; i++)
    assert_int_equal(pick_once(&f, p), 0);
  lb_picker_free(p);

  const double uniform[] = {0.25, 0.25, 0.25, 0.25};
  freq(&f, "random", false, uniform);

  /* One counter per client (instance), from 0, over the list given. */
  struct lb_picker *a = make("round_robin", 4), *b = make("round_robin", 4);
  const int want[] = {0, 1, 2, 3, 0, 1};
  for (int i = 0; i < 6; i++)
    assert_int_equal(pick_once(&f, a), want[i]);
  assert_int_equal(pick_once(&f, b), 0);
  f.n = 3; /* i % len(channels) of the list passed */
  assert_int_equal(pick_once(&f, a), 6 % 3);
  f.n = 4;
  lb_picker_free(a);
  lb_picker_free(b);
  fixture_close(&f);
}

static void test_least(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  int rif[] = {3, 1, 2, 1};
  for (int i = 0; i < 4; i++)
    f.ch[i].requests_in_flight = rif[i];
  /* min rif 1 on channels 1 and 3: ties at random */
  const double ties[] = {0, 0.5, 0, 0.5};
  freq(&f, "least(client.rif)", false, ties);
  /* rotate_ties: the tied channels in turn, the one after the last pick
   * (HAProxy's and nginx's least connections); a channel leaving the tie
   * is skipped, and the turn wraps round. */
  struct lb_picker *rot = make("least(client.rif, rotate_ties=true)", 4);
  assert_int_equal(pick_once(&f, rot), 1);
  assert_int_equal(pick_once(&f, rot), 3);
  assert_int_equal(pick_once(&f, rot), 1);
  f.ch[2].requests_in_flight = 1; /* 1, 2, 3 tie */
  assert_int_equal(pick_once(&f, rot), 2);
  assert_int_equal(pick_once(&f, rot), 3);
  assert_int_equal(pick_once(&f, rot), 1);
  f.ch[0].requests_in_flight = 0; /* 0 alone is least */
  assert_int_equal(pick_once(&f, rot), 0);
  f.ch[0].requests_in_flight = 3;
  f.ch[2].requests_in_flight = 2;
  lb_picker_free(rot);

  /* choices=2, rif 0,1,2,3: sample of 2 without replacement */
  for (int i = 0; i < 4; i++)
    f.ch[i].requests_in_flight = i;
  const double two[] = {0.5, 2.0 / 6, 1.0 / 6, 0};
  freq(&f, "least(client.rif, choices=2)", false, two);
  const double three[] = {0.75, 0.25, 0, 0};
  freq(&f, "least(client.rif, choices=3)", false, three);

  /* None counts 0: the channel without a report wins against rif 3 and 5 */
  set_report(&f.ch[0], 3, 0, -1);
  set_report(&f.ch[1], 5, 0, -1);
  set_report(&f.ch[3], 4, 0, -1);
  const double none_is_zero[] = {0, 0, 1, 0};
  freq(&f, "least(server.rif)", false, none_is_zero);
  /* negative costs clamp to 0: oracle pid of weights -1 and -2 tie with None */
  struct lb_server_report neg1, neg2;
  memset(&neg1, 0, sizeof(neg1));
  memset(&neg2, 0, sizeof(neg2));
  neg1.pid_weight = -1;
  neg2.pid_weight = -2;
  f.ch[0].oracle = &neg1;
  f.ch[1].oracle = &neg2;
  const double clamp[] = {1.0 / 3, 1.0 / 3, 1.0 / 3, 0};
  struct lb_server_report pos;
  memset(&pos, 0, sizeof(pos));
  pos.pid_weight = 4; /* cost 0.25 */
  f.ch[3].oracle = &pos;
  freq(&f, "least(oracle.pid)", false, clamp);
  fixture_close(&f);
}

static void test_weighted(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  /* no data at all: random.choice */
  const double uniform[] = {0.25, 0.25, 0.25, 0.25};
  freq(&f, "weighted(client.latency.mean)", false, uniform);

  /* costs 1, 2, None, 4: the average of the truthy ones (7/3) for None;
   * weights 1, 1/2, 3/7, 1/4 */
  lb_channel_on_completed(&f.ch[0], 1, NULL);
  lb_channel_on_completed(&f.ch[1], 2, NULL);
  lb_channel_on_completed(&f.ch[3], 4, NULL);
  double w[] = {1, 0.5, 3.0 / 7, 0.25};
  normalize(w, 4);
  freq(&f, "weighted(client.latency.mean)", false, w);

  /* client.rif 0, 2, 2, 4: 0 is falsy, it gets the average 8/3 too */
  int rif[] = {0, 2, 2, 4};
  for (int i = 0; i < 4; i++)
    f.ch[i].requests_in_flight = rif[i];
  double w2[] = {3.0 / 8, 0.5, 0.5, 0.25};
  normalize(w2, 4);
  freq(&f, "weighted(client.rif)", false, w2);
  /* every rif 0: no truthy cost, random.choice */
  for (int i = 0; i < 4; i++)
    f.ch[i].requests_in_flight = 0;
  freq(&f, "weighted(client.rif)", false, uniform);

  /* allow_negative: pid weights 2, -4, 0, 1 -> costs 0.5, -0.25, 1e4, 1;
   * weights 2, -4, 1e-4, 1 -> min <= 0: shifted by 4.1 */
  struct lb_server_report r[4];
  double pw[] = {2, -4, 0, 1};
  for (int i = 0; i < 4; i++) {
    memset(&r[i], 0, sizeof(r[i]));
    r[i].pid_weight = pw[i];
    f.ch[i].oracle = &r[i];
  }
  double w3[] = {6.1, 0.1, 4.1001, 5.1};
  normalize(w3, 4);
  freq(&f, "weighted(oracle.pid, allow_negative=true)", false, w3);
  /* without allow_negative: -0.25 clamps to 0, which gets the average of
   * 0.5, 1e4 and 1 */
  double avg = (0.5 + 10000 + 1) / 3;
  double w4[] = {2, 1 / avg, 1e-4, 1};
  normalize(w4, 4);
  freq(&f, "weighted(oracle.pid)", false, w4);
  fixture_close(&f);
}

static void test_client_pid(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 3, NULL);
  /* no utilization reported: random.choice, controllers untouched */
  const double uniform[] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  freq(&f, "client_pid", false, uniform);

  /* utilizations 50, 70, (none -> mean 60); target 70.
   * pick 1: errors 20, 0, 10 -> adjustments 20+20/30+3*20, 0, 10+10/30+30
   * weights 80.667, 0, 40.333 -> shifted +0.1 */
  set_report(&f.ch[0], 0, 50, -1);
  set_report(&f.ch[1], 0, 70, -1);
  double w1[] = {20 + 20.0 / 30 + 60 + 0.1, 0.1, 10 + 10.0 / 30 + 30 + 0.1};
  normalize(w1, 3);
  freq(&f, "client_pid", true, w1);
  /* pick 2: integral 40 and 20, derivative 0 -> weights 102, 0, 51 */
  int counts[3] = {0};
  for (int i = 0; i < DRAWS; i++) {
    struct lb_picker *p = make("client_pid", 3);
    pick_once(&f, p);
    counts[pick_once(&f, p)]++;
    lb_picker_free(p);
  }
  double w2[] = {102.1, 0.1, 51.1};
  normalize(w2, 3);
  check_freq("client_pid second pick", counts, w2, 3, DRAWS);
  fixture_close(&f);

  /* Channels 0 and 1 go to the same server: one name, one utilization
   * entry (the later channel's, 70); mean over names (70 + 30)/2 = 50,
   * target 60. Errors -10, -10, 30 -> -10-1/3-30, same, 30+1+90. */
  const int servers[] = {7, 7, 8};
  fixture_init(&f, 3, servers);
  set_report(&f.ch[0], 0, 50, -1);
  set_report(&f.ch[1], 0, 70, -1);
  set_report(&f.ch[2], 0, 30, -1);
  double a = -10 - 10.0 / 30 - 30, c = 30 + 1 + 90;
  double w3[] = {0.1, 0.1, c - a + 0.1};
  normalize(w3, 3);
  freq(&f, "client_pid", true, w3);
  fixture_close(&f);
}

static void test_subset(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  int rif[] = {0, 5, 5, 5};
  for (int i = 0; i < 4; i++)
    f.ch[i].requests_in_flight = rif[i];
  /* two draws WITH replacement: channel 0 wins when drawn, 1-(3/4)^2 */
  const double want[] = {7.0 / 16, 3.0 / 16, 3.0 / 16, 3.0 / 16};
  freq(&f, "subset(least(client.rif), size=2)", false, want);
  /* size larger than the list is fine (with replacement) */
  f.n = 2;
  const double want2[] = {1 - 1.0 / 8, 1.0 / 8};
  freq(&f, "subset(least(client.rif), size=3)", false, want2);
  f.n = 4;
  fixture_close(&f);
}

static void test_probing(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  struct lb_picker *p = make("probing(first, probes=2)", 4);
  /* every channel empty: 2 probes, on distinct channels, then the inner
   * picker (which sees them in flight) */
  for (int i = 0; i < 200; i++) {
    memset(&f.drv, 0, sizeof(f.drv));
    for (int c = 0; c < 4; c++)
      f.ch[c].requests_in_flight = 0;
    assert_int_equal(pick_once(&f, p), 0);
    assert_int_equal(f.drv.sent, 2);
    assert_int_equal(f.drv.watched, 0);
    for (int c = 0; c < 4; c++)
      assert_true(f.drv.sent_on[c] <= 1 && f.ch[c].requests_in_flight == f.drv.sent_on[c]);
  }
  lb_picker_free(p);

  /* one empty channel: one probe, sampled from ALL channels (the seed's
   * quirk): it lands on a busy channel 3/4 of the time */
  p = make("probing(first, probes=2)", 4);
  int on_empty = 0, total = 0;
  for (int i = 0; i < DRAWS; i++) {
    memset(&f.drv, 0, sizeof(f.drv));
    for (int c = 0; c < 4; c++)
      f.ch[c].requests_in_flight = c == 2 ? 0 : 3;
    pick_once(&f, p);
    assert_int_equal(f.drv.sent, 1);
    on_empty += f.drv.sent_on[2];
    total += f.drv.sent;
  }
  double share = (double)on_empty / total;
  assert_true(fabs(share - 0.25) < TOL);
  lb_picker_free(p);

  /* probes=1.5, all empty: RandomRound gives 1 or 2, mean 1.5 */
  p = make("probing(random, probes=1.5)", 4);
  long sent = 0;
  for (int i = 0; i < DRAWS; i++) {
    memset(&f.drv, 0, sizeof(f.drv));
    for (int c = 0; c < 4; c++)
      f.ch[c].requests_in_flight = 0;
    pick_once(&f, p);
    assert_true(f.drv.sent == 1 || f.drv.sent == 2);
    sent += f.drv.sent;
  }
  assert_true(fabs((double)sent / DRAWS - 1.5) < 0.03);
  lb_picker_free(p);

  /* probing(least(client.rif)): the inner picker sees the probes. With all
   * channels empty and 3 probes on 4 channels, the unprobed one wins. */
  p = make("probing(least(client.rif), probes=3)", 4);
  for (int i = 0; i < 100; i++) {
    memset(&f.drv, 0, sizeof(f.drv));
    for (int c = 0; c < 4; c++)
      f.ch[c].requests_in_flight = 0;
    int got = pick_once(&f, p);
    assert_int_equal(f.drv.sent_on[got], 0);
  }
  lb_picker_free(p);
  fixture_close(&f);
}

/* Completes the watched probe of the pick on channel index ch. */
static struct lb_probe *probe_on(struct lb_pick *pick, int ch) {
  for (int i = 0; i < pick->nprobes; i++) {
    if (pick->probes[i].channel->index == ch)
      return &pick->probes[i];
  }
  fail_msg("no probe on channel %d", ch);
  return NULL;
}

/* A pick needs room for what its picker may watch: one probe per channel a
 * fastest_probe is given, so subset(size=2) of a 12-channel client two;
 * pickers that never wait none. A pick with less room is refused. */
static void test_max_watched(void **state) {
  (void)state;
  struct { const char *expr; int nchannels, want; } cases[] = {
      {"fastest_probe", 3, 3},
      {"subset(fastest_probe, size=2)", 12, 2},
      {"subset(fastest_probe, size=20)", 12, 20}, /* 20 drawn from 12 */
      {"subset(random, size=20)", 12, 0},
      {"probing(subset(fastest_probe, size=3))", 12, 3},
      {"random", 12, 0},
      {"probing(hcl)", 12, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct lb_picker *p = make(cases[i].expr, cases[i].nchannels);
    if (lb_picker_max_watched(p) != cases[i].want)
      fail_msg("%s over %d: %d", cases[i].expr, cases[i].nchannels, lb_picker_max_watched(p));
    lb_picker_free(p);
  }
  struct fixture f;
  fixture_init(&f, 3, NULL);
  /* A subset larger than the client's list: the room max_watched says is
   * enough (a probe on each of the 5 drawn channels). */
  struct lb_picker *p = make("subset(fastest_probe, size=5)", 3);
  struct lb_probe room5[5];
  struct lb_pick pick5;
  lb_pick_init(&pick5, room5, lb_picker_max_watched(p));
  struct lb_channel *out = NULL;
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick5, &out), LB_PICK_WAIT);
  assert_int_equal(pick5.nprobes, 5);
  lb_pick_abandon(&pick5, &f.env);
  lb_picker_free(p);
  memset(&f.drv, 0, sizeof(f.drv));
  p = make("fastest_probe", 3);
  struct lb_probe room[2];
  struct lb_pick pick;
  lb_pick_init(&pick, room, 2);
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), -E2BIG);
  assert_int_equal(f.drv.watched, 0);
  lb_picker_free(p);
  fixture_close(&f);
}

static void test_fastest_probe(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 3, NULL);
  struct lb_picker *p = make("fastest_probe", 3);
  int first_probe_on[3] = {0};
  for (int round = 0; round < 300; round++) {
    memset(&f.drv, 0, sizeof(f.drv));
    struct lb_probe room[LB_PICK_MAX_PROBES];
    struct lb_pick pick;
    lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
    struct lb_channel *out = NULL;
    /* a watched probe on every channel, shuffled, then WAIT */
    assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), LB_PICK_WAIT);
    assert_null(out);
    assert_int_equal(f.drv.watched, 3);
    assert_int_equal(pick.nprobes, 3);
    first_probe_on[pick.probes[0].channel->index]++;
    assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_WAIT);
    /* two complete in the same tick: the first in probe order wins */
    pick.probes[2].done = true;
    pick.probes[2].latency = 3;
    pick.probes[1].done = true;
    pick.probes[1].latency = 9;
    assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_DONE);
    assert_ptr_equal(out, pick.probes[1].channel);
    assert_int_equal(f.drv.unwatched, 1); /* the one still running */
    assert_null(pick.waiting);
    for (int c = 0; c < 3; c++)
      f.ch[c].requests_in_flight = 0;
  }
  /* shuffled order: every channel gets probed first about a third of the time */
  for (int c = 0; c < 3; c++)
    assert_true(first_probe_on[c] > 60);
  lb_picker_free(p);

  /* empty_server (the seed's IsServerEmpty): never valid; waits for all,
   * then the fastest, the last of equals in probe order */
  p = make("fastest_probe(validate=empty_server)", 3);
  memset(&f.drv, 0, sizeof(f.drv));
  struct lb_probe room[LB_PICK_MAX_PROBES];
  struct lb_pick pick;
  lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
  struct lb_channel *out = NULL;
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), LB_PICK_WAIT);
  struct lb_probe *a = probe_on(&pick, 0), *b = probe_on(&pick, 1), *c = probe_on(&pick, 2);
  a->done = true, a->latency = 2, a->has_queued = true, a->queued_latest = 0;
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_WAIT);
  b->done = true, b->latency = 5;
  c->done = true, c->latency = 2;
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_DONE);
  assert_true(out == &f.ch[0] || out == &f.ch[2]);
  int ia = (int)(a - pick.probes), ic = (int)(c - pick.probes);
  assert_ptr_equal(out, ia > ic ? &f.ch[0] : &f.ch[2]);
  assert_int_equal(f.drv.unwatched, 0);
  lb_picker_free(p);

  /* empty_server_fixed: a probe whose server had a queue does not count */
  p = make("fastest_probe(validate=empty_server_fixed)", 3);
  lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
  memset(&f.drv, 0, sizeof(f.drv));
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), LB_PICK_WAIT);
  a = probe_on(&pick, 0), b = probe_on(&pick, 1);
  a->done = true, a->latency = 1, a->has_queued = true, a->queued_latest = 4;
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_WAIT);
  b->done = true, b->latency = 6, b->has_queued = true, b->queued_latest = 0;
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_DONE);
  assert_ptr_equal(out, &f.ch[1]);
  assert_int_equal(f.drv.unwatched, 1);
  lb_picker_free(p);

  /* abandon unwatches what is still running */
  p = make("subset(fastest_probe, size=2)", 3);
  lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
  memset(&f.drv, 0, sizeof(f.drv));
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), LB_PICK_WAIT);
  assert_int_equal(f.drv.watched, 2);
  pick.probes[0].done = true;
  lb_pick_abandon(&pick, &f.env);
  assert_int_equal(f.drv.unwatched, 1);
  assert_int_equal(pick.nprobes, 0);
  lb_picker_free(p);
  fixture_close(&f);
}

/* The mean of the truthy values, bit for bit as the seed's loop: dropped
 * entries (None, 0, -0.0) count for nothing whatever they hold. */
static void test_average_truthy(void **state) {
  (void)state;
  double avg = -1;
  const double v[] = {1, 2, INFINITY, NAN, 0.0, -0.0, 4};
  const bool has[] = {true, true, false, false, true, true, true};
  assert_true(lb__average_truthy(v, has, 7, &avg));
  assert_true(avg == 7.0 / 3);
  const double zeros[] = {0.0, -0.0, NAN};
  const bool zeros_has[] = {true, true, false};
  assert_false(lb__average_truthy(zeros, zeros_has, 3, &avg));
  /* x + (-x) is +0.0, and so is the mean */
  const double cancel[] = {-0.0, -1, 1};
  const bool all[] = {true, true, true};
  assert_true(lb__average_truthy(cancel, all, 3, &avg));
  assert_true(avg == 0 && !signbit(avg));
  /* a truthy NaN makes the mean NaN */
  const double nan[] = {1, NAN, 2};
  assert_true(lb__average_truthy(nan, all, 3, &avg));
  assert_true(isnan(avg));
}

static void test_hcl_percentile(void **state) {
  (void)state;
  /* np.percentile(..., 80) worked by hand: index 0.8*(n-1), linear */
  const double five[] = {1, 2, 3, 4, 5};
  assert_true(fabs(lb__hcl_percentile(five, 5, NULL, 0, 80) - 4.2) < 1e-12);
  const double odd[] = {1, 3, 5}, even[] = {2, 4};
  assert_true(fabs(lb__hcl_percentile(odd, 3, even, 2, 80) - 4.2) < 1e-12);
  assert_true(fabs(lb__hcl_percentile(even, 2, odd, 3, 80) - 4.2) < 1e-12);
  const double four[] = {1, 2, 3, 4};
  assert_true(lb__hcl_percentile(four, 4, NULL, 0, 50) == 2.5);
  const double one[] = {10};
  assert_true(lb__hcl_percentile(one, 1, NULL, 0, 80) == 10);
  assert_true(lb__hcl_percentile(NULL, 0, one, 1, 0) == 10);
  /* numpy's lerp from above when t >= 0.5: 10 - 10*(1-0.75) */
  const double two[] = {0, 10};
  assert_true(lb__hcl_percentile(two, 2, NULL, 0, 75) == 7.5);
  assert_true(lb__hcl_percentile(two, 2, NULL, 0, 100) == 10);
  assert_true(lb__hcl_percentile(two, 2, NULL, 0, 0) == 0);
}

/* Selection over two sorted runs against sorting their concatenation, with
 * ties (small integers) and without (uniform doubles), all sizes to 60. */
static int cmp_pct(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void test_hcl_percentile_random(void **state) {
  (void)state;
  struct lb_rng *rng = NULL;
  assert_int_equal(lb_rng_new(7, &rng), 0);
  double a[60], b[60], all[120];
  for (int round = 0; round < 3000; round++) {
    size_t na = lb_rng_below(rng, 61), nb = lb_rng_below(rng, 61);
    if (na + nb == 0)
      continue;
    bool ties = round % 2 == 0;
    for (size_t i = 0; i < na; i++)
      a[i] = ties ? (double)lb_rng_below(rng, 5) : lb_rng_uniform(rng);
    for (size_t i = 0; i < nb; i++)
      b[i] = ties ? (double)lb_rng_below(rng, 5) : lb_rng_uniform(rng);
    qsort(a, na, sizeof(double), cmp_pct);
    qsort(b, nb, sizeof(double), cmp_pct);
    memcpy(all, a, na * sizeof(double));
    memcpy(all + na, b, nb * sizeof(double));
    qsort(all, na + nb, sizeof(double), cmp_pct);
    double q = round % 7 == 0 ? 100.0 * (double)(round % 3) / 2 : 100 * lb_rng_uniform(rng);
    /* numpy's linear method on the sorted concatenation */
    size_t n = na + nb;
    double vi = (double)(n - 1) * (q / 100.0);
    size_t prev = vi >= (double)(n - 1) ? n - 1 : (size_t)floor(vi);
    size_t next = prev + 1 < n ? prev + 1 : prev;
    double t = vi - (double)prev, diff = all[next] - all[prev];
    double want = t >= 0.5 ? all[next] - diff * (1 - t) : all[prev] + diff * t;
    double got = lb__hcl_percentile(a, na, b, nb, q);
    if (got != want)
      fail_msg("round %d: %zu+%zu values, q %g: %.17g, sorted %.17g", round, na, nb, q, got, want);
    /* Sorting gives the order statistics directly: the k-th is all[k]. */
    assert_true(lb__hcl_percentile(all, na + nb, NULL, 0, 0) == all[0]);
    assert_true(lb__hcl_percentile(NULL, 0, all, na + nb, 100) == all[na + nb - 1]);
  }
  lb_rng_free(rng);
}

static void set_health_rank(struct fixture *f, const double *health, const double *rank) {
  for (int i = 0; i < f->n; i++) {
    set_report(&f->ch[i], health[i], 0, rank[i]);
  }
}

static void test_hcl(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  /* no health at all: random, nothing recorded */
  struct lb_picker *p = make("hcl", 4);
  pick_once(&f, p);
  lb_picker_free(p);

  p = make("hcl", 4);
  /* pick 1: health (server.rif) 10, 1, 5, 20; histories [10] [1] [5] [20]
   * -> cutoff percentile([1,5,10,20], 80) = 10 + 0.4*10 = 14; healthy 0,1,2;
   * ranks 1, 9, 3 (and 0.5 for the unhealthy 3) -> channel 0 */
  double h1[] = {10, 1, 5, 20}, r1[] = {1, 9, 3, 0.5};
  set_health_rank(&f, h1, r1);
  assert_int_equal(pick_once(&f, p), 0);
  /* pick 2: health 30, 1, 5, 20: all 8 values [1,1,5,5,10,20,20,30],
   * index 5.6 -> 20; healthy 1,2,3 -> least rank is channel 3 */
  double h2[] = {30, 1, 5, 20};
  set_health_rank(&f, h2, r1);
  assert_int_equal(pick_once(&f, p), 3);
  lb_picker_free(p);

  /* cutoff=0: the least value of the history; nothing healthy -> least health */
  p = make("hcl(cutoff=0)", 4);
  set_health_rank(&f, h1, r1);
  assert_int_equal(pick_once(&f, p), 1); /* cutoff 1: channel 1 alone */
  double h3[] = {4, 3, 2, 6};
  set_health_rank(&f, h3, r1);
  assert_int_equal(pick_once(&f, p), 2); /* cutoff 1: none; least health 2 */
  lb_picker_free(p);

  /* history=1: only the latest value per server: [4,3,2,6] at 80 -> 4.8;
   * health 4, 3, 2 healthy -> least rank channel 0 */
  p = make("hcl(history=1)", 4);
  set_health_rank(&f, h1, r1);
  pick_once(&f, p);
  set_health_rank(&f, h3, r1);
  assert_int_equal(pick_once(&f, p), 0);
  lb_picker_free(p);

  /* ranks missing: None -> average rank; all missing -> random */
  p = make("hcl", 4);
  double h4[] = {1, 1, 1, 1}, r4[] = {-1, -1, 2, -1};
  set_health_rank(&f, h4, r4);
  /* ranks: avg 2 everywhere -> first of least rank: channel 0 */
  assert_int_equal(pick_once(&f, p), 0);
  lb_picker_free(p);
  fixture_close(&f);
}

/* A server listed twice: the seed appends to its history twice and
 * concatenates it twice (before and after the second append). */
static void test_hcl_repeated_server(void **state) {
  (void)state;
  const int servers[] = {7, 7, 8};
  struct fixture f;
  fixture_init(&f, 3, servers);
  /* health client.rif 1, 9, 5: seed's list [1] + [1, 9] + [5] = [1,1,5,9];
   * percentile 50: index 1.5 -> 3. Healthy: channel 0 only (rank 2);
   * without the repeated copy the cutoff would be 5 and channel 2 (rank 0.5)
   * would win. */
  int rif[] = {1, 9, 5};
  double lat[] = {2, 3, 0.5};
  for (int i = 0; i < 3; i++) {
    f.ch[i].requests_in_flight = rif[i];
    lb_channel_on_completed(&f.ch[i], lat[i], NULL);
  }
  struct lb_picker *p = make("hcl(rank=client.latency.mean, health=client.rif, cutoff=50)", 3);
  assert_int_equal(pick_once(&f, p), 0);
  /* pick 2, same state: history[7] = [1,9,1,9], history[8] = [5,5];
   * seed's list: [1,9,1] + [1,9,1,9] + [5,5] -> sorted [1,1,1,1,5,5,9,9,9],
   * index 4 -> 5: channel 2 is healthy now and wins on rank */
  assert_int_equal(pick_once(&f, p), 2);
  lb_picker_free(p);

  /* Under subset the list is a sub-list: only listed servers' histories
   * count (the fallback path); it must agree with a hand computation. With
   * subset(size=1) the list is one channel, whatever its health. */
  p = make("subset(hcl(rank=client.latency.mean, health=client.rif), size=1)", 3);
  for (int i = 0; i < 50; i++)
    pick_once(&f, p);
  lb_picker_free(p);
  fixture_close(&f);
}

/* hcl against the seed's Hcl written out naively (append, concatenate every
 * listed history, sort, np.percentile, pick), pick for pick, over random
 * lists with repeated servers, lists that change between picks, integer
 * healths (the picker's histogram mode), and healths too large for it (its
 * sorted mode from then on). */
#define NCH 8      /* channels of the fixture */
#define NSERVERS 5 /* their servers: some share one */
#define MAXLIST 12
#define MAXHIST 100

struct seed_hcl {
  int history;
  double cutoff;
  double hist[NSERVERS][MAXHIST]; /* oldest first */
  int len[NSERVERS];
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void seed_append(struct seed_hcl *m, int server, double x) {
  double *h = m->hist[server];
  if (m->len[server] == m->history) {
    memmove(h, h + 1, (size_t)(m->history - 1) * sizeof(double));
    h[m->history - 1] = x;
  } else {
    h[m->len[server]++] = x;
  }
}

/* np.percentile(values, q), linear, as numpy computes it. */
static double seed_percentile(double *v, size_t n, double q) {
  qsort(v, n, sizeof(double), cmp_double);
  double vi = (double)(n - 1) * (q / 100.0);
  size_t lo = vi >= (double)(n - 1) ? n - 1 : (size_t)floor(vi);
  size_t hi = lo + 1 < n && vi < (double)(n - 1) ? lo + 1 : lo;
  double t = vi - (double)lo, diff = v[hi] - v[lo];
  return t >= 0.5 ? v[hi] - diff * (1 - t) : v[lo] + diff * t;
}

/* Hcl.__call__ with health client.rif (always a value) and rank
 * client.latency.mean (every channel has one): the list position picked,
 * or -1 where the seed picks at random. */
static int seed_pick(struct seed_hcl *m, const int *server, const double *health,
                     const double *rank, int n) {
  bool truthy = false;
  for (int i = 0; i < n; i++)
    truthy |= health[i] != 0;
  if (!truthy)
    return -1;
  static double all[MAXLIST * MAXHIST];
  size_t na = 0;
  for (int i = 0; i < n; i++) {
    seed_append(m, server[i], health[i]);
    memcpy(all + na, m->hist[server[i]], (size_t)m->len[server[i]] * sizeof(double));
    na += (size_t)m->len[server[i]];
  }
  double cutoff = seed_percentile(all, na, m->cutoff);
  int best = -1, healthiest = 0;
  for (int i = 0; i < n; i++) {
    if (health[i] <= cutoff && (best < 0 || rank[i] < rank[best]))
      best = i;
    if (health[i] < health[healthiest])
      healthiest = i;
  }
  return best >= 0 ? best : healthiest;
}

/* A health (client.rif) for the next pick: small, now and then 0, or (big)
 * now and then past any histogram. */
static int draw_health(struct lb_rng *g, bool big) {
  double u = lb_rng_uniform(g);
  if (u < 0.1)
    return 0;
  if (big && u > 0.995)
    return 20000 + (int)lb_rng_below(g, 5);
  return (int)lb_rng_below(g, 40);
}

static void run_case(int history, double cutoff, bool same_list, bool big, uint64_t seed) {
  static const int server_of[NCH] = {0, 1, 2, 2, 3, 4, 4, 4};
  struct lb_channel ch[NCH];
  struct lb_rng *g = NULL, *pick_rng = NULL;
  assert_int_equal(lb_rng_new(seed, &g), 0);
  assert_int_equal(lb_rng_new(seed + 1, &pick_rng), 0);
  for (int i = 0; i < NCH; i++) {
    assert_int_equal(lb_channel_init(&ch[i], i, 100 + server_of[i], 4), 0);
    lb_channel_on_completed(&ch[i], 1 + (double)lb_rng_below(g, 5), NULL);
  }
  char expr[128];
  snprintf(expr, sizeof(expr),
           "hcl(rank=client.latency.mean, health=client.rif, cutoff=%g, history=%d)", cutoff,
           history);
  struct lb_picker *p = make(expr, NCH);
  struct seed_hcl m = {.history = history, .cutoff = cutoff};
  struct lb_pick_env env = {.rng = pick_rng};
  struct lb_channel *list[MAXLIST];
  int server[MAXLIST], n = MAXLIST;
  for (int i = 0; i < n; i++)
    list[i] = &ch[lb_rng_below(g, NCH)];
  for (int round = 0; round < 400; round++) {
    if (!same_list) {
      n = 1 + (int)lb_rng_below(g, MAXLIST);
      for (int i = 0; i < n; i++)
        list[i] = &ch[lb_rng_below(g, NCH)];
    }
    for (int i = 0; i < NCH; i++)
      ch[i].requests_in_flight = draw_health(g, big);
    double health[MAXLIST], rank[MAXLIST];
    for (int i = 0; i < n; i++) {
      server[i] = server_of[list[i]->index];
      health[i] = list[i]->requests_in_flight;
      assert_true(lb_window_mean(&list[i]->latency, &rank[i]));
    }
    int want = seed_pick(&m, server, health, rank, n);
    struct lb_probe room[LB_PICK_MAX_PROBES];
    struct lb_pick pick;
    lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
    struct lb_channel *out = NULL;
    assert_int_equal(lb_picker_pick(p, &env, list, n, &pick, &out), LB_PICK_DONE);
    if (want >= 0 && out != list[want])
      fail_msg("history %d cutoff %g seed %llu round %d: picked channel %d, the seed %d", history,
               cutoff, (unsigned long long)seed, round, out->index, list[want]->index);
  }
  lb_picker_free(p);
  for (int i = 0; i < NCH; i++)
    lb_channel_close(&ch[i]);
  lb_rng_free(g);
  lb_rng_free(pick_rng);
}

static void test_hcl_as_the_seed(void **state) {
  (void)state;
  const int histories[] = {1, 3, 100};
  const double cutoffs[] = {0, 37.5, 80, 100};
  uint64_t seed = 1;
  for (size_t h = 0; h < 3; h++)
    for (size_t c = 0; c < 4; c++)
      for (int mode = 0; mode < 4; mode++)
        run_case(histories[h], cutoffs[c], mode & 1, mode & 2, seed++);
}

static void test_least_request(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  int rif[] = {0, 5, 5, 5};
  for (int i = 0; i < 4; i++)
    f.ch[i].requests_in_flight = rif[i];
  /* two independent draws, fewest active wins, first of equals */
  const double p2c[] = {7.0 / 16, 3.0 / 16, 3.0 / 16, 3.0 / 16};
  freq(&f, "least_request", false, p2c);
  freq(&f, "least_request(bias=2.5)", false, p2c);
  const double one[] = {0.25, 0.25, 0.25, 0.25};
  freq(&f, "least_request(choices=1)", false, one);
  fixture_close(&f);
}

/* ---- peers: each published rule pinned ---- */

/* Finagle: each sample decays from its own arrival time. Channel 0: 30 at
 * t=0, 10 at t=10, looked at t=20: (30e^-1 + 10(1-e^-1)) e^-1 = 6.39.
 * Taken at the look instead: 30e^-2 + 10(1-e^-2) = 12.7. Channel 1: 8 at
 * t=20. So channel 0 wins only when each sample keeps its time. */
static void test_peak_ewma_sample_times(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 2, NULL);
  struct lb_picker *p = make("peak_ewma(decay=10)", 2);
  lb_channel_on_completed_at(&f.ch[0], 0, 30, NULL);
  f.env.now_ticks = 0;
  pick_once(&f, p); /* both seen at t=0 */
  lb_channel_on_completed_at(&f.ch[0], 10, 10, NULL);
  lb_channel_on_completed_at(&f.ch[1], 20, 8, NULL);
  f.env.now_ticks = 20;
  assert_int_equal(pick_once(&f, p), 0);
  lb_picker_free(p);
  fixture_close(&f);
}

static void test_peak_ewma(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 2, NULL);
  struct lb_picker *p = make("peak_ewma(decay=10)", 2);
  lb_channel_on_completed_at(&f.ch[0], 1, 10, NULL);
  lb_channel_on_completed_at(&f.ch[1], 1, 2, NULL);
  f.env.now_ticks = 1;
  /* two channels: both are always the candidates (distinct); 2 < 10 */
  for (int i = 0; i < 20; i++)
    assert_int_equal(pick_once(&f, p), 1);
  /* a peak: the estimate jumps to 50 at once */
  lb_channel_on_completed_at(&f.ch[1], 1, 50, NULL);
  assert_int_equal(pick_once(&f, p), 0);
  /* load = cost * (pending + 1): 10 * 6 > 50 * 1 */
  f.ch[0].requests_in_flight = 5;
  assert_int_equal(pick_once(&f, p), 1);
  lb_picker_free(p);

  /* decay by elapsed time: estimates 30 and 20 at t=0; at t=10 channel 0
   * takes a sample of 10: 30e^-1 + 10(1-e^-1) = 17.36; channel 1, idle,
   * decays to 20e^-1 = 7.36: times (pending + 1), 14.7 with 1 pending
   * (chosen), 22.1 with 2 (not) */
  for (int pending = 1; pending <= 2; pending++) {
    struct fixture g;
    fixture_init(&g, 2, NULL);
    p = make("peak_ewma(decay=10)", 2);
    lb_channel_on_completed_at(&g.ch[0], 0, 30, NULL);
    lb_channel_on_completed_at(&g.ch[1], 0, 20, NULL);
    g.env.now_ticks = 0;
    assert_int_equal(pick_once(&g, p), 1);
    g.env.now_ticks = 10;
    lb_channel_on_completed_at(&g.ch[0], 10, 10, NULL);
    g.ch[1].requests_in_flight = pending;
    assert_int_equal(pick_once(&g, p), pending == 1 ? 1 : 0);
    lb_picker_free(p);
    fixture_close(&g);
  }

  /* a channel with pending requests and no estimate gets Finagle's penalty */
  struct fixture g;
  fixture_init(&g, 2, NULL);
  p = make("peak_ewma", 2);
  lb_channel_on_completed(&g.ch[0], 1000, NULL);
  g.ch[1].requests_in_flight = 1;
  for (int i = 0; i < 20; i++)
    assert_int_equal(pick_once(&g, p), 0);
  lb_picker_free(p);
  fixture_close(&g);
  fixture_close(&f);
}

static void set_orca(struct lb_channel *ch, double qps, double util, double eps) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.orca_qps = qps;
  r.orca_utilization = util;
  r.orca_eps = eps;
  lb_channel_on_completed(ch, 1, &r);
}

static void count_picks(struct fixture *f, struct lb_picker *p, int k, int *counts) {
  memset(counts, 0, (size_t)f->n * sizeof(*counts));
  for (int i = 0; i < k; i++)
    counts[pick_once(f, p)]++;
}

/* gRFC A58: weight = qps / (util + eps/qps * penalty); blackout, expiry and
 * the update period in seconds through the tick; EDF by weight. */
static void test_orca_wrr(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 3, NULL);
  f.env.tick_seconds = 0.01;
  /* blackout 0.1 s = 10 ticks, expiry 1.8 s = 180 ticks, update 0.05 s */
  struct lb_picker *p = make("orca_wrr(blackout=0.1, expiry=1.8, update=0.05)", 3);
  /* weights 10/0.5 = 20, 10/0.25 = 40, and 10/(0.25 + 5/10*1) = 13.33 */
  set_orca(&f.ch[0], 10, 0.5, 0);
  set_orca(&f.ch[1], 10, 0.25, 0);
  set_orca(&f.ch[2], 10, 0.25, 5);
  f.env.now_ticks = 0;
  int counts[3];
  /* in the blackout: fewer than two weights, round robin */
  count_picks(&f, p, 300, counts);
  for (int c = 0; c < 3; c++)
    assert_true(abs(counts[c] - 100) <= 1);
  /* 9 ticks later (0.09 s): still in the blackout, and the update is due */
  f.env.now_ticks = 9;
  count_picks(&f, p, 300, counts);
  for (int c = 0; c < 3; c++)
    assert_true(abs(counts[c] - 100) <= 1);
  /* at 10 (0.1 s) the blackout is over, but the scheduler was rebuilt at
   * 9: the weights come with the next rebuild, at 14 */
  f.env.now_ticks = 10;
  count_picks(&f, p, 300, counts);
  for (int c = 0; c < 3; c++)
    assert_true(abs(counts[c] - 100) <= 1);
  /* EDF by weight, 20 : 40 : 13.33 = 3 : 6 : 2 */
  f.env.now_ticks = 14;
  count_picks(&f, p, 1100, counts);
  assert_true(abs(counts[0] - 300) <= 3);
  assert_true(abs(counts[1] - 600) <= 3);
  assert_true(abs(counts[2] - 200) <= 3);
  /* new reports take effect at the next update only (every 5 ticks):
   * channel 2's weight becomes 40 (no errors) */
  set_orca(&f.ch[2], 10, 0.25, 0);
  f.env.now_ticks = 15; /* 1 tick after the rebuild at 14: not yet */
  count_picks(&f, p, 1100, counts);
  assert_true(abs(counts[2] - 200) <= 3);
  f.env.now_ticks = 19; /* 3 : 6 : 6 */
  count_picks(&f, p, 1500, counts);
  assert_true(abs(counts[0] - 300) <= 3);
  assert_true(abs(counts[2] - 600) <= 3);
  /* an endpoint without a weight gets the mean of the others': channel 0
   * expires (its last report at 0, 180 ticks ago), 1 and 2 (reported at
   * 19.5 below) weigh 40 each, channel 0 their mean 40 */
  set_orca(&f.ch[1], 10, 0.25, 0);
  set_orca(&f.ch[2], 10, 0.25, 0);
  f.env.now_ticks = 19.5;
  pick_once(&f, p); /* reports taken at 15.5 */
  f.env.now_ticks = 180;
  count_picks(&f, p, 300, counts);
  for (int c = 0; c < 3; c++)
    assert_true(abs(counts[c] - 100) <= 2);
  lb_picker_free(p);

  /* random initial deadlines: the first pick of fresh instances is spread */
  int first[3] = {0};
  for (int i = 0; i < 600; i++) {
    p = make("orca_wrr", 3);
    first[pick_once(&f, p)]++;
    lb_picker_free(p);
  }
  for (int c = 0; c < 3; c++)
    assert_true(first[c] > 120);
  fixture_close(&f);
}

static void set_threads(struct lb_channel *ch, uint32_t threads, uint32_t resets) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.threads = threads;
  r.resets = resets;
  lb_channel_on_completed(ch, 1, &r);
}

/* Envoy: unequal weights go EDF on weight / (active + 1)^bias. */
static void test_least_request_weights(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 2, NULL);
  set_threads(&f.ch[0], 100, 0);
  set_threads(&f.ch[1], 50, 0);
  int counts[2];
  struct lb_picker *p = make("least_request", 2);
  count_picks(&f, p, 300, counts); /* 100 : 50 */
  assert_true(abs(counts[0] - 200) <= 2);
  lb_picker_free(p);
  /* one active request on channel 0: 100/2 : 50/1, even */
  f.ch[0].requests_in_flight = 1;
  p = make("least_request(bias=1)", 2);
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 150) <= 2);
  lb_picker_free(p);
  /* bias 0: the weights alone */
  p = make("least_request(bias=0)", 2);
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 200) <= 2);
  lb_picker_free(p);
  /* weights=none: equal, P2C on active requests: channel 1 unless both
   * draws are channel 0 (1/4) */
  p = make("least_request(weights=none)", 2);
  count_picks(&f, p, DRAWS, counts);
  assert_true(fabs((double)counts[0] / DRAWS - 0.25) < TOL);
  lb_picker_free(p);
  fixture_close(&f);
}

/* Envoy's slow start: factor max(min%, (max(t, 1)/window)^(1/aggression))
 * on a joining or returning host's weight. */
static void test_slow_start(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 2, NULL);
  f.env.tick_seconds = 1; /* a tick is a second: times in seconds */
  set_threads(&f.ch[0], 100, 0);
  set_threads(&f.ch[1], 100, 0);
  struct lb_picker *p = make("slow_start(least_request, window=10, aggression=1)", 2);
  int counts[2];
  f.env.now_ticks = 0; /* both join: equal factors, equal weights: P2C */
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 150) <= 40);
  /* channel 1's server reset at t=20 (after the window): it returns and
   * ramps. At t=25, 5 s in: factor 0.5, weights 100 : 50 */
  f.env.now_ticks = 20;
  set_threads(&f.ch[1], 100, 1);
  pick_once(&f, p);
  f.env.now_ticks = 25;
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 200) <= 2);
  /* min_weight_percent: 0.5 s in, (max(0.5, 1)/10) = 0.1, floored at
   * 50 %: 0.5 (both joined at 30, out of the window at 45) */
  lb_picker_free(p);
  p = make("slow_start(least_request, window=10, min_weight_percent=50)", 2);
  f.env.now_ticks = 30;
  pick_once(&f, p);
  f.env.now_ticks = 45;
  pick_once(&f, p);
  set_threads(&f.ch[1], 100, 2);
  f.env.now_ticks = 45.5;
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 200) <= 2);
  lb_picker_free(p);
  /* aggression 2: 2.5 s of 10: sqrt(0.25) = 0.5 */
  p = make("slow_start(least_request, window=10, aggression=2)", 2);
  f.env.now_ticks = 30;
  pick_once(&f, p);
  f.env.now_ticks = 40;
  set_threads(&f.ch[1], 100, 3);
  pick_once(&f, p);
  f.env.now_ticks = 42.5;
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 200) <= 2);
  /* after the window: equal again (P2C) */
  f.env.now_ticks = 51;
  count_picks(&f, p, 300, counts);
  assert_true(abs(counts[0] - 150) <= 40);
  lb_picker_free(p);
  fixture_close(&f);
}

/* A probe answer as a server gives it: RIF and latency estimate, at t. */
static void answer(struct lb_channel *ch, double t, double rif, double latency) {
  struct lb_server_report r;
  memset(&r, 0, sizeof(r));
  r.has_probe_answer = true;
  r.probe_rif = rif;
  r.probe_latency = latency;
  lb_channel_on_completed_at(ch, t, 1, &r);
}

static void test_prequal_selection(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  f.env.tick_seconds = 0.01;
  /* remove=0: the pool only changes by use and reuse (m=16 >= n=4:
   * reuse unlimited). */
  struct lb_picker *p = make("prequal(probes=0, remove=0)", 4);
  /* fewer than two results: uniform random */
  answer(&f.ch[0], 0, 10, 1);
  int counts[4];
  count_picks(&f, p, 400, counts);
  for (int c = 0; c < 4; c++)
    assert_true(counts[c] > 60);
  /* results (rif, latency): (10, 1), (2, 5), (3, 4). Q_RIF = 2^-0.25:
   * quantile of [2, 3, 10] = 3 + (2*0.8409 - 1)*7 = 7.77: channel 0 hot;
   * the cold one with the lowest latency: channel 2 */
  answer(&f.ch[1], 0, 2, 5);
  answer(&f.ch[2], 0, 3, 4);
  assert_int_equal(pick_once(&f, p), 2);
  /* each use raises its RIF: 4, 5, ...; channel 2 stays cold while
   * its RIF is at most the quantile of [2, rif, 10] = rif + 0.68 (10 - rif),
   * always: it keeps winning against the hot channel 0 */
  for (int i = 0; i < 5; i++)
    assert_int_equal(pick_once(&f, p), 2); /* RIF 4..8 */
  /* RIF 9: quantile of [2, 9, 10] = 9.68: channel 0 (10) still hot; at
   * 10: [2, 10, 10] = 10: channel 0 cold with latency 1 wins */
  assert_int_equal(pick_once(&f, p), 2); /* 9 -> 10 */
  assert_int_equal(pick_once(&f, p), 0); /* 10 -> 11 */
  lb_picker_free(p);

  /* rif_quantile=0: hot above the lowest RIF: only channel 1 is cold */
  p = make("prequal(probes=0, remove=0, rif_quantile=0)", 4);
  answer(&f.ch[0], 1, 10, 1);
  answer(&f.ch[1], 1, 2, 5);
  answer(&f.ch[2], 1, 3, 4);
  f.env.now_ticks = 1;
  assert_int_equal(pick_once(&f, p), 1);
  lb_picker_free(p);
  fixture_close(&f);
}

static void test_prequal_pool(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 4, NULL);
  f.env.tick_seconds = 0.01;
  /* max_age 1 s = 100 ticks: a result of t=0 is usable at 100, not at
   * 100.5 (rif_quantile=1: nothing hot, the lower latency wins) */
  struct lb_picker *p = make("prequal(probes=0, remove=0, rif_quantile=1)", 4);
  answer(&f.ch[0], 0, 5, 1);
  answer(&f.ch[1], 0, 5, 9);
  f.env.now_ticks = 100;
  for (int i = 0; i < 10; i++)
    assert_int_equal(pick_once(&f, p), 0);
  f.env.now_ticks = 100.5;
  int counts[4];
  count_picks(&f, p, 400, counts);
  for (int c = 0; c < 4; c++)
    assert_true(counts[c] > 60);
  lb_picker_free(p);

  /* the pool holds m; on overflow the oldest leaves: pool=2, answers of
   * channels 0 (t=1, best), 1 (t=2), 2 (t=3): channel 0 is gone */
  p = make("prequal(probes=0, remove=0, pool=2)", 4);
  answer(&f.ch[0], 1, 0, 1);
  answer(&f.ch[1], 2, 0, 5);
  answer(&f.ch[2], 3, 0, 4);
  f.env.now_ticks = 3;
  assert_int_equal(pick_once(&f, p), 2);
  lb_picker_free(p);

  /* removal alternates the oldest and the worst: remove=1, results of
   * channels 0 (t=4, latency 1), 1 (t=5, latency 9), 2 (t=6, latency 5),
   * 3 (t=7, latency 7), none hot (equal RIF). Pick 1 uses channel 0 and
   * removes the oldest (channel 0); pick 2 uses channel 2, whose RIF goes
   * to 2: hot (above 1.68 of [1, 1, 2]), so the worst is the highest RIF,
   * channel 2, removed; pick 3 uses channel 3 (7 < 9) and removes the
   * oldest (1); left: 3 alone, random. */
  p = make("prequal(probes=0, remove=1)", 4);
  answer(&f.ch[0], 4, 1, 1);
  answer(&f.ch[1], 5, 1, 9);
  answer(&f.ch[2], 6, 1, 5);
  answer(&f.ch[3], 7, 1, 7);
  f.env.now_ticks = 7;
  assert_int_equal(pick_once(&f, p), 0);
  assert_int_equal(pick_once(&f, p), 2);
  assert_int_equal(pick_once(&f, p), 3);
  count_picks(&f, p, 400, counts);
  for (int c = 0; c < 4; c++)
    assert_true(counts[c] > 60);
  lb_picker_free(p);
  fixture_close(&f);
}

/* Eq. 1: b_reuse = max{1, (1+delta)/((1 - m/n) r_probe - r_remove)}. */
static void test_prequal_reuse_budget(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 8, NULL);
  f.env.tick_seconds = 0.01;
  /* m=4, n=8, r_probe=3 (none sent: they are counted by the formula only
   * through the argument; probes=3 would send), r_remove=0:
   * (1+0.1)/(0.5*3) = 0.73 -> 1: each result serves one query. With
   * probes sent the pool would refill, so sending is checked apart. */
  struct lb_picker *p = make("prequal(probes=3, pool=4, remove=0)", 8);
  answer(&f.ch[0], 0, 1, 1);
  answer(&f.ch[1], 0, 1, 2);
  answer(&f.ch[2], 0, 1, 3);
  assert_int_equal(pick_once(&f, p), 0); /* used once: gone */
  assert_int_equal(pick_once(&f, p), 1);
  /* one result left: random */
  int counts[8];
  count_picks(&f, p, 800, counts);
  for (int c = 0; c < 8; c++)
    assert_true(counts[c] > 50);
  lb_picker_free(p);

  /* delta=3: 4/1.5 = 2.67, rounded to 2 or 3: channel 0 serves 2 or 3
   * queries, over fresh pickers both, about 1/3 and 2/3 */
  int uses[4] = {0};
  for (int k = 0; k < 300; k++) {
    p = make("prequal(probes=3, pool=4, remove=0, delta=3, rif_quantile=1)", 8);
    answer(&f.ch[0], 0, 1, 1);
    answer(&f.ch[1], 0, 1, 50);
    int u = 0;
    while (u < 3 && pick_once(&f, p) == 0)
      u++;
    uses[u]++;
    lb_picker_free(p);
  }
  assert_int_equal(uses[0] + uses[1], 0);
  assert_true(abs(uses[2] - 100) < 30 && abs(uses[3] - 200) < 30);

  /* denominator <= 0 (m >= n: 16 of 8): reuse unlimited */
  p = make("prequal(probes=3, remove=0, rif_quantile=1)", 8);
  answer(&f.ch[0], 0, 1, 1);
  answer(&f.ch[1], 0, 1, 50);
  for (int i = 0; i < 40; i++)
    assert_int_equal(pick_once(&f, p), 0);
  lb_picker_free(p);
  fixture_close(&f);
}

static void test_prequal_probes(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 8, NULL);
  /* r_probe=3: three probes to distinct channels per query */
  struct lb_picker *p = make("prequal", 8);
  for (int k = 0; k < 50; k++) {
    memset(&f.drv, 0, sizeof(f.drv));
    pick_once(&f, p);
    assert_int_equal(f.drv.sent, 3);
    assert_int_equal(f.drv.watched, 0);
    for (int c = 0; c < 8; c++)
      assert_true(f.drv.sent_on[c] <= 1);
  }
  lb_picker_free(p);
  /* stochastically rounded: 1.25 per query on average */
  p = make("prequal(probes=1.25)", 8);
  memset(&f.drv, 0, sizeof(f.drv));
  for (int k = 0; k < 4000; k++)
    pick_once(&f, p);
  assert_true(fabs(f.drv.sent / 4000.0 - 1.25) < 0.03);
  lb_picker_free(p);
  /* uniform: every channel probed about as often */
  for (int c = 0; c < 8; c++)
    assert_true(abs(f.drv.sent_on[c] - 625) < 100);

  /* sync: the query waits for its own probes, then picks among them */
  p = make("prequal_sync(probes=2)", 8);
  memset(&f.drv, 0, sizeof(f.drv));
  struct lb_probe room[LB_PICK_MAX_PROBES];
  struct lb_pick pick;
  lb_pick_init(&pick, room, lb_picker_max_watched(p));
  struct lb_channel *out = NULL;
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, f.n, &pick, &out), LB_PICK_WAIT);
  assert_int_equal(f.drv.watched, 2);
  struct lb_channel *a = pick.probes[0].channel, *b = pick.probes[1].channel;
  answer(a, 0, 3, 9);
  pick.probes[0].done = true;
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_WAIT);
  answer(b, 0, 3, 2);
  pick.probes[1].done = true;
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), LB_PICK_DONE);
  assert_ptr_equal(out, b); /* the lower latency */
  lb_picker_free(p);
  fixture_close(&f);
}

/* Every picker of the catalog, on a 12-channel client with a repeated
 * server and reports on every channel: no allocation once built. */
static void test_no_allocation_per_pick(void **state) {
  (void)state;
#ifndef ALLOC_COUNTING
  skip();
#else
  static const char *const exprs[] = {"first",
                                      "random",
                                      "round_robin",
                                      "least(client.latency.mean)",
                                      "least(server.rif)",
                                      "least(client.rif, choices=2)",
                                      "weighted(server.expected_latency)",
                                      "weighted(server.capacity(mean, mean))",
                                      "weighted(oracle.pid, allow_negative=true)",
                                      "client_pid",
                                      "hcl",
                                      "hcl(rank=client.latency.mean, health=client.rif)",
                                      "probing(hcl)",
                                      "probing(weighted(server.utilization.mean))",
                                      "subset(fastest_probe, size=3)",
                                      "fastest_probe",
                                      "prequal",
                                      "orca_wrr",
                                      "least_request",
                                      "slow_start(least_request)",
                                      "prequal_sync",
                                      "peak_ewma"};
  const int servers[MAXCH] = {1, 2, 3, 3, 5, 6, 7, 8};
  struct fixture f;
  fixture_init(&f, MAXCH, servers);
  for (int i = 0; i < MAXCH; i++) {
    set_report(&f.ch[i], i + 1, 10 * i, i + 2);
    f.ch[i].oracle = &f.ch[i].report;
  }
  for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
    struct lb_picker *p = make(exprs[e], MAXCH);
    long before = 0;
    for (int i = 0; i < 300; i++) {
      if (i == 100)
        before = allocations; /* after a warm-up */
      f.env.now_ticks = i;
      memset(&f.drv, 0, sizeof(f.drv));
      struct lb_probe room[LB_PICK_MAX_PROBES];
      struct lb_pick pick;
      lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
      struct lb_channel *out = NULL;
      int rc = lb_picker_pick(p, &f.env, f.list, f.n, &pick, &out);
      for (int k = pick.nprobes - 1; rc == LB_PICK_WAIT && k >= 0; k--) {
        pick.probes[k].done = true;
        rc = lb_picker_resume(p, &f.env, &pick, &out);
      }
      assert_int_equal(rc, LB_PICK_DONE);
      lb_channel_on_completed(out, i % 7 + 1, &out->report);
      for (int c = 0; c < MAXCH; c++)
        f.ch[c].requests_in_flight = (i + c) % 3;
    }
    if (allocations != before)
      fail_msg("%s allocated %ld times in 200 picks", exprs[e], allocations - before);
    lb_picker_free(p);
  }
  fixture_close(&f);
#endif
}

/* The seed's Hcl, written out as the seed does it (concatenate every
 * listed channel's history after appending to it, sort, np.percentile),
 * against the picker's incremental multiset, over random states with
 * repeated servers, zero healths and evictions. */
struct ref_hcl {
  double hist[MAXCH][8]; /* by server key (servers below MAXCH) */
  int len[MAXCH];
  int cap;
};

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Returns the channel, or -1 where the seed falls back to random.choice. */
static int ref_hcl_pick(struct ref_hcl *h, struct lb_channel *const *chs, int n, double q,
                        bool health_latency) {
  double health[MAXCH], rank[MAXCH], sum = 0;
  bool has_rank[MAXCH], has_health[MAXCH];
  int truthy = 0;
  for (int i = 0; i < n; i++) {
    has_health[i] = true;
    health[i] = chs[i]->requests_in_flight;
    if (health_latency)
      has_health[i] = lb_window_mean(&chs[i]->latency, &health[i]);
    if (has_health[i] && health[i] != 0)
      sum += health[i], truthy++;
  }
  if (!truthy)
    return -1;
  double all[MAXCH * MAXCH * 8];
  int nall = 0;
  for (int i = 0; i < n; i++) {
    int k = chs[i]->server;
    if (has_health[i] && h->len[k] == h->cap) {
      memmove(h->hist[k], h->hist[k] + 1, (size_t)(h->cap - 1) * sizeof(double));
      h->len[k]--;
    }
    if (has_health[i])
      h->hist[k][h->len[k]++] = health[i];
    for (int j = 0; j < h->len[k]; j++)
      all[nall++] = h->hist[k][j];
  }
  qsort(all, (size_t)nall, sizeof(double), cmp_dbl);
  double cutoff = lb__hcl_percentile(all, (size_t)nall, NULL, 0, q);
  double rsum = 0;
  int rtruthy = 0;
  for (int i = 0; i < n; i++) {
    has_rank[i] = lb_window_mean(&chs[i]->latency, &rank[i]);
    if (health_latency) /* then rank is client.rif */
      has_rank[i] = true, rank[i] = chs[i]->requests_in_flight;
    if (has_rank[i] && rank[i] != 0)
      rsum += rank[i], rtruthy++;
  }
  if (!rtruthy)
    return -1;
  int best = -1, healthiest = 0;
  for (int i = 0; i < n; i++) {
    if (!has_health[i])
      health[i] = sum / truthy;
    double r = has_rank[i] ? rank[i] : rsum / rtruthy;
    rank[i] = r;
    if (health[i] <= cutoff && (best < 0 || r < rank[best]))
      best = i;
    if (health[i] < health[healthiest])
      healthiest = i;
  }
  return best >= 0 ? best : healthiest;
}

static void test_hcl_against_seed(void **state) {
  (void)state;
  const int servers[MAXCH] = {1, 1, 2, 3, 3, 3, 4, 5};
  const double cutoffs[] = {0, 30, 50, 80, 100};
  int compared = 0;
  for (size_t c = 0; c < sizeof(cutoffs) / sizeof(cutoffs[0]); c++) {
    struct fixture f;
    fixture_init(&f, MAXCH, servers);
    struct ref_hcl ref;
    memset(&ref, 0, sizeof(ref));
    ref.cap = 5;
    char expr[128];
    snprintf(expr, sizeof(expr),
             "hcl(rank=client.latency.mean, health=client.rif, cutoff=%g, history=5)", cutoffs[c]);
    struct lb_picker *p = make(expr, MAXCH);
    for (int round = 0; round < 400; round++) {
      for (int i = 0; i < MAXCH; i++) {
        f.ch[i].requests_in_flight = (int)lb_rng_below(f.rng, 4); /* 0 is falsy */
        if (lb_rng_below(f.rng, 3) == 0)
          lb_channel_on_completed(&f.ch[i], (double)(1 + lb_rng_below(f.rng, 6)), NULL);
      }
      int want = ref_hcl_pick(&ref, f.list, f.n, cutoffs[c], false);
      int got = pick_once(&f, p);
      if (want >= 0) {
        if (got != want)
          fail_msg("cutoff %g round %d: picked %d, the seed's Hcl %d", cutoffs[c], round, got,
                   want);
        compared++;
      }
    }
    lb_picker_free(p);
    fixture_close(&f);
  }
  assert_true(compared > 1500);
}

/* The same with a fractional health (client latency means, None before a
 * completion): the picker starts counting and switches to sorted copies. */
static void test_hcl_fractional_health_against_seed(void **state) {
  (void)state;
  const int servers[MAXCH] = {1, 1, 2, 3, 3, 3, 4, 5};
  int compared = 0;
  struct fixture f;
  fixture_init(&f, MAXCH, servers);
  struct ref_hcl ref;
  memset(&ref, 0, sizeof(ref));
  ref.cap = 5;
  struct lb_picker *p =
      make("hcl(rank=client.rif, health=client.latency.mean, cutoff=70, history=5)", MAXCH);
  for (int round = 0; round < 400; round++) {
    for (int i = 0; i < MAXCH; i++) {
      f.ch[i].requests_in_flight = (int)lb_rng_below(f.rng, 4);
      if (round > 3 && lb_rng_below(f.rng, 3) == 0)
        lb_channel_on_completed(&f.ch[i], (double)(1 + lb_rng_below(f.rng, 6)), NULL);
    }
    int want = ref_hcl_pick(&ref, f.list, f.n, 70, true);
    int got = pick_once(&f, p);
    if (want >= 0) {
      if (got != want)
        fail_msg("round %d: picked %d, the seed's Hcl %d", round, got, want);
      compared++;
    }
  }
  lb_picker_free(p);
  fixture_close(&f);
  assert_true(compared > 300);
}

static void test_bad_input(void **state) {
  (void)state;
  struct fixture f;
  fixture_init(&f, 3, NULL);
  struct lb_picker *p = make("random", 2);
  struct lb_probe room[LB_PICK_MAX_PROBES];
  struct lb_pick pick;
  lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
  struct lb_channel *out = NULL;
  /* channel index 2 is outside a 2-channel client */
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), -EINVAL);
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 0, &pick, &out), -EINVAL);
  /* nothing waits: resume is refused */
  assert_int_equal(lb_picker_resume(p, &f.env, &pick, &out), -EINVAL);
  lb_picker_free(p);
  lb_picker_free(NULL);
  /* no send_probe: a probing picker reports it */
  f.env.send_probe = NULL;
  p = make("fastest_probe", 3);
  lb_pick_init(&pick, room, LB_PICK_MAX_PROBES);
  assert_int_equal(lb_picker_pick(p, &f.env, f.list, 3, &pick, &out), -ENOTSUP);
  lb_picker_free(p);
  fixture_close(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_random_round_robin),
      cmocka_unit_test(test_least),
      cmocka_unit_test(test_weighted),
      cmocka_unit_test(test_client_pid),
      cmocka_unit_test(test_subset),
      cmocka_unit_test(test_probing),
      cmocka_unit_test(test_fastest_probe),
      cmocka_unit_test(test_max_watched),
      cmocka_unit_test(test_average_truthy),
      cmocka_unit_test(test_hcl_percentile),
      cmocka_unit_test(test_hcl_percentile_random),
      cmocka_unit_test(test_hcl),
      cmocka_unit_test(test_hcl_repeated_server),
      cmocka_unit_test(test_hcl_as_the_seed),
      cmocka_unit_test(test_hcl_against_seed),
      cmocka_unit_test(test_hcl_fractional_health_against_seed),
      cmocka_unit_test(test_least_request),
      cmocka_unit_test(test_peak_ewma),
      cmocka_unit_test(test_peak_ewma_sample_times),
      cmocka_unit_test(test_orca_wrr),
      cmocka_unit_test(test_least_request_weights),
      cmocka_unit_test(test_slow_start),
      cmocka_unit_test(test_prequal_selection),
      cmocka_unit_test(test_prequal_pool),
      cmocka_unit_test(test_prequal_reuse_budget),
      cmocka_unit_test(test_prequal_probes),
      cmocka_unit_test(test_no_allocation_per_pick),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
