/* `fence-launch --netns PORT -- bwrap ...`: the sandbox's network namespace, made by Fence before
 * bwrap so that Fence, not bwrap, owns it. bwrap's own (`--unshare-net`) belongs to bwrap's user
 * namespace, where the capture rule cannot be written and /proc/sys is read-only.
 *
 *   1. unshare(CLONE_NEWUSER | CLONE_NEWNET), the caller's uid and gid mapped to 0 (root over this
 *      network namespace only: its capabilities reach nothing of the host);
 *   2. loopback up;
 *   3. ip_unprivileged_port_start = 0, so the in-sandbox helper, which keeps no capability, binds
 *      the DNS stub's port 53;
 *   4. the capture rule (nft.c; without it a warning, and the proxies still work);
 *   5. exec bwrap, which runs without --unshare-net inside this namespace (--uid/--gid give the
 *      command the caller's ids back).
 * Every descriptor is inherited by bwrap as is. */
#include "netns.h"
#include "nft.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_file(const char *path, const char *text, struct fence_err *e) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fence_fail(e, errno, "netns: open %s", path);
  ssize_t n = write(fd, text, strlen(text));
  int err = n == (ssize_t)strlen(text) ? 0 : n < 0 ? errno : EIO;
  (void)close(fd);
  return err ? fence_fail(e, err, "netns: write %s", path) : 0;
}

/* uid and gid as they were before the unshare (afterwards both read as the overflow id). */
static int map_ids(uid_t uid, gid_t gid, struct fence_err *e) {
  char uid_map[32], gid_map[32];
  (void)snprintf(uid_map, sizeof uid_map, "0 %u 1\n", (unsigned)uid);
  (void)snprintf(gid_map, sizeof gid_map, "0 %u 1\n", (unsigned)gid);
  /* setgroups must be off before an unprivileged process may write its gid map. */
  if (write_file("/proc/self/uid_map", uid_map, e) != 0) return -1;
  if (write_file("/proc/self/setgroups", "deny", e) != 0) return -1;
  return write_file("/proc/self/gid_map", gid_map, e);
}

static int loopback_up(struct fence_err *e) {
  struct ifreq ifr = {.ifr_name = "lo"};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fence_fail(e, errno, "netns: socket");
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  /* Brings up the new namespace's only interface. */
  if (rc == 0) rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  int err = errno;
  (void)close(fd);
  return rc != 0 ? fence_fail(e, err, "netns: loopback up") : 0;
}

int netns_enter(uint16_t capture_port, struct fence_err *e) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  /* Creates the user and network namespaces this process, then bwrap, then the command live in. */
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return fence_fail(e, errno, "netns: unshare(CLONE_NEWUSER|CLONE_NEWNET)");
  if (map_ids(uid, gid, e) != 0 || loopback_up(e) != 0) return -1;
  /* Per network namespace: lets the capability-less helper bind port 53 here, nowhere else. */
  if (write_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0", e) != 0) return -1;
  /* Without the rule the sandbox is still closed; only the capture is missing: said, not fatal. */
  struct fence_err rule = {.errnum = 0};
  if (nft_add_capture_rule(capture_port, &rule) != 0)
    fprintf(stderr, "fence: warning: capture off (programs that ignore the proxy variables reach nothing): %s: %s; the kernel needs nf_tables with NAT redirect (CONFIG_NFT_REDIR)\n",
            rule.what, strerror(rule.errnum));
  return 0;
}
