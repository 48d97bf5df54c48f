/* The guard's side of Fence's seccomp supervisor (-m, runtimeExecPolicy "argv"). The kernel lets a
 * process have one filter with a listener, and a USER_NOTIF from a filter without one fails with
 * ENOSYS; so the supervisor's notify program and the guard's creation filter become one filter,
 * whose listener the guard holds:
 *
 *   supervisor's program (its ALLOW returns jump on) → guard's creation filter
 *
 * The supervisor's program decides first, as it did when it was a filter of its own (its KILL and
 * ERRNO outrank any USER_NOTIF). A notification is the supervisor's when its program, run again by
 * the guard on the notification's seccomp_data, returns USER_NOTIF; otherwise the creation filter
 * sent it. The guard answers a creation itself (guard.h) and forwards the supervisor's calls to
 * Fence over a channel (notify.h's wire format): a denial is answered with Fence's errno once Fence
 * has queued its event, an execve/execveat with EPERM or, when Fence allows it, with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (the one call the guard lets the kernel carry on: an exec cannot
 * be made on another's behalf; notify.h says what that leaves open). Fence reads the caller's
 * memory itself, through the pidfd the guard sends with each call. If Fence goes away, every
 * forwarded call, pending or later, fails with ENOSYS (as the kernel answers for a dead
 * supervisor). The guard never blocks on the channel: calls Fence has not taken yet wait in a queue
 * while the guard goes on answering creations. */
#ifndef FENCE_GUARD_FORWARD_H
#define FENCE_GUARD_FORWARD_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The supervisor's program (struct sock_filter bytes, from the plan) and its socket. */
struct guard_supervisor {
  const uint8_t *insns;
  size_t len;
  int socket;
};

struct guard_forward;

/* In the child: the one filter (the supervisor's program, then the guard's `guard` program) into
 * `out` (`max` instructions). Returns the count, or -1 with `e` set when the supervisor's program
 * uses what the guard cannot run again (anything but loads, jumps and constant returns) or the
 * whole is too long. */
long guard_forward_program(const struct guard_supervisor *sup, const struct sock_filter *guard, size_t nguard, struct sock_filter *out, size_t max,
                           struct fence_err *e);

/* In the guard: makes the channel and sends it to Fence over `sup->socket` (closed here). NULL on
 * failure (the guard then ends the sandbox). */
struct guard_forward *guard_forward_open(const struct guard_supervisor *sup);
/* Whether the supervisor's program sent this notification. */
int guard_forward_claims(const struct guard_forward *f, const struct seccomp_data *d);
/* Forwards a notification the supervisor's program sent (its id and data are copied). */
void guard_forward_call(struct guard_forward *f, int listener, const struct seccomp_notif *req);
/* The channel and the poll events the guard waits for on it. */
int guard_forward_fd(const struct guard_forward *f);
short guard_forward_events(const struct guard_forward *f);
/* After poll: takes Fence's verdicts and answers their calls, sends what waited. */
void guard_forward_ready(struct guard_forward *f, int listener, short revents);

#endif
