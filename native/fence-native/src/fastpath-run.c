/* Starts the sandbox of a checked plan cache entry as the CLI's runner would (core runner.ts),
 * after taking a lease on each shared service it uses (the proxy service: connected, held open):
 * the plan's descriptors at 3, 4, … (bytes in a memfd, each bind path opened O_PATH|O_NOFOLLOW
 * and proved again to be the recorded file, bwrap's --info-fd report on a pipe), the command's
 * environment, the wrappers' argv; then forwards SIGINT, SIGTERM and SIGHUP the way the bwrap
 * layer does (plugins/bwrap/src/signal.ts) and returns the exit status (128+N on signal N). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fastpath.h"

extern char **environ;

static int data_fd(const struct fast_fd *f) {
  /* Side effect: an anonymous file holding the bytes, read from its start by bwrap or the helper. */
  int fd = memfd_create("fence-plan", MFD_CLOEXEC);
  if (fd < 0) return -1;
  for (size_t at = 0; at < f->len;) {
    ssize_t n = write(fd, f->bytes + at, f->len - at);
    if (n <= 0) return close(fd), -1;
    at += (size_t)n;
  }
  return lseek(fd, 0, SEEK_SET) == 0 ? fd : (close(fd), -1);
}

/* `path` opened O_PATH without following a symlink anywhere, proved to be the recorded object
 * (device, inode, type; a service's socket also of this user), or -1. */
static int open_proved(const char *path, unsigned long long dev, unsigned long long ino, mode_t type) {
  int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  char link[64], walked[4096];
  if (fd < 0) return -1;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, walked, sizeof walked - 1);
  int same = fstat(fd, &st) == 0 && (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino &&
             (st.st_mode & S_IFMT) == type && (type != S_IFSOCK || st.st_uid == getuid()) && n > 0 &&
             (walked[n] = '\0', strcmp(walked, path) == 0);
  return same ? fd : (close(fd), -1);
}

static int bind_fd(const struct fast_fd *f) {
  return open_proved(f->bytes, f->dev, f->ino, f->dir ? S_IFDIR : f->sock ? S_IFSOCK : S_IFREG);
}

/* Connects to a lease socket (proved as recorded) and waits for the service's "ok": the service
 * is up, and stays up while this process holds the connection (until it exits). -1 when not. */
static int take_lease(const struct fast_lease *l) {
  int path = open_proved(l->path, l->dev, l->ino, S_IFSOCK);
  if (path < 0) return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d", path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char ok[4];
  struct pollfd p = {s, POLLIN, 0};
  int up = s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) == 0 && poll(&p, 1, 2000) == 1 && read(s, ok, 3) == 3 && memcmp(ok, "ok\n", 3) == 0;
  close(path);
  if (!up && s >= 0) close(s);
  return up ? s : -1;
}

/* Opens every descriptor; `report` gets the read end of the report pipe (or -1). */
static int open_fds(const struct fast_plan *plan, int *fds, int *report) {
  *report = -1;
  for (size_t i = 0; i < plan->nfds; i++) {
    const struct fast_fd *f = &plan->fds[i];
    int pipefd[2];
    fds[i] = -1;
    if (f->kind == FAST_FD_DATA) fds[i] = data_fd(f);
    else if (f->kind == FAST_FD_BIND) fds[i] = bind_fd(f);
    else if (f->kind == FAST_FD_REPORT) {
      if (*report >= 0 || pipe2(pipefd, O_CLOEXEC) != 0) return -1;
      *report = pipefd[0];
      fds[i] = pipefd[1];
    }
    if (f->kind != FAST_FD_NONE && fds[i] < 0) return -1;
  }
  return 0;
}

