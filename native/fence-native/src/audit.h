/* The kernel's audit records, read as they are emitted: the read-only multicast group of the audit
 * netlink socket (AUDIT_NLGRP_READLOG: CAP_AUDIT_READ in the initial user namespace). Unlike
 * /dev/kmsg it has no printk rate limit and is fed whether or not an audit daemon runs; it never
 * takes the daemon's place. */
#ifndef FENCE_AUDIT_H
#define FENCE_AUDIT_H

#include <stdint.h>

/* A non-blocking, close-on-exec socket that receives every audit record from now on; -errno
 * (EPERM without CAP_AUDIT_READ, ECONNREFUSED/EPERM in a user namespace). Each read() returns one
 * netlink message: a struct nlmsghdr (the record type in nlmsg_type), then the record's text.
 * ENOBUFS from read() means records were dropped because the socket's buffer was full. */
int audit_open_readlog(void);

struct audit_state {
  uint32_t enabled; /* 0 off, 1 on, 2 on and locked */
  uint32_t pid;     /* the audit daemon's pid, 0 when none runs */
  uint32_t backlog; /* records queued in the kernel, not yet sent to any reader */
  uint32_t lost;
};

/* AUDIT_GET: the audit status (CAP_AUDIT_CONTROL, initial pid namespace); 0 or -errno. */
int audit_get_state(struct audit_state *out);

#endif
