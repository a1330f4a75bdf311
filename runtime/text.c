/* In-place text helpers (see cleave/text.h). */
#include "cleave/text.h"

#include <ctype.h>
#include <string.h>

static int is_pad(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char *cl_text_trim(char *s) {
  while (is_pad(*s)) s++;
  size_t n = strlen(s);
  while (n && is_pad(s[n - 1])) s[--n] = '\0';
  return s;
}

int cl_text_is_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}
