/* The creation guard's decision: may this name be created in this directory (guard.h has the
 * rules in words). Pure string work on the directory's real path, plus the set of git
 * directories the guard made during the run. */
#ifndef FENCE_GUARD_RULES_H
#define FENCE_GUARD_RULES_H

#include <stddef.h>
#include <sys/types.h>

#include "guard.h"

/* What would appear under the name. OP_FILE: a file, fifo or hard link (or an existing name
 * opened for writing); OP_RENAME_DIR: a directory moved there, whose content the guard never saw. */
enum guard_op { OP_FILE, OP_MKDIR, OP_SYMLINK, OP_RENAME_DIR };

struct guard_made {
  dev_t dev;
  ino_t ino;
};

struct guard_rules {
  const struct plan_guard *plan;
  struct guard_made *made; /* directories made by the guard in this run */
  size_t nmade, cap;
};

/* 0 when allowed; else a short reason (static) for the refusal. `dir` is the real path of the
 * directory (open as `dirfd`) and `name` one component. */
const char *guard_rules_refuse(const struct guard_rules *r, const char *dir, int dirfd, const char *name, enum guard_op op);
/* After the guard made directory `name` in `dirfd`: remembers it (a git directory it turns into
 * may have the config git init writes). */
void guard_rules_made_dir(struct guard_rules *r, int dirfd, const char *name);
/* Whether `path` is a git directory by its place: `.git`, or below one in modules/ or worktrees/. */
int guard_is_git_dir(const char *path);

#endif
