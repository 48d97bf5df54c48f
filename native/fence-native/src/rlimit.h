/* Resource limits from the plan. */
#ifndef FENCE_RLIMIT_H
#define FENCE_RLIMIT_H

#include "err.h"
#include "plan.h"

/* Sets soft and hard limit to the planned value, never above the current hard limit (a lower
 * inherited limit is already stricter, and raising it would need privileges). */
int rlimit_apply(const struct plan_rlimit *limits, size_t n, struct fence_err *e);

#endif
