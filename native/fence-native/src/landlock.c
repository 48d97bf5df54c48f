#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_CREATE_RULESET_ERRATA (1U << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2 /* ABI 4 */

/* Rights that make sense on a non-directory: EXECUTE, WRITE_FILE, READ_FILE, TRUNCATE (v3),
 * IOCTL_DEV (v5). Any other right on a file makes landlock_add_rule fail with EINVAL. */
#define LL_ACCESS_FILE ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 14) | (1ULL << 15))

/* struct landlock_ruleset_attr as of ABI 6; the size passed selects how much the kernel reads. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI 4 */
  uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
  uint64_t allowed_access;
  uint64_t port;
};

long landlock_abi(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? -errno : abi;
}

long landlock_errata(void) {
  long errata = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_ERRATA);
  return errata < 0 ? -errno : errata;
}

static size_t attr_size(int abi) {
  if (abi >= 6) return sizeof(struct ll_ruleset_attr);
  if (abi >= 4) return offsetof(struct ll_ruleset_attr, scoped);
  return offsetof(struct ll_ruleset_attr, handled_access_net);
}

static int add_path_rule(int ruleset, const struct plan_path_rule *rule, struct fence_err *e) {
  struct stat st;
  /* O_PATH: a handle for the rule only; it grants no read access and is closed right after. */
  int fd = open(rule->path, O_PATH | O_CLOEXEC);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
    fprintf(stderr, "fence-launch: landlock: skipping missing path %s\n", rule->path);
    return 0;
  }
  if (fd < 0) return fence_fail(e, errno, "landlock: open %s", rule->path);
  if (fstat(fd, &st) != 0) {
    int err = errno;
    (void)close(fd);
    return fence_fail(e, err, "landlock: stat %s", rule->path);
  }
  struct ll_path_beneath_attr attr = {
      .allowed_access = S_ISDIR(st.st_mode) ? rule->access : rule->access & LL_ACCESS_FILE,
      .parent_fd = fd,
  };
  /* Adds the rule to the (not yet enforced) ruleset. */
  long rc = syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &attr, 0);
  int err = errno;
  (void)close(fd); /* an O_PATH handle: nothing to flush */
  return rc == 0 ? 0 : fence_fail(e, err, "landlock_add_rule %s", rule->path);
}

/*
 * The command's stdin, stdout and stderr, when they are regular files: reopened by name
 * (`echo x >/dev/stderr`, `cat /dev/stdin`, through /proc/self/fd) they would be checked by path
 * and refused, since a file the user redirected to is usually outside the sandbox's rules. The rule
 * is on the file itself, for the access its descriptor already has, so it gives nothing new.
 */
static int add_stdio_rules(int ruleset, uint64_t handled, struct fence_err *e) {
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    int mode = flags & O_ACCMODE;
    uint64_t access = 0;
    if (mode == O_RDONLY || mode == O_RDWR) access |= 1ULL << 2;             /* READ_FILE */
    if (mode == O_WRONLY || mode == O_RDWR) access |= (1ULL << 1) | (1ULL << 14); /* WRITE_FILE, TRUNCATE */
    struct ll_path_beneath_attr attr = {.allowed_access = access & handled, .parent_fd = fd};
    if (attr.allowed_access == 0) continue;
    if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &attr, 0) != 0)
      return fence_fail(e, errno, "landlock_add_rule for descriptor %d", fd);
  }
  return 0;
}

static int add_port_rule(int ruleset, const struct plan_port_rule *rule, struct fence_err *e) {
  struct ll_net_port_attr attr = {.allowed_access = rule->access, .port = rule->port};
  /* Adds the rule to the (not yet enforced) ruleset. */
  if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &attr, 0) != 0)
    return fence_fail(e, errno, "landlock_add_rule port %u", (unsigned)rule->port);
  return 0;
}

int landlock_apply(const struct plan_landlock *ll, struct fence_err *e) {
  struct ll_ruleset_attr attr = {
      .handled_access_fs = ll->handled_fs,
      .handled_access_net = ll->handled_net,
      .scoped = ll->scoped,
  };
  if ((ll->abi < 4 && ll->handled_net) || (ll->abi < 6 && ll->scoped))
    return fence_fail(e, EINVAL, "landlock: ABI %d ruleset with net/scope rights", ll->abi);
  int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size(ll->abi), 0);
  if (ruleset < 0) return fence_fail(e, errno, "landlock_create_ruleset (ABI %d)", ll->abi);

  int rc = 0;
  for (size_t i = 0; rc == 0 && i < ll->npaths; i++) rc = add_path_rule(ruleset, &ll->paths[i], e);
  for (size_t i = 0; rc == 0 && i < ll->nports; i++) rc = add_port_rule(ruleset, &ll->ports[i], e);
  if (rc == 0) rc = add_stdio_rules(ruleset, ll->handled_fs, e);
  /* Enforces the ruleset on this thread and everything it executes; irreversible. */
  if (rc == 0 && syscall(__NR_landlock_restrict_self, ruleset, ll->restrict_flags) != 0)
    rc = fence_fail(e, errno, "landlock_restrict_self");
  if (close(ruleset) != 0 && rc == 0) rc = fence_fail(e, errno, "landlock: close ruleset");
  return rc;
}

int landlock_scope_apply(const struct plan_landlock *ll, struct fence_err *e) {
  struct ll_ruleset_attr attr = {.scoped = ll->scoped};
  if (ll->scoped == 0) return 0;
  if (ll->abi < 6) return fence_fail(e, EINVAL, "landlock: ABI %d ruleset with net/scope rights", ll->abi);
  int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size(ll->abi), 0);
  if (ruleset < 0) return fence_fail(e, errno, "landlock_create_ruleset (scopes, ABI %d)", ll->abi);
  int rc = 0;
  /* Irreversible, like the outer domain. */
  if (syscall(__NR_landlock_restrict_self, ruleset, ll->restrict_flags) != 0) rc = fence_fail(e, errno, "landlock_restrict_self (scopes)");
  if (close(ruleset) != 0 && rc == 0) rc = fence_fail(e, errno, "landlock: close ruleset");
  return rc;
}
