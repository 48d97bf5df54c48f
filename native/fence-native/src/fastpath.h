/* The native fast path (fence-launch --fast): starts a sandbox from a plan cache entry written by
 * the CLI (packages/cli/src/plan-cache/entry.ts describes the format) without Node, when every
 * input the entry records is unchanged; on any difference or doubt it hands the run to the CLI.
 *   fastpath.c        finds the entry, hands over on a miss
 *   fastpath-check.c  reads the entry and checks every recorded input (no side effect)
 *   fastpath-run.c    the descriptors, the environment, bwrap, signals, the exit status */
#ifndef FENCE_FASTPATH_H
#define FENCE_FASTPATH_H

#include <stddef.h>

enum fast_fd_kind { FAST_FD_DATA, FAST_FD_BIND, FAST_FD_REPORT, FAST_FD_NONE };

struct fast_fd {
  enum fast_fd_kind kind;
  const char *bytes; /* data: the bytes; bind: the path */
  size_t len;
  int dir, sock; /* bind: a directory, a socket (else a regular file) */
  unsigned long long dev, ino;
};

/* A shared host service's socket the run connects to and holds until it ends (entry.ts `lease`). */
struct fast_lease {
  const char *path;
  unsigned long long dev, ino;
};

/* What a checked entry asks for; every pointer points into the entry's buffer. */
struct fast_plan {
  const char **say;
  size_t nsay;
  const char *chdir;
  const char **argv; /* the wrappers' argv, then the command's, NULL-terminated */
  size_t nargv;
  int init_is_helper; /* bwrap --as-pid-1: the helper is the sandbox's init (signal.ts forwardToInit) */
  struct fast_fd *fds;
  size_t nfds;
  const char **set; /* "name=value" for the command, NULL-terminated */
  size_t nset;
  const char **drop; /* volatile names the policy removes */
  size_t ndrop;
  struct fast_lease *leases;
  size_t nleases;
};

/* The variables left out of the key (entry.ts VOLATILE), passed as they are now. */
extern const char *const fast_volatile[];
int fast_is_volatile(const char *name, size_t len);

/* Checks the entry `buf` for this run; 0 and `plan` filled, or -1 and `why` says what differs.
 * `flags`/`nflags`: fence's arguments before `--`; `cmd`: the command (NULL-terminated). */
int fast_check(char *buf, size_t len, char **flags, int nflags, char **cmd, struct fast_plan *plan, const char **why);

/* Starts the sandbox and waits for it; returns the exit status as fence reports it, or -1 (and
 * `why`) when nothing was started (the caller hands over then). `explain`: say "hit" on stderr
 * once everything it needs is in hand. */
int fast_run(const struct fast_plan *plan, int explain, const char **why);

int fastpath_main(int argc, char **argv);

#endif
