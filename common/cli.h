/* cli: a command line from a table of options. Each entry names a long
 * option (and maybe a short flag), the kind of its argument with its
 * range, where the value goes (an offset into the caller's options
 * struct) and its line of help; one parser (getopt_long, every number
 * through number.h) and one --help printer read the same table. */
#ifndef LB_CLI_H
#define LB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lb_cli_kind {
  LB_CLI_FLAG,     /* bool: set true; takes no argument */
  LB_CLI_INT,      /* int in min..max */
  LB_CLI_INT64,    /* int64_t in min..max */
  LB_CLI_UINT64,   /* uint64_t, any (no sign) */
  LB_CLI_DOUBLE,   /* double in dmin..dmax (> dmin with LB_CLI_ABOVE_MIN) */
  LB_CLI_DURATION, /* double seconds, "250ms", "2s", "1.5" (lb_number_duration) */
  LB_CLI_STRING,   /* const char *: the argument itself (argv's memory) */
  LB_CLI_CHOICE,   /* int: the index of the argument in choices */
  LB_CLI_CUSTOM,   /* parse(text, dest, err, errlen): repeatable lists and shapes */
};

#define LB_CLI_ABOVE_MIN 1u /* LB_CLI_DOUBLE/DURATION: strictly above dmin */

/* Custom parsing: 0, or -errno with err a sentence naming the option. */
typedef int (*lb_cli_parse_cb)(const char *text, void *dest, char *err, size_t errlen);

struct lb_cli_option {
  const char *name; /* long name without "--"; NULL ends a table */
  int short_flag;   /* 'h', or 0 */
  enum lb_cli_kind kind;
  size_t off;          /* of the destination in the caller's struct (offsetof) */
  const char *metavar; /* the argument in --help ("FILE", "N") */
  const char *help;    /* one or more lines, '\n' between */
  int64_t min, max;    /* LB_CLI_INT, LB_CLI_INT64 */
  double dmin, dmax;   /* LB_CLI_DOUBLE, LB_CLI_DURATION (dmax 0: no upper bound) */
  unsigned flags;
  const char *const *choices; /* LB_CLI_CHOICE: NULL-terminated */
  lb_cli_parse_cb parse;      /* LB_CLI_CUSTOM */
};

/* Parses argv[1..] by the table (ended by a NULL name) into base, leaving
 * unmentioned fields as they are (set the defaults first). Operands are
 * moved behind the options, as getopt_long does: *first_operand (may be
 * NULL) is the index of the first. 0; -EINVAL with err a sentence naming
 * the option and what it expects; -ENOMEM. */
int lb_cli_parse(const struct lb_cli_option *table, int argc, char **argv, void *base,
                 int *first_operand, char *err, size_t errlen);
/* Writes the table's options, one entry per option ("  -h, --name ARG"
 * then the help, continuation lines aligned), to out. */
void lb_cli_usage(const struct lb_cli_option *table, FILE *out);

#endif
