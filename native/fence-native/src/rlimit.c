#include "rlimit.h"

#include <errno.h>

int rlimit_apply(const struct plan_rlimit *limits, size_t n, struct fence_err *e) {
  for (size_t i = 0; i < n; i++) {
    struct rlimit cur;
    if (getrlimit(limits[i].resource, &cur) != 0) return fence_fail(e, errno, "getrlimit %s", limits[i].name);
    rlim_t v = limits[i].value < cur.rlim_max ? limits[i].value : cur.rlim_max;
    struct rlimit next = {.rlim_cur = v, .rlim_max = v};
    /* Lowers the limit for this process and everything it executes. */
    if (setrlimit(limits[i].resource, &next) != 0) return fence_fail(e, errno, "setrlimit %s", limits[i].name);
  }
  return 0;
}
