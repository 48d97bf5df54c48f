#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "seccomp.h"

#define MAX_EVENTS 16
/* An argument vector larger than this is refused rather than checked (Linux's own limit is a
 * quarter of the stack limit, 2 MiB by default). */
#define MAX_ARG_BYTES (4u << 20)
#define MAX_ARGS 65536u

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* execve and execveat by AUDIT_ARCH (the filter kills every other architecture). */
int notify_is_exec(uint32_t arch, int nr, int *at) {
  *at = (arch == AUDIT_ARCH_X86_64 && nr == 322) || (arch == AUDIT_ARCH_AARCH64 && nr == 281);
  return *at || (arch == AUDIT_ARCH_X86_64 && nr == 59) || (arch == AUDIT_ARCH_AARCH64 && nr == 221);
}

int notify_install(const uint8_t *prog, size_t len, int sock, struct fence_err *e) {
  int listener = seccomp_install_listener(prog, len, e);
  if (listener < 0) return -1;
  /* Hands the listener to the supervisor; from here on a denied syscall waits for its answer. */
  char marker = NOTIFY_LISTENER;
  int rc = fdpass_send(sock, listener, &marker, 1);
  /* Neither the listener nor the socket may reach the command. */
  (void)close(listener);
  (void)close(sock);
  return rc == 0 ? 0 : fence_fail(e, -rc, "seccomp: send the notify listener to the supervisor");
}

struct notify_supervisor {
  int sock, epoll, stop, errnum;
  struct seccomp_notif_sizes sizes;
  int *listeners; /* open listeners and guards' channels, closed at free (epoll does not own them) */
  size_t nlisteners, cap;
};

/* A listener's events carry its descriptor; a channel's, its descriptor with this bit. */
#define CHANNEL_BIT (1ULL << 32)

/* Watches `fd` for input (and hang-up, which epoll always reports). */
static int watch(struct notify_supervisor *s, int fd, int channel) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint32_t)fd | (channel ? CHANNEL_BIT : 0)};
  return epoll_ctl(s->epoll, EPOLL_CTL_ADD, fd, &ev);
}

struct notify_supervisor *notify_supervisor_new(int sock, int errnum) {
  struct notify_supervisor *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->sock = sock;
  s->errnum = errnum;
  s->epoll = epoll_create1(EPOLL_CLOEXEC);
  s->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  /* The kernel's struct seccomp_notif may be larger than this build's headers say. */
  long sized = syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s->sizes);
  if (s->epoll < 0 || s->stop < 0 || sized != 0 || watch(s, sock, 0) != 0 || watch(s, s->stop, 0) != 0) {
    int err = errno;
    if (s->epoll >= 0) (void)close(s->epoll);
    if (s->stop >= 0) (void)close(s->stop);
    free(s);
    errno = err;
    return NULL;
  }
  return s;
}

/* Name and Tgid of a thread, from /proc/<tid>/status. */
static void describe_task(pid_t tid, struct notify_event *ev) {
  char path[32], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) (void)close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  const char *name = strstr(buf, "Name:\t"), *tgid = strstr(buf, "\nTgid:\t");
  if (name) {
    name += 6;
    size_t len = strcspn(name, "\n");
    if (len >= sizeof ev->comm) len = sizeof ev->comm - 1;
    memcpy(ev->comm, name, len);
    ev->comm[len] = '\0';
  }
  if (tgid) ev->pid = (pid_t)atoi(tgid + 7);
}

/* A growing buffer of NUL-terminated strings. */
struct strbuf {
  char *p;
  size_t len, cap;
};

static int strbuf_reserve(struct strbuf *b, size_t more) {
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  char *grown = realloc(b->p, cap);
  if (grown == NULL) return -1;
  b->p = grown, b->cap = cap;
  return 0;
}

/* Appends the string at `addr` of the task's memory (with its NUL); reads never cross a page, so
 * a string that ends just before an unmapped page is read whole. */
