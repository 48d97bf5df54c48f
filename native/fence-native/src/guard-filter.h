/* The classic-BPF program that sends creation syscalls to the guard. */
#ifndef FENCE_GUARD_FILTER_H
#define FENCE_GUARD_FILTER_H

#include <linux/filter.h>
#include <stddef.h>

#define GUARD_FILTER_MAX 48
/* chmod bits that let git run a hook or another user write the file (exec, group and others'
 * write, setuid, setgid, sticky): a chmod that sets one of them goes to the guard. */
#define GUARD_MODE_BITS 07133u

#include <sys/syscall.h>
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6, the same number on x86_64 and aarch64 */
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463 /* Linux 6.13, likewise */
#endif

/* Writes the program into `out` (GUARD_FILTER_MAX instructions); returns the count. */
size_t guard_filter(struct sock_filter *out);

#endif
