/* Reads a plan cache entry and checks it against this run: the user, the working directory,
 * fence's arguments, the expiry, the whole environment but the volatile variables, the command's
 * program name against the command policy's names, and every recorded path (lstat, or the bytes
 * of a kernel file). Reads only; the first difference ends the check with its reason. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fastpath.h"

extern char **environ;

const char *const fast_volatile[] = {"_", "OLDPWD", "PWD", "SHLVL", "FENCE_FAST_PATH", "FENCE_NODE_EXTRA_CA_CERTS", "FENCE_NODE_OPTIONS", NULL};

int fast_is_volatile(const char *name, size_t len) {
  for (const char *const *v = fast_volatile; *v; v++)
    if (strlen(*v) == len && memcmp(*v, name, len) == 0) return 1;
  return 0;
}

struct reader {
  char *p, *end;
};

/* The next NUL-terminated word, or NULL at the end or on a malformed entry. */
static const char *word(struct reader *r) {
  if (r->p >= r->end) return NULL;
  char *w = r->p, *nul = memchr(w, '\0', (size_t)(r->end - w));
  if (nul == NULL) return NULL;
  r->p = nul + 1;
  return w;
}

static int number(struct reader *r, unsigned long long *out) {
  const char *w = word(r);
  char *end;
  if (w == NULL || *w == '\0') return -1;
  errno = 0;
  *out = strtoull(w, &end, 10);
  return errno || *end ? -1 : 0;
}

/* A length, then that many raw bytes, then a NUL. */
static const char *bytes(struct reader *r, size_t *len) {
  unsigned long long n;
  if (number(r, &n) != 0 || n >= (unsigned long long)(r->end - r->p)) return NULL;
  char *b = r->p;
  if (b[n] != '\0') return NULL;
  r->p = b + n + 1;
  *len = (size_t)n;
  return b;
}

/* Appends to a growing array of `size`-byte items. */
static void *push(void *array, size_t *n, size_t size) {
  char *grown = realloc(array, (*n + 2) * size);
  if (grown == NULL) return NULL;
  memset(grown + (*n + 1) * size, 0, size);
  (*n)++;
  return grown;
}

