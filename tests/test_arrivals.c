/* arrivals: the seed's request_tick draws, Poisson, and trace files. */
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
#include <unistd.h>

#include "arrivals.h"

static void small_scenario(struct lb_scenario *sc) {
  lb_scenario_defaults(sc);
  sc->servers = 3;
  sc->clients = 4;
  sc->total_ticks = 10;
  sc->mean_requests_per_server_per_tick = 2.2;
  sc->seed = 99;
}

static void assert_sorted_in_range(const struct lb_arrivals *a, int ticks, int clients,
                                   int integral) {
  for (size_t i = 0; i < a->n; i++) {
    assert_true(a->items[i].tick >= 0 && a->items[i].tick < ticks);
    if (integral)
      assert_true(a->items[i].tick == floor(a->items[i].tick));
    assert_true(a->items[i].client >= 0 && a->items[i].client < clients);
    if (i > 0)
      assert_true(a->items[i - 1].tick <= a->items[i].tick);
  }
}

static void test_seed_count_and_range(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_arrivals a;
  char err[512] = "";
  small_scenario(&sc);
  assert_int_equal(lb_arrivals_build(&sc, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(a.n, 66); /* round(2.2 * 3 * 10) */
  assert_sorted_in_range(&a, 10, 4, 1);
  lb_arrivals_close(&a);
  /* Python's round: half to even. round(0.5 * 1 * 5) = round(2.5) = 2. */
  sc.servers = 1;
  sc.total_ticks = 5;
  sc.mean_requests_per_server_per_tick = 0.5;
  assert_int_equal(lb_arrivals_build(&sc, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(a.n, 2);
  lb_arrivals_close(&a);
  sc.total_ticks = 7; /* round(3.5) = 4 */
  assert_int_equal(lb_arrivals_build(&sc, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(a.n, 4);
  lb_arrivals_close(&a);
  sc.mean_requests_per_server_per_tick = 0;
  assert_int_equal(lb_arrivals_build(&sc, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(a.n, 0);
  lb_arrivals_close(&a);
}

/* randrange(0, ticks) and choice(clients): uniform over both. */
static void test_seed_uniform(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_arrivals a;
  char err[512] = "";
  small_scenario(&sc);
  sc.mean_requests_per_server_per_tick = 100; /* 3000 requests over 10 ticks */
  assert_int_equal(lb_arrivals_build(&sc, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(a.n, 3000);
  int ticks[10] = {0}, clients[4] = {0};
  for (size_t i = 0; i < a.n; i++) {
    ticks[(int)a.items[i].tick]++;
    clients[a.items[i].client]++;
  }
  for (int i = 0; i < 10; i++) /* 300 +- 4 sigma (sigma ~ 16) */
    assert_true(ticks[i] > 235 && ticks[i] < 365);
  for (int i = 0; i < 4; i++) /* 750 +- 4 sigma (sigma ~ 24) */
    assert_true(clients[i] > 655 && clients[i] < 845);
  lb_arrivals_close(&a);
}

static int same(const struct lb_arrivals *a, const struct lb_arrivals *b) {
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++)
    if (a->items[i].tick != b->items[i].tick || a->items[i].client != b->items[i].client)
      return 0;
  return 1;
}

static void test_deterministic(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_arrivals a, b, c, d;
  char err[512] = "";
  small_scenario(&sc);
  assert_int_equal(lb_arrivals_build(&sc, 1, &a, err, sizeof(err)), 0);
  assert_int_equal(lb_arrivals_build(&sc, 1, &b, err, sizeof(err)), 0);
  assert_int_equal(lb_arrivals_build(&sc, 2, &c, err, sizeof(err)), 0);
  sc.seed = 100; /* seed + run: seed 100 run 1 is seed 99 run 2 */
  assert_int_equal(lb_arrivals_build(&sc, 1, &d, err, sizeof(err)), 0);
  assert_true(same(&a, &b));
  assert_false(same(&a, &c));
  assert_true(same(&c, &d));
  lb_arrivals_close(&a);
  lb_arrivals_close(&b);
  lb_arrivals_close(&c);
  lb_arrivals_close(&d);
}

/* The draws in the seed's order, written out here: every tick first, then
 * the clients in tick order (seed); a gap, then a client and the next gap
 * (Poisson). The stream gives exactly these, one at a time. */
static void test_stream_draw_order(void **state) {
  (void)state;
  struct lb_scenario sc;
  char err[512] = "";
  small_scenario(&sc);
  for (int poisson = 0; poisson < 2; poisson++) {
    sc.arrivals = poisson ? LB_ARRIVALS_POISSON : LB_ARRIVALS_SEED;
    struct lb_rng *r = NULL;
    assert_int_equal(lb_rng_new(lb_seed_derive(sc.seed + 3, LB_STREAM_ARRIVALS, 0), &r), 0);
    struct lb_arrival want[200];
    size_t n = 0;
    if (poisson) {
      double rate = sc.mean_requests_per_server_per_tick * sc.servers;
      for (double t = lb_rng_exponential(r, 1 / rate); t < sc.total_ticks;
           t += lb_rng_exponential(r, 1 / rate)) {
        assert_true(n < 200);
        want[n].tick = t;
        want[n++].client = (int)lb_rng_below(r, (size_t)sc.clients);
      }
    } else {
      size_t per_tick[10] = {0};
      for (int i = 0; i < 66; i++)
        per_tick[lb_rng_below(r, 10)]++;
      for (int t = 0; t < 10; t++)
        for (size_t k = 0; k < per_tick[t]; k++) {
          want[n].tick = t;
          want[n++].client = (int)lb_rng_below(r, (size_t)sc.clients);
        }
    }
    lb_rng_free(r);
    struct lb_arrival_stream st;
    assert_int_equal(lb_arrival_stream_open(&sc, 3, &st, err, sizeof(err)), 0);
    struct lb_arrival got;
    for (size_t i = 0; i < n; i++) {
      assert_true(lb_arrival_stream_next(&st, &got));
      assert_true(got.tick == want[i].tick);
      assert_int_equal(got.client, want[i].client);
    }
    assert_false(lb_arrival_stream_next(&st, &got));
    assert_false(lb_arrival_stream_next(&st, &got)); /* and stays ended */
    lb_arrival_stream_close(&st);
  }
  /* A trace is loaded, not drawn. */
  struct lb_arrival_stream st;
  sc.arrivals = LB_ARRIVALS_TRACE;
  assert_int_equal(lb_arrival_stream_open(&sc, 0, &st, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "trace"));
}

static void test_poisson(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_arrivals a, b;
  char err[512] = "";
  small_scenario(&sc);
  sc.arrivals = LB_ARRIVALS_POISSON;
  sc.total_ticks = 100;
  sc.mean_requests_per_server_per_tick = 10; /* 3000 expected, sigma ~ 55 */
  assert_int_equal(lb_arrivals_build(&sc, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(lb_arrivals_build(&sc, 0, &b, err, sizeof(err)), 0);
  assert_true(same(&a, &b));
  assert_true(a.n > 2780 && a.n < 3220);
  assert_sorted_in_range(&a, 100, 4, 0);
  size_t fractional = 0;
  for (size_t i = 0; i < a.n; i++)
    fractional += a.items[i].tick != floor(a.items[i].tick);
  assert_true(fractional > a.n / 2);
  lb_arrivals_close(&a);
  lb_arrivals_close(&b);
}

static void write_file(char *path, const char *text) {
  strcpy(path, "/tmp/lb_arrivals_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static void test_trace_load(void **state) {
  (void)state;
  char path[64], err[512] = "";
  struct lb_arrivals a;
  write_file(path, "# a comment\ntick,client\n5,1\n\n2.5, Client 3\n5,0\n0,2\r\n");
  assert_int_equal(lb_arrivals_load(path, 4, &a, err, sizeof(err)), 0);
  assert_int_equal(a.n, 4);
  /* Sorted by tick, equal ticks in file order. */
  assert_true(a.items[0].tick == 0 && a.items[0].client == 2);
  assert_true(a.items[1].tick == 2.5 && a.items[1].client == 3);
  assert_true(a.items[2].tick == 5 && a.items[2].client == 1);
  assert_true(a.items[3].tick == 5 && a.items[3].client == 0);
  /* Through the scenario. */
  struct lb_scenario sc;
  struct lb_arrivals b;
  small_scenario(&sc);
  sc.arrivals = LB_ARRIVALS_TRACE;
  strcpy(sc.trace, path);
  assert_int_equal(lb_arrivals_build(&sc, 0, &b, err, sizeof(err)), 0);
  assert_true(same(&a, &b));
  lb_arrivals_close(&b);
  unlink(path);
  /* Write, then load back the same trace. */
  FILE *f = NULL;
  write_file(path, "");
  f = fopen(path, "w");
  assert_non_null(f);
  a.items[1].tick = 0.1; /* shortest round-trip text */
  assert_int_equal(lb_arrivals_write(&a, f), 0);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(lb_arrivals_load(path, 4, &b, err, sizeof(err)), 0);
  assert_true(same(&a, &b));
  unlink(path);
  lb_arrivals_close(&a);
  lb_arrivals_close(&b);
}

static void expect_error(const char *text, int clients, int line, const char *got) {
  char path[64], err[512] = "", prefix[128];
  struct lb_arrivals a;
  write_file(path, text);
  assert_int_equal(lb_arrivals_load(path, clients, &a, err, sizeof(err)), -EINVAL);
  assert_null(a.items);
  assert_int_equal(a.n, 0);
  snprintf(prefix, sizeof(prefix), "%s:%d: expected 'tick,client' with tick >= 0 and client", path,
           line);
  if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, got) == NULL)
    fail_msg("got '%s', expected '%s ... %s'", err, prefix, got);
  unlink(path);
}

static void test_trace_errors(void **state) {
  (void)state;
  expect_error("1,0\n2,9\n", 4, 2, "got '2,9'");     /* client out of range */
  expect_error("1,0\n-1,0\n", 4, 2, "got '-1,0'");   /* negative tick */
  expect_error("# c\n\n1 0\n", 4, 3, "got '1 0'");   /* no comma */
  expect_error("x,1\n", 4, 1, "got 'x,1'");          /* not a number */
  expect_error("1,0\nnan,1\n", 4, 2, "got 'nan,1'"); /* not finite */
  expect_error("1,Server 1\n", 4, 1, "got '1,Server 1'");
  /* Another kind of file named as a trace: the error quotes no more of it
   * than a short escaped excerpt (a secret's line, a control byte). */
  expect_error("root:$6$secretsecretsecretsecretsecret:19000:0:99999:7:::\n", 4, 1,
               "got 'root:$6$secretsecretsecr...'");
  expect_error("a\x1b[2Jb,1\n", 4, 1, "got 'a\\x1b[2Jb,1'");
  char err[512] = "";
  struct lb_arrivals a;
  char path[64];
  write_file(path, "passwd:x:0:0:the-rest-of-the-line-is-private-data\n");
  assert_int_equal(lb_arrivals_load(path, 4, &a, err, sizeof(err)), -EINVAL);
  assert_null(strstr(err, "private"));
  unlink(path);
  assert_int_equal(lb_arrivals_load("/nonexistent/trace.csv", 4, &a, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "/nonexistent/trace.csv: cannot open arrival trace"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seed_count_and_range), cmocka_unit_test(test_seed_uniform),
      cmocka_unit_test(test_deterministic),        cmocka_unit_test(test_poisson),
      cmocka_unit_test(test_stream_draw_order),    cmocka_unit_test(test_trace_load),
      cmocka_unit_test(test_trace_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
