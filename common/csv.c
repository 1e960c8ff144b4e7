/* csv: the cell splitter (csv.h). */
#include "csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

size_t lb_csv_split(char *line, char **cells, size_t max) {
  size_t n = 0;
  char *p = line;
  for (;;) {
    char *start = p, *w = p;
    bool quoted = *p == '"';
    if (quoted)
      p++;
    while (*p && (quoted || (*p != ',' && *p != '\n' && *p != '\r'))) {
      if (quoted && *p == '"') {
        if (p[1] == '"') {
          *w++ = '"';
          p += 2;
          continue;
        }
        quoted = false;
        p++;
        continue;
      }
      *w++ = *p++;
    }
    char end = *p;
    *w = '\0';
    if (n < max)
      cells[n] = start;
    n++;
    if (end != ',')
      return n;
    p++;
  }
}

int lb_csv_read_row(FILE *f, char **line, size_t *linecap, char ***cells, size_t *cellcap,
                    size_t *n) {
  if (getline(line, linecap, f) < 0)
    return 0;
  size_t want = 1;
  for (const char *p = *line; *p; p++)
    want += *p == ',';
  if (want > *cellcap) {
    char **grown = realloc(*cells, want * sizeof(*grown));
    if (grown == NULL)
      return -ENOMEM;
    *cells = grown;
    *cellcap = want;
  }
  *n = lb_csv_split(*line, *cells, *cellcap);
  return 1;
}
