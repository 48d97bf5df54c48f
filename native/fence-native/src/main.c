/* fence-launch: the first program inside the sandbox. It reads a helper plan, then:
 *   1. binds every bridge listener and starts the relay process (before any restriction, so the
 *      relay may create Unix sockets the seccomp filter later forbids and is bound by none of the
 *      command's limits); with a guard it is the guard that starts it, when a client first
 *      connects, wherever that takes nothing from the relay (bridge_deferrable);
 *   2. applies the resource limits;
 *   3. sets no_new_privs (required by Landlock and seccomp for an unprivileged caller);
 *   4. applies Landlock, then (with a `guard` plan) forks: this process becomes the creation guard
 *      (guard.h), the child goes on and installs the guard's filter (under a supervisor, joined
 *      with the notify program: guard-forward.h);
 *   5. installs the seccomp filters, the logged one (or, under a supervisor and without a guard,
 *      the notify one, whose listener goes to Fence) then the quiet one (last: they may forbid
 *      the calls the steps above make);
 *   6. closes every descriptor >= 3, resets signal state, and execs the command.
 * Steps 5 and 6 are exec_command, which the guard's child runs (guard_fork).
 * Any failure before the exec ends with status 125: the command never runs half-protected.
 * With --tty (pty.c), a pseudo-terminal is allocated after step 1 and the process forks: the child
 * takes steps 2-6 and, after step 5, the terminal; this process relays and exits with its status.
 * With the guard, bwrap runs this process as the PID namespace's init (--as-pid-1) rather than
 * forking an init of its own first: the guard (or the terminal's relay) is the parent that stays,
 * reaps every orphan and forwards the signals Fence sends it.
 *
 * Usage: fence-launch [--plan-fd N] [--tty] -- command [args...]
 *        FENCE_LAUNCH_PLAN=<base64 plan> fence-launch -- command [args...]
 *        fence-launch --netns PORT -- bwrap [args...]   (netns.h: before bwrap, no plan)
 * On the host, `fence-launch --fast SCRIPT -- ...` is the CLI's native fast path (fastpath.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bridge.h"
#include "exec.h"
#include "fastpath.h"
#include "guard.h"
#include "landlock.h"
#include "netns.h"
#include "notify.h"
#include "plan.h"
#include "pty.h"
#include "rlimit.h"
#include "seccomp.h"

#define EXIT_SETUP 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
#define PLAN_ENV "FENCE_LAUNCH_PLAN"

_Noreturn static void die(const struct fence_err *e) {
  if (e->errnum) fprintf(stderr, "fence-launch: %s: %s\n", e->what, strerror(e->errnum));
  else fprintf(stderr, "fence-launch: %s\n", e->what);
  /* _exit: exec_command may run in the guard's vfork child, which must not run exit handlers or
   * flush stdio in the guard's memory (stderr is unbuffered; nothing goes to stdout). */
  _exit(EXIT_SETUP);
}

static void usage(void) {
  fputs("fence-launch: usage: fence-launch [--plan-fd N] [--tty] -- command [args...]\n"
        "       fence-launch --netns PORT -- bwrap [args...]\n"
        "  (without --plan-fd the plan is read from $" PLAN_ENV ", base64)\n",
        stderr);
  exit(EXIT_SETUP);
}

/* Returns the plan text; the variable is removed either way so the command never sees it. */
static char *read_plan(int plan_fd, size_t *len, struct fence_err *e) {
  const char *env = getenv(PLAN_ENV);
  char *text = env ? strdup(env) : NULL;
  if (env && text == NULL) return fence_fail(e, ENOMEM, "plan"), NULL;
  /* Removes the plan from the environment the command inherits. */
  if (unsetenv(PLAN_ENV) != 0) return free(text), fence_fail(e, errno, "unsetenv " PLAN_ENV), NULL;
  if (plan_fd >= 0) {
    free(text);
    return plan_read_fd(plan_fd, len, e);
  }
  if (text == NULL) return fence_fail(e, 0, "no plan: pass --plan-fd N or set " PLAN_ENV), NULL;
  long n = plan_base64_decode(text);
  if (n < 0) return fence_fail(e, 0, PLAN_ENV ": not base64"), NULL;
  *len = (size_t)n;
  return text;
}

