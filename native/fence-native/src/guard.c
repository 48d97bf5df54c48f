#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <linux/limits.h>
#include <unistd.h>

#include "bridge.h"
#include "fdpass.h"
#include "guard-filter.h"
#include "guard-forward.h"
#include "guard-path.h"
#include "guard-rules.h"
#include "seccomp.h"

#define EXIT_SETUP 125
#define MAX_HOPS 40 /* symlinks followed in a row, as the kernel's MAXSYMLINKS */
#define MAX_MESSAGES 20

/* Fence's signals, forwarded to the command (SIGCHLD: the command's end). */
static const int SIGNALS[] = {SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

struct guard {
  struct guard_rules rules;
  int listener;
  struct guard_forward *forward; /* Fence's supervisor's calls go there; NULL without one */
  unsigned messages;
  struct seccomp_notif_sizes sizes;
};

/* One notification being answered. */
struct call {
  struct guard *g;
  struct seccomp_notif *req;
  pid_t tid;
  int answered;
};

static void reply(struct call *c, long long val, int err) {
  struct seccomp_notif_resp *resp = calloc(1, c->g->sizes.seccomp_notif_resp);
  if (resp == NULL) return; /* unanswered: the target waits until the guard ends (then ENOSYS) */
  resp->id = c->req->id;
  resp->val = err ? 0 : val;
  resp->error = err ? -err : 0;
  /* ENOENT: the target was killed meanwhile; nothing to do. */
  (void)ioctl(c->g->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
  free(resp);
  c->answered = 1;
}

/* Installs `fd` in the target as the result of its open (or the error), then closes it here. */
static void reply_fd(struct call *c, int fd, int cloexec) {
  if (fd < 0) return reply(c, 0, errno);
  struct seccomp_notif_addfd add = {.id = c->req->id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (unsigned)fd, .newfd_flags = cloexec ? O_CLOEXEC : 0};
  if (ioctl(c->g->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0) {
    c->answered = 1;
  } else if (errno == EINVAL) { /* before 5.14: add, then answer with the number */
    add.flags = 0;
    int n = ioctl(c->g->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    if (n >= 0) reply(c, n, 0);
    else reply(c, 0, errno);
  } else {
    reply(c, 0, errno == EMFILE ? EMFILE : EPERM);
  }
  (void)close(fd);
}

/* Whether the target still waits in this very syscall: /proc/<tid> still names it. */
static int still_valid(struct call *c) {
  if (ioctl(c->g->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &c->req->id) == 0) return 1;
  c->answered = 1;
  return 0;
}

/* Refuses with EPERM, saying so: "refused to <verb> <path>: <why>". */
static void refuse_path(struct call *c, const char *verb, const char *path, const char *why) {
  if (c->g->messages++ < MAX_MESSAGES)
    fprintf(stderr, "fence: refused to %s %s: %s (Fence's mandatory write protection)%s\n", verb, path, why, c->g->messages == MAX_MESSAGES ? "; further refusals are not shown" : "");
  reply(c, 0, EPERM);
}

static void refuse_as(struct call *c, const char *verb, const struct guard_path *p, const char *why) {
  char path[PATH_MAX + NAME_MAX + 2];
  snprintf(path, sizeof path, "%s/%s", strcmp(p->dir, "/") ? p->dir : "", p->name);
  refuse_path(c, verb, path, why);
}

static void refuse(struct call *c, const struct guard_path *p, const char *why) { refuse_as(c, "create", p, why); }

static int read_arg(struct call *c, int i, char *buf, size_t size) {
  int rc = guard_read_string(c->tid, c->req->data.args[i], buf, size);
  if (rc < 0) reply(c, 0, -rc);
  return rc;
}

static int resolve(struct call *c, int dirfd, int base, const char *path, struct guard_path *p) {
  int rc = guard_resolve(c->tid, dirfd, base, path, p);
  if (rc < 0) reply(c, 0, -rc);
  return rc;
}

#define ARG_FD(c, i) ((int)(unsigned)(c)->req->data.args[i])

/* The target's umask (the guard's own is 0, so the mode it passes is the one the target gets). */
static mode_t target_umask(pid_t tid) {
  char path[40], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) (void)close(fd);
  if (n <= 0) return 022;
  buf[n] = '\0';
  const char *u = strstr(buf, "\nUmask:\t");
  return u ? (mode_t)strtoul(u + 8, NULL, 8) : 022;
}

/* /dev/tty means the opener's controlling terminal: the target's (from /proc/<tid>/stat), a
 * pseudo-terminal of the sandbox's devpts or none. */
static int open_ctty(pid_t tid, int flags) {
  char path[40], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) (void)close(fd);
  if (n <= 0) return errno = ESRCH, -1;
  buf[n] = '\0';
  const char *s = strrchr(buf, ')');
  unsigned long tty = 0; /* tty_nr, after state, ppid, pgrp and session */
  if (s == NULL || sscanf(s + 2, "%*c %*d %*d %*d %lu", &tty) != 1 || tty == 0) return errno = ENXIO, -1;
  unsigned maj = (unsigned)((tty >> 8) & 0xfff), min = (unsigned)((tty & 0xff) | ((tty >> 12) & 0xfff00));
  if (maj < 136 || maj > 143) return errno = ENXIO, -1;
  snprintf(path, sizeof path, "/dev/pts/%u", (maj - 136) * 256 + min);
  return open(path, (flags & ~(O_CREAT | O_EXCL)) | O_NOCTTY | O_CLOEXEC);
}

/* Why changing the file open (O_PATH) as `pin` is refused, or NULL; `named` gets its path. It is
 * checked by the name the kernel gives for it (the name a host program would use); a file no name
 * of the sandbox leads to (a pipe, a deleted file, a descriptor Fence was given) is no protected
 * name. */
static const char *pinned_refused(struct call *c, int pin, char *named, size_t size) {
  char self[32];
  struct stat st, at;
  snprintf(self, sizeof self, "/proc/self/fd/%d", pin);
  ssize_t len = readlink(self, named, size - 1);
  named[len > 0 ? len : 0] = '\0';
  if (len <= 0 || named[0] != '/' || fstat(pin, &st) != 0 || st.st_nlink == 0) return NULL;
  struct guard_path p;
  if (guard_resolve(c->tid, AT_FDCWD, -1, named, &p) != 0) return NULL;
  const char *why = NULL;
  if (!p.magic[0] && fstatat(p.dirfd, p.name, &at, AT_SYMLINK_NOFOLLOW) == 0 && at.st_dev == st.st_dev && at.st_ino == st.st_ino)
    why = guard_rules_refuse(&c->g->rules, p.dir, p.dirfd, p.name, OP_FILE);
  guard_path_close(&p);
  return why;
}

static void do_open(struct call *c, int dirfd, int path_arg, int flags, mode_t mode) {
  char path[PATH_MAX];
  struct guard_path p = {.dirfd = -1};
  int base = -1;
  if (read_arg(c, path_arg, path, sizeof path) < 0) return;
  for (int hops = 0;; hops++) {
    int rc = resolve(c, dirfd, base, path, &p);
    if (base >= 0) (void)close(base), base = -1;
    if (rc < 0) return;
    if (p.magic[0]) { /* the target's own descriptor, cwd or root: it exists, nothing is created */
      /* Opened again for writing, it is checked as the file it is (a descriptor opened read-only
       * on .git/config must not become a writable one). */
      int pin = open(p.magic, O_PATH | O_CLOEXEC);
      if (pin < 0) return reply(c, 0, errno == ENOENT ? EBADF : errno);
      char again[32], named[PATH_MAX + NAME_MAX + 2];
      const char *why = pinned_refused(c, pin, named, sizeof named);
      snprintf(again, sizeof again, "/proc/self/fd/%d", pin);
      if (why) refuse_path(c, "write", named, why);
      else if (still_valid(c)) reply_fd(c, open(again, (flags & ~(O_CREAT | O_EXCL)) | O_NOCTTY | O_CLOEXEC), flags & O_CLOEXEC);
      (void)close(pin);
      return;
    }
    const char *why = guard_rules_refuse(&c->g->rules, p.dir, p.dirfd, p.name, OP_FILE);
    if (why) return refuse(c, &p, why), guard_path_close(&p);
    struct stat st;
    int exists = fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    int follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
    if (exists && S_ISLNK(st.st_mode) && follow) {
      /* Followed here, one link at a time, so the name a dangling link would create is checked. */
      ssize_t n = hops < MAX_HOPS ? readlinkat(p.dirfd, p.name, path, sizeof path - 1) : -1;
      if (n < 0) return reply(c, 0, hops < MAX_HOPS ? errno : ELOOP), guard_path_close(&p);
      path[n] = '\0';
      base = p.dirfd, p.dirfd = -1;
      continue;
    }
    /* "name/" opens a directory only: a file is ENOTDIR, a new name EISDIR (as the kernel says). */
    if (p.slash && (exists ? !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode) : (flags & O_CREAT) != 0))
      return reply(c, 0, exists ? ENOTDIR : EISDIR), guard_path_close(&p);
    if (!still_valid(c)) return guard_path_close(&p);
    int fd;
    if (exists && S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 0)) {
      fd = open_ctty(c->tid, flags);
    } else if (exists && S_ISFIFO(st.st_mode) && !(flags & O_NONBLOCK)) {
      /* Opening a FIFO waits for the other end: a child of the guard waits, the guard goes on. */
      pid_t child = fork();
      if (child == 0) {
        reply_fd(c, openat(p.dirfd, p.name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC), flags & O_CLOEXEC);
        _exit(0);
      }
      if (child < 0) reply(c, 0, errno);
      return guard_path_close(&p);
    } else {
      int makes = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
      fd = openat(p.dirfd, p.name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, makes ? mode & 07777 & ~target_umask(c->tid) : 0);
    }
    reply_fd(c, fd, flags & O_CLOEXEC);
    return guard_path_close(&p);
  }
}