static int read_string(int mem, uint64_t addr, struct strbuf *b) {
  for (;;) {
    size_t chunk = 4096 - (size_t)(addr % 4096);
    if (b->len + chunk > MAX_ARG_BYTES || strbuf_reserve(b, chunk) != 0) return -1;
    ssize_t n = pread(mem, b->p + b->len, chunk, (off_t)addr);
    if (n <= 0) return -1;
    char *nul = memchr(b->p + b->len, '\0', (size_t)n);
    if (nul != NULL) {
      b->len = (size_t)(nul - b->p) + 1;
      return 0;
    }
    b->len += (size_t)n, addr += (uint64_t)n;
  }
}

/* Reads the path and argument vector of an exec call from /proc/<tid>/mem into `b`: the path,
 * then each argument. Returns the number of arguments, or -1 when something cannot be read. */
static long read_exec(pid_t tid, uint64_t path, uint64_t argv, struct strbuf *b) {
  char file[32];
  snprintf(file, sizeof file, "/proc/%d/mem", (int)tid);
  int mem = open(file, O_RDONLY | O_CLOEXEC);
  if (mem < 0) return -1;
  long argc = read_string(mem, path, b) == 0 ? 0 : -1;
  /* A NULL argv is an empty vector, as the kernel takes it. */
  for (uint64_t at = argv; argc >= 0 && argv != 0; at += sizeof(uint64_t)) {
    uint64_t ptr;
    if ((size_t)argc >= MAX_ARGS || pread(mem, &ptr, sizeof ptr, (off_t)at) != (ssize_t)sizeof ptr) argc = -1;
    else if (ptr == 0) break;
    else if (read_string(mem, ptr, b) != 0) argc = -1;
    else argc++;
  }
  (void)close(mem);
  return argc;
}

/* One call to answer: from a listener of this process, or forwarded by a guard over its channel
 * (notify.h), with a pidfd of the caller. */
struct call {
  uint64_t id;
  struct seccomp_data data;
  pid_t tid;   /* in this process's PID namespace; 0: unknown */
  int fd;      /* the listener or the channel */
  int channel;
  int pidfd;   /* channel only; -1: none came */
};

/* Whether the caller still waits in this very call, so the tid still named it for everything read
 * until now. A guard's call: its thread has not exited (a pidfd never names another task). */
static int still_valid(const struct call *c) {
  if (!c->channel) return ioctl(c->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &c->id) == 0;
  struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
  return c->pidfd >= 0 && c->tid > 0 && poll(&p, 1, 0) == 0;
}

