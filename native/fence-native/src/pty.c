/* Terminal mode, as ssh and script do it: a pseudo-terminal of the sandbox's devpts for the
 * command, and a relay between it and the outer terminal.
 *
 * Why a relay: bwrap's --new-session (which stops TIOCSTI from reaching the host terminal) leaves
 * the command without a controlling terminal, so job control, Ctrl-C/Ctrl-Z, /dev/tty and window
 * sizes did not work. A pseudo-terminal of its own gives all of that back without handing the
 * command the host's terminal: the command never holds a descriptor of the outer terminal.
 *
 * Process layout inside the sandbox: fence-launch forks before any restriction is applied; the
 * child applies them all, becomes a session leader with the slave as its controlling terminal and
 * execs the command; this process stays the parent and relays (so bwrap, which waits for it, exits
 * only once the command's last output is written). The relay is non-dumpable: the command cannot
 * ptrace it or open its descriptors through /proc. It never uses TIOCSTI: it writes to the master.
 */
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define RELAY_BUF 65536
/* Once the command has exited, output its background jobs still write is relayed until the
 * terminal is quiet this long, at most DRAIN_MAX_MS; all slaves closed ends it at once. */
#define DRAIN_QUIET_MS 100
#define DRAIN_MAX_MS 2000
#define EXIT_SETUP 125

/* What the relay handles: the command's exit, window changes, and the signals Fence forwards. */
static const int relay_signals[] = {SIGCHLD, SIGWINCH, SIGTERM, SIGHUP, SIGINT};

static int open_slave(int master) {
  /* TIOCGPTPEER (Linux 4.13): the slave of this very master, with no path to look up. */
  int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0 || (errno != EINVAL && errno != ENOTTY)) return fd;
  char name[64];
  if (ptsname_r(master, name, sizeof name) != 0) return -1;
  return open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static void copy_winsize(int from, int to) {
  struct winsize ws;
  /* Sets the pseudo-terminal's size; the kernel sends SIGWINCH to its foreground process group. */
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) (void)ioctl(to, TIOCSWINSZ, &ws);
}

int pty_open(struct pty *p, struct fence_err *e) {
  struct termios outer, inner;
  p->stdio_ttys = 0;
  for (int fd = 0; fd <= 2; fd++)
    if (isatty(fd)) p->stdio_ttys |= 1u << fd;
  if (!(p->stdio_ttys & 1u) || !(p->stdio_ttys & 6u))
    return fence_fail(e, ENOTTY, "tty: stdin and stdout or stderr must be a terminal");
  p->outer_in = 0;
  p->outer_out = p->stdio_ttys & 2u ? 1 : 2;
  /* A new pseudo-terminal of the sandbox's own devpts; O_NOCTTY: never this process's terminal. */
  p->master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (p->master < 0) return fence_fail(e, errno, "tty: open /dev/ptmx");
  /* Unlocks the slave so that it can be opened. */
  if (unlockpt(p->master) != 0) return fence_fail(e, errno, "tty: unlockpt");
  p->slave = open_slave(p->master);
  if (p->slave < 0) return fence_fail(e, errno, "tty: open the slave");
  /* The kernel's defaults (cooked, echo, ^C ^Z ^\) plus the outer terminal's UTF-8 input flag,
   * which raw mode leaves as it was: line editing then erases whole characters. */
  if (tcgetattr(p->outer_in, &outer) == 0 && tcgetattr(p->slave, &inner) == 0 && (outer.c_iflag & IUTF8)) {
    inner.c_iflag |= IUTF8;
    (void)tcsetattr(p->slave, TCSANOW, &inner);
  }
  copy_winsize(p->outer_in, p->master);
  return 0;
}

/* Closes every descriptor >= 3 but the relay's own two: it needs nothing else the host passed. */
static void close_others(int a, int b) {
  int lo = a < b ? a : b, hi = a < b ? b : a;
  /* Hygiene, not a boundary (the relay is non-dumpable): a failure leaves descriptors open. */
  if (lo > 3) (void)syscall(SYS_close_range, 3U, (unsigned)lo - 1, 0U);
  if (hi > lo + 1) (void)syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0U);
  (void)syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

/* Writes all of `buf` to the outer terminal. Its file description is shared with the host's
 * shell, so the relay never changes its flags; it waits when the description is non-blocking. */
static bool write_outer(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd w = {.fd = fd, .events = POLLOUT};
      (void)poll(&w, 1, -1);
      continue;
    }
    if (n < 0) return false; /* the terminal is gone: output has nowhere to go */
    buf += n, len -= (size_t)n;
  }
  return true;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct relay {
  struct pty *p;
  pid_t child;
  int sfd, status;
  bool exited, in_open, out_open, master_open;
  long deadline;       /* after the exit: when draining stops whatever comes */
  size_t in_len, in_off; /* keystrokes read from the outer terminal, not yet written to the master */
  char in[RELAY_BUF], out[RELAY_BUF];
};

static void relay_signal(struct relay *r) {
  struct signalfd_siginfo si;
  while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      /* Reaps the command (stops are not reported: no WUNTRACED), and as the sandbox's init every
       * orphan re-parented here. */
      int status;
      pid_t w;
      while ((w = waitpid(-1, &status, WNOHANG)) > 0)
        if (w == r->child && !r->exited) {
          r->status = status;
          r->exited = true;
          r->deadline = now_ms() + DRAIN_MAX_MS;
        }
    } else if (si.ssi_signo == SIGWINCH) {
      copy_winsize(r->p->outer_in, r->p->master);
    } else if (!r->exited) {
      /* Forwards Fence's SIGTERM/SIGHUP (and a stray SIGINT) to the command. */
      (void)kill(r->child, (int)si.ssi_signo);
    }
  }
}

