/* Passing a descriptor over a Unix stream socket (SCM_RIGHTS): the proxy hands an upstream
 * socket to the bridge, which then relays without the proxy in the path. */
#ifndef FENCE_FDPASS_H
#define FENCE_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* One sendmsg carrying `data` (at least one byte) and `fd`. Refuses with -EBUSY when `sock` has
 * unread input: bytes the peer sent that the sender has not seen. The bridge re-sends those from the
 * count in the message (see bridge.c), so this is a first line of defence that keeps a backlog on
 * the proxy's splice path rather than a guarantee: bytes can still arrive after the check.
 * Returns 0, or -errno (-EAGAIN when the socket buffer is full, or only part of `data` went out:
 * the stream is then unusable). */
int fdpass_send(int sock, int fd, const void *data, size_t len);
/* The same sendmsg (non-blocking) without the unread-input check, for a message socket whose peer
 * also writes; `fd` -1 sends no descriptor. */
int fdpass_sendmsg(int sock, int fd, const void *data, size_t len);
/* recv() that also takes a passed descriptor (close-on-exec) into *fd, or -1 when none came.
 * Extra descriptors in the same message are closed. Returns what recv() returns. */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fd);

#endif
