/* errbuf: user-facing errors into a caller's buffer. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lb_errf(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

const char *lb_excerpt(char *out, size_t len, const char *text) {
  if (out == NULL || len == 0)
    return "";
  size_t k = 0, i = 0;
  out[0] = '\0';
  for (; text && text[i] && i < LB_EXCERPT_MAX; i++) {
    unsigned char c = (unsigned char)text[i];
    char piece[5];
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
      snprintf(piece, sizeof(piece), "%c", c);
    else
      snprintf(piece, sizeof(piece), "\\x%02x", c);
    size_t n = strlen(piece);
    if (k + n + 4 > len) /* room for "..." */
      break;
    memcpy(out + k, piece, n + 1);
    k += n;
  }
  if (text && text[i] && k + 4 <= len)
    memcpy(out + k, "...", 4);
  return out;
}
