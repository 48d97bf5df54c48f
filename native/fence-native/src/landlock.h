/* Landlock: ABI probes (addon) and applying a ruleset (fence-launch).
 * Debian 12's <linux/landlock.h> only knows ABI <= 2, so the ABI 3+ parts are defined here. */
#ifndef FENCE_LANDLOCK_H
#define FENCE_LANDLOCK_H

#include <stdint.h>

#include "err.h"
#include "plan.h"

/* Highest Landlock ABI the kernel supports, or -errno (ENOSYS / EOPNOTSUPP: absent/disabled). */
long landlock_abi(void);
/* Bitmask of fixed Landlock errata (LANDLOCK_CREATE_RULESET_ERRATA), or -errno. */
long landlock_errata(void);
/* Creates the ruleset, adds every rule and restricts the calling thread. Needs no_new_privs.
 * A missing path is skipped with a warning on stderr (fence-launch is the only caller). */
int landlock_apply(const struct plan_landlock *ll, struct fence_err *e);
/* Restricts the calling thread once more, by `ll`'s scopes only (no access rights): a domain
 * nested in landlock_apply's, so the processes left in that outer one (the creation guard and
 * what it starts) are outside this thread's scope. Needs no_new_privs; does nothing without scopes. */
int landlock_scope_apply(const struct plan_landlock *ll, struct fence_err *e);

#endif