static void do_mkdir_or_mknod(struct call *c, int dirfd, int path_arg, mode_t mode, int is_mkdir, dev_t dev) {
  char path[PATH_MAX];
  struct guard_path p;
  if (read_arg(c, path_arg, path, sizeof path) < 0 || resolve(c, dirfd, -1, path, &p) < 0) return;
  if (p.magic[0]) return reply(c, 0, EEXIST);
  const char *why = guard_rules_refuse(&c->g->rules, p.dir, p.dirfd, p.name, is_mkdir ? OP_MKDIR : OP_FILE);
  if (why) return refuse(c, &p, why), guard_path_close(&p);
  if (still_valid(c)) {
    mode_t perm = mode & 07777 & ~target_umask(c->tid);
    int rc = is_mkdir ? mkdirat(p.dirfd, p.name, perm) : mknodat(p.dirfd, p.name, (mode & S_IFMT) | perm, dev);
    if (rc == 0 && is_mkdir) guard_rules_made_dir(&c->g->rules, p.dirfd, p.name);
    reply(c, 0, rc == 0 ? 0 : errno);
  }
  guard_path_close(&p);
}

static void do_symlink(struct call *c, int target_arg, int dirfd, int path_arg) {
  char target[PATH_MAX], path[PATH_MAX];
  struct guard_path p;
  if (read_arg(c, target_arg, target, sizeof target) < 0 || read_arg(c, path_arg, path, sizeof path) < 0 || resolve(c, dirfd, -1, path, &p) < 0) return;
  if (p.magic[0]) return reply(c, 0, EEXIST);
  const char *why = guard_rules_refuse(&c->g->rules, p.dir, p.dirfd, p.name, OP_SYMLINK);
  if (why) return refuse(c, &p, why), guard_path_close(&p);
  if (still_valid(c)) reply(c, 0, symlinkat(target, p.dirfd, p.name) == 0 ? 0 : errno);
  guard_path_close(&p);
}

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* Why a link from `o` is refused, or NULL. A /proc descriptor link names an unnamed file (from
 * O_TMPFILE, free to name) or a named one, checked by the path the kernel gives for it. */
