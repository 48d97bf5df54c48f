/* fence-launch --fast SCRIPT -- FENCE-ARGS...: run by bin/fence before Node. Finds the plan cache
 * entry for this working directory and these arguments, checks it (fastpath-check.c) and starts
 * the sandbox from it (fastpath-run.c). On a miss, or any doubt, it runs SCRIPT again with
 * FENCE_FAST_PATH=0, which takes the Node path (and writes a new entry when it may). With
 * FENCE_FAST_PATH=explain it says on stderr why an entry was used or not.
 * The entry must be a regular file of this user in a directory of this user, neither writable by
 * anyone else: another user cannot hand this one a plan. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastpath.h"

#define MAX_ENTRY (64u << 20)

static int explaining(void) {
  const char *v = getenv("FENCE_FAST_PATH");
  return v && strncmp(v, "explain", 7) == 0;
}

/* Runs the launcher script again on the Node path. */
static int hand_over(char **argv, const char *why) {
  if (explaining()) fprintf(stderr, "fence: fast path: %s\n", why);
  /* The script skips the fast path for "0" and "explained" (this one's own mark when explaining). */
  setenv("FENCE_FAST_PATH", explaining() ? "explained" : "0", 1);
  execv("/bin/sh", argv);
  fprintf(stderr, "fence: /bin/sh: %s\n", strerror(errno));
  return 125;
}

/* The entry's path: $XDG_CACHE_HOME (absolute) or $HOME/.cache, /fence/plan/<FNV-1a of cwd and flags>.plan. */
static int entry_path(char *out, size_t size, char **flags, int nflags, const char **dir_end) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char cwd[4096];
  /* Without HOME the CLI asks the password database, which a static binary cannot: Node's path. */
  if (home && !*home) home = NULL;
  if (getcwd(cwd, sizeof cwd) == NULL) return -1;
  unsigned long long h = 0xcbf29ce484222325ULL;
  for (int i = -1; i < nflags; i++) {
    const char *w = i < 0 ? cwd : flags[i];
    for (size_t k = 0; k <= strlen(w); k++) h = (h ^ (unsigned char)w[k]) * 0x100000001b3ULL;
  }
  int n = xdg && *xdg ? snprintf(out, size, "%s/fence/plan", xdg) : home ? snprintf(out, size, "%s/.cache/fence/plan", home) : -1;
  if (n < 0 || out[0] != '/' || (size_t)n + 24 >= size) return -1;
  *dir_end = out + n;
  snprintf(out + n, size - (size_t)n, "/%016llx.plan", h);
  return 0;
}

/* 1 when `st` is of this user and writable by no one else. */
static int own(const struct stat *st) {
  return st->st_uid == getuid() && (st->st_mode & 022) == 0;
}

/* The entry's bytes (NUL-terminated), or NULL and `why`. */
static char *read_entry(const char *path, const char *dir_end, size_t *len, const char **why) {
  char dir[4096];
  struct stat st;
  memcpy(dir, path, (size_t)(dir_end - path));
  dir[dir_end - path] = '\0';
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !own(&st)) return *why = "no plan cache directory of this user", NULL;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return *why = "no entry", NULL;
  char *buf = NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !own(&st) || (size_t)st.st_size > MAX_ENTRY) *why = "an entry this user does not own alone";
  else if ((buf = malloc((size_t)st.st_size + 1)) != NULL) {
    size_t at = 0;
    ssize_t n = 1;
    while (at < (size_t)st.st_size && (n = read(fd, buf + at, (size_t)st.st_size - at)) > 0) at += (size_t)n;
    buf[at] = '\0';
    *len = at;
    if (n <= 0) free(buf), buf = NULL, *why = "an unreadable entry";
  }
  close(fd);
  return buf;
}

int fastpath_main(int argc, char **argv) {
  /* argv: fence-launch --fast SCRIPT -- FENCE-ARGS... ; the hand-over runs `sh SCRIPT FENCE-ARGS...`. */
  if (argc < 4 || strcmp(argv[3], "--") != 0) {
    fputs("fence-launch: usage: fence-launch --fast SCRIPT -- [fence arguments]\n", stderr);
    return 125;
  }
  char **fence_args = &argv[4];
  int nargs = argc - 4, sep = 0;
  argv[3] = argv[2]; /* sh SCRIPT FENCE-ARGS... */
  argv[2] = "sh";
  char **sh_argv = &argv[2];
  while (sep < nargs && strcmp(fence_args[sep], "--") != 0) sep++;
  if (sep >= nargs - 1) return hand_over(sh_argv, "no `-- command`");
  if (isatty(0) && (isatty(1) || isatty(2))) return hand_over(sh_argv, "a terminal run");
  char path[4096];
  const char *dir_end, *why = NULL;
  size_t len = 0;
  if (entry_path(path, sizeof path, fence_args, sep, &dir_end) != 0) return hand_over(sh_argv, "no cache directory");
  char *buf = read_entry(path, dir_end, &len, &why);
  struct fast_plan plan;
  if (buf == NULL || fast_check(buf, len, fence_args, sep, &fence_args[sep + 1], &plan, &why) != 0) return hand_over(sh_argv, why);
  int status = fast_run(&plan, explaining(), &why);
  return status < 0 ? hand_over(sh_argv, why) : status;
}
