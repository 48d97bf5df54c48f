/* Process state a new program must not inherit from Node or from the helper. */
#ifndef FENCE_EXEC_H
#define FENCE_EXEC_H

#include <signal.h>

struct exec_saved {
  int fd_flags[3], fl_flags[3];
  struct sigaction pipe, xfsz;
  sigset_t mask;
};

/* Before execve: stdio without FD_CLOEXEC and O_NONBLOCK (libuv sets both), every fd >= 3
 * close-on-exec, SIGPIPE/SIGXFSZ back to SIG_DFL (Node ignores them, and ignored dispositions
 * survive execve), signal mask empty. Saves what it changes into `s`. Returns 0 or -errno;
 * after a failure, exec_restore puts back whatever was already changed. */
int exec_prepare(struct exec_saved *s);
/* After a failed execve: puts back what exec_prepare changed (fds >= 3 stay close-on-exec). */
void exec_restore(const struct exec_saved *s);
/* execvp as glibc has it, whichever libc this is built with (musl's differs): a file the kernel
 * cannot run (no "#!") runs with /bin/sh, as a shell would run it; PATH unset means
 * "/bin:/usr/bin". Returns only on failure, errno set as execvp sets it. */
void exec_path(const char *file, char *const argv[]);
/* Closes every descriptor >= `from`. Returns 0 or -errno. */
int fds_close_from(unsigned int from);

#endif