/* Ends the call with `error`, or lets the exec go on (0). A killed caller makes it a no-op. */
static void answer(struct notify_supervisor *s, const struct call *c, int error) {
  if (c->channel) {
    struct notify_verdict v = {.id = c->id, .error = error};
    /* Blocks while the guard's queue is full: it reads between creations, never waiting on us. */
    while (send(c->fd, &v, sizeof v, MSG_NOSIGNAL) < 0 && errno == EINTR) continue;
    return;
  }
  struct seccomp_notif_resp *resp = calloc(1, s->sizes.seccomp_notif_resp);
  if (resp == NULL) return; /* unanswered: the caller waits until the supervisor closes (ENOSYS) */
  resp->id = c->id;
  if (error == 0) resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else resp->error = -error;
  (void)ioctl(c->fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
  free(resp);
}

/* An exec call: read what it asks for, let `decide` judge it, then let it go on or refuse it. */
static void serve_exec(struct notify_supervisor *s, const struct call *c, int at, const struct notify_event *ev, notify_decide_fn decide, void *ctx) {
  const __u64 *a = c->data.args;
  struct exec_request x = {.pid = ev->pid, .tid = ev->tid, .nr = ev->nr, .arch = ev->arch,
                           .dirfd = at ? (int)a[0] : AT_FDCWD, .flags = at ? (int)a[4] : 0};
  memcpy(x.comm, ev->comm, sizeof x.comm);
  struct strbuf b = {0};
  long argc = c->tid > 0 ? read_exec(ev->tid, at ? a[1] : a[0], at ? a[2] : a[1], &b) : -1;
  /* The tid named the caller for the whole read, or the read is worthless (a reused pid). A
   * listener's caller that is gone needs no answer; a guard waits for every verdict, and a caller
   * it could not name is refused as unreadable. */
  int valid = still_valid(c);
  if (!valid && !c->channel) goto out;
  x.readable = argc >= 0 && valid;
  x.path = x.readable ? b.p : "";
  x.args = x.readable ? b.p + strlen(b.p) + 1 : "";
  x.argc = x.readable ? (size_t)argc : 0;
  /* Fail closed: an unreadable request (still shown to `decide`, which reports it), or no one to
   * decide, is refused. */
  int allow = decide != NULL && decide(&x, ctx) && x.readable;
  /* Lets the exec go on, or ends it with EPERM. */
  answer(s, c, allow ? 0 : EPERM);
out:
  free(b.p);
}

/* Reports a call, answers it. */
static void serve_call(struct notify_supervisor *s, const struct call *c, void (*emit)(const struct notify_event *, void *), notify_decide_fn decide,
                       void *ctx) {
  struct notify_event ev = {.pid = c->tid, .tid = c->tid, .nr = c->data.nr, .arch = c->data.arch};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  ev.time_ms = (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
  memcpy(ev.args, c->data.args, sizeof ev.args);
  if (c->tid > 0) describe_task(ev.tid, &ev);
  int at;
  if (notify_is_exec(ev.arch, ev.nr, &at)) return serve_exec(s, c, at, &ev, decide, ctx);
  /* Still waiting in the syscall means the tid still names the same task: the name is its. */
  if (!still_valid(c)) {
    ev.comm[0] = '\0';
    ev.pid = ev.tid;
  }
  emit(&ev, ctx);
  /* Ends the caller's syscall with the error. */
  answer(s, c, s->errnum);
}

/* Receives one notification of a listener, reports it, answers it. */
static void serve(struct notify_supervisor *s, int listener, void (*emit)(const struct notify_event *, void *), notify_decide_fn decide, void *ctx) {
  struct seccomp_notif *req = calloc(1, s->sizes.seccomp_notif);
  /* Takes the oldest pending notification (the kernel wants the buffer zeroed). */
  if (req != NULL && ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
    struct call c = {.id = req->id, .data = req->data, .tid = (pid_t)req->pid, .fd = listener, .pidfd = -1};
    serve_call(s, &c, emit, decide, ctx);
  }
  free(req);
}

/* The pid a pidfd names in this process's PID namespace (its fdinfo's "Pid:"), or 0. */
static pid_t pidfd_pid(int pidfd) {
  char path[40], buf[512];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
  int fd = pidfd < 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) (void)close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char *pid = strstr(buf, "\nPid:\t");
  long v = pid ? strtol(pid + 6, NULL, 10) : 0;
  return v > 0 ? (pid_t)v : 0;
}

/* Receives one call a guard forwarded, reports it, answers it. Returns -1 once the guard is gone. */
static int serve_channel(struct notify_supervisor *s, int chan, void (*emit)(const struct notify_event *, void *), notify_decide_fn decide,
                         void *ctx) {
  struct notify_forward m;
  struct call c = {.fd = chan, .channel = 1};
  ssize_t n = fdpass_recv(chan, &m, sizeof m, &c.pidfd);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return -1;
  if (n == (ssize_t)sizeof m) {
    c.id = m.id, c.data = m.data, c.tid = pidfd_pid(c.pidfd);
    serve_call(s, &c, emit, decide, ctx);
  }
  if (c.pidfd >= 0) (void)close(c.pidfd);
  return 0;
}

/* The guards whose channels the supervisors of this process adopted (notify_is_guard). */
static pthread_mutex_t guards_lock = PTHREAD_MUTEX_INITIALIZER;
static struct guard_pid {
  const struct notify_supervisor *owner;
  pid_t pid;
} *guards;
static size_t nguards, guards_cap;

static void add_guard(const struct notify_supervisor *s, pid_t pid) {
  pthread_mutex_lock(&guards_lock);
  if (nguards == guards_cap) {
    size_t cap = guards_cap ? guards_cap * 2 : 8;
    struct guard_pid *grown = realloc(guards, cap * sizeof *grown);
    if (grown != NULL) guards = grown, guards_cap = cap;
  }
  if (nguards < guards_cap) guards[nguards++] = (struct guard_pid){s, pid};
  pthread_mutex_unlock(&guards_lock);
}

/* Kept until the supervisor goes (the monitor may drain the guard's last records after it ended). */
static void forget_guards(const struct notify_supervisor *s) {
  pthread_mutex_lock(&guards_lock);
  for (size_t i = 0; i < nguards;)
    if (guards[i].owner == s) guards[i] = guards[--nguards];
    else i++;
  pthread_mutex_unlock(&guards_lock);
}

int notify_is_guard(pid_t pid) {
  int found = 0;
  pthread_mutex_lock(&guards_lock);
  for (size_t i = 0; i < nguards && !found; i++) found = guards[i].pid == pid;
  pthread_mutex_unlock(&guards_lock);
  return found;
}

/* Keeps `fd` (a listener or a channel) open and watched. */
static void keep(struct notify_supervisor *s, int fd, int channel) {
  if (s->nlisteners == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    int *grown = realloc(s->listeners, cap * sizeof *grown);
    if (grown == NULL) return (void)close(fd); /* its calls then fail with ENOSYS */
    s->listeners = grown, s->cap = cap;
  }
  if (watch(s, fd, channel) != 0) return (void)close(fd);
  s->listeners[s->nlisteners++] = fd;
}

/* A helper sent a listener, or a guard its channel: watch it. Returns -1 once the socket has no
 * sender left. */
static int adopt(struct notify_supervisor *s) {
  char byte = 0;
  int fd = -1;
  ssize_t n = fdpass_recv(s->sock, &byte, 1, &fd);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return -1;
  if (fd < 0) return 0;
  struct stat st;
  if (byte == NOTIFY_CHANNEL) {
    /* A channel is a socket; anything else sent as one is closed rather than read. */
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return (void)close(fd), 0;
    /* The guard made the socket pair: its peer is the guard, named in this PID namespace. */
    struct ucred peer;
    socklen_t len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.pid > 0) add_guard(s, peer.pid);
    struct notify_verdict adopted = {.id = 0};
    if (send(fd, &adopted, sizeof adopted, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof adopted) return (void)close(fd), 0;
    return keep(s, fd, 1), 0;
  }
  /* Only a seccomp listener knows this request (ENOENT for an unknown id); anything else sent
   * here, by mistake or not, is closed rather than polled. */
  uint64_t none = 0;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &none) == 0 || errno != ENOENT) return (void)close(fd), 0;
  return keep(s, fd, 0), 0;
}

