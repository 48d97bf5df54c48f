/* The command's creation filter: each syscall that can make a name, open one for writing, empty a
 * file by its name (truncate) or give a file exec bits or others' write bits (the chmod family)
 * goes to the guard (SECCOMP_RET_USER_NOTIF), as does every setxattr (an access ACL is a chmod);
 * everything else is left to the other filters.
 * ftruncate and fallocate need a descriptor opened for writing, which only the guard hands out. */
#include "guard-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define GUARD_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define GUARD_ARCH AUDIT_ARCH_AARCH64
#else
#error "the creation guard knows x86_64 and aarch64"
#endif
#define X32_BIT 0x40000000u /* x86_64's x32 ABI; no aarch64 syscall number is that high */

/* open flags that create or write: the guard sees these opens, never a read-only one. */
#define WRITE_FLAGS (O_CREAT | O_WRONLY | O_RDWR | O_TRUNC)


static const int ALWAYS[] = {
#ifdef SYS_creat
    SYS_creat,
#endif
#ifdef SYS_mkdir
    SYS_mkdir,
#endif
#ifdef SYS_mknod
    SYS_mknod,
#endif
#ifdef SYS_symlink
    SYS_symlink,
#endif
#ifdef SYS_link
    SYS_link,
#endif
#ifdef SYS_rename
    SYS_rename,
#endif
#ifdef SYS_renameat
    SYS_renameat,
#endif
    SYS_mkdirat, SYS_mknodat, SYS_symlinkat, SYS_linkat, SYS_renameat2, SYS_truncate,
    /* An access ACL sets the mode's bits as a chmod does; the name is behind a pointer. */
    SYS_setxattr, SYS_lsetxattr, SYS_fsetxattr, SYS_setxattrat,
};

/* The chmods, by where their mode is: argument 1 (chmod, fchmod) or 2 (fchmodat, fchmodat2). */
static const int MODE_ARG1[] = {
#ifdef SYS_chmod
    SYS_chmod,
#endif
    SYS_fchmod,
};
static const int MODE_ARG2[] = {SYS_fchmodat, SYS_fchmodat2};

#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i)) /* little-endian: the int flags */

size_t guard_filter(struct sock_filter *out) {
  size_t n = 0, nalways = sizeof ALWAYS / sizeof *ALWAYS, nmode1 = sizeof MODE_ARG1 / sizeof *MODE_ARG1, nmode2 = sizeof MODE_ARG2 / sizeof *MODE_ARG2;
#ifdef SYS_open
  const int has_open = 1;
#else
  const int has_open = 0;
#endif
  /* Layout: arch check, one JEQ per syscall, then the argument tests (forward jumps only, so they
   * come before the returns they lead to) and the returns. */
  size_t njeq = nalways + nmode1 + nmode2 + 2 + (size_t)has_open; /* + openat, openat2, open */
  size_t after = 6 + njeq;                                        /* the first instruction behind the JEQs (a RET ALLOW) */
  size_t flags2 = after + 1, flags1 = after + 3, mode1 = after + 5, mode2 = after + 7;
  size_t allow = after + 9, notify = after + 10, enosys = after + 11;
  /* Another architecture's (or x32's) numbers would pass the checks below unseen: killed here
   * too, whatever the other filters do. */
  out[n++] = (struct sock_filter)LD(offsetof(struct seccomp_data, arch));
  out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, GUARD_ARCH, 1, 0);
  out[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
  out[n++] = (struct sock_filter)LD(offsetof(struct seccomp_data, nr));
  out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
  out[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
#define JEQ(nr, to) out[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(nr), (unsigned char)((to) - n - 1), 0), n++
#define JSET(bits, yes, no) out[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (bits), (unsigned char)((yes) - n - 1), (unsigned char)((no) - n - 1)), n++
  for (size_t i = 0; i < nalways; i++) JEQ(ALWAYS[i], notify);
  for (size_t i = 0; i < nmode1; i++) JEQ(MODE_ARG1[i], mode1);
  for (size_t i = 0; i < nmode2; i++) JEQ(MODE_ARG2[i], mode2);
  JEQ(SYS_openat, flags2);
  JEQ(SYS_openat2, enosys);
#ifdef SYS_open
  JEQ(SYS_open, flags1);
#endif
  out[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
  out[n++] = (struct sock_filter)LD(ARG_LOW(2)); /* flags2 */
  JSET(WRITE_FLAGS, notify, allow);
  out[n++] = (struct sock_filter)LD(ARG_LOW(1)); /* flags1 */
  JSET(WRITE_FLAGS, notify, allow);
  out[n++] = (struct sock_filter)LD(ARG_LOW(1)); /* mode1 */
  JSET(GUARD_MODE_BITS, notify, allow);
  out[n++] = (struct sock_filter)LD(ARG_LOW(2)); /* mode2 */
  JSET(GUARD_MODE_BITS, notify, allow);
  out[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
  out[n++] = (struct sock_filter)RET(SECCOMP_RET_USER_NOTIF);
  /* openat2's flags are behind a pointer BPF cannot read: callers fall back to openat. */
  out[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | ENOSYS);
  (void)flags1; /* unused where there is no open(2) */
  return n;
}