static int parse_args(int argc, char **argv, int *plan_fd, int *tty) {
  int i = 1;
  *plan_fd = -1;
  if (i + 1 < argc && strcmp(argv[i], "--plan-fd") == 0) {
    char *end;
    long fd = strtol(argv[i + 1], &end, 10);
    if (*argv[i + 1] == '\0' || *end != '\0' || fd < 0 || fd > 65535) usage();
    *plan_fd = (int)fd;
    i += 2;
  }
  *tty = i < argc && strcmp(argv[i], "--tty") == 0;
  i += *tty;
  if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) usage();
  return i + 1;
}

/* Binds every bridge's listener and starts their relay; returns the listeners instead, their
 * relay not started, when the guard may start it later (bridge_deferrable). */
static int *start_bridges(const struct plan *plan, struct fence_err *e) {
  if (plan->nbridges == 0) return NULL;
  int *fds = calloc(plan->nbridges, sizeof *fds);
  if (fds == NULL) fence_fail(e, ENOMEM, "bridge"), die(e);
  if (bridge_listen(plan->bridges, plan->nbridges, fds, e) != 0) die(e);
  /* A fork the command would wait for at every start, for a relay many commands never use: the
   * guard, a process anyway, starts it when a client first connects. Not under limits: they would
   * bind the relay too (`bridges-first`, a process limit: the command could hold the last process
   * by then, and no bridge would work). */
  if (plan->guard.nnames && bridge_deferrable(plan->bridges, plan->nbridges, plan->nrlimits > 0 || plan->bridges_first)) return fds;
  if (bridge_start(plan->bridges, plan->nbridges, fds, e) != 0) die(e);
  free(fds);
  return NULL;
}

/* The command's process, from after Landlock to its exec. */
struct launch {
  const struct plan *plan;
  char **cmd;
  int tty;
  struct pty *pty;
};

/* Installs the seccomp filters (with a guard, first its own, sent through `guard_sock`; else -1),
 * takes the terminal and execs the command. Never returns: with a guard it may run while the
 * guard waits for its exec (guard.h), so it ends with _exit, never by returning. */
_Noreturn static void exec_command(void *arg, int guard_sock) {
  const struct launch *l = arg;
  const struct plan *plan = l->plan;
  struct fence_err e = {.errnum = 0};
  struct exec_saved saved;
  const struct plan_filter *logged = &plan->seccomp, *quiet = &plan->seccomp_quiet, *notify = &plan->seccomp_notify;
  struct guard_supervisor sup = {.insns = notify->insns, .len = notify->len, .socket = plan->notify_socket};
  if (guard_sock >= 0) {
    /* The guard shares this process's Landlock domain (guard.h), and with it the scope that keeps
     * the command's signals from Fence's processes: a domain of the command's own puts the guard,
     * and the relay it may start, outside that scope as the earlier processes are. */
    if (plan->landlock && landlock_scope_apply(plan->landlock, &e) != 0) die(&e);
    /* The guard holds the supervisor's socket now. */
    if (notify->insns) (void)close(plan->notify_socket);
    if (guard_install(guard_sock, notify->insns ? &sup : NULL, &e) != 0) die(&e);
  }
  /* The notify program replaces the logged one: stacked, the logged filter's EPERM would win. */
  if (notify->insns) {
    /* The supervisor may read this process's own execve of the command from /proc/<pid>/mem
     * (runtimeExecPolicy "argv"), which the non-dumpable state of bridge_start and guard_fork
     * refuses to a Fence that is not root. The relays and the guard have an address space of
     * their own; nothing else runs in the sandbox yet, and the execve below would make the image
     * dumpable anyway. */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) fence_fail(&e, errno, "prctl(PR_SET_DUMPABLE)"), die(&e);
    /* With the guard, its filter carries the notify program (guard-forward.h). */
    if (guard_sock < 0 && notify_install(notify->insns, notify->len, plan->notify_socket, &e) != 0) die(&e);
  } else if (logged->insns && seccomp_install(logged->insns, logged->len, 1, &e) != 0) die(&e);
  if (quiet->insns && seccomp_install(quiet->insns, quiet->len, 0, &e) != 0) die(&e);
  if (l->tty && pty_attach(l->pty, &e) != 0) die(&e);

  /* Only stdio reaches the command (bwrap's and the host's descriptors stay behind). */
  int rc = fds_close_from(3);
  if (rc == 0) rc = exec_prepare(&saved);
  if (rc != 0) fence_fail(&e, -rc, "prepare exec"), die(&e);
  /* Replaces this process with the command; the restrictions above stay. */
  exec_path(l->cmd[0], l->cmd);
  if (errno == ENOENT) {
    fprintf(stderr, "fence-launch: %s: command not found\n", l->cmd[0]);
    _exit(EXIT_NOT_FOUND);
  }
  fprintf(stderr, "fence-launch: %s: %s\n", l->cmd[0], strerror(errno));
  _exit(EXIT_CANNOT_EXEC);
}

