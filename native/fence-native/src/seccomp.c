#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_seccomp(unsigned int op, unsigned int flags, void *args) {
  return syscall(__NR_seccomp, op, flags, args);
}

int seccomp_action_available(uint32_t action) {
  /* Read-only query. */
  if (sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0) return 1;
  return errno == EOPNOTSUPP ? 0 : -errno;
}

int seccomp_flag_available(unsigned int flag) {
  /* The kernel validates flags before copying the program: EINVAL means an unknown flag,
   * EFAULT (from the NULL program) means the flag is known. Nothing is installed either way. */
  if (sys_seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) == 0) return -EPERM; /* cannot happen */
  if (errno == EFAULT) return 1;
  return errno == EINVAL ? 0 : -errno;
}

/* seccomp(SECCOMP_SET_MODE_FILTER) with `flags`; returns what the kernel returns, errno set. */
static long install(const uint8_t *prog, size_t len, unsigned int flags) {
  size_t count = len / sizeof(struct sock_filter);
  struct sock_filter *insns = malloc(len);
  if (insns == NULL) return errno = ENOMEM, -1;
  memcpy(insns, prog, len); /* the plan buffer is not aligned for struct sock_filter */
  struct sock_fprog fprog = {.len = (unsigned short)count, .filter = insns};
  /* Installs the filter on this thread and everything it executes; irreversible. */
  long rc = sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog);
  int err = errno;
  free(insns);
  errno = err;
  return rc;
}

int seccomp_install(const uint8_t *prog, size_t len, int log, struct fence_err *e) {
  long rc = install(prog, len, log ? SECCOMP_FILTER_FLAG_LOG : 0);
  if (rc != 0 && log && errno == EINVAL) rc = install(prog, len, 0);
  return rc == 0 ? 0 : fence_fail(e, errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
}

int seccomp_install_listener(const uint8_t *prog, size_t len, struct fence_err *e) {
  long fd = install(prog, len, SECCOMP_FILTER_FLAG_NEW_LISTENER);
  return fd >= 0 ? (int)fd : fence_fail(e, errno, "seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)");
}
