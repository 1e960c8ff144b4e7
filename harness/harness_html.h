/* harness_html: the drawing helpers both HTML reports use
 * (harness_report.c, harness_sweep_report.c): escaped text, a round axis
 * maximum, an SVG x axis. */
#ifndef LB_HARNESS_HTML_H
#define LB_HARNESS_HTML_H

#include <stdio.h>

/* s with <, >, & and " escaped. */
void lb_html_text(FILE *f, const char *s);
/* A "nice" axis maximum >= v whose fifths are round numbers. */
double lb_html_nice_max(double v);
/* An x axis from x0 to x1 at y: ticks at fifths of max, label below. */
void lb_html_x_axis(FILE *f, double x0, double x1, double y, double max, const char *label);

#endif
