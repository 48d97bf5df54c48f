/* The creation guard: protected names (SPEC §4.1) cannot be created anywhere in the sandbox, so
 * Fence needs no placeholder files in the user's tree.
 *
 * fence-launch forks after Landlock (one domain for both) and before seccomp. The parent becomes
 * the guard: an ancestor of every sandboxed process (Yama's ptrace_scope 1 lets only an ancestor
 * read a process's memory), non-dumpable, restricted like the command by that same Landlock
 * domain and mounts, so it can do nothing the command could not. The command then nests a
 * domain of its own (scopes only: main.c), so its signals cannot reach the guard, while the guard,
 * in the outer domain, may still read and signal it. The child installs a filter that
 * sends every creation syscall (open/openat/creat that create or write, mkdir, mknod, symlink,
 * link, rename; openat2 answers ENOSYS so callers fall back to openat), truncate, the chmods
 * that set an exec, others' write or setuid/setgid/sticky bit, and every setxattr to the guard with
 * SECCOMP_RET_USER_NOTIF, and execs the command.
 *
 * The guard never lets the kernel re-read the path (SECCOMP_USER_NOTIF_FLAG_CONTINUE would): it
 * copies the path once, opens the parent directory itself (as the target would resolve it: its
 * cwd or dirfd through /proc, /proc/self as the target), decides on that directory's real path and
 * the final name, and on allow performs the operation itself (an open's descriptor goes to the
 * target with SECCOMP_IOCTL_NOTIF_ADDFD). A final symlink is followed by the guard one link at a
 * time, so each name that could be created is checked. If the guard dies, the kernel answers
 * every notification with ENOSYS: creations fail, never succeed unchecked.
 *
 * The kernel gives a process one filter with a listener. Under Fence's seccomp supervisor (-m,
 * runtimeExecPolicy "argv") the guard holds it for both: the supervisor's program runs first in the
 * same filter, and the guard forwards the calls that program sends to Fence (guard-forward.h).
 *
 * Rules (the names come from the plan, i.e. from @fence/core's protected-names list):
 * - `file` and `dir` names: never created, anywhere; nothing is created or opened for writing
 *   inside a `dir` name, nor is an existing one opened for writing. A name `a/b` is `b` in a
 *   directory called `a` (`.config/fence`).
 * - `.git`: may be made as a directory only (never a file or symlink pointer, never by renaming a
 *   directory there, whose content the guard never saw).
 * - in a git directory (`.git`, and the git directories under its `modules/` and `worktrees/`):
 *   `git` names are never created, except `hooks` and `info` as empty directories (git init's
 *   templates make them), inside which only what the templates hold may be created
 *   (`hooks/<x>.sample`, which git never runs, and `info/exclude`); `git-config` names (config,
 *   config.worktree) only in a git directory the guard itself made during this run (Fence moves
 *   them away when the session closes; docs/security.md says what that leaves open). No directory
 *   is renamed, nor a symlink made, where it or anything below it would be a git directory
 *   (`.git/modules`, `.git/worktrees`: the git directories it brings were never checked).
 * - a git directory is also one by what it holds, wherever it is (a bare repository, a
 *   --separate-git-dir): objects and refs, or HEAD and a commondir. A directory becomes one only
 *   if it holds nothing the rules above would have refused in one (a hook, an info/ entry, a
 *   commondir or gitdir, a config the guard did not make in a directory it made this run).
 * - truncate, a chmod that sets those bits, an access ACL that sets them (system.posix_acl_access:
 *   its entries are the mode's bits), and an existing file opened again for writing through
 *   /proc/<pid>/fd are checked like a write to the file's name (a descriptor's: the kernel's name
 *   for it); a chmod of a name the rules let be written, or one that adds none of the bits, passes.
 *   Every other xattr is set by the guard unchecked (the name is read once, as a path is).
 */
#ifndef FENCE_GUARD_H
#define FENCE_GUARD_H

#include <stddef.h>

#include "err.h"
#include "guard-forward.h"

struct plan_bridge; /* plan.h, which includes this file */

enum guard_kind { GUARD_FILE, GUARD_DIR, GUARD_GIT, GUARD_GIT_CONFIG };

struct plan_guard_name {
  enum guard_kind kind;
  const char *name;
};

struct plan_guard {
  struct plan_guard_name *names;
  size_t nnames;
};

/* Bridge listeners whose relay the guard starts when one first has a client (bridge_start, from the
 * guard, which holds the relay's descriptors until then: see bridge_deferrable); n == 0: none. */
struct guard_bridges {
  const struct plan_bridge *bridges;
  size_t n;
  int *fds;
};

/* What the command's process runs after the fork: guard_install(sock, ...), the other filters and
 * the exec. It must not return, and must not wait for the guard before its exec unless there is a
 * supervisor (without one the guard sleeps until that exec: vfork). */
typedef void (*guard_child_fn)(void *arg, int sock);

/* Forks. The child (the command's process) runs fn(arg, sock), `sock` being the socket for
 * guard_install; the parent becomes the guard and never returns: it serves notifications,
 * forwards Fence's signals to the child and exits with its status. Returns -1 only when it could
 * not fork. Call after Landlock, before any seccomp filter. With `tty` the child keeps its
 * process group (it becomes a session leader later); else it gets its own. With `sup` (Fence's
 * seccomp supervisor: -m, runtimeExecPolicy "argv") the guard also serves the supervisor's
 * program (guard-forward.h). The command's process closes the `later` relay's descriptors with
 * every descriptor >= 3 before its exec. */
int guard_fork(const struct plan_guard *g, const struct guard_supervisor *sup, const struct guard_bridges *later, int tty, guard_child_fn fn, void *arg, struct fence_err *e);
/* In the child: installs the creation filter (with `sup`, the supervisor's program in front of
 * it, as one filter) with a listener and sends it to the guard. Must be the only filter with a
 * listener (the kernel allows one per process). */
int guard_install(int sock, const struct guard_supervisor *sup, struct fence_err *e);

#endif
