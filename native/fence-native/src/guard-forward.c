#include "guard-forward.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdpass.h"
#include "notify.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd of one thread, not only of a thread-group leader */
#endif

/* A call of the supervisor's program, waiting for room on the channel or for Fence's verdict. */
struct pending {
  uint64_t id;
  pid_t tid; /* in the guard's PID namespace */
  struct seccomp_data data;
};

struct queue {
  struct pending *items;
  size_t n, cap;
};

struct guard_forward {
  struct sock_filter *prog; /* the supervisor's program, as it was checked in the child */
  size_t nprog;
  int chan;
  int gone;            /* Fence closed its end: every call is answered ENOSYS */
  struct queue unsent; /* in arrival order: Fence sees the calls in the order they were made */
  struct queue waiting;
  struct seccomp_notif_sizes sizes;
};

/* What the guard can run again exactly as the kernel ran it: loads of seccomp_data words, jumps on
 * constants, constant returns. */
static int checked(const struct sock_filter *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct sock_filter *f = &p[i];
    size_t rest = n - i - 1; /* instructions behind this one: the farthest a jump may go */
    switch (f->code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f->k % 4 != 0 || f->k > sizeof(struct seccomp_data) - 4) return 0;
        break;
      case BPF_JMP | BPF_JA:
        if (f->k >= rest) return 0;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_K:
        if (f->jt >= rest || f->jf >= rest) return 0;
        break;
      case BPF_RET | BPF_K:
        switch (f->k & SECCOMP_RET_ACTION_FULL) {
          case SECCOMP_RET_KILL_PROCESS:
          case SECCOMP_RET_KILL_THREAD:
          case SECCOMP_RET_TRAP:
          case SECCOMP_RET_ERRNO:
          case SECCOMP_RET_USER_NOTIF:
          case SECCOMP_RET_ALLOW: break;
          default: return 0; /* TRACE and LOG rank below USER_NOTIF: the creation filter would decide */
        }
        break;
      default: return 0;
    }
  }
  return n > 0 && p[n - 1].code == (BPF_RET | BPF_K);
}

/* Runs a checked program on `d`, as the kernel does. */
static uint32_t run(const struct sock_filter *p, size_t n, const struct seccomp_data *d) {
  uint32_t a = 0;
  for (size_t pc = 0; pc < n; pc++) {
    const struct sock_filter *f = &p[pc];
    switch (f->code) {
      case BPF_LD | BPF_W | BPF_ABS: memcpy(&a, (const char *)d + f->k, sizeof a); break;
      case BPF_JMP | BPF_JA: pc += f->k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += a == f->k ? f->jt : f->jf; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += a > f->k ? f->jt : f->jf; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += a >= f->k ? f->jt : f->jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & f->k) ? f->jt : f->jf; break;
      default: return f->k; /* BPF_RET | BPF_K, the only other code `checked` lets through */
    }
  }
  return SECCOMP_RET_KILL_PROCESS;
}

/* The plan's bytes as instructions (the plan buffer is not aligned for struct sock_filter). */
static struct sock_filter *copy_program(const struct guard_supervisor *sup, size_t *n) {
  *n = sup->len / sizeof(struct sock_filter);
  struct sock_filter *p = *n && sup->len % sizeof *p == 0 ? malloc(sup->len) : NULL;
  if (p != NULL) memcpy(p, sup->insns, sup->len);
  if (p != NULL && !checked(p, *n)) free(p), p = NULL;
  return p;
}

long guard_forward_program(const struct guard_supervisor *sup, const struct sock_filter *guard, size_t nguard, struct sock_filter *out, size_t max,
                           struct fence_err *e) {
  size_t n;
  struct sock_filter *p = copy_program(sup, &n);
  if (p == NULL) return fence_fail(e, 0, "guard: the supervisor's seccomp program has instructions the guard cannot run again");
  if (n + nguard > max) return free(p), fence_fail(e, E2BIG, "guard: the supervisor's seccomp program and the creation filter");
  for (size_t i = 0; i < n; i++) {
    out[i] = p[i];
    /* Allowed by the supervisor's program: the creation filter decides. */
    if (p[i].code == (BPF_RET | BPF_K) && (p[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW)
      out[i] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(n - i - 1));
  }
  memcpy(out + n, guard, nguard * sizeof *guard);
  free(p);
  return (long)(n + nguard);
}

struct guard_forward *guard_forward_open(const struct guard_supervisor *sup) {
  struct guard_forward *f = calloc(1, sizeof *f);
  int sv[2] = {-1, -1};
  char marker = NOTIFY_CHANNEL;
  if (f == NULL || (f->prog = copy_program(sup, &f->nprog)) == NULL || syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &f->sizes) != 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 || fdpass_send(sup->socket, sv[1], &marker, 1) != 0) {
    if (sv[0] >= 0) (void)close(sv[0]), (void)close(sv[1]);
    (void)close(sup->socket);
    if (f) free(f->prog);
    free(f);
    return NULL;
  }
  (void)close(sv[1]);
  (void)close(sup->socket);
  f->chan = sv[0];
  /* Fence adopted the channel (and knows this process for the guard) before anything is answered. */
  struct notify_verdict adopted;
  ssize_t n;
  while ((n = recv(f->chan, &adopted, sizeof adopted, 0)) < 0 && errno == EINTR) continue;
  if (n != (ssize_t)sizeof adopted || adopted.id != 0) {
    (void)close(f->chan);
    free(f->prog);
    free(f);
    errno = n < 0 ? errno : n == 0 ? EPIPE : EPROTO;
    return NULL;
  }
  return f;
}

