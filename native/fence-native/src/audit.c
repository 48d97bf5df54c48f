#include "audit.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Records arrive in bursts (one denial is up to five records): room for thousands of them. */
#define READLOG_BUFFER (4 << 20)

int audit_open_readlog(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
  if (fd < 0) return -errno;
  int size = READLOG_BUFFER;
  /* FORCE passes the rmem_max sysctl for a privileged caller; the plain option is capped by it. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1U << (AUDIT_NLGRP_READLOG - 1)};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    (void)close(fd);
    return -err;
  }
  return fd;
}

int audit_get_state(struct audit_state *out) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return -errno;
  /* The kernel answers from a thread of its own: wait for it, but not forever. */
  struct timeval timeout = {.tv_sec = 1};
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  struct nlmsghdr req = {.nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_GET, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1};
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int rc = -EIO;
  if (sendto(fd, &req, req.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) rc = -errno;
  else {
    /* The ACK (or the error) and the status arrive in either order. */
    for (int i = 0; i < 2 && rc == -EIO; i++) {
      union {
        struct nlmsghdr h;
        char bytes[NLMSG_SPACE(sizeof(struct audit_status)) + 64];
      } reply;
      ssize_t n = recv(fd, &reply, sizeof reply, 0);
      if (n < 0) {
        rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        break;
      }
      if (n < (ssize_t)sizeof reply.h) break;
      if (reply.h.nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = NLMSG_DATA(&reply.h);
        if (err->error != 0) rc = err->error;
      } else if (reply.h.nlmsg_type == AUDIT_GET && reply.h.nlmsg_len >= NLMSG_LENGTH(offsetof(struct audit_status, lost) + 4)) {
        struct audit_status s = {0};
        size_t len = reply.h.nlmsg_len - NLMSG_LENGTH(0);
        memcpy(&s, NLMSG_DATA(&reply.h), len < sizeof s ? len : sizeof s);
        *out = (struct audit_state){.enabled = s.enabled, .pid = s.pid, .backlog = s.backlog, .lost = s.lost};
        rc = 0;
      }
    }
  }
  (void)close(fd);
  return rc;
}