static const char *link_source_refused(struct call *c, struct guard_path *o) {
  if (!o->magic[0]) return guard_rules_refuse(&c->g->rules, o->dir, o->dirfd, o->name, OP_FILE);
  struct stat st;
  char path[PATH_MAX];
  if (stat(o->magic, &st) != 0 || st.st_nlink == 0) return NULL;
  ssize_t len = readlink(o->magic, path, sizeof path - 1);
  if (len <= 0 || path[0] != '/') return "a file the guard cannot name";
  path[len] = '\0';
  struct guard_path named;
  if (guard_resolve(c->tid, AT_FDCWD, -1, path, &named) != 0) return "a file the guard cannot name";
  const char *why = named.magic[0] ? "a file the guard cannot name" : guard_rules_refuse(&c->g->rules, named.dir, named.dirfd, named.name, OP_FILE);
  guard_path_close(&named);
  return why;
}

static void do_link(struct call *c, int olddirfd, int old_arg, int newdirfd, int new_arg, int flags) {
  char old[PATH_MAX], new[PATH_MAX];
  struct guard_path o = {.dirfd = -1}, n;
  if (read_arg(c, new_arg, new, sizeof new) < 0) return;
  if (flags & AT_EMPTY_PATH) {
    snprintf(old, sizeof old, "/proc/%d/fd/%d", (int)c->tid, olddirfd);
    flags |= AT_SYMLINK_FOLLOW;
  } else if (read_arg(c, old_arg, old, sizeof old) < 0) {
    return;
  }
  if (resolve(c, olddirfd, -1, old, &o) < 0) return;
  if (resolve(c, newdirfd, -1, new, &n) < 0) return guard_path_close(&o);
  if (n.magic[0]) reply(c, 0, EEXIST);
  else if ((flags & AT_SYMLINK_FOLLOW) == 0 && o.magic[0]) reply(c, 0, EPERM);
  else {
    /* A second name for a protected file would be a writable one: the source is checked too. */
    const char *why = link_source_refused(c, &o);
    if (why) return refuse(c, &n, "a second name for a protected file"), guard_path_close(&o), guard_path_close(&n);
    why = guard_rules_refuse(&c->g->rules, n.dir, n.dirfd, n.name, OP_FILE);
    if (why) refuse(c, &n, why);
    else if (still_valid(c)) {
      int rc = o.magic[0] ? linkat(AT_FDCWD, o.magic, n.dirfd, n.name, AT_SYMLINK_FOLLOW) : linkat(o.dirfd, o.name, n.dirfd, n.name, flags & AT_SYMLINK_FOLLOW);
      reply(c, 0, rc == 0 ? 0 : errno);
    }
  }
  guard_path_close(&o);
  guard_path_close(&n);
}

static enum guard_op op_of(const struct stat *st) { return S_ISDIR(st->st_mode) ? OP_RENAME_DIR : S_ISLNK(st->st_mode) ? OP_SYMLINK : OP_FILE; }

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_NOREPLACE (1 << 0)
#endif

/* A rename puts the source's inode (a directory with whatever it holds) at the new name: checked
 * as what it is. Its type is read from a descriptor pinned before the check; if another inode was
 * moved meanwhile and it would be refused, the rename is undone. */