static int same_stat(struct reader *r, const struct stat *st, int full) {
  unsigned long long dev, ino, mode, uid, gid, size, mtime, ctime;
  if (number(r, &dev) || number(r, &ino) || number(r, &mode)) return -1;
  int same = dev == (unsigned long long)st->st_dev && ino == (unsigned long long)st->st_ino && mode == (unsigned long long)st->st_mode;
  if (!full) return same;
  if (number(r, &uid) || number(r, &gid) || number(r, &size) || number(r, &mtime) || number(r, &ctime)) return -1;
  unsigned long long m = (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st->st_mtim.tv_nsec;
  unsigned long long c = (unsigned long long)st->st_ctim.tv_sec * 1000000000ULL + (unsigned long long)st->st_ctim.tv_nsec;
  return same && uid == st->st_uid && gid == st->st_gid && size == (unsigned long long)st->st_size && m == mtime && c == ctime;
}

/* 1 when the file at `path` holds exactly `len` bytes `want`. */
static int same_content(const char *path, const char *want, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  size_t at = 0;
  ssize_t n;
  int same = 1;
  while (same && (n = read(fd, buf, sizeof buf)) > 0) {
    same = at + (size_t)n <= len && memcmp(buf, want + at, (size_t)n) == 0;
    at += (size_t)n;
  }
  close(fd);
  return same && n == 0 && at == len;
}

/* 1 when a recorded input is as it was; -1 on a malformed record. */
static int input_same(struct reader *r, const char *tag) {
  const char *path = word(r);
  struct stat st;
  if (path == NULL) return -1;
  if (strcmp(tag, "absent") == 0) {
    unsigned long long err;
    if (number(r, &err)) return -1;
    return lstat(path, &st) != 0 && (unsigned long long)errno == err;
  }
  if (strcmp(tag, "content") == 0) {
    size_t len;
    const char *want = bytes(r, &len);
    return want == NULL ? -1 : same_content(path, want, len);
  }
  int full = strcmp(tag, "full") == 0;
  if (lstat(path, &st) != 0) return 0;
  return same_stat(r, &st, full);
}

/* The caller's environment: every recorded variable has its value, and there is no other. */
static int env_same(size_t recorded) {
  size_t keyed = 0;
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (eq && !fast_is_volatile(*e, (size_t)(eq - *e))) keyed++;
  }
  return keyed == recorded;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* Records about the run itself; 1 matched, 0 differs (why set), -1 malformed, 2 not one of these. */
static int run_record(struct reader *r, const char *tag, char **flags, int nflags, char **cmd, size_t *envs, const char **why) {
  unsigned long long n;
  const char *w;
  if (strcmp(tag, "user") == 0) {
    unsigned long long uid, gid;
    if (number(r, &uid) || number(r, &gid)) return -1;
    return uid == getuid() && gid == getgid() ? 1 : (*why = "another user", 0);
  }
  if (strcmp(tag, "cwd") == 0) {
    char here[4096];
    if ((w = word(r)) == NULL) return -1;
    return getcwd(here, sizeof here) && strcmp(here, w) == 0 ? 1 : (*why = "another working directory", 0);
  }
  if (strcmp(tag, "flags") == 0) {
    if (number(r, &n)) return -1;
    int same = n == (unsigned long long)nflags;
    for (unsigned long long i = 0; i < n; i++) {
      if ((w = word(r)) == NULL) return -1;
      same = same && strcmp(w, flags[i]) == 0;
    }
    return same ? 1 : (*why = "other arguments", 0);
  }
  if (strcmp(tag, "expires") == 0) {
    if (number(r, &n)) return -1;
    return (unsigned long long)time(NULL) < n ? 1 : (*why = "expired (detection is an hour old)", 0);
  }
  if (strcmp(tag, "env") == 0) {
    const char *name = word(r), *value = word(r), *now = name ? getenv(name) : NULL;
    if (value == NULL) return -1;
    (*envs)++;
    return now && strcmp(now, value) == 0 ? 1 : (*why = "the environment changed", 0);
  }
  if (strcmp(tag, "refer") == 0 || strcmp(tag, "refer-prefix") == 0) {
    if ((w = word(r)) == NULL) return -1;
    const char *b = base_name(cmd[0]);
    int hit = tag[5] ? strncmp(b, w, strlen(w)) == 0 : strcmp(b, w) == 0;
    return hit ? (*why = "the command policy must see this command", 0) : 1;
  }
  return 2;
}

static int add_fd(struct reader *r, struct fast_plan *plan) {
  const char *kind = word(r);
  struct fast_fd *fds = push(plan->fds, &plan->nfds, sizeof *fds);
  if (kind == NULL || fds == NULL) return -1;
  plan->fds = fds;
  struct fast_fd *fd = &fds[plan->nfds - 1];
  if (strcmp(kind, "data") == 0) {
    fd->kind = FAST_FD_DATA;
    return (fd->bytes = bytes(r, &fd->len)) ? 0 : -1;
  }
  if (strcmp(kind, "bind") == 0) {
    const char *dir;
    fd->kind = FAST_FD_BIND;
    if ((fd->bytes = word(r)) == NULL || (dir = word(r)) == NULL || number(r, &fd->dev) || number(r, &fd->ino)) return -1;
    fd->dir = strcmp(dir, "dir") == 0;
    fd->sock = strcmp(dir, "socket") == 0;
    return 0;
  }
  fd->kind = strcmp(kind, "report") == 0 ? FAST_FD_REPORT : FAST_FD_NONE;
  return strcmp(kind, "report") == 0 || strcmp(kind, "none") == 0 ? 0 : -1;
}

/* Records that shape the launch; 0 taken, -1 malformed, 2 not one of these. */
static int plan_record(struct reader *r, const char *tag, struct fast_plan *plan) {
  const char *w, *v;
  if (strcmp(tag, "say") == 0 || strcmp(tag, "drop") == 0) {
    int say = tag[0] == 's';
    const char ***list = say ? &plan->say : &plan->drop;
    size_t *n = say ? &plan->nsay : &plan->ndrop;
    const char **grown = push(*list, n, sizeof *grown);
    if ((w = word(r)) == NULL || grown == NULL) return -1;
    *list = grown;
    grown[*n - 1] = w;
    return 0;
  }
  if (strcmp(tag, "set") == 0) {
    /* Joined in place: the name's NUL becomes '=' (the value follows it in the buffer). */
    const char **grown = push(plan->set, &plan->nset, sizeof *grown);
    if ((w = word(r)) == NULL || (v = word(r)) == NULL || grown == NULL) return -1;
    ((char *)v)[-1] = '=';
    plan->set = grown;
    grown[plan->nset - 1] = w;
    return 0;
  }
  if (strcmp(tag, "chdir") == 0) return (plan->chdir = word(r)) ? 0 : -1;
  if (strcmp(tag, "argv") == 0) {
    unsigned long long n;
    if (number(r, &n) || n == 0 || n > 4096 || plan->argv) return -1;
    plan->argv = calloc(n + 1, sizeof *plan->argv);
    if (plan->argv == NULL) return -1;
    for (plan->nargv = 0; plan->nargv < n; plan->nargv++) {
      if ((plan->argv[plan->nargv] = word(r)) == NULL) return -1;
      if (strcmp(plan->argv[plan->nargv], "--as-pid-1") == 0) plan->init_is_helper = 1;
    }
    return 0;
  }
  if (strcmp(tag, "fd") == 0) return add_fd(r, plan);
  if (strcmp(tag, "lease") == 0) {
    struct fast_lease *grown = push(plan->leases, &plan->nleases, sizeof *grown);
    if (grown == NULL) return -1;
    plan->leases = grown;
    struct fast_lease *l = &grown[plan->nleases - 1];
    return (l->path = word(r)) == NULL || number(r, &l->dev) || number(r, &l->ino) ? -1 : 0;
  }
  return 2;
}

/* The wrappers' argv followed by the command's. */
static int append_command(struct fast_plan *plan, char **cmd) {
  size_t n = 0;
  while (cmd[n]) n++;
  const char **all = realloc(plan->argv, (plan->nargv + n + 1) * sizeof *all);
  if (all == NULL) return -1;
  memcpy(all + plan->nargv, cmd, (n + 1) * sizeof *all);
  plan->argv = all;
  plan->nargv += n;
  return 0;
}

int fast_check(char *buf, size_t len, char **flags, int nflags, char **cmd, struct fast_plan *plan, const char **why) {
  struct reader r = {buf, buf + len};
  const char *tag = word(&r), *format = word(&r);
  size_t envs = 0;
  memset(plan, 0, sizeof *plan);
  if (tag == NULL || format == NULL || strcmp(tag, "FENCE-PLAN") != 0 || strcmp(format, "2") != 0) return *why = "another entry format", -1;
  *why = "a malformed entry";
  while ((tag = word(&r)) != NULL && strcmp(tag, "end") != 0) {
    int rc = run_record(&r, tag, flags, nflags, cmd, &envs, why);
    if (rc == 2) {
      int taken = plan_record(&r, tag, plan);
      rc = taken == 0 ? 1 : taken;
    }
    if (rc == 2 && (strcmp(tag, "entry") == 0 || strcmp(tag, "full") == 0 || strcmp(tag, "absent") == 0 || strcmp(tag, "content") == 0)) {
      const char *path = r.p;
      rc = input_same(&r, tag);
      if (rc == 0) {
        static char said[4200];
        snprintf(said, sizeof said, "an input changed: %s", path);
        *why = said;
      }
    }
    if (rc != 1) return -1;
    *why = "a malformed entry";
  }
  if (tag == NULL || plan->argv == NULL || plan->chdir == NULL) return -1;
  if (!env_same(envs)) return *why = "the environment changed", -1;
  return append_command(plan, cmd);
}
