#include "unixsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int unix_listen(const char *path, int backlog) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) return -ENAMETOOLONG;
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  /* Creates the socket file; fails with EADDRINUSE if anything exists at `path`. */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, backlog) != 0) {
    int err = errno;
    (void)close(fd);
    return -err;
  }
  return fd;
}

/* Linux 6.5's option; the build's headers may predate it. */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int unix_peer(int fd, struct unix_peer *out) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
  out->pid = cred.pid;
  out->uid = (int)cred.uid;
  len = sizeof out->pidfd;
  /* Side effect: a new descriptor, which the caller closes. */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &out->pidfd, &len) != 0) {
    if (errno != ENOPROTOOPT) return -errno;
    out->pidfd = -1;
  }
  return 0;
}