static const char *check_rename(struct call *c, struct guard_path *from, struct guard_path *to, struct stat *pinned) {
  int pin = openat(from->dirfd, from->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (pin < 0) return NULL; /* the kernel's rename then fails the same way */
  int ok = fstat(pin, pinned) == 0;
  (void)close(pin);
  return ok ? guard_rules_refuse(&c->g->rules, to->dir, to->dirfd, to->name, op_of(pinned)) : NULL;
}

static void do_rename(struct call *c, int olddirfd, int old_arg, int newdirfd, int new_arg, unsigned flags) {
  char old[PATH_MAX], new[PATH_MAX];
  struct guard_path o, n;
  struct stat so = {0}, sn = {0}, after;
  if (read_arg(c, old_arg, old, sizeof old) < 0 || read_arg(c, new_arg, new, sizeof new) < 0) return;
  if (resolve(c, olddirfd, -1, old, &o) < 0) return;
  if (resolve(c, newdirfd, -1, new, &n) < 0) return guard_path_close(&o);
  if (o.magic[0] || n.magic[0]) {
    reply(c, 0, EXDEV);
  } else {
    const char *why = check_rename(c, &o, &n, &so);
    struct guard_path *bad = &n;
    if (!why && (flags & RENAME_EXCHANGE)) why = check_rename(c, &n, &o, &sn), bad = &o;
    if (why) refuse(c, bad, why);
    else if (still_valid(c)) {
      int rc = (int)syscall(SYS_renameat2, o.dirfd, o.name, n.dirfd, n.name, flags);
      int err = rc == 0 ? 0 : errno;
      if (rc == 0 && so.st_ino && fstatat(n.dirfd, n.name, &after, AT_SYMLINK_NOFOLLOW) == 0 && (after.st_ino != so.st_ino || after.st_dev != so.st_dev) &&
          guard_rules_refuse(&c->g->rules, n.dir, n.dirfd, n.name, op_of(&after))) {
        (void)syscall(SYS_renameat2, n.dirfd, n.name, o.dirfd, o.name, flags & RENAME_EXCHANGE ? RENAME_EXCHANGE : RENAME_NOREPLACE);
        err = EPERM;
      }
      reply(c, 0, err);
    }
  }
  guard_path_close(&o);
  guard_path_close(&n);
}

/* The file a truncate or chmod acts on, pinned (O_PATH) as the kernel would find it: symlinks
 * followed here one at a time (unless `follow` is 0), the last name left in `p`. A path ending
 * in `.` or `..` (or `/`) names an existing directory, which is pinned itself and then checked
 * by the kernel's name for it (`*by_fd`), as a descriptor is. -1 when answered. */
static int pin_path(struct call *c, int dirfd, char *path, int follow, struct guard_path *p, int *by_fd) {
  int base = -1;
  *by_fd = 0;
  for (int hops = 0;; hops++) {
    int rc = guard_resolve(c->tid, dirfd, base, path, p);
    if (rc == -EEXIST && strlen(path) + 2 < PATH_MAX) {
      /* "dir/." : the directory that would hold a name "x" below it is the one meant. */
      strcat(path, "/x");
      rc = guard_resolve(c->tid, dirfd, base, path, p);
      if (base >= 0) (void)close(base);
      if (rc < 0) return reply(c, 0, -rc), -1;
      *by_fd = 1;
      int pin = dup(p->dirfd);
      if (pin < 0) reply(c, 0, errno);
      guard_path_close(p);
      return pin;
    }
    if (base >= 0) (void)close(base), base = -1;
    if (rc < 0) return reply(c, 0, -rc), -1;
    int pin = p->magic[0] ? open(p->magic, O_PATH | O_CLOEXEC) : openat(p->dirfd, p->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (pin >= 0 && follow && !p->magic[0] && fstat(pin, &st) == 0 && S_ISLNK(st.st_mode)) {
      (void)close(pin);
      ssize_t n = hops < MAX_HOPS ? readlinkat(p->dirfd, p->name, path, PATH_MAX - 1) : -1;
      if (n < 0) return reply(c, 0, hops < MAX_HOPS ? errno : ELOOP), guard_path_close(p), -1;
      path[n] = '\0';
      base = p->dirfd, p->dirfd = -1;
      continue;
    }
    *by_fd = p->magic[0] != '\0';
    if (pin < 0) reply(c, 0, errno == ENOENT && p->magic[0] ? EBADF : errno), guard_path_close(p);
    return pin;
  }
}

/* Why changing the pinned file is refused: by its name, or by the kernel's name for it. */
static const char *change_refused(struct call *c, const struct guard_path *p, int pin, int by_fd, char *named, size_t size) {
  if (by_fd) return pinned_refused(c, pin, named, size);
  snprintf(named, size, "%s/%s", strcmp(p->dir, "/") ? p->dir : "", p->name);
  return guard_rules_refuse(&c->g->rules, p->dir, p->dirfd, p->name, OP_FILE);
}

/* truncate(2) empties a file by its name, with no open the guard would see: checked as a write.
 * Done here through the pinned file, so the kernel never resolves the path again. */
static void do_truncate(struct call *c, int path_arg, off_t length) {
  char path[PATH_MAX], named[PATH_MAX + NAME_MAX + 2], self[32];
  struct guard_path p = {.dirfd = -1};
  if (read_arg(c, path_arg, path, sizeof path) < 0) return;
  int by_fd;
  int pin = pin_path(c, AT_FDCWD, path, 1, &p, &by_fd);
  if (pin < 0) return;
  const char *why = change_refused(c, &p, pin, by_fd, named, sizeof named);
  snprintf(self, sizeof self, "/proc/self/fd/%d", pin);
  if (why) refuse_path(c, "truncate", named, why);
  else if (still_valid(c)) reply(c, 0, truncate(self, length) == 0 ? 0 : errno);
  (void)close(pin);
  guard_path_close(&p);
}

/* The chmod family (fd >= 0 with no path: fchmod). Adding exec bits to a hook git would run, or
 * letting other users write a protected file, is refused; taking bits away, or a mode the file
 * already has, is not. Done here through the pinned file. */
static void do_chmod(struct call *c, int dirfd, int path_arg, mode_t mode, int flags) {
  char path[PATH_MAX], named[PATH_MAX + NAME_MAX + 2], self[32];
  struct guard_path p = {.dirfd = -1};
  int pin, by_fd = 1;
  if (path_arg >= 0 && read_arg(c, path_arg, path, sizeof path) < 0) return;
  if (path_arg < 0 || (path[0] == '\0' && (flags & AT_EMPTY_PATH))) {
    snprintf(p.magic, sizeof p.magic, "/proc/%d/fd/%d", (int)c->tid, dirfd);
    pin = open(p.magic, O_PATH | O_CLOEXEC);
    if (pin < 0) return reply(c, 0, errno == ENOENT ? EBADF : errno);
  } else {
    pin = pin_path(c, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &p, &by_fd);
    if (pin < 0) return;
  }
  struct stat st;
  snprintf(self, sizeof self, "/proc/self/fd/%d", pin);
  if (fstat(pin, &st) != 0) reply(c, 0, errno);
  else if (S_ISLNK(st.st_mode)) reply(c, 0, EOPNOTSUPP); /* a symlink's mode cannot be changed (AT_SYMLINK_NOFOLLOW) */
  else {
    const char *why = (mode & ~st.st_mode & GUARD_MODE_BITS) ? change_refused(c, &p, pin, by_fd, named, sizeof named) : NULL;
    if (why) refuse_path(c, "chmod", named, why);
    else if (still_valid(c)) reply(c, 0, fchmodat(AT_FDCWD, self, mode & 07777, 0) == 0 ? 0 : errno);
  }
  (void)close(pin);
  guard_path_close(&p);
}

#define ACL_ACCESS "system.posix_acl_access"

/* The mode bits an access ACL (the kernel's xattr form: version 2, then 8-byte entries of tag,
 * permission and id) gives a file: the owner's, the group's (the mask's when there is one) and
 * others'. A value the kernel would reject gives what it parsed so far (it is refused anyway). */
static mode_t acl_mode(const unsigned char *v, size_t size) {
  enum { USER_OBJ = 0x01, GROUP_OBJ = 0x04, MASK = 0x10, OTHER = 0x20 };
  mode_t user = 0, group = 0, mask = 0, other = 0;
  int masked = 0;
  uint32_t version;
  if (size < 4) return 0;
  memcpy(&version, v, 4);
  if (version != 2) return 0;
  for (size_t at = 4; at + 8 <= size; at += 8) {
    uint16_t tag, perm;
    memcpy(&tag, v + at, 2), memcpy(&perm, v + at + 2, 2);
    perm &= 07;
    if (tag == USER_OBJ) user = perm;
    else if (tag == GROUP_OBJ) group = perm;
    else if (tag == MASK) mask = perm, masked = 1;
    else if (tag == OTHER) other = perm;
  }
  return user << 6 | (masked ? mask : group) << 3 | other;
}

/* The setxattr family (fd >= 0 with no path: fsetxattr). An access ACL is a chmod by another
 * name (setfacl -m u::rwx gives a hook git skipped the bit git needs): checked as the chmod of
 * the mode it gives. Every xattr is set here, on the pinned file, so neither its path nor its
 * name is read twice. */
static void do_setxattr(struct call *c, int dirfd, int path_arg, int at_flags, uint64_t name_addr, uint64_t value, size_t size, int flags) {
  char path[PATH_MAX], named[PATH_MAX + NAME_MAX + 2], self[32], name[XATTR_NAME_MAX + 1];
  struct guard_path p = {.dirfd = -1};
  int pin, by_fd = 1;
  int rc = guard_read_string(c->tid, name_addr, name, sizeof name);
  if (rc < 0) return reply(c, 0, rc == -ENAMETOOLONG ? ERANGE : -rc);
  if (size > XATTR_SIZE_MAX) return reply(c, 0, E2BIG);
  unsigned char *v = malloc(size ? size : 1);
  if (v == NULL) return reply(c, 0, ENOMEM);
  struct iovec local = {v, size}, remote = {(void *)(uintptr_t)value, size};
  if (size && process_vm_readv(c->tid, &local, 1, &remote, 1, 0) != (ssize_t)size) return free(v), reply(c, 0, EFAULT);
  if (path_arg >= 0 && read_arg(c, path_arg, path, sizeof path) < 0) return free(v);
  if (path_arg < 0 || (path[0] == '\0' && (at_flags & AT_EMPTY_PATH))) {
    snprintf(p.magic, sizeof p.magic, "/proc/%d/fd/%d", (int)c->tid, dirfd);
    pin = open(p.magic, O_PATH | O_CLOEXEC);
    if (pin < 0) return free(v), reply(c, 0, errno == ENOENT ? EBADF : errno);
  } else {
    pin = pin_path(c, dirfd, path, !(at_flags & AT_SYMLINK_NOFOLLOW), &p, &by_fd);
    if (pin < 0) return free(v);
  }
  struct stat st;
  snprintf(self, sizeof self, "/proc/self/fd/%d", pin);
  if (fstat(pin, &st) != 0) reply(c, 0, errno);
  else if (S_ISLNK(st.st_mode)) reply(c, 0, EPERM); /* as the kernel answers for user.* on a symlink */
  else {
    const char *why = strcmp(name, ACL_ACCESS) == 0 && (acl_mode(v, size) & ~st.st_mode & GUARD_MODE_BITS) ? change_refused(c, &p, pin, by_fd, named, sizeof named) : NULL;
    if (why) refuse_path(c, "set an access ACL on", named, why);
    else if (still_valid(c)) reply(c, 0, setxattr(self, name, v, size, flags) == 0 ? 0 : errno);
  }
  free(v);
  (void)close(pin);
  guard_path_close(&p);
}

/* setxattrat(dirfd, path, at_flags, name, struct xattr_args *, size): its value, size and flags
 * are behind a pointer, in a struct the guard knows only in its first version. */
static void do_setxattrat(struct call *c) {
  const __u64 *a = c->req->data.args;
  struct {
    uint64_t value;
    uint32_t size, flags;
  } x;
  if (a[5] < sizeof x) return reply(c, 0, EINVAL);
  if (a[5] > sizeof x) return reply(c, 0, E2BIG); /* a later version's fields: not understood here */
  struct iovec local = {&x, sizeof x}, remote = {(void *)(uintptr_t)a[4], sizeof x};
  if (process_vm_readv(c->tid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof x) return reply(c, 0, EFAULT);
  int at_flags = (int)a[2], by_fd = a[1] == 0 && (at_flags & AT_EMPTY_PATH);
  do_setxattr(c, ARG_FD(c, 0), by_fd ? -1 : 1, at_flags, a[3], x.value, x.size, (int)x.flags);
}

/* Answers one notification; whatever it cannot handle is refused, never let through. */
static void handle(struct call *c) {
  const __u64 *a = c->req->data.args;
  switch (c->req->data.nr) {
#ifdef SYS_open
    case SYS_open: do_open(c, AT_FDCWD, 0, (int)a[1], (mode_t)a[2]); break;
#endif
#ifdef SYS_creat
    case SYS_creat: do_open(c, AT_FDCWD, 0, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a[1]); break;
#endif
    case SYS_openat: do_open(c, ARG_FD(c, 0), 1, (int)a[2], (mode_t)a[3]); break;
#ifdef SYS_mkdir
    case SYS_mkdir: do_mkdir_or_mknod(c, AT_FDCWD, 0, (mode_t)a[1], 1, 0); break;
#endif
    case SYS_mkdirat: do_mkdir_or_mknod(c, ARG_FD(c, 0), 1, (mode_t)a[2], 1, 0); break;
#ifdef SYS_mknod
    case SYS_mknod: do_mkdir_or_mknod(c, AT_FDCWD, 0, (mode_t)a[1], 0, (dev_t)a[2]); break;
#endif
    case SYS_mknodat: do_mkdir_or_mknod(c, ARG_FD(c, 0), 1, (mode_t)a[2], 0, (dev_t)a[3]); break;
#ifdef SYS_symlink
    case SYS_symlink: do_symlink(c, 0, AT_FDCWD, 1); break;
#endif
    case SYS_symlinkat: do_symlink(c, 0, ARG_FD(c, 1), 2); break;
#ifdef SYS_link
    case SYS_link: do_link(c, AT_FDCWD, 0, AT_FDCWD, 1, 0); break;
#endif
    case SYS_linkat: do_link(c, ARG_FD(c, 0), 1, ARG_FD(c, 2), 3, (int)a[4]); break;
#ifdef SYS_rename
    case SYS_rename: do_rename(c, AT_FDCWD, 0, AT_FDCWD, 1, 0); break;
#endif
#ifdef SYS_renameat
    case SYS_renameat: do_rename(c, ARG_FD(c, 0), 1, ARG_FD(c, 2), 3, 0); break;
#endif
    case SYS_renameat2: do_rename(c, ARG_FD(c, 0), 1, ARG_FD(c, 2), 3, (unsigned)a[4]); break;
    case SYS_truncate: do_truncate(c, 0, (off_t)a[1]); break;
#ifdef SYS_chmod
    case SYS_chmod: do_chmod(c, AT_FDCWD, 0, (mode_t)a[1], 0); break;
#endif
    case SYS_fchmod: do_chmod(c, ARG_FD(c, 0), -1, (mode_t)a[1], 0); break;
    case SYS_fchmodat: do_chmod(c, ARG_FD(c, 0), 1, (mode_t)a[2], 0); break;
    case SYS_fchmodat2: do_chmod(c, ARG_FD(c, 0), 1, (mode_t)a[2], (int)a[3]); break;
    case SYS_setxattr: do_setxattr(c, AT_FDCWD, 0, 0, a[1], a[2], (size_t)a[3], (int)a[4]); break;
    case SYS_lsetxattr: do_setxattr(c, AT_FDCWD, 0, AT_SYMLINK_NOFOLLOW, a[1], a[2], (size_t)a[3], (int)a[4]); break;
    case SYS_fsetxattr: do_setxattr(c, ARG_FD(c, 0), -1, 0, a[1], a[2], (size_t)a[3], (int)a[4]); break;
    case SYS_setxattrat: do_setxattrat(c); break;
    default: break;
  }
  if (!c->answered) reply(c, 0, EPERM);
}

static void serve_one(struct guard *g) {
  struct seccomp_notif *req = calloc(1, g->sizes.seccomp_notif);
  if (req == NULL) return;
  if (ioctl(g->listener, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
    struct call c = {.g = g, .req = req, .tid = (pid_t)req->pid};
    if (g->forward && guard_forward_claims(g->forward, &req->data)) guard_forward_call(g->forward, g->listener, req);
    else handle(&c);
  }
  free(req);
}

static int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

static void close_range_from(unsigned lo, unsigned hi) {
  if (lo > hi) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, lo, hi, 0) == 0) return;
#endif
  /* Without close_range (Linux 5.9, which the guard needs anyway): one by one, to the limit. */
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = lo; fd <= (long)hi && fd < (max > 0 ? max : 1024); fd++) (void)close((int)fd);
}

/* Closes every descriptor >= 3 but the `n` in `keep` (sorted; a value may repeat): the guard must
 * hold nothing of bwrap's, the plan's or the terminal's, or it would keep them open for the
 * command's lifetime. */
static void close_others(const int *keep, size_t n) {
  unsigned lo = 3;
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < 3) continue;
    if ((unsigned)keep[i] > lo) close_range_from(lo, (unsigned)keep[i] - 1);
    lo = (unsigned)keep[i] + 1;
  }
  close_range_from(lo, ~0U);
}

