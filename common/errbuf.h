/* errbuf: the one way library code reports a user-facing error: a sentence
 * written into the caller's buffer (file, line, field, what was expected). */
#ifndef LB_ERRBUF_H
#define LB_ERRBUF_H

#include <stddef.h>

/* snprintf into err; nothing when err is NULL or errlen is 0. */
void lb_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
