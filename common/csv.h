/* csv: the one CSV cell splitter of the tree's readers (request logs,
 * summaries): commas separate cells; a cell in double quotes may hold
 * commas, and "" stands for a quote inside it (what lb_summary_put_text
 * writes). */
#ifndef LB_CSV_H
#define LB_CSV_H

#include <stddef.h>
#include <stdio.h>

/* Splits line in place, up to its end or an unquoted line break: cells[i]
 * points into line, unquoted. Returns the number of cells; those past max
 * are counted, not stored. */
size_t lb_csv_split(char *line, char **cells, size_t max);

/* Reads f's next line into *line (getline's buffer, *linecap) and splits
 * it into *cells, grown to fit (*cellcap). Returns 1 with *n cells, 0 at
 * the end of f or on a read error (ferror(f) tells), -ENOMEM. */
int lb_csv_read_row(FILE *f, char **line, size_t *linecap, char ***cells, size_t *cellcap,
                    size_t *n);

#endif
