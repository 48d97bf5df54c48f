/* seccomp: capability probes (addon) and installing a classic-BPF filter (fence-launch). */
#ifndef FENCE_SECCOMP_H
#define FENCE_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* 1 if the kernel knows the SECCOMP_RET_* action, 0 if not, -errno if seccomp() itself failed. */
int seccomp_action_available(uint32_t action);
/* 1 if seccomp(SECCOMP_SET_MODE_FILTER) accepts the flag, 0 if not, -errno on other failures.
 * Installs nothing: the filter pointer is NULL, so a known flag fails with EFAULT. */
int seccomp_flag_available(unsigned int flag);
/* Installs the program (struct sock_filter[] bytes). With `log`, SECCOMP_FILTER_FLAG_LOG is asked
 * for (and dropped on kernels that reject it); without, the filter's ERRNO denials are never
 * logged, since the kernel logs a denial only when the deciding filter has the flag. Needs
 * no_new_privs. */
int seccomp_install(const uint8_t *prog, size_t len, int log, struct fence_err *e);
/* Installs the program with SECCOMP_FILTER_FLAG_NEW_LISTENER; returns the listener (close-on-exec)
 * or -1. Needs no_new_privs. */
int seccomp_install_listener(const uint8_t *prog, size_t len, struct fence_err *e);

#endif
