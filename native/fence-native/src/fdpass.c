#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define FDPASS_MAX 4 /* more than we ever send: extra ones are received so they can be closed */

int fdpass_send(int sock, int fd, const void *data, size_t len) {
  int pending = 0;
  if (len == 0) return -EINVAL; /* a descriptor needs at least one byte to travel with */
  if (ioctl(sock, FIONREAD, &pending) != 0) return -errno;
  if (pending > 0) return -EBUSY;
  return fdpass_sendmsg(sock, fd, data, len);
}

int fdpass_sendmsg(int sock, int fd, const void *data, size_t len) {
  if (len == 0) return -EINVAL;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = fd >= 0 ? control.buf : NULL, .msg_controllen = fd >= 0 ? sizeof control.buf : 0};
  if (fd >= 0) {
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  return (size_t)n == len ? 0 : -EAGAIN;
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fd) {
  union {
    char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  *fd = -1;
  ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (*fd < 0) *fd = got;
      else (void)close(got);
    }
  }
  return n;
}
