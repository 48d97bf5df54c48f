#include "guard-path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int guard_read_string(pid_t tid, uint64_t addr, char *buf, size_t size) {
  size_t got = 0;
  /* Page by page: a read stops at the first unmapped page, and a path may end just before one. */
  while (got < size - 1) {
    size_t page = 4096 - (size_t)((addr + got) % 4096), want = size - 1 - got < page ? size - 1 - got : page;
    struct iovec local = {buf + got, want}, remote = {(void *)(uintptr_t)(addr + got), want};
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n <= 0) return got ? -ENAMETOOLONG : -(n < 0 ? (errno == ESRCH ? ESRCH : EFAULT) : EFAULT);
    if (memchr(buf + got, '\0', (size_t)n)) return 0;
    got += (size_t)n;
  }
  return -ENAMETOOLONG;
}

/* Rewrites the names that mean "the calling process" to the target's /proc directory. */
static int rewrite(pid_t tid, const char *in, char *out, size_t size) {
  static const struct {
    const char *from, *to;
  } MAP[] = {{"/dev/stdin", "/fd/0"}, {"/dev/stdout", "/fd/1"}, {"/dev/stderr", "/fd/2"}, {"/dev/fd", "/fd"}, {"/proc/self", ""}, {"/proc/thread-self", ""}};
  for (size_t i = 0; i < sizeof MAP / sizeof *MAP; i++) {
    size_t n = strlen(MAP[i].from);
    if (strncmp(in, MAP[i].from, n) == 0 && (in[n] == '/' || in[n] == '\0')) {
      int w = snprintf(out, size, "/proc/%d%s%s", (int)tid, MAP[i].to, in + n);
      return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
    }
  }
  if (strlen(in) >= size) return -ENAMETOOLONG;
  strcpy(out, in);
  return 0;
}

/* Length of a leading /proc/<pid>/fd/<n>, /proc/<pid>/cwd or /proc/<pid>/root (a whole
 * component), or 0. */
static size_t magic_prefix(const char *p) {
  if (strncmp(p, "/proc/", 6) != 0) return 0;
  const char *s = p + 6;
  if (*s < '0' || *s > '9') return 0;
  while (*s >= '0' && *s <= '9') s++;
  if (strncmp(s, "/cwd", 4) == 0) s += 4;
  else if (strncmp(s, "/root", 5) == 0) s += 5;
  else if (strncmp(s, "/fd/", 4) == 0 && s[4] >= '0' && s[4] <= '9') {
    s += 4;
    while (*s >= '0' && *s <= '9') s++;
  } else return 0;
  return *s == '/' || *s == '\0' ? (size_t)(s - p) : 0;
}

/* Whether `path` is in the guard's own /proc directory. The guard may open its own memory and
 * descriptors there (a process always may), the command may not (the guard is non-dumpable):
 * those are refused as the kernel refuses the command. */
static int guard_own_proc(const char *path) {
  if (strncmp(path, "/proc/", 6) != 0) return 0;
  char *end;
  long pid = strtol(path + 6, &end, 10);
  return end != path + 6 && (*end == '/' || *end == '\0') && pid == (long)getpid();
}

static int open_beneath(int base, const char *path) {
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, base, path, &how, sizeof how);
  return fd >= 0 ? fd : -errno;
}

int guard_resolve(pid_t tid, int dirfd, int base, const char *raw, struct guard_path *out) {
  char path[PATH_MAX + 64], start[64];
  out->dirfd = -1;
  out->magic[0] = '\0';
  out->slash = 0;
  if (raw[0] == '\0') return -ENOENT;
  int rc = rewrite(tid, raw, path, sizeof path);
  if (rc != 0) return rc;
  /* Strips trailing slashes: the last component is what is created (mkdir "a/" makes "a"). */
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') path[--len] = '\0', out->slash = 1;

  const char *rest = path;
  int from = -1, own = 0;
  size_t magic = magic_prefix(path);
  if (guard_own_proc(path)) return -EACCES;
  if (magic) {
    if (magic >= sizeof out->magic) return -ENAMETOOLONG;
    if (path[magic] == '\0') {
      strcpy(out->magic, path); /* the whole path is the link: the caller opens it */
      return 0;
    }
    /* Follows the link (the target's descriptor, cwd or root) the way the kernel would for it. */
    char link[64];
    memcpy(link, path, magic);
    link[magic] = '\0';
    from = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC), own = 1;
    if (from < 0) return errno == ENOENT ? -EBADF : -errno;
    rest = path + magic + 1;
  } else if (path[0] == '/') {
    from = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), own = 1;
    rest = path + 1;
  } else if (base >= 0) {
    from = base;
  } else {
    if (dirfd == AT_FDCWD) snprintf(start, sizeof start, "/proc/%d/cwd", (int)tid);
    else snprintf(start, sizeof start, "/proc/%d/fd/%d", (int)tid, dirfd);
    from = open(start, O_PATH | O_DIRECTORY | O_CLOEXEC), own = 1;
    if (from < 0) return errno == ENOENT ? -EBADF : -errno;
  }
  if (from < 0) return -errno;

  const char *slash = strrchr(rest, '/');
  const char *name = slash ? slash + 1 : rest;
  if (strlen(name) > NAME_MAX) rc = -ENAMETOOLONG;
  else if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) rc = -EEXIST;
  if (rc == 0) {
    char dir[PATH_MAX + 64];
    size_t dlen = slash ? (size_t)(slash - rest) : 0;
    memcpy(dir, rest, dlen);
    dir[dlen] = '\0';
    rc = open_beneath(from, dlen ? dir : ".");
  }
  if (own) (void)close(from);
  if (rc < 0) return rc;
  out->dirfd = rc;
  strcpy(out->name, name);
  char self[32];
  snprintf(self, sizeof self, "/proc/self/fd/%d", out->dirfd);
  ssize_t n = readlink(self, out->dir, sizeof out->dir - 1);
  if (n < 0) return guard_path_close(out), -errno;
  out->dir[n] = '\0';
  if (guard_own_proc(out->dir)) return guard_path_close(out), -EACCES;
  return 0;
}

void guard_path_close(struct guard_path *p) {
  if (p->dirfd >= 0) (void)close(p->dirfd);
  p->dirfd = -1;
}
