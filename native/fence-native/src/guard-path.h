/* The creation guard's view of a path: the target's memory read once, and the directory that
 * holds the last component opened as the target would resolve it. */
#ifndef FENCE_GUARD_PATH_H
#define FENCE_GUARD_PATH_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

struct guard_path {
  int dirfd;             /* O_PATH directory holding `name`; -1 when `magic` is set */
  char name[NAME_MAX + 1];
  char dir[PATH_MAX];    /* the directory's real path */
  char magic[64];        /* the whole path is this /proc/<tid>/{fd/N,cwd,root} link (its own file) */
  int slash;             /* the path ended in '/': the name must be a directory */
};

/* Copies the NUL-terminated string at `addr` in thread `tid` (process_vm_readv). 0 or -errno. */
int guard_read_string(pid_t tid, uint64_t addr, char *buf, size_t size);
/* Resolves `path` as thread `tid` would: from `base` when >= 0 (a directory the guard holds),
 * else from its descriptor `dirfd` (AT_FDCWD: its cwd); /proc/self, /dev/fd and /dev/std* name
 * the target, never the guard. A magic link anywhere else is refused (ELOOP). 0 or -errno. */
int guard_resolve(pid_t tid, int dirfd, int base, const char *path, struct guard_path *out);
void guard_path_close(struct guard_path *p);

#endif
