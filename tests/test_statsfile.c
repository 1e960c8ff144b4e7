/* statsfile: the daemons' key=value --stats files, written and read back;
 * and csv: the cell splitter the CSV readers share. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "statsfile.h"

static void test_parse(void **state) {
  (void)state;
  struct lb_statsfile kv;
  double v = 0;
  assert_int_equal(
      lb_statsfile_parse("# stats\nsent=120\ncompleted=118\nname=abc\n\ncpu_seconds=0.25", &kv), 0);
  assert_int_equal(kv.n, 3); /* name=abc is not a number */
  assert_true(lb_statsfile_get(&kv, "sent", &v));
  assert_float_equal(v, 120, 0);
  assert_true(lb_statsfile_get(&kv, "cpu_seconds", &v));
  assert_float_equal(v, 0.25, 1e-12);
  assert_false(lb_statsfile_get(&kv, "name", &v));
  assert_false(lb_statsfile_get(&kv, "failed", &v));
  assert_int_equal(lb_statsfile_load("/nonexistent/stats", &kv), -2);
}

/* The writer's lines are what the daemons wrote with printf ("%llu",
 * "%.1f", "%.3f"), and the reader gets the values back. */
static void test_write_read(void **state) {
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  lb_statsfile_put_int(f, "sent", 120);
  lb_statsfile_put_int(f, "tick_late_max_ns", -5);
  lb_statsfile_put_real(f, "timer_lateness_p99_us", 312.25, 1);
  lb_statsfile_put_real(f, "cpu_seconds", 0.1235, 3);
  assert_int_equal(fclose(f), 0);
  assert_string_equal(text, "sent=120\ntick_late_max_ns=-5\ntimer_lateness_p99_us=312.2\n"
                            "cpu_seconds=0.123\n");
  struct lb_statsfile s;
  double v = 0;
  assert_int_equal(lb_statsfile_parse(text, &s), 0);
  assert_int_equal(s.n, 4);
  assert_true(lb_statsfile_get(&s, "tick_late_max_ns", &v));
  assert_float_equal(v, -5, 0);
  assert_true(lb_statsfile_get(&s, "timer_lateness_p99_us", &v));
  assert_float_equal(v, 312.2, 1e-9);
  free(text);
}

static void test_csv_split(void **state) {
  (void)state;
  char *cells[4];
  char plain[] = "a,b,,c\n";
  assert_int_equal(lb_csv_split(plain, cells, 4), 4);
  assert_string_equal(cells[0], "a");
  assert_string_equal(cells[2], "");
  assert_string_equal(cells[3], "c"); /* the line break is not in the cell */
  /* A quoted cell keeps its commas; "" is a quote. */
  char quoted[] = "\"least(client.rif, choices=2)\",\"say \"\"hi\"\"\",3\r\n";
  assert_int_equal(lb_csv_split(quoted, cells, 4), 3);
  assert_string_equal(cells[0], "least(client.rif, choices=2)");
  assert_string_equal(cells[1], "say \"hi\"");
  assert_string_equal(cells[2], "3");
  /* Cells past max are counted, not stored. */
  char many[] = "1,2,3,4,5,6";
  assert_int_equal(lb_csv_split(many, cells, 2), 6);
  assert_string_equal(cells[1], "2");
  char empty[] = "";
  assert_int_equal(lb_csv_split(empty, cells, 4), 1);
  assert_string_equal(cells[0], "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_write_read),
      cmocka_unit_test(test_csv_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
