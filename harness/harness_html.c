/* harness_html: the drawing helpers of both HTML reports. */
#include "harness_html.h"

#include <math.h>
#include <stdio.h>

void lb_html_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '<')
      fputs("&lt;", f);
    else if (*s == '>')
      fputs("&gt;", f);
    else if (*s == '&')
      fputs("&amp;", f);
    else if (*s == '"')
      fputs("&quot;", f);
    else
      fputc(*s, f);
  }
}

double lb_html_nice_max(double v) {
  if (!(v > 0))
    return 1;
  double p = pow(10, floor(log10(v)));
  const double steps[] = {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10};
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
    if (steps[i] * p >= v)
      return steps[i] * p;
  return 10 * p;
}

void lb_html_x_axis(FILE *f, double x0, double x1, double y, double max, const char *label) {
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", x0, y, x1, y);
  for (int i = 0; i <= 5; i++) {
    double x = x0 + (x1 - x0) * i / 5.0;
    fprintf(f,
            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>"
            "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%g</text>\n",
            x, y, x, y + 4, x, y + 16, max * i / 5.0);
  }
  fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle'>", (x0 + x1) / 2, y + 32);
  lb_html_text(f, label);
  fputs("</text>\n", f);
}