static void sort_fds(int *fds, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j];
      fds[j] = fds[j - 1], fds[j - 1] = t;
    }
}

/* Starts the relay of the `later` bridges (a client is waiting) and stops polling them. When it
 * cannot fork (the sandbox holds every process it may have, for now), the waiting clients are
 * refused at once, the reason shown, and the next client tries again: a passing shortage must not
 * take the bridges away for the rest of the run. */
static void start_later(const struct guard_bridges *later, struct pollfd *fds) {
  struct fence_err e = {.errnum = 0};
  int rc = bridge_start(later->bridges, later->n, later->fds, &e);
  if (rc == 0) {
    for (size_t i = 0; i < later->n; i++) fds[i].fd = -1;
    return;
  }
  static int said; /* once a run: a client that retries would repeat it at every attempt */
  int retry = rc == -1;
  for (size_t i = 0; retry && i < later->n; i++) retry = bridge_refuse_waiting(&later->bridges[i], later->fds[i]) == 0;
  if (retry) {
    if (!said++) fprintf(stderr, "fence-launch: guard: cannot start the bridges' relay (%s: %s); its waiting clients are refused, the next one tries again\n", e.what, strerror(e.errnum));
    return;
  }
  /* Started (rc -2), or a client it cannot take: polled again, the listeners would spin. */
  fprintf(stderr, "fence-launch: guard: %s: %s; %s\n", e.what, strerror(e.errnum), rc == -1 ? "the bridges' clients are refused" : "the relay runs");
  for (size_t i = 0; i < later->n; i++) {
    if (rc == -1) (void)close(later->fds[i]);
    fds[i].fd = -1;
  }
}

