/* seccomp user notification (SECCOMP_RET_USER_NOTIF): the helper installs the notify filter and
 * hands its listener to Fence; Fence's supervisor answers each notification with EPERM and reports
 * it. Only denied syscalls reach the supervisor (the filter allows everything else in the kernel).
 *
 * If the supervisor goes away (Fence killed), the kernel answers every pending and later
 * notification of that filter with ENOSYS: a sandboxed process can never wait for it forever. */
#ifndef FENCE_NOTIFY_H
#define FENCE_NOTIFY_H

#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* With the creation guard (guard.h) the guard holds the one listener a process may have, and
 * forwards the calls this program sends over a channel of its own: a SOCK_SEQPACKET socket it
 * sends to the supervisor (marker byte NOTIFY_CHANNEL) instead of a listener (NOTIFY_LISTENER).
 * Each call is one notify_forward message carrying a pidfd of the calling thread (none when the
 * guard could not open one: the caller is then unknown, and an exec refused); the supervisor
 * acknowledges the channel with a verdict for id 0, then answers each call with one
 * notify_verdict. The caller waits in the kernel meanwhile. */
#define NOTIFY_LISTENER 'L'
#define NOTIFY_CHANNEL 'C'

struct notify_forward {
  uint64_t id;               /* the notification's id, echoed in the verdict */
  struct seccomp_data data;  /* as the filter saw it */
};

struct notify_verdict {
  uint64_t id;
  int32_t error; /* the errno to fail the call with; 0 lets an exec go on (never anything else) */
  uint32_t reserved;
};

/* Helper side. Installs `prog` with SECCOMP_FILTER_FLAG_NEW_LISTENER, sends the listener over the
 * Unix socket `sock` (SCM_RIGHTS) and closes both. Needs no_new_privs. */
int notify_install(const uint8_t *prog, size_t len, int sock, struct fence_err *e);

/* Whether a call is execve or execveat (*at: execveat) of that AUDIT_ARCH. */
int notify_is_exec(uint32_t arch, int nr, int *at);

/* One denied syscall, as the supervisor saw it. */
struct notify_event {
  double time_ms;    /* CLOCK_REALTIME when the notification was received, ms since the epoch */
  pid_t pid;         /* thread group id in the supervisor's PID namespace (the host's) */
  pid_t tid;
  int nr;            /* syscall number for `arch` */
  uint32_t arch;     /* AUDIT_ARCH_* */
  uint64_t args[6];
  char comm[64];     /* /proc/<tid>/status Name (escaped by the kernel); "" when the task was gone */
};

/* An execve/execveat sent to the supervisor (command.runtimeExecPolicy "argv"), with what the
 * caller passed read from its memory. The caller waits in the kernel meanwhile. */
struct exec_request {
  pid_t pid, tid;
  char comm[64];
  int nr;
  uint32_t arch;
  int dirfd;         /* execveat's dirfd; AT_FDCWD for execve */
  int flags;         /* execveat's flags; 0 for execve */
  int readable;      /* 0 when the path or an argument could not be read: the call is refused */
  const char *path;  /* the file as the caller named it */
  const char *args;  /* argc NUL-terminated strings, back to back */
  size_t argc;
};

/* Answers an exec_request: nonzero lets the call go on, 0 refuses it with EPERM. */
typedef int (*notify_decide_fn)(const struct exec_request *, void *);

struct notify_supervisor;

/* Supervisor side. Receives listeners and guards' channels sent over `sock` (owned by the
 * supervisor from now on) and answers their calls with -`errnum`. A guard's caller is found in
 * this process's PID namespace through the pidfd that comes with it, so pids and /proc paths are
 * the same as for a listener's. Returns NULL and sets errno on failure. */
struct notify_supervisor *notify_supervisor_new(int sock, int errnum);
/* Runs until notify_supervisor_stop: every notification is passed to `emit` first, then answered,
 * so the event is queued before the denied syscall returns; execve and execveat go to `decide`
 * instead (refused when it is NULL). Returns 0 or -errno.
 *
 * An exec that `decide` allows continues with SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel then
 * reads the caller's memory again, and what another thread or process changed there after the
 * supervisor read it is what runs (seccomp_unotify(2): not a security boundary). A refusal holds. */
int notify_supervisor_run(struct notify_supervisor *s, void (*emit)(const struct notify_event *, void *), notify_decide_fn decide, void *ctx);
/* Makes notify_supervisor_run return (callable from any thread). */
void notify_supervisor_stop(struct notify_supervisor *s);
/* Closes the socket and every listener (pending notifications then fail with ENOSYS). */
void notify_supervisor_free(struct notify_supervisor *s);
/* Whether `pid` (this process's PID namespace) is a creation guard whose channel a supervisor of
 * this process adopted: what the guard fails to do for a command is the command's own failed
 * call, reported as the command's, so the eBPF monitor leaves the guard's out. A guard waits for
 * the adoption (a verdict for id 0) before it answers anything. */
int notify_is_guard(pid_t pid);

#endif