/* In the child: descriptors 3.. as planned, nothing else above stdio. */
static int place_fds(const int *fds, size_t n) {
  int high[n ? n : 1];
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0 && (high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)(3 + n))) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    if (fds[i] < 0) close((int)(3 + i));
    else if (dup2(high[i], (int)(3 + i)) < 0) return -1;
  }
  /* Everything this process holds beyond the plan's descriptors stays out of the sandbox. */
  if (syscall(SYS_close_range, 3 + n, ~0U, 0) != 0)
    for (int fd = (int)(3 + n); fd < 65536; fd++) close(fd);
  return 0;
}

/* The command's environment: the entry's, plus the volatile variables as they are now. */
static char **command_env(const struct fast_plan *plan) {
  size_t n = plan->nset, k = 0;
  for (char **e = environ; *e; e++) n++;
  char **env = calloc(n + 1, sizeof *env);
  if (env == NULL) return NULL;
  for (size_t i = 0; i < plan->nset; i++) env[k++] = (char *)plan->set[i];
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    size_t len = eq ? (size_t)(eq - *e) : 0;
    int keep = eq && fast_is_volatile(*e, len) && strncmp(*e, "FENCE_", 6) != 0;
    for (size_t i = 0; keep && i < plan->ndrop; i++) keep = !(strlen(plan->drop[i]) == len && strncmp(plan->drop[i], *e, len) == 0);
    for (size_t i = 0; keep && i < plan->nset; i++) keep = strncmp(plan->set[i], *e, len + 1) != 0;
    if (keep) env[k++] = *e;
  }
  return env;
}

static void child(const struct fast_plan *plan, const int *fds, char **env) {
  sigset_t none;
  sigemptyset(&none);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (chdir(plan->chdir) != 0 || place_fds(fds, plan->nfds) != 0) _exit(125);
  environ = env;
  execvp(plan->argv[0], (char *const *)plan->argv);
  fprintf(stderr, "fence: %s: %s\n", plan->argv[0], strerror(errno));
  _exit(127);
}

/* The host pid of the sandbox's init, from bwrap's report, or 0. */
static long report_init(const char *report) {
  const char *at = report ? strstr(report, "\"child-pid\":") : NULL;
  return at ? strtol(at + 12, NULL, 10) : 0;
}

/* Reads a small /proc file of `pid` into `buf`; its length, or -1. */
static ssize_t read_proc(long pid, const char *file, char *buf, size_t size) {
  char path[96]; /* "/proc/" pid "/task/" tid "/children", every number as long as a long */
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}

/* The host pid of the sandboxed command (the init's first child), or 0. */
static pid_t command_pid(long init) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "task/%ld/children", init);
  return read_proc(init, path, buf, sizeof buf) > 0 ? (pid_t)strtol(buf, NULL, 10) : 0;
}

/* Whether `pid` holds `sig` blocked (SigBlk): the helper as init reads those from its signalfd,
 * and an init is not even sent a signal it has no handler for. Read line by line: the Groups line
 * before it is as long as the user's supplementary groups make it (kilobytes for hundreds). */
static int blocks(long pid, int sig) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  char *line = NULL;
  size_t cap = 0;
  int held = 0;
  while (getline(&line, &cap, f) > 0)
    if (strncmp(line, "SigBlk:\t", 8) == 0) {
      held = strtoull(line + 8, NULL, 16) >> (sig - 1) & 1;
      break;
    }
  free(line);
  fclose(f);
  return held;
}