/* No task uses this filter any more. */
static void drop(struct notify_supervisor *s, int fd) {
  (void)epoll_ctl(s->epoll, EPOLL_CTL_DEL, fd, NULL);
  (void)close(fd);
  for (size_t i = 0; i < s->nlisteners; i++)
    if (s->listeners[i] == fd) s->listeners[i] = s->listeners[--s->nlisteners];
}

int notify_supervisor_run(struct notify_supervisor *s, void (*emit)(const struct notify_event *, void *), notify_decide_fn decide, void *ctx) {
  struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(s->epoll, evs, MAX_EVENTS, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
      int fd = (int)(uint32_t)evs[i].data.u64, channel = (evs[i].data.u64 & CHANNEL_BIT) != 0;
      if (fd == s->stop) return 0;
      if (fd == s->sock) {
        if (adopt(s) != 0) (void)epoll_ctl(s->epoll, EPOLL_CTL_DEL, fd, NULL);
      } else if (!(evs[i].events & EPOLLIN)) {
        drop(s, fd);
      } else if (channel) {
        if (serve_channel(s, fd, emit, decide, ctx) != 0) drop(s, fd);
      } else {
        serve(s, fd, emit, decide, ctx);
      }
    }
  }
}

void notify_supervisor_stop(struct notify_supervisor *s) {
  uint64_t one = 1;
  /* Wakes the loop; a full counter already means "stop". */
  (void)!write(s->stop, &one, sizeof one);
}

void notify_supervisor_free(struct notify_supervisor *s) {
  forget_guards(s);
  /* Pending and later notifications of these filters now fail with ENOSYS. */
  for (size_t i = 0; i < s->nlisteners; i++) (void)close(s->listeners[i]);
  free(s->listeners);
  (void)close(s->epoll);
  (void)close(s->stop);
  (void)close(s->sock);
  free(s);
}
