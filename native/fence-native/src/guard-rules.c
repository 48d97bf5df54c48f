#include "guard-rules.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories inside a git directory that are not git directories themselves, whatever they hold
 * (`objects/info`, a branch called `refs/heads/hooks`). */
static const char *const GIT_DATA_DIRS[] = {"objects", "refs", "logs", "hooks", "info"};

static int component_is(const char *s, size_t len, const char *word) { return strlen(word) == len && memcmp(s, word, len) == 0; }

int guard_is_git_dir(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strcmp(base, ".git") == 0) return 1;
  const char *git = NULL;
  for (const char *p = strstr(path, "/.git/"); p; p = strstr(p + 1, "/.git/")) git = p;
  if (git == NULL) return 0;
  const char *rel = git + 6;
  if (strncmp(rel, "worktrees/", 10) == 0) return rel[10] != '\0' && strchr(rel + 10, '/') == NULL;
  if (strncmp(rel, "modules/", 8) != 0 || rel[8] == '\0') return 0;
  for (const char *c = rel + 8; *c;) {
    size_t len = strcspn(c, "/");
    for (size_t i = 0; i < sizeof GIT_DATA_DIRS / sizeof *GIT_DATA_DIRS; i++)
      if (component_is(c, len, GIT_DATA_DIRS[i])) return 0;
    c += len + (c[len] == '/');
  }
  return 1;
}

/* A plan name of one of the kinds: `name` alone, or `a/b` as `name` b in a directory called `a`. */
static int named(const struct guard_rules *r, unsigned kinds, const char *parent, size_t parent_len, const char *name, size_t len) {
  for (size_t i = 0; i < r->plan->nnames; i++) {
    const struct plan_guard_name *n = &r->plan->names[i];
    if (!(kinds & 1u << n->kind)) continue;
    const char *slash = strchr(n->name, '/');
    if (slash == NULL ? component_is(name, len, n->name)
                      : parent != NULL && parent_len > 0 && (size_t)(slash - n->name) == parent_len &&
                            memcmp(parent, n->name, parent_len) == 0 && component_is(name, len, slash + 1))
      return 1;
  }
  return 0;
}

#define KIND(k) (1u << (k))

/* Whether `dir` has the same inode as a git directory the guard made. */
static int made_here(const struct guard_rules *r, int dirfd) {
  struct stat st;
  if (fstat(dirfd, &st) != 0) return 0;
  for (size_t i = 0; i < r->nmade; i++)
    if (r->made[i].dev == st.st_dev && r->made[i].ino == st.st_ino) return 1;
  return 0;
}