static void run(const struct plan_guard *plan, const struct guard_supervisor *sup, const struct guard_bridges *later, int sock, pid_t child, int tty) {
  struct guard g = {.rules = {.plan = plan}, .listener = -1};
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++) sigaddset(&set, SIGNALS[i]);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  char byte;
  /* The child sends the listener once its filter is installed; 0 bytes: it ended before. */
  ssize_t got = sfd < 0 ? -1 : fdpass_recv(sock, &byte, 1, &g.listener);
  (void)close(sock);
  int ok = got > 0 && g.listener >= 0 && syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &g.sizes) == 0;
  if (ok && sup && (g.forward = guard_forward_open(sup)) == NULL) {
    fprintf(stderr, "fence-launch: guard: cannot hand the seccomp supervisor its channel: %s\n", strerror(errno));
    ok = 0;
  }
  if (!ok) {
    if (got != 0) (void)kill(child, SIGKILL); /* never a command without its guard (or its supervisor) */
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) continue;
    _exit(got == 0 ? exit_code(status) : EXIT_SETUP);
  }
  int *keep = malloc((3 + 2 * later->n) * sizeof *keep);
  if (keep == NULL) {
    fprintf(stderr, "fence-launch: guard: %s; ending the sandbox\n", strerror(ENOMEM));
    (void)kill(child, SIGKILL);
    _exit(EXIT_SETUP);
  }
  keep[0] = sfd, keep[1] = g.listener, keep[2] = g.forward ? guard_forward_fd(g.forward) : -1;
  size_t nkeep = 3 + bridge_relay_fds(later->bridges, later->n, later->fds, &keep[3]);
  sort_fds(keep, nkeep);
  close_others(keep, nkeep);
  free(keep);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) (void)dup2(null, 0), (void)dup2(null, 1), (void)close(null);
  /* Everything the guard creates gets exactly the mode the target asked for, less its umask. */
  umask(0);

  /* The listener, the signals, the supervisor's channel, then the `later` bridges' listeners. */
  struct pollfd *fds = calloc(3 + later->n, sizeof *fds);
  if (fds == NULL) {
    fprintf(stderr, "fence-launch: guard: %s; ending the sandbox\n", strerror(ENOMEM));
    (void)kill(child, SIGKILL);
    _exit(EXIT_SETUP);
  }
  fds[0] = (struct pollfd){.fd = g.listener, .events = POLLIN};
  fds[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
  fds[2].fd = -1;
  for (size_t i = 0; i < later->n; i++) fds[3 + i] = (struct pollfd){.fd = later->fds[i], .events = POLLIN};
  for (;;) {
    if (g.forward) fds[2].fd = guard_forward_fd(g.forward), fds[2].events = guard_forward_events(g.forward);
    if (poll(fds, 3 + later->n, -1) < 0) {
      if (errno == EINTR) continue;
      /* Only a changed limit of the guard's own (EINVAL) or no memory gets here: it can serve no
       * more, so the sandbox ends rather than leave the command waiting or spin. */
      fprintf(stderr, "fence-launch: guard: poll: %s; ending the sandbox\n", strerror(errno));
      (void)kill(child, SIGKILL);
      int status = 0;
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) continue;
      _exit(EXIT_SETUP);
    }
    if (g.forward && fds[2].revents) guard_forward_ready(g.forward, g.listener, fds[2].revents);
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != sizeof si) continue;
      if ((int)si.ssi_signo == SIGCHLD) {
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0)
          if (w == child) _exit(exit_code(status));
      } else {
        /* SIGINT goes to the command's process group, as a terminal's Ctrl-C would. */
        (void)kill((int)si.ssi_signo == SIGINT && !tty ? -child : child, (int)si.ssi_signo);
      }
    }
    for (size_t i = 0; i < later->n; i++)
      if (fds[3 + i].revents) {
        start_later(later, &fds[3]);
        break;
      }
    if (fds[0].revents & POLLIN) serve_one(&g);
    else if (fds[0].revents & (POLLHUP | POLLERR)) fds[0].fd = -1; /* no process has the filter any more */
  }
}

