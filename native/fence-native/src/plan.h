/* The decoded HelperPlan (see README.md for the text encoding, index.js for the encoder). */
#ifndef FENCE_PLAN_H
#define FENCE_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "err.h"
#include "guard.h"

/* BRIDGE_REFUSE: a listener with no upstream that answers every connection with `reply` (the
 * proxy's refusal, e.g. HTTP 403 or a SOCKS5 "not allowed"), so a policy that allows no domain
 * refuses at once without any host proxy running. */
/* BRIDGE_CAPTURE: a tcp-to-unix bridge to the HTTP proxy whose connections were redirected from a
 * capture address (capture.h); BRIDGE_DNS: the DNS stub on 127.0.0.53:port, `fd` the host's DNS
 * decision socket (dnsstub.h). */
enum bridge_kind { BRIDGE_TCP_TO_UNIX, BRIDGE_UNIX_TO_TCP, BRIDGE_REFUSE, BRIDGE_CAPTURE, BRIDGE_DNS };

/* The Unix side of a bridge is a descriptor Fence opened on the host before the sandbox existed,
 * never a path the command could see or replace: for tcp-to-unix an O_PATH descriptor of the host
 * socket (connected to through /proc/self/fd/<fd>), for unix-to-tcp a listening socket. */
struct plan_bridge {
  enum bridge_kind kind;
  uint16_t port;
  int fd;               /* -1 for BRIDGE_REFUSE */
  const uint8_t *reply; /* BRIDGE_REFUSE only */
  size_t reply_len;
};

struct plan_rlimit {
  int resource; /* RLIMIT_* */
  const char *name;
  rlim_t value;
};

struct plan_path_rule {
  uint64_t access;
  char *path;
};

struct plan_port_rule {
  uint64_t access;
  uint16_t port;
};

struct plan_landlock {
  int abi;
  uint64_t handled_fs, handled_net, scoped;
  uint32_t restrict_flags;
  struct plan_path_rule *paths;
  size_t npaths;
  struct plan_port_rule *ports;
  size_t nports;
};

struct plan_filter {
  uint8_t *insns; /* struct sock_filter[], NULL: no filter */
  size_t len;     /* bytes, a multiple of 8 */
};

struct plan {
  struct plan_bridge *bridges;
  size_t nbridges;
  struct plan_rlimit *rlimits;
  size_t nrlimits;
  struct plan_landlock *landlock;   /* NULL: no Landlock */
  struct plan_filter seccomp;       /* installed with SECCOMP_FILTER_FLAG_LOG */
  struct plan_filter seccomp_quiet; /* installed without it: denials too frequent to log */
  struct plan_filter seccomp_notify; /* replaces `seccomp`: its EPERM denials go to a supervisor */
  int notify_socket;                 /* where the notify filter's listener is sent; -1: none */
  struct plan_guard guard;           /* protected names for the creation guard; none: no guard */
  int bridges_first;                 /* the sandbox limits its processes: the relay starts first (main.c) */
};

/* Decodes `text` (modified in place; the plan points into it). */
int plan_decode(char *text, size_t len, struct plan *out, struct fence_err *e);
/* Reads the whole descriptor into a NUL-terminated buffer and closes it. */
char *plan_read_fd(int fd, size_t *len, struct fence_err *e);
/* Decodes base64 in place; returns the decoded length or -1. */
long plan_base64_decode(char *s);

#endif
