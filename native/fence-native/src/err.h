/* A failed step and its errno, filled by the mechanism files and printed by their caller
 * (fence-launch prints "fence-launch: <what>: <strerror>", the addon throws). */
#ifndef FENCE_ERR_H
#define FENCE_ERR_H

#include <stdarg.h>
#include <stdio.h>

struct fence_err {
  char what[512];
  int errnum; /* 0 when `what` is the whole message (a malformed plan) */
};

__attribute__((format(printf, 3, 4))) static inline int fence_fail(struct fence_err *e, int errnum,
                                                                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->what, sizeof e->what, fmt, ap);
  va_end(ap);
  e->errnum = errnum;
  return -1;
}

#endif
