/* The eBPF monitor: a prebuilt program on the `sys_exit` raw tracepoint that reports the file,
 * exec and connect syscalls of one PID namespace failing with EPERM, EACCES or EROFS, through a
 * ring buffer. No bpftrace, no compiler, no tracefs: loading and attaching take milliseconds,
 * and the buffer is drained to the last record before it is detached.
 *
 * The program runs at every syscall exit on the machine; anything but a failure with one of the
 * three errnos leaves after two comparisons, anything outside the namespace after one helper. */
#ifndef FENCE_BPF_MONITOR_H
#define FENCE_BPF_MONITOR_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct bpf_event {
  double time_ms; /* CLOCK_REALTIME of the syscall's exit, ms since the epoch */
  pid_t pid, tid; /* host ids */
  int errnum;     /* EPERM, EACCES or EROFS */
  const char *op; /* open, unlink, mkdir, rmdir, rename, exec, connect */
  char comm[17];
  char target[640]; /* a path, `old -> new`, or the connect address */
};

struct bpf_monitor;

/* Loads the program for the PID namespace (st_dev, st_ino of /proc/<pid>/ns/pid) and attaches
 * it. NULL on failure, with the step and errno in `e` (EPERM: no CAP_BPF and CAP_PERFMON). */
struct bpf_monitor *bpf_monitor_open(uint64_t pidns_dev, uint64_t pidns_ino, struct fence_err *e);
/* Passes each event to `emit` until bpf_monitor_stop; then drains what is left and returns. */
int bpf_monitor_run(struct bpf_monitor *m, void (*emit)(const struct bpf_event *, void *), void *ctx);
/* Makes bpf_monitor_run drain and return (callable from any thread). */
void bpf_monitor_stop(struct bpf_monitor *m);
/* Events the program could not queue because the buffer was full. */
uint64_t bpf_monitor_lost(const struct bpf_monitor *m);
/* Detaches the program and frees everything. */
void bpf_monitor_free(struct bpf_monitor *m);
/* Whether this process may load the program: loads it without attaching. 0, or -1 with `e`. */
int bpf_monitor_probe(struct fence_err *e);

#endif
