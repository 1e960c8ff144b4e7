/* statsfile: the daemons' --stats files, "key=value" lines (lbserver's
 * counters and lateness, lbclient's counts and lateness), written by the
 * daemons at exit and read by the harness (fleet health, CPU). Values are
 * numbers; a reader skips '#' comments, blank lines and values that are
 * not numbers. */
#ifndef LB_STATSFILE_H
#define LB_STATSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One line "key=V\n": an integer, or a real with `decimals` digits. */
void lb_statsfile_put_int(FILE *f, const char *key, long long v);
void lb_statsfile_put_real(FILE *f, const char *key, double v, int decimals);

#define LB_STATSFILE_MAX 64

/* What a reader keeps: the first LB_STATSFILE_MAX numeric entries. */
struct lb_statsfile {
  size_t n;
  char key[LB_STATSFILE_MAX][48];
  double value[LB_STATSFILE_MAX];
};

/* Parses text (the first 8 KiB of a file for _load). Returns 0, or a
 * negative errno (-ENOENT when the file is missing; s is then empty). */
int lb_statsfile_parse(const char *text, struct lb_statsfile *s);
int lb_statsfile_load(const char *path, struct lb_statsfile *s);
/* Returns true and sets *out when key is present. */
bool lb_statsfile_get(const struct lb_statsfile *s, const char *key, double *out);

#endif