/* The command's process, until exec_command's exec (or exit). */
struct child_start {
  guard_child_fn fn;
  void *arg;
  int sock, guard_end, tty;
  sigset_t mask;
};

/* Not inlined: after vfork, the child must not write into guard_fork's frame, which the guard
 * goes on with once the child has exec'd. */
__attribute__((noinline, noreturn)) static void child_start(const struct child_start *c) {
  (void)close(c->guard_end);
  if (!c->tty) (void)setpgid(0, 0);
  (void)sigprocmask(SIG_SETMASK, &c->mask, NULL);
  c->fn(c->arg, c->sock);
  _exit(EXIT_SETUP); /* fn does not return */
}

int guard_fork(const struct plan_guard *g, const struct guard_supervisor *sup, const struct guard_bridges *later, int tty, guard_child_fn fn, void *arg, struct fence_err *e) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return fence_fail(e, errno, "guard: socketpair");
  /* The command cannot ptrace the guard or open its descriptors through /proc. Set before the
   * fork, so the guard is never dumpable once the command runs (its execve makes the command's
   * own image dumpable again). */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return fence_fail(e, errno, "guard: prctl(PR_SET_DUMPABLE)");
  struct child_start start = {.fn = fn, .arg = arg, .sock = sv[1], .guard_end = sv[0], .tty = tty};
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++) sigaddset(&set, SIGNALS[i]);
  /* Blocked before the fork, so the guard reads from its signalfd every signal sent from now. */
  if (sigprocmask(SIG_BLOCK, &set, &start.mask) != 0) return fence_fail(e, errno, "guard: sigprocmask");
  /* Without a supervisor nothing the child does before its exec waits for the guard, so the child
   * borrows this address space (vfork: this process sleeps until the exec) instead of copying it,
   * which costs milliseconds on a virtual machine. With one, its execve goes to the supervisor
   * through the guard (runtimeExecPolicy "argv"): the guard must run meanwhile, so it forks. The
   * child runs below this frame and never returns into it. */
  pid_t child = sup ? fork() : vfork();
  if (child == 0) child_start(&start);
  if (child < 0) return fence_fail(e, errno, "guard: fork");
  (void)close(sv[1]);
  if (!tty) (void)setpgid(child, child);
  run(g, sup, later, sv[0], child, tty);
  _exit(EXIT_SETUP);
}

int guard_install(int sock, const struct guard_supervisor *sup, struct fence_err *e) {
  struct sock_filter guard[GUARD_FILTER_MAX], *prog = guard;
  size_t n = guard_filter(guard);
  if (sup) {
    prog = malloc(BPF_MAXINSNS * sizeof *prog);
    long joined = prog ? guard_forward_program(sup, guard, n, prog, BPF_MAXINSNS, e) : fence_fail(e, ENOMEM, "guard: filter");
    if (joined < 0) return free(prog), (void)close(sock), -1;
    n = (size_t)joined;
  }
  int listener = seccomp_install_listener((const uint8_t *)prog, n * sizeof *prog, e);
  if (prog != guard) free(prog);
  if (listener < 0) return -1;
  int rc = fdpass_send(sock, listener, "G", 1);
  (void)close(listener);
  (void)close(sock);
  return rc == 0 ? 0 : fence_fail(e, -rc, "guard: send the listener");
}