int guard_forward_claims(const struct guard_forward *f, const struct seccomp_data *d) {
  return (run(f->prog, f->nprog, d) & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF;
}

int guard_forward_fd(const struct guard_forward *f) { return f->gone ? -1 : f->chan; }

short guard_forward_events(const struct guard_forward *f) { return (short)(POLLIN | (f->unsent.n ? POLLOUT : 0)); }

/* Ends the call with `error`, or lets the exec go on (0). ENOENT: the caller was killed meanwhile. */
static void answer(struct guard_forward *f, int listener, const struct pending *c, int error) {
  struct seccomp_notif_resp *resp = calloc(1, f->sizes.seccomp_notif_resp);
  if (resp == NULL) return; /* unanswered: the caller waits until the guard ends */
  int at;
  /* CONTINUE only ever for an exec (nothing else can be done on the caller's behalf). */
  if (error == 0 && !notify_is_exec(c->data.arch, c->data.nr, &at)) error = EPERM;
  resp->id = c->id;
  if (error == 0) resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else resp->error = -(error > 0 && error < 4096 ? error : EPERM);
  (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
  free(resp);
}

static int push(struct queue *q, const struct pending *c) {
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    struct pending *grown = realloc(q->items, cap * sizeof *grown);
    if (grown == NULL) return -1;
    q->items = grown, q->cap = cap;
  }
  q->items[q->n++] = *c;
  return 0;
}

static void take(struct queue *q, size_t i) {
  memmove(&q->items[i], &q->items[i + 1], (q->n - i - 1) * sizeof *q->items);
  q->n--;
}

/* Fence is gone: every call it had or would have fails as the kernel fails a dead supervisor's. */
static void lose_fence(struct guard_forward *f, int listener) {
  f->gone = 1;
  for (size_t i = 0; i < f->unsent.n; i++) answer(f, listener, &f->unsent.items[i], ENOSYS);
  for (size_t i = 0; i < f->waiting.n; i++) answer(f, listener, &f->waiting.items[i], ENOSYS);
  f->unsent.n = f->waiting.n = 0;
}

/* A pidfd of the calling thread, for Fence to find it in its own PID namespace; -1 if none. */
static int open_caller(pid_t tid) {
  int fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
  if (fd < 0 && errno == EINVAL) fd = (int)syscall(SYS_pidfd_open, tid, 0); /* before 6.9: leaders only */
  return fd;
}

/* Sends one call to Fence: 1 when it is off the queue (sent, or its caller gone), 0 when the
 * channel is full. */
static int send_call(struct guard_forward *f, int listener, const struct pending *c) {
  int pidfd = open_caller(c->tid);
  /* Still waiting in this call: the tid named the caller when the pidfd was made. */
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &c->id) != 0) {
    if (pidfd >= 0) (void)close(pidfd);
    return 1;
  }
  struct notify_forward m = {.id = c->id, .data = c->data};
  int rc = fdpass_sendmsg(f->chan, pidfd, &m, sizeof m);
  if (pidfd >= 0) (void)close(pidfd);
  if (rc == -EAGAIN || rc == -ENOBUFS || rc == -ENOMEM) return 0;
  if (rc != 0) return lose_fence(f, listener), 1;
  if (push(&f->waiting, c) != 0) answer(f, listener, c, EPERM); /* its verdict could not be matched */
  return 1;
}

static void send_unsent(struct guard_forward *f, int listener) {
  while (!f->gone && f->unsent.n > 0 && send_call(f, listener, &f->unsent.items[0])) {
    if (!f->gone) take(&f->unsent, 0);
  }
}

void guard_forward_call(struct guard_forward *f, int listener, const struct seccomp_notif *req) {
  struct pending c = {.id = req->id, .tid = (pid_t)req->pid, .data = req->data};
  if (f->gone) return answer(f, listener, &c, ENOSYS);
  if (push(&f->unsent, &c) != 0) return answer(f, listener, &c, EPERM);
  send_unsent(f, listener);
}

static void take_verdicts(struct guard_forward *f, int listener) {
  for (;;) {
    struct notify_verdict v;
    ssize_t n = recv(f->chan, &v, sizeof v, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    if (n == 0) return lose_fence(f, listener);
    if ((size_t)n != sizeof v) continue;
    /* Only a call the guard forwarded is answered, once. */
    for (size_t i = 0; i < f->waiting.n; i++) {
      if (f->waiting.items[i].id != v.id) continue;
      answer(f, listener, &f->waiting.items[i], v.error);
      take(&f->waiting, i);
      break;
    }
  }
}

void guard_forward_ready(struct guard_forward *f, int listener, short revents) {
  if (f->gone) return;
  if (revents & POLLIN) take_verdicts(f, listener);
  if (!f->gone && (revents & (POLLHUP | POLLERR)) && !(revents & POLLIN)) lose_fence(f, listener);
  send_unsent(f, listener);
}