/* Whether `init` is (still) in the PID namespace bwrap's report names: its pid was not reused. */
static int in_sandbox(long init, const char *report) {
  const char *at = strstr(report, "\"pid-namespace\":");
  char path[64], link[64], want[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/pid", init);
  ssize_t n = at ? readlink(path, link, sizeof link - 1) : -1;
  if (n < 0) return 0;
  link[n] = '\0';
  snprintf(want, sizeof want, "pid:[%lu]", strtoul(at + 16, NULL, 10));
  return strcmp(link, want) == 0;
}

/* Before the sandbox takes the signal (its start-up), to bwrap, which it ends, and SIGKILL to the
 * init while it is the sandbox's: --die-with-parent takes it only once it has set that, so bwrap
 * killed just after its report left the sandbox running (signal.ts toBwrap). The signals forwarded
 * here (SIGINT, SIGTERM, SIGHUP) all end bwrap. */
static void to_bwrap(pid_t bwrap, const char *report, long init, int sig) {
  kill(bwrap, sig);
  if (init > 0 && in_sandbox(init, report)) kill((pid_t)init, SIGKILL);
}

/* As plugins/bwrap/src/signal.ts does: to the helper as init once it takes the signal, else to
 * the command (its group for SIGINT); before either exists, to bwrap (which ends the sandbox). */
static void forward(pid_t bwrap, const char *report, int sig, int init_is_helper) {
  long init = report_init(report);
  if (init_is_helper) {
    if (init > 0 && blocks(init, sig)) kill((pid_t)init, sig);
    else to_bwrap(bwrap, report, init, sig);
    return;
  }
  pid_t pid = init > 0 ? command_pid(init) : 0;
  if (pid <= 0) to_bwrap(bwrap, report, init, sig);
  else if (sig != SIGINT || kill(-pid, sig) != 0) kill(pid, sig);
}

/* Waits for bwrap, reading its report and forwarding signals meanwhile. A signal is held until
 * the report is read, as runner.ts holds it: bwrap killed before then leaves its child waiting
 * for it forever, with nothing that knows its pid. */
static int supervise(pid_t pid, int report, int sigfd, int init_is_helper) {
  char text[4096] = "";
  size_t got = 0;
  unsigned long held = 0; /* a bit per signal number (SIGINT, SIGTERM, SIGHUP) */
  for (;;) {
    struct pollfd p[2] = {{sigfd, POLLIN, 0}, {report, POLLIN, 0}};
    if (poll(p, report >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) return 125;
    if (report >= 0 && p[1].revents) {
      ssize_t n = read(report, text + got, sizeof text - 1 - got);
      if (n > 0) got += (size_t)n, text[got] = '\0';
      else close(report), report = -1;
      for (int sig = 1; report < 0 && held; sig++)
        if (held & 1UL << sig) held &= ~(1UL << sig), forward(pid, text, sig, init_is_helper);
    }
    struct signalfd_siginfo si;
    if (!(p[0].revents & POLLIN) || read(sigfd, &si, sizeof si) != sizeof si) continue;
    if ((int)si.ssi_signo != SIGCHLD) {
      if (report >= 0) held |= 1UL << si.ssi_signo;
      else forward(pid, text, (int)si.ssi_signo, init_is_helper);
      continue;
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

int fast_run(const struct fast_plan *plan, int explain, const char **why) {
  int fds[plan->nfds ? plan->nfds : 1], report;
  char **env = command_env(plan);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < plan->nleases; i++)
    if (take_lease(&plan->leases[i]) < 0) return *why = "the proxy service is not running", -1;
  if (env == NULL || open_fds(plan, fds, &report) != 0) return *why = "a bind path changed", -1;
  if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) return *why = "sigprocmask", -1;
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) return sigprocmask(SIG_UNBLOCK, &mask, NULL), *why = "signalfd", -1;
  const char *eol = isatty(2) ? "\r\n" : "\n";
  if (explain) dprintf(2, "fence: fast path: hit\n");
  for (size_t i = 0; i < plan->nsay; i++) dprintf(2, "%s%s", plan->say[i], eol);
  pid_t pid = fork();
  if (pid < 0) return sigprocmask(SIG_UNBLOCK, &mask, NULL), *why = "fork", -1;
  if (pid == 0) child(plan, fds, env);
  for (size_t i = 0; i < plan->nfds; i++)
    if (fds[i] >= 0) close(fds[i]);
  return supervise(pid, report, sigfd, plan->init_is_helper);
}
