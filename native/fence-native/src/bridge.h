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
 * the calling process) and closes `fds` in the caller. */
int bridge_start(const struct plan_bridge *bridges, size_t n, int *fds, struct fence_err *e);

/* Whether every bridge only refuses (no host socket, nothing to connect to): their relay needs
 * nothing from outside the sandbox's restrictions, so the guard may start it when a client first
 * connects instead of at every start (guard.h). */
int bridge_refuse_only(const struct plan_bridge *bridges, size_t n);

#endif