static void relay_input(struct relay *r, short revents) {
  if (r->in_len == 0 && (revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t n = read(r->p->outer_in, r->in, sizeof r->in);
    if (n > 0) r->in_len = (size_t)n, r->in_off = 0;
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) r->in_open = false; /* hung up */
  }
  while (r->in_off < r->in_len && r->master_open) {
    ssize_t n = write(r->p->master, r->in + r->in_off, r->in_len - r->in_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) r->in_len = r->in_off = 0; /* nobody reads the slave any more */
    if (n < 0) return;
    r->in_off += (size_t)n;
  }
  r->in_len = r->in_off = 0;
}

/* Returns how many bytes came from the master (0 at EAGAIN or once every slave is closed). */
static ssize_t relay_output(struct relay *r) {
  ssize_t n = read(r->p->master, r->out, sizeof r->out);
  if (n > 0 && r->out_open) r->out_open = write_outer(r->p->outer_out, r->out, (size_t)n);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) r->master_open = false; /* EIO: no slave left */
  return n > 0 ? n : 0;
}

static void relay_loop(struct relay *r) {
  for (;;) {
    bool draining = r->exited;
    struct pollfd f[3] = {
        {.fd = !draining && r->in_open && r->in_len == 0 ? r->p->outer_in : -1, .events = POLLIN},
        {.fd = r->master_open ? r->p->master : -1, .events = POLLIN | (r->in_len ? POLLOUT : 0)},
        {.fd = draining ? -1 : r->sfd, .events = POLLIN},
    };
    if (draining && (!r->master_open || now_ms() >= r->deadline)) return;
    int n = poll(f, 3, draining ? DRAIN_QUIET_MS : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    if (n == 0) return; /* quiet since the command exited */
    if (f[2].revents) relay_signal(r);
    if (f[0].revents || (f[1].revents & POLLOUT)) relay_input(r, f[0].revents);
    if (f[1].revents & (POLLIN | POLLHUP | POLLERR)) (void)relay_output(r);
  }
}

static _Noreturn void relay(struct pty *p, pid_t child, const sigset_t *set) {
  static struct relay r; /* the buffers: off the stack */
  r = (struct relay){.p = p, .child = child, .in_open = true, .out_open = true, .master_open = true};
  /* Only the command holds the slave: when it and its jobs are gone, the master reads EIO. */
  (void)close(p->slave);
  /* The relay holds the outer terminal: no ptrace, no /proc/<pid>/fd, no core dump for the command. */
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* The signals blocked before the fork are read from here, in the poll loop. */
  r.sfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
  int fl = fcntl(p->master, F_GETFL);
  /* The master is this process's own description: non-blocking affects nobody else. */
  if (r.sfd < 0 || fl < 0 || fcntl(p->master, F_SETFL, fl | O_NONBLOCK) != 0) {
    fprintf(stderr, "fence-launch: tty: relay: %s\n", strerror(errno));
    (void)kill(child, SIGKILL); /* never a command without its relay */
    (void)waitpid(child, NULL, 0);
    _exit(EXIT_SETUP);
  }
  close_others(p->master, r.sfd);
  relay_loop(&r);
  while (!r.exited && waitpid(child, &r.status, 0) < 0 && errno == EINTR) continue;
  _exit(WIFSIGNALED(r.status) ? 128 + WTERMSIG(r.status) : WEXITSTATUS(r.status));
}

int pty_fork(struct pty *p, struct fence_err *e) {
  sigset_t set;
  if (sigemptyset(&set) != 0) return fence_fail(e, errno, "tty: sigemptyset");
  for (size_t i = 0; i < sizeof relay_signals / sizeof relay_signals[0]; i++) (void)sigaddset(&set, relay_signals[i]);
  /* Blocked before the fork, so none is lost before the relay reads them; the command's process
   * unblocks everything just before its exec (exec_prepare). */
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return fence_fail(e, errno, "tty: sigprocmask");
  /* The command's process: a copy of this one, with no restriction yet. */
  pid_t child = fork();
  if (child < 0) return fence_fail(e, errno, "tty: fork");
  if (child > 0) relay(p, child, &set);
  (void)close(p->master); /* the command gets the slave only */
  p->master = -1;
  return 0;
}

int pty_attach(struct pty *p, struct fence_err *e) {
  /* A new session: the command is its leader, so the slave can become its controlling terminal. */
  if (setsid() < 0) return fence_fail(e, errno, "tty: setsid");
  /* Makes the slave the controlling terminal; the command's process group is its foreground. */
  if (ioctl(p->slave, TIOCSCTTY, 0) != 0) return fence_fail(e, errno, "tty: TIOCSCTTY");
  for (int fd = 0; fd <= 2; fd++)
    /* The slave replaces each stdio fd that was the outer terminal. */
    if ((p->stdio_ttys & (1u << fd)) && dup2(p->slave, fd) < 0) return fence_fail(e, errno, "tty: dup2");
  /* The extra descriptor: stdio holds the slave now. */
  if (close(p->slave) != 0) return fence_fail(e, errno, "tty: close the slave");
  p->slave = -1;
  return 0;
}
