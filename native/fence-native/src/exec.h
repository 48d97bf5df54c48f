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
/* Closes every descriptor >= `from`. Returns 0 or -errno. */
int fds_close_from(unsigned int from);

#endif
