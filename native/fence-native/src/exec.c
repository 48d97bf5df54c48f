#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* close_range (Linux 5.9); older kernels get a loop up to the descriptor limit. */
static int fds_from(unsigned int from, unsigned int flags) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, from, ~0U, flags) == 0) return 0;
  if (errno != ENOSYS) return -errno;
#endif
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -errno;
  rlim_t max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576 ? 1048576 : rl.rlim_cur;
  for (rlim_t fd = from; fd < max; fd++)
    if (flags) (void)fcntl((int)fd, F_SETFD, FD_CLOEXEC); /* EBADF for unused numbers */
    else (void)close((int)fd);
  return 0;
}

int fds_close_from(unsigned int from) { return fds_from(from, 0); }

int exec_prepare(struct exec_saved *s) {
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigset_t none;
  /* Save everything first, so exec_restore is always safe after a failure below. */
  for (int fd = 0; fd <= 2; fd++) {
    s->fd_flags[fd] = fcntl(fd, F_GETFD); /* -1: closed, stays closed */
    s->fl_flags[fd] = fcntl(fd, F_GETFL);
  }
  if (sigaction(SIGPIPE, NULL, &s->pipe) != 0 || sigaction(SIGXFSZ, NULL, &s->xfsz) != 0 ||
      sigprocmask(SIG_BLOCK, NULL, &s->mask) != 0 || sigemptyset(&dfl.sa_mask) != 0 || sigemptyset(&none) != 0)
    return -errno;

  for (int fd = 0; fd <= 2; fd++) {
    if (s->fd_flags[fd] >= 0 && fcntl(fd, F_SETFD, s->fd_flags[fd] & ~FD_CLOEXEC) != 0) return -errno;
    if (s->fl_flags[fd] >= 0 && fcntl(fd, F_SETFL, s->fl_flags[fd] & ~O_NONBLOCK) != 0) return -errno;
  }
  int rc = fds_from(3, CLOSE_RANGE_CLOEXEC);
  if (rc != 0) return rc;
  if (sigaction(SIGPIPE, &dfl, NULL) != 0 || sigaction(SIGXFSZ, &dfl, NULL) != 0) return -errno;
  /* sigprocmask acts on the calling thread, the one that calls execve. */
  if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) return -errno;
  return 0;
}

void exec_restore(const struct exec_saved *s) {
  for (int fd = 0; fd <= 2; fd++) {
    if (s->fd_flags[fd] >= 0) (void)fcntl(fd, F_SETFD, s->fd_flags[fd]);
    if (s->fl_flags[fd] >= 0) (void)fcntl(fd, F_SETFL, s->fl_flags[fd]);
  }
  (void)sigaction(SIGPIPE, &s->pipe, NULL);
  (void)sigaction(SIGXFSZ, &s->xfsz, NULL);
  (void)sigprocmask(SIG_SETMASK, &s->mask, NULL);
}

/* Runs `path`, or, when the kernel cannot (ENOEXEC), /bin/sh with it. Arrays on the stack: this
 * may run in a vfork child, which must not allocate in its parent's heap. */
static void exec_or_script(const char *path, char *const argv[]) {
  execv(path, argv);
  if (errno != ENOEXEC) return;
  size_t n = 0;
  while (argv[n]) n++;
  char *sh[n + 2];
  sh[0] = "/bin/sh", sh[1] = (char *)path;
  for (size_t i = 1; i <= n; i++) sh[i + 1] = argv[i];
  execv(sh[0], sh);
}

void exec_path(const char *file, char *const argv[]) {
  if (*file == '\0') {
    errno = ENOENT;
    return;
  }
  if (strchr(file, '/')) {
    exec_or_script(file, argv);
    return;
  }
  const char *dirs = getenv("PATH");
  size_t flen = strlen(file);
  int denied = 0;
  if (dirs == NULL) dirs = "/bin:/usr/bin";
  if (flen > NAME_MAX) {
    errno = ENAMETOOLONG;
    return;
  }
  for (const char *p = dirs;; p++) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    if (dlen < PATH_MAX) {
      /* An empty entry is the working directory: the bare name. */
      char buf[dlen + flen + 2];
      memcpy(buf, p, dlen);
      buf[dlen] = '/';
      memcpy(buf + dlen + (dlen > 0), file, flen + 1);
      exec_or_script(buf, argv);
      if (errno == EACCES) denied = 1;
      else if (errno != ENOENT && errno != ESTALE && errno != ENOTDIR && errno != ENODEV && errno != ETIMEDOUT) return;
    }
    if (*end == '\0') break;
    p = end;
  }
  if (denied) errno = EACCES;
}
