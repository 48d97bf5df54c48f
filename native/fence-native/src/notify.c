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
#include <sys/ioctl.h>
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
static int is_exec(uint32_t arch, int nr, int *at) {
  *at = (arch == AUDIT_ARCH_X86_64 && nr == 322) || (arch == AUDIT_ARCH_AARCH64 && nr == 281);
  return *at || (arch == AUDIT_ARCH_X86_64 && nr == 59) || (arch == AUDIT_ARCH_AARCH64 && nr == 221);
}

int notify_install(const uint8_t *prog, size_t len, int sock, struct fence_err *e) {
  int listener = seccomp_install_listener(prog, len, e);
  if (listener < 0) return -1;
  /* Hands the listener to the supervisor; from here on a denied syscall waits for its answer. */
  int rc = fdpass_send(sock, listener, "L", 1);
  /* Neither the listener nor the socket may reach the command. */
  (void)close(listener);
  (void)close(sock);
  return rc == 0 ? 0 : fence_fail(e, -rc, "seccomp: send the notify listener to the supervisor");
}

struct notify_supervisor {
  int sock, epoll, stop, errnum;
  struct seccomp_notif_sizes sizes;
  int *listeners; /* open listeners, closed at free (epoll does not own them) */
  size_t nlisteners, cap;
};

/* Watches `fd` for input (and hang-up, which epoll always reports). */
static int watch(struct notify_supervisor *s, int fd) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
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
  if (s->epoll < 0 || s->stop < 0 || sized != 0 || watch(s, sock) != 0 || watch(s, s->stop) != 0) {
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

/* An exec call: read what it asks for, let `decide` judge it, then let it go on or refuse it. */
static void serve_exec(int listener, const struct seccomp_notif *req, struct seccomp_notif_resp *resp, int at,
                       const struct notify_event *ev, notify_decide_fn decide, void *ctx) {
  const __u64 *a = req->data.args;
  struct exec_request x = {.pid = ev->pid, .tid = ev->tid, .nr = ev->nr, .arch = ev->arch,
                           .dirfd = at ? (int)a[0] : AT_FDCWD, .flags = at ? (int)a[4] : 0};
  memcpy(x.comm, ev->comm, sizeof x.comm);
  struct strbuf b = {0};
  long argc = read_exec(ev->tid, at ? a[1] : a[0], at ? a[2] : a[1], &b);
  /* The tid named the caller for the whole read, or the read is worthless (a reused pid). */
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) != 0) goto out;
  x.readable = argc >= 0;
  x.path = x.readable ? b.p : "";
  x.args = x.readable ? b.p + strlen(b.p) + 1 : "";
  x.argc = x.readable ? (size_t)argc : 0;
  /* Fail closed: an unreadable request (still shown to `decide`, which reports it), or no one to
   * decide, is refused. */
  int allow = decide != NULL && decide(&x, ctx) && x.readable;
  resp->id = req->id;
  if (allow) resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else resp->error = -EPERM;
  /* Lets the exec go on, or ends it with EPERM; ENOENT when the caller was killed meanwhile. */
  (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
out:
  free(b.p);
}

/* Receives one notification, reports it, answers it. A target killed meanwhile is skipped. */
static void serve(struct notify_supervisor *s, int listener, void (*emit)(const struct notify_event *, void *),
                  notify_decide_fn decide, void *ctx) {
  struct seccomp_notif *req = calloc(1, s->sizes.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, s->sizes.seccomp_notif_resp);
  if (req == NULL || resp == NULL) goto out;
  /* Takes the oldest pending notification (the kernel wants the buffer zeroed). */
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) goto out;
  struct notify_event ev = {.pid = (pid_t)req->pid, .tid = (pid_t)req->pid, .nr = req->data.nr, .arch = req->data.arch};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  ev.time_ms = (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
  memcpy(ev.args, req->data.args, sizeof ev.args);
  describe_task(ev.tid, &ev);
  int at;
  if (is_exec(ev.arch, ev.nr, &at)) {
    serve_exec(listener, req, resp, at, &ev, decide, ctx);
    goto out;
  }
  /* Still waiting in the syscall means the tid still names the same task: the name is its. */
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) != 0) {
    ev.comm[0] = '\0';
    ev.pid = ev.tid;
  }
  emit(&ev, ctx);
  resp->id = req->id;
  resp->error = -s->errnum;
  /* Ends the target's syscall with the error; ENOENT when it was killed meanwhile. */
  (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
out:
  free(req);
  free(resp);
}

/* A helper sent a listener: watch it. Returns -1 once the socket has no sender left. */
static int adopt(struct notify_supervisor *s) {
  char byte;
  int fd = -1;
  ssize_t n = fdpass_recv(s->sock, &byte, 1, &fd);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return -1;
  if (fd < 0) return 0;
  /* Only a seccomp listener knows this request (ENOENT for an unknown id); anything else sent
   * here, by mistake or not, is closed rather than polled. */
  uint64_t none = 0;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &none) == 0 || errno != ENOENT) return (void)close(fd), 0;
  if (s->nlisteners == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    int *grown = realloc(s->listeners, cap * sizeof *grown);
    if (grown == NULL) return (void)close(fd), 0; /* its syscalls then fail with ENOSYS */
    s->listeners = grown, s->cap = cap;
  }
  if (watch(s, fd) != 0) return (void)close(fd), 0;
  s->listeners[s->nlisteners++] = fd;
  return 0;
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
      int fd = evs[i].data.fd;
      if (fd == s->stop) return 0;
      if (fd == s->sock) {
        if (adopt(s) != 0) (void)epoll_ctl(s->epoll, EPOLL_CTL_DEL, fd, NULL);
      } else if (evs[i].events & EPOLLIN) {
        serve(s, fd, emit, decide, ctx);
      } else {
        drop(s, fd);
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
  /* Pending and later notifications of these filters now fail with ENOSYS. */
  for (size_t i = 0; i < s->nlisteners; i++) (void)close(s->listeners[i]);
  free(s->listeners);
  (void)close(s->epoll);
  (void)close(s->stop);
  (void)close(s->sock);
  free(s);
}