static int has(int dirfd, const char *name) {
  struct stat st;
  return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Whether the directory open as `dirfd` is a git directory by what it holds, wherever it is (a
 * bare repository, a --separate-git-dir): objects and refs, or HEAD and a commondir naming where
 * they are. git (is_git_directory) also wants a HEAD beside objects and refs; the guard does not,
 * so a command that removes a bare repository's HEAD cannot then change its hooks or config for
 * the day HEAD comes back. `adding` counts as present (a name about to be made). Any kind of
 * entry counts: stricter than git, never weaker. */
static int holds_git(int dirfd, const char *adding) {
#define HAS(n) ((adding != NULL && strcmp(adding, (n)) == 0) || has(dirfd, (n)))
  return (HAS("objects") && HAS("refs")) || (HAS("HEAD") && HAS("commondir"));
#undef HAS
}

/* The names whose arrival can make a directory a git directory. */
static int completes_git(const char *name) { return strcmp(name, "HEAD") == 0 || strcmp(name, "objects") == 0 || strcmp(name, "refs") == 0 || strcmp(name, "commondir") == 0; }

/* The directory `ups` levels above `dirfd` (O_PATH), or -1. */
static int ancestor(int dirfd, size_t ups) {
  int fd = dup(dirfd);
  for (size_t i = 0; i < ups && fd >= 0; i++) {
    int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    (void)close(fd);
    fd = up;
  }
  return fd;
}

/* Whether `sub` in `dirfd` is absent, or a real directory holding only git's template files
 * (names ending in `suffix`, or equal to it when `exact`). */
static int template_only(int dirfd, const char *sub, const char *suffix, int exact) {
  struct stat st;
  if (fstatat(dirfd, sub, &st, AT_SYMLINK_NOFOLLOW) != 0) return 1;
  int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d == NULL) {
    if (fd >= 0) (void)close(fd);
    return 0;
  }
  int ok = 1;
  size_t slen = strlen(suffix);
  for (struct dirent *e; ok && (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    size_t n = strlen(e->d_name);
    ok = exact ? strcmp(e->d_name, suffix) == 0 : n > slen && strcmp(e->d_name + n - slen, suffix) == 0;
  }
  (void)closedir(d);
  return ok;
}

/* A directory about to become a git directory by its content: it may hold only what the guard
 * lets be made in one (git init --bare makes hooks, info and config before HEAD, refs and
 * objects), else hooks or configuration planted while it was none would take effect. */
static const char *unchecked_git_content(const struct guard_rules *r, int dirfd) {
  for (size_t i = 0; i < r->plan->nnames; i++) {
    const struct plan_guard_name *g = &r->plan->names[i];
    if (g->kind == GUARD_GIT && strcmp(g->name, "hooks") == 0) {
      if (!template_only(dirfd, "hooks", ".sample", 0)) return "a git directory whose hooks were made before it was one";
    } else if (g->kind == GUARD_GIT && strcmp(g->name, "info") == 0) {
      if (!template_only(dirfd, "info", "exclude", 1)) return "a git directory whose info/ was made before it was one";
    } else if (g->kind == GUARD_GIT && has(dirfd, g->name)) {
      return "a git directory holding a protected git name made before it was one";
    } else if (g->kind == GUARD_GIT_CONFIG && has(dirfd, g->name) && !made_here(r, dirfd)) {
      return "git configuration of a directory that existed before this run";
    }
  }
  return NULL;
}

/* A git directory by its place or by what it holds. */
static int guard_is_git_dir_at(const char *dir, int dirfd) { return guard_is_git_dir(dir) || holds_git(dirfd, NULL); }

/* Refusals because of a protected directory above `name`: a `dir` name, or a git directory's
 * `hooks` / `info`, where only git's own template files may be made. */
static const char *inside(const struct guard_rules *r, const char *dir, int dirfd, const char *name, enum guard_op op) {
  char prefix[PATH_MAX];
  const char *prev = NULL;
  size_t prev_len = 0;
  for (const char *c = dir; *c;) {
    if (*c == '/') {
      c++;
      continue;
    }
    size_t len = strcspn(c, "/");
    int last = c[len] == '\0';
    if (named(r, KIND(GUARD_DIR), prev, prev_len, c, len)) return "inside a protected directory";
    if (named(r, KIND(GUARD_GIT), NULL, 0, c, len) && (component_is(c, len, "hooks") || component_is(c, len, "info"))) {
      size_t at = (size_t)(c - dir);
      if (at < sizeof prefix) {
        memcpy(prefix, dir, at ? at - 1 : 0);
        prefix[at ? at - 1 : 0] = '\0';
        int git = guard_is_git_dir(prefix);
        if (!git) {
          /* By content: the directory above this component, reached from `dirfd` upwards. */
          size_t ups = 1;
          for (const char *t = c + len; *t; t++) ups += *t == '/' && t[1] != '\0' && t[1] != '/';
          int up = ancestor(dirfd, ups);
          git = up >= 0 && holds_git(up, NULL);
          if (up >= 0) (void)close(up);
        }
        if (git) {
          if (!last || op != OP_FILE) return "inside a git directory's hooks or info";
          size_t n = strlen(name);
          int sample = component_is(c, len, "hooks") && n > 7 && strcmp(name + n - 7, ".sample") == 0;
          int exclude = component_is(c, len, "info") && strcmp(name, "exclude") == 0;
          if (!sample && !exclude) return "inside a git directory's hooks or info";
        }
      }
    }
    prev = c, prev_len = len;
    c += len;
  }
  return NULL;
}

const char *guard_rules_refuse(const struct guard_rules *r, const char *dir, int dirfd, const char *name, enum guard_op op) {
  const char *why = inside(r, dir, dirfd, name, op);
  if (why) return why;
  const char *base = strrchr(dir, '/');
  base = base ? base + 1 : dir;
  size_t len = strlen(name);
  if (named(r, KIND(GUARD_FILE) | KIND(GUARD_DIR), base, strlen(base), name, len)) return "a protected name";
  if (strcmp(name, ".git") == 0) return op == OP_MKDIR ? NULL : "a .git that is not a new directory";
  int git = guard_is_git_dir_at(dir, dirfd);
  /* The name that makes a directory a git directory is made in one (a commondir is refused). */
  int becomes = !git && completes_git(name) && holds_git(dirfd, name);
  if (git || becomes) {
    if (named(r, KIND(GUARD_GIT), NULL, 0, name, len)) {
      int template_dir = strcmp(name, "hooks") == 0 || strcmp(name, "info") == 0;
      if (!(template_dir && op == OP_MKDIR)) return "a protected name in a git directory";
    }
    if (named(r, KIND(GUARD_GIT_CONFIG), NULL, 0, name, len) && !made_here(r, dirfd))
      return "git configuration of a repository that existed before this run";
  }
  if (becomes) {
    why = unchecked_git_content(r, dirfd);
    if (why) return why;
  }
  if (op == OP_SYMLINK || op == OP_RENAME_DIR) {
    /* Neither the place nor anything below it may be a git directory: a directory moved (or a
     * link made) to `.git/modules` brings `modules/<name>` git directories whose hooks the guard
     * never saw. */
    char full[PATH_MAX];
    int n = snprintf(full, sizeof full, "%s/%s/x", strcmp(dir, "/") == 0 ? "" : dir, name);
    if (n < 0 || (size_t)n >= sizeof full || guard_is_git_dir(full)) return "a git directory's place";
    full[n - 2] = '\0';
    if (guard_is_git_dir(full)) return "a git directory's place";
  }
  return NULL;
}

void guard_rules_made_dir(struct guard_rules *r, int dirfd, const char *name) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (r->nmade == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    struct guard_made *grown = realloc(r->made, cap * sizeof *grown);
    if (grown == NULL) return; /* its config then stays refused: stricter, never weaker */
    r->made = grown, r->cap = cap;
  }
  r->made[r->nmade++] = (struct guard_made){st.st_dev, st.st_ino};
}
