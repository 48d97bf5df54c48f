/* Bridges: relays between 127.0.0.1 ports inside the sandbox and Unix sockets on the host, reached
 * only through descriptors Fence opened before the sandbox existed. */
#ifndef FENCE_BRIDGE_H
#define FENCE_BRIDGE_H

#include <stddef.h>

#include "err.h"
#include "plan.h"

/* Binds and listens on every bridge's listening side (fds[i] for bridges[i]), so a client of the
 * command can connect as soon as it starts: there is no readiness race with the relay process. */
int bridge_listen(const struct plan_bridge *bridges, size_t n, int *fds, struct fence_err *e);
/* Starts the relay process (not the caller's child, non-dumpable, in its own session, exits with
 * the calling process) and closes `fds` and the host sockets' descriptors in the caller. -1: no
 * relay, nothing closed (it could not fork); -2: the relay runs, a descriptor would not close. */
int bridge_start(const struct plan_bridge *bridges, size_t n, int *fds, struct fence_err *e);

/* For a relay that cannot start yet: answers the clients waiting on the listener `fd` of `b` at
 * once (a TCP connection is closed, a DNS query gets SERVFAIL) rather than leave them waiting.
 * Returns -1 when one cannot be taken (accept failed): polling it again would spin. */
int bridge_refuse_waiting(const struct plan_bridge *b, int fd);

/* Whether the guard may start these bridges' relay when a client first connects (guard.h) instead
 * of at every start, a fork the command waits for: a relay that refuses needs nothing from outside
 * the sandbox's restrictions; one to the host's sockets needs only their descriptors (which the
 * guard keeps until then) and nothing Landlock or seccomp takes from the guard. But it would live
 * under the command's limits (`limited`: rlimits, or a process limit of the sandbox's), which bind
 * any relay (a refusal's too holds a descriptor per client, and it is a process), so then it
 * starts first. A relay into the sandbox (unix-to-tcp) connects where Landlock's TCP rules may
 * forbid it. */
int bridge_deferrable(const struct plan_bridge *bridges, size_t n, int limited);

/* The descriptors the relay keeps: the listeners (`fds`) and the host sockets. `keep` has room
 * for 2 * n; returns how many it holds (a host socket two bridges share appears twice). */
size_t bridge_relay_fds(const struct plan_bridge *bridges, size_t n, const int *fds, int *keep);

#endif
