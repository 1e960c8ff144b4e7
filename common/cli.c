/* cli: getopt_long driven by an option table, numbers through number.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

#define HELP_COLUMN 25
#define SHORT_BASE 256 /* long options' getopt values: SHORT_BASE + index */

/* snprintf without -Wformat-truncation's guesses: a message may be cut. */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t len, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, len, f, ap);
  va_end(ap);
}

static size_t table_len(const struct lb_cli_option *t) {
  size_t n = 0;
  while (t[n].name)
    n++;
  return n;
}

static bool takes_argument(const struct lb_cli_option *o) { return o->kind != LB_CLI_FLAG; }

static void expected_range(const struct lb_cli_option *o, char *buf, size_t len) {
  bool above = (o->flags & LB_CLI_ABOVE_MIN) != 0;
  switch (o->kind) {
  case LB_CLI_INT:
  case LB_CLI_INT64:
    say(buf, len, "an integer in %lld..%lld", (long long)o->min, (long long)o->max);
    break;
  case LB_CLI_UINT64:
    say(buf, len, "a non-negative integer");
    break;
  case LB_CLI_DOUBLE:
  case LB_CLI_DURATION: {
    const char *what = o->kind == LB_CLI_DOUBLE ? "a number" : "a duration (s, or ns/us/ms/s/m/h)";
    if (o->dmax > o->dmin)
      say(buf, len, "%s in %g..%g%s", what, o->dmin, o->dmax, above ? ", above the first" : "");
    else
      say(buf, len, "%s %s %g", what, above ? ">" : ">=", o->dmin);
    break;
  }
  case LB_CLI_CHOICE: {
    size_t n = 0;
    n += (size_t)snprintf(buf, len, "one of");
    for (size_t i = 0; o->choices[i] && n < len; i++)
      n += (size_t)snprintf(buf + n, len - n, "%s %s", i ? "," : "", o->choices[i]);
    break;
  }
  default:
    say(buf, len, "a value");
  }
}

static int set_value(const struct lb_cli_option *o, const char *text, void *base, char *err,
                     size_t errlen) {
  void *dest = (char *)base + o->off;
  int rc = 0;
  switch (o->kind) {
  case LB_CLI_FLAG:
    *(bool *)dest = true;
    return 0;
  case LB_CLI_STRING:
    *(const char **)dest = text;
    return 0;
  case LB_CLI_CUSTOM:
    return o->parse(text, dest, err, errlen);
  case LB_CLI_INT:
  case LB_CLI_INT64: {
    int64_t v;
    if ((rc = lb_number_int64(text, o->min, o->max, &v)) == 0) {
      if (o->kind == LB_CLI_INT)
        *(int *)dest = (int)v;
      else
        *(int64_t *)dest = v;
    }
    break;
  }
  case LB_CLI_UINT64:
    rc = lb_number_uint64(text, (uint64_t *)dest);
    break;
  case LB_CLI_DOUBLE:
  case LB_CLI_DURATION: {
    double v, hi = o->dmax > o->dmin ? o->dmax : HUGE_VAL;
    rc = o->kind == LB_CLI_DOUBLE ? lb_number_double(text, o->dmin, hi, &v)
                                  : lb_number_duration(text, o->dmin, hi, &v);
    if (rc == 0 && (o->flags & LB_CLI_ABOVE_MIN) && !(v > o->dmin))
      rc = -ERANGE;
    if (rc == 0)
      *(double *)dest = v;
    break;
  }
  case LB_CLI_CHOICE:
    rc = -EINVAL;
    for (int i = 0; o->choices[i]; i++)
      if (strcmp(text, o->choices[i]) == 0) {
        *(int *)dest = i;
        rc = 0;
      }
    break;
  }
  if (rc < 0) {
    char want[160];
    expected_range(o, want, sizeof(want));
    say(err, errlen, "--%s: expected %s, got '%s'", o->name, want, text);
    return -EINVAL;
  }
  return 0;
}

int lb_cli_parse(const struct lb_cli_option *table, int argc, char **argv, void *base,
                 int *first_operand, char *err, size_t errlen) {
  size_t n = table_len(table);
  struct option *longopts = calloc(n + 1, sizeof(*longopts));
  char *shorts = malloc(2 * n + 2);
  int rc = 0;
  if (!longopts || !shorts) {
    rc = -ENOMEM;
    goto out;
  }
  size_t k = 0;
  shorts[k++] = ':'; /* a missing argument is ':', not '?' */
  for (size_t i = 0; i < n; i++) {
    longopts[i] = (struct option){table[i].name,
                                  takes_argument(&table[i]) ? required_argument : no_argument,
                                  NULL, SHORT_BASE + (int)i};
    if (table[i].short_flag) {
      shorts[k++] = (char)table[i].short_flag;
      if (takes_argument(&table[i]))
        shorts[k++] = ':';
    }
  }
  shorts[k] = '\0';
  optind = 0; /* GNU: start over (a process may parse several command lines) */
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
    const char *given = optind > 1 && optind <= argc ? argv[optind - 1] : "?";
    const struct lb_cli_option *o = NULL;
    if (c >= SHORT_BASE && c < SHORT_BASE + (int)n)
      o = &table[c - SHORT_BASE];
    for (size_t i = 0; !o && c > 0 && c < SHORT_BASE && c != '?' && c != ':' && i < n; i++)
      if (table[i].short_flag == c)
        o = &table[i];
    if (c == ':') {
      say(err, errlen, "%s: expected a value (see --help)", given);
      rc = -EINVAL;
      goto out;
    }
    if (!o) {
      say(err, errlen, "unknown option '%s' (see --help)", given);
      rc = -EINVAL;
      goto out;
    }
    if ((rc = set_value(o, optarg, base, err, errlen)) < 0)
      goto out;
  }
  if (first_operand)
    *first_operand = optind;
out:
  free(longopts);
  free(shorts);
  return rc;
}

void lb_cli_usage(const struct lb_cli_option *table, FILE *out) {
  for (const struct lb_cli_option *o = table; o->name; o++) {
    char flag[8] = "";
    if (o->short_flag)
      snprintf(flag, sizeof(flag), "-%c, ", o->short_flag);
    int n = fprintf(out, "  %s--%s%s%s", flag, o->name, takes_argument(o) ? " " : "",
                    takes_argument(o) ? o->metavar : "");
    int pad = n + 2 <= HELP_COLUMN ? HELP_COLUMN - n : 2;
    const char *h = o->help ? o->help : "";
    for (;;) {
      const char *nl = strchr(h, '\n');
      int len = nl ? (int)(nl - h) : (int)strlen(h);
      fprintf(out, "%*s%.*s\n", pad, "", len, h);
      if (!nl)
        break;
      h = nl + 1;
      pad = HELP_COLUMN;
    }
  }
}
