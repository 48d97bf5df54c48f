/* A listening Unix stream socket made by Fence on the host for `-p`: the in-sandbox relay accepts
 * on the descriptor, so no socket path is ever created or resolved inside the sandbox. */
#ifndef FENCE_UNIXSOCK_H
#define FENCE_UNIXSOCK_H

/* socket + bind(path) + listen(backlog), close-on-exec. Returns the descriptor, or -errno. */
int unix_listen(const char *path, int backlog);

#endif