static void restrict_self(const struct plan *plan, struct fence_err *e) {
  if (rlimit_apply(plan->rlimits, plan->nrlimits, e) != 0) die(e);
  /* No setuid/setgid/file-capability gains for this process and everything it executes. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fence_fail(e, errno, "prctl(PR_SET_NO_NEW_PRIVS)"), die(e);
  if (plan->landlock && landlock_apply(plan->landlock, e) != 0) die(e);
}

/* --netns PORT -- program...: the sandbox's network namespace, then exec (bwrap). */
static int netns_main(int argc, char **argv) {
  struct fence_err e = {.errnum = 0};
  char *end;
  long port = argc > 4 ? strtol(argv[2], &end, 10) : 0;
  if (argc <= 4 || *end != '\0' || port < 1 || port > 65535 || strcmp(argv[3], "--") != 0) usage();
  if (netns_enter((uint16_t)port, &e) != 0) die(&e);
  execvp(argv[4], &argv[4]);
  fprintf(stderr, "fence-launch: %s: %s\n", argv[4], strerror(errno));
  return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--netns") == 0) return netns_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "--fast") == 0) return fastpath_main(argc, argv);
  struct fence_err e = {.errnum = 0};
  struct plan plan;
  struct pty pty;
  size_t len = 0;
  int plan_fd, tty, cmd = parse_args(argc, argv, &plan_fd, &tty);

  char *text = read_plan(plan_fd, &len, &e);
  if (text == NULL || plan_decode(text, len, &plan, &e) != 0) die(&e);
  /* As the sandbox's init (bwrap --as-pid-1, chosen with the guard), this process must stay the
   * command's parent, reaping and forwarding signals: an init command would ignore them. */
  if (getpid() == 1 && !plan.guard.nnames && !tty) fence_fail(&e, 0, "the sandbox's init (bwrap --as-pid-1) needs a guard plan or --tty"), die(&e);
  int *deferred = start_bridges(&plan, &e);
  /* Returns in the command's process only; this one relays the terminal until the command exits. */
  if (tty && (pty_open(&pty, &e) != 0 || pty_fork(&pty, &e) != 0)) die(&e);
  restrict_self(&plan, &e);
  struct launch l = {.plan = &plan, .cmd = &argv[cmd], .tty = tty, .pty = &pty};
  /* After Landlock (the guard shares the command's domain), before the other filters: the command's
   * process goes on in exec_command; this one becomes the guard. */
  if (plan.guard.nnames) {
    const struct plan_filter *notify = &plan.seccomp_notify;
    struct guard_supervisor sup = {.insns = notify->insns, .len = notify->len, .socket = plan.notify_socket};
    struct guard_bridges later = {.bridges = plan.bridges, .n = deferred ? plan.nbridges : 0, .fds = deferred};
    guard_fork(&plan.guard, notify->insns ? &sup : NULL, &later, tty, exec_command, &l, &e);
    die(&e);
  }
  exec_command(&l, -1);
}
