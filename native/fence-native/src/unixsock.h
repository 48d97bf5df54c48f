/* A listening Unix stream socket made by Fence on the host for `-p`: the in-sandbox relay accepts
 * on the descriptor, so no socket path is ever created or resolved inside the sandbox. And who
 * connected to a socket: the proxy service serves only the processes of its own runs. */
#ifndef FENCE_UNIXSOCK_H
#define FENCE_UNIXSOCK_H

/* socket + bind(path) + listen(backlog), close-on-exec. Returns the descriptor, or -errno. */
int unix_listen(const char *path, int backlog);

/* The process that connected the Unix socket `fd`, as the kernel recorded it at connect(). */
struct unix_peer {
  int pid;   /* in the caller's pid namespace; 0 when the peer is not visible there */
  int uid;
  int pidfd; /* a pidfd of that very process (close-on-exec), or -1 before Linux 6.5 */
};

/* SO_PEERCRED, and SO_PEERPIDFD where the kernel has it. Returns 0, or -errno. */
int unix_peer(int fd, struct unix_peer *out);

#endif
