/* errbuf: the one way library code reports a user-facing error: a sentence
 * written into the caller's buffer (file, line, field, what was expected). */
#ifndef LB_ERRBUF_H
#define LB_ERRBUF_H

#include <stddef.h>

/* snprintf into err; nothing when err is NULL or errlen is 0. */
void lb_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What a file held where something else was expected, fit to quote in an
 * error: at most LB_EXCERPT_MAX bytes of text, each byte outside printable
 * ASCII (and ' and \\) written \\xNN, "..." when there was more. out gets
 * at most 4 * LB_EXCERPT_MAX + 4 bytes; returns out. An error never shows
 * more of a file than this (the file may be anything a scenario names). */
#define LB_EXCERPT_MAX 24
#define LB_EXCERPT_BUF (4 * LB_EXCERPT_MAX + 4)
const char *lb_excerpt(char *out, size_t len, const char *text);

#endif
