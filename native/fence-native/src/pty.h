/* Terminal mode (fence-launch --tty): the command runs on a pseudo-terminal of the sandbox's own
 * devpts, as a session leader whose controlling terminal it is; this process stays behind as the
 * relay between the outer terminal (its stdio, in raw mode: Fence sets it on the host) and the
 * pseudo-terminal's master side. */
#ifndef FENCE_PTY_H
#define FENCE_PTY_H

#include <sys/types.h>

#include "err.h"

struct pty {
  int master, slave;
  int outer_in, outer_out; /* the outer terminal: stdin, and stdout or else stderr */
  unsigned stdio_ttys;     /* bit fd set: stdio fds that are the outer terminal (the slave replaces them) */
};

/* Allocates the pseudo-terminal (master and slave, close-on-exec, neither a controlling terminal
 * of this process) and copies the outer window size to it. Fails with ENOTTY unless stdin and
 * stdout or stderr are terminals. */
int pty_open(struct pty *p, struct fence_err *e);
/* Forks the command's process. Returns 0 in it. In this process it never returns: it becomes the
 * relay (non-dumpable, no restriction added: it runs before seccomp like the bridges), forwards
 * SIGTERM/SIGHUP/SIGINT to the command, copies the outer window size on SIGWINCH, and exits with
 * the command's status (128+N when signal N killed it) once its output is relayed. */
int pty_fork(struct pty *p, struct fence_err *e);
/* In the command's process, after every restriction: a new session, the slave as its controlling
 * terminal (its process group in the foreground), and the slave on the stdio fds that were the
 * outer terminal; the others (a file, a pipe) stay as they are. */
int pty_attach(struct pty *p, struct fence_err *e);

#endif
