/* The relay process: one poll loop for every bridge. Each accepted connection gets an upstream
 * connection; bytes are relayed both ways through a buffer per direction; EOF on one side becomes
 * shutdown(SHUT_WR) on the other once that direction's buffer is flushed (half-close).
 *
 * Tunnel handoff (tcp-to-unix only): the host proxy may pass, with SCM_RIGHTS, the socket it
 * connected upstream. The read that brings the descriptor ends with a trailer: N, the number of
 * bytes the proxy read from this Unix connection (8 bytes, little-endian), then a marker byte. The
 * trailer is dropped; the bytes before it (the proxy's success reply) go to the client as usual.
 * The Unix connection is then closed and the client is relayed to the received socket directly, so
 * the proxy is out of the data path. Such a tunnel has no idle timeout.
 *
 * Client bytes the bridge wrote to the Unix side that the proxy never read (the client did not wait
 * for the reply) would die with the Unix connection. So the bridge counts what it wrote there (T)
 * and keeps the last BRIDGE_BUF bytes of it; on handoff it writes bytes [N, T) to the new upstream
 * before anything else from the client. When N > T, or more than it kept is missing, it closes the
 * connection: a stream is never corrupted.
 *
 * HTTP forward grant (tcp-to-unix only): for an allowed absolute-URI request, the proxy may instead
 * pass the upstream socket it connected with a grant trailer: the authority it decided, the Host
 * value it would send, their lengths (uint16 each, little-endian), N (the offset in this Unix
 * connection where the request starts), then marker 1. The bridge then forwards that request and
 * the following ones itself through bridge-http.h (bytes [N, T) come from the ring) while they name
 * the same authority; responses go back as they come. The first request that names another (or
 * that it cannot forward plainly) is given back: once every forwarded request is answered, the
 * upstream socket is closed and the request goes, from its first byte, to a new connection to the
 * proxy, handled as a new client's (decided again; a refusal, a new grant, a tunnel handoff). */
#include "bridge.h"
#include "bridge-http.h"
#include "capture.h"
#include "dnsstub.h"
#include "fdpass.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define BRIDGE_BACKLOG 128
/* Measured on loopback: 256 KiB relays ~15% faster than 32 KiB; splice(2) through a pipe was no
 * faster than this and costs two descriptors per direction. Pages are touched only when used. */
#define BRIDGE_BUF 262144

union addr {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_un un;
};

struct half { /* bytes read from fd[i], waiting to be written to fd[1 - i] */
  size_t len, off;
  bool eof, shut;
  char buf[BRIDGE_BUF];
};

/* HTTP forward mode: dir[0] holds client bytes not yet transformed (a request head always from
 * dir[0].buf + off); `out` the transformed bytes not yet written upstream. */
struct fwd {
  struct httpfwd t;
  size_t out_len, out_off;
  char out[BRIDGE_BUF];
};

struct conn {
  int fd[2]; /* [0] accepted client, [1] upstream */
  const struct plan_bridge *b;
  struct fwd *fw; /* HTTP forward mode (see above), else NULL */
  bool connecting, dead;
  bool handoff; /* fd[1] is a host proxy that may still hand over its upstream socket */
  bool capture_wait; /* a captured connection: the proxy's reply to our CONNECT is not the client's */
  /* The proxy closed its side (it does so right after handing off): writes to it fail, but the
   * message with the upstream socket may still be queued for reading. Client bytes wait for it. */
  bool unix_gone;
  uint64_t sent; /* T: bytes written to the Unix side while `handoff` */
  char *kept;    /* ring of the last BRIDGE_BUF bytes of those (handoff only; pages touched as used) */
  size_t replay; /* after a handoff: the last `replay` bytes of `kept` still go to the new upstream */
  struct half dir[2];
};

/* Bridges whose other side is a host socket reached through its O_PATH descriptor. */
static bool to_host(enum bridge_kind k) { return k == BRIDGE_TCP_TO_UNIX || k == BRIDGE_CAPTURE; }
/* Bridges that hold a descriptor of the host's: a socket to connect to, or the DNS decisions'. */
static bool holds_host_fd(enum bridge_kind k) { return to_host(k) || k == BRIDGE_DNS; }

#define HANDOFF_TRAILER 9 /* N (uint64, little-endian), then the marker */
#define HANDOFF_MARKER 0
#define GRANT_TRAILER 13 /* authority and host lengths (uint16 each), N, then the marker */
#define GRANT_MARKER 1

/* The address a connection is made to: the host socket through its descriptor (the path names
 * this process's descriptor, resolved by the kernel to the socket Fence opened), or 127.0.0.1. */
static socklen_t make_addr(union addr *a, const struct plan_bridge *b) {
  memset(a, 0, sizeof *a);
  if (to_host(b->kind)) {
    a->un.sun_family = AF_UNIX;
    (void)snprintf(a->un.sun_path, sizeof a->un.sun_path, "/proc/self/fd/%d", b->fd);
    return sizeof a->un;
  }
  a->in.sin_family = AF_INET;
  a->in.sin_port = htons(b->port);
  a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof a->in;
}

int bridge_listen(const struct plan_bridge *bridges, size_t n, int *fds, struct fence_err *e) {
  for (size_t i = 0; i < n; i++) {
    const struct plan_bridge *b = &bridges[i];
    if (b->kind == BRIDGE_UNIX_TO_TCP) {
      /* Fence bound and listens on it already; the relay only accepts. */
      int fl = fcntl(b->fd, F_GETFL);
      if (fl < 0 || fcntl(b->fd, F_SETFL, fl | O_NONBLOCK) != 0) return fence_fail(e, errno, "bridge: listener fd %d", b->fd);
      fds[i] = b->fd;
      continue;
    }
    if (b->kind == BRIDGE_DNS) {
      if ((fds[i] = dnsstub_listen(b->port, e)) < 0) return -1;
      continue;
    }
    union addr a = {.in = {.sin_family = AF_INET, .sin_port = htons(b->port), .sin_addr = {htonl(INADDR_LOOPBACK)}}};
    int one = 1;
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fds[i] < 0) return fence_fail(e, errno, "bridge: socket");
    if (setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fence_fail(e, errno, "bridge: SO_REUSEADDR");
    /* Creates the listening endpoint inside the sandbox's network namespace. */
    if (bind(fds[i], &a.sa, sizeof a.in) != 0 || listen(fds[i], BRIDGE_BACKLOG) != 0)
      return fence_fail(e, errno, "bridge: listen on 127.0.0.1:%u", (unsigned)b->port);
  }
  return 0;
}

static void conn_flush(struct conn *c, int i);
static void conn_half_close(struct conn *c);
static void fwd_pump(struct conn *c);

static void conn_accept(int listener, const struct plan_bridge *b, struct conn ***conns, size_t *nconns) {
  for (;;) {
    int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) return; /* EAGAIN: drained; anything else: try again on the next event */
    union addr a;
    char request[600];
    size_t request_len = b->kind == BRIDGE_CAPTURE ? capture_request(client, request, sizeof request) : 0;
    if (b->kind == BRIDGE_CAPTURE && request_len == 0) { /* not from a capture address the stub gave out */
      (void)close(client);
      continue;
    }
    bool refuse = b->kind == BRIDGE_REFUSE;
    socklen_t len = refuse ? 0 : make_addr(&a, b);
    int up = refuse ? -1 : socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = refuse ? 0 : up < 0 ? -1 : connect(up, &a.sa, len);
    bool ok = rc == 0 || errno == EINPROGRESS;
    struct conn **grown = ok ? realloc(*conns, (*nconns + 1) * sizeof **conns) : NULL;
    if (grown != NULL) *conns = grown;
    struct conn *c = grown ? calloc(1, sizeof *c) : NULL;
    char *kept = c != NULL && to_host(b->kind) ? malloc(BRIDGE_BUF) : NULL;
    if (c != NULL && to_host(b->kind) && kept == NULL) free(c), c = NULL;
    if (c == NULL) {
      (void)close(client); /* the client sees the connection closed: upstream is not there */
      if (up >= 0) (void)close(up);
      continue;
    }
    /* The relay writes what it reads at once: Nagle would hold a reply's last small segment until
     * the client's delayed ACK (tens of milliseconds per request on loopback). */
    int one = 1, tcp = b->kind == BRIDGE_UNIX_TO_TCP ? up : client;
    (void)setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* best effort: only latency depends on it */
    /* Fields set one by one: a compound literal would copy the buffers through the stack. */
    c->fd[0] = client, c->fd[1] = up;
    c->b = b;
    c->connecting = rc != 0;
    c->handoff = to_host(b->kind);
    c->kept = kept;
    if (request_len) { /* sent once connected, counted like the client's own bytes (see conn_take) */
      memcpy(c->dir[0].buf, request, request_len);
      c->dir[0].len = request_len;
      c->capture_wait = true;
    }
    (*conns)[(*nconns)++] = c;
    if (refuse) { /* the answer, then EOF; what the client sends is read and dropped */
      memcpy(c->dir[1].buf, b->reply, b->reply_len);
      c->dir[1].len = b->reply_len;
      c->dir[1].eof = true;
      conn_flush(c, 1);
      /* EOF now, if the answer went out whole: a client that only reads must not wait for it. */
      conn_half_close(c);
    }
  }
}

/* Copies what was just written to the Unix side into the ring and counts it. */
static void conn_keep(struct conn *c, const char *p, size_t n) {
  while (n > 0) {
    size_t at = (size_t)(c->sent % BRIDGE_BUF), run = BRIDGE_BUF - at < n ? BRIDGE_BUF - at : n;
    memcpy(c->kept + at, p, run);
    c->sent += run, p += run, n -= run;
  }
}

/* Writes dir[i]'s pending bytes to fd[1 - i]; towards upstream, bytes to replay go first. */
static void conn_flush(struct conn *c, int i) {
  struct half *h = &c->dir[i];
  if (i == 1 && c->capture_wait && h->off < h->len) {
    long head = capture_reply(h->buf + h->off, h->len - h->off);
    if (head < 0) { /* refused (the proxy reported why) */
      c->dead = true;
      return;
    }
    h->off += (size_t)head;
    c->capture_wait = false;
  }
  if (i == 0 && c->fw != NULL) return fwd_pump(c);
  if (i == 0 && c->handoff && c->unix_gone) return;
  while (i == 0 && c->replay > 0) {
    size_t at = (size_t)((c->sent - c->replay) % BRIDGE_BUF);
    size_t run = BRIDGE_BUF - at < c->replay ? BRIDGE_BUF - at : c->replay;
    ssize_t n = send(c->fd[1], c->kept + at, run, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) c->dead = true;
    if (n < 0) return;
    c->replay -= (size_t)n;
  }
  if (i == 0 && !c->handoff && c->kept != NULL) { /* replayed: the ring is no longer needed */
    free(c->kept);
    c->kept = NULL;
  }
  while (h->off < h->len) {
    ssize_t n = send(c->fd[1 - i], h->buf + h->off, h->len - h->off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && i == 0 && c->handoff && (errno == EPIPE || errno == ECONNRESET)) {
      c->unix_gone = true; /* the bytes stay pending: after a handoff they go to the upstream */
      return;
    }
    if (n < 0 && errno != EAGAIN) c->dead = true;
    if (n < 0) return;
    if (i == 0 && c->handoff) conn_keep(c, h->buf + h->off, (size_t)n);
    h->off += (size_t)n;
  }
  h->len = h->off = 0;
}

/* Transforms the client's bytes in dir[0] and writes them upstream, until either side would block.
 * A request the grant does not cover stays at dir[0].buf + off, and nothing more is read. */
static void fwd_pump(struct conn *c) {
  struct fwd *w = c->fw;
  struct half *h = &c->dir[0];
  for (;;) {
    while (w->out_off < w->out_len) {
      ssize_t n = send(c->fd[1], w->out + w->out_off, w->out_len - w->out_off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) c->dead = true;
      if (n < 0) return;
      w->out_off += (size_t)n;
    }
    w->out_len = w->out_off = 0;
    size_t made = 0;
    h->off += httpfwd_request(&w->t, h->buf + h->off, h->len - h->off, w->out, sizeof w->out, &made);
    w->out_len = made;
    if (w->t.req == HTTPFWD_REQ_BAD) return (void)(c->dead = true);
    if (made == 0) break;
  }
  /* At the client's EOF, an unfinished head can never be forwarded. */
  bool unfinished = h->eof && w->t.req == HTTPFWD_REQ_HEAD && w->t.pending < HTTPFWD_PENDING_MAX;
  if (h->off == h->len || unfinished) h->off = h->len = 0;
  /* What is left (a head not whole yet) moves to the front: room behind it for the rest. */
  if (h->off > 0 && w->t.req != HTTPFWD_REQ_OTHER) memmove(h->buf, h->buf + h->off, h->len - h->off);
  if (h->off > 0 && w->t.req != HTTPFWD_REQ_OTHER) h->len -= h->off, h->off = 0;
}

/* Gives the request at dir[0].buf + off back to the proxy: a new Unix connection that starts with
 * it, exactly as a new client's would (see the top of this file). */
static void fwd_give_back(struct conn *c) {
  union addr a;
  socklen_t len = make_addr(&a, c->b);
  /* Lost: the responses could not be followed, so an answer may still be under way. */
  int up = c->fw->t.lost ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = up < 0 ? -1 : connect(up, &a.sa, len);
  bool pending = rc != 0 && up >= 0 && errno == EINPROGRESS;
  if (c->kept == NULL) c->kept = malloc(BRIDGE_BUF);
  if ((rc != 0 && !pending) || c->kept == NULL) {
    if (up >= 0) (void)close(up);
    c->dead = true; /* the client sees the connection closed before its request was answered */
    return;
  }
  (void)close(c->fd[1]);
  c->fd[1] = up;
  free(c->fw);
  c->fw = NULL;
  c->connecting = pending;
  c->handoff = true;
  c->sent = 0;
  c->dir[1].len = c->dir[1].off = 0, c->dir[1].eof = c->dir[1].shut = false;
}

/* After a poll round in HTTP forward mode: forwards what answers made room for, and gives a request
 * back once every forwarded one is answered and their bytes are with the client. */
static void fwd_step(struct conn *c) {
  struct fwd *w = c->fw;
  fwd_pump(c);
  if (c->dead || w->t.req != HTTPFWD_REQ_OTHER) return;
  if (c->dir[1].shut) return (void)(c->dead = true); /* the upstream closed: nothing will answer it */
  bool answered = w->out_len == 0 && w->t.pending == 0 && c->dir[1].off == c->dir[1].len;
  if (answered) fwd_give_back(c);
}

/* Copies ring bytes [from, to) of the stream written to the Unix side into dst. */
static void ring_copy(const struct conn *c, uint64_t from, uint64_t to, char *dst) {
  while (from < to) {
    size_t at = (size_t)(from % BRIDGE_BUF), run = BRIDGE_BUF - at < to - from ? BRIDGE_BUF - at : (size_t)(to - from);
    memcpy(dst, c->kept + at, run);
    dst += run, from += run;
  }
}

/* A grant: dir[0] becomes the client's bytes from N on (the ring's, then those not yet sent). */
static struct fwd *fwd_start(struct conn *c, const char *trailer_end, uint64_t used) {
  const unsigned char *t = (const unsigned char *)trailer_end - GRANT_TRAILER;
  size_t alen = (size_t)t[0] | (size_t)t[1] << 8, hlen = (size_t)t[2] | (size_t)t[3] << 8;
  struct half *in = &c->dir[0];
  size_t missed = (size_t)(c->sent - used), waiting = in->len - in->off;
  struct fwd *w = missed + waiting <= sizeof in->buf ? malloc(sizeof *w) : NULL;
  if (w == NULL) return NULL;
  const char *authority = trailer_end - GRANT_TRAILER - hlen - alen;
  if (!httpfwd_init(&w->t, authority, alen, authority + alen, hlen)) return free(w), NULL;
  w->out_len = w->out_off = 0;
  memmove(in->buf + missed, in->buf + in->off, waiting);
  ring_copy(c, used, c->sent, in->buf);
  in->off = 0, in->len = missed + waiting;
  return w;
}

/* Replaces the Unix connection with the passed socket; `n` bytes were read, the last ones the
 * trailer (a tunnel's or a grant's). */
static void conn_take(struct conn *c, int passed, ssize_t n) {
  struct half *h = &c->dir[1];
  int fl = fcntl(passed, F_GETFL);
  uint64_t used = 0; /* N: what the proxy read of the T bytes sent to it */
  bool grant = n >= GRANT_TRAILER && (size_t)n < sizeof h->buf && h->buf[n - 1] == GRANT_MARKER;
  size_t trailer = HANDOFF_TRAILER;
  if (grant) {
    const unsigned char *t = (const unsigned char *)h->buf + n - GRANT_TRAILER;
    trailer = GRANT_TRAILER + ((size_t)t[0] | (size_t)t[1] << 8) + ((size_t)t[2] | (size_t)t[3] << 8);
  }
  /* A full read may have cut the handoff message before its trailer: fail rather than corrupt. */
  bool ok = (size_t)n >= trailer && (size_t)n < sizeof h->buf && (grant || h->buf[n - 1] == HANDOFF_MARKER);
  for (int k = 0; ok && k < 8; k++) used |= (uint64_t)(unsigned char)h->buf[n - HANDOFF_TRAILER + k] << (8 * k);
  /* The proxy read more than was sent, or the bytes it missed are no longer all kept. */
  ok = ok && used <= c->sent && c->sent - used <= BRIDGE_BUF;
  struct fwd *w = ok && grant ? fwd_start(c, h->buf + n, used) : NULL;
  if (!ok || (grant && w == NULL) || fl < 0 || fcntl(passed, F_SETFL, fl | O_NONBLOCK) != 0) {
    free(w);
    (void)close(passed);
    c->dead = true;
    return;
  }
  (void)close(c->fd[1]);
  c->fd[1] = passed;
  c->handoff = false;
  c->unix_gone = false;
  c->replay = grant ? 0 : (size_t)(c->sent - used);
  c->fw = w;
  h->len = (size_t)n - trailer, h->off = 0;
  /* The client's FIN went to the proxy: conn_step passes it to the new upstream after the replay. */
  c->dir[0].shut = false;
  conn_flush(c, 0);
  if (!c->dead) conn_flush(c, 1);
}

/* Reads client bytes behind those not yet transformed (HTTP forward mode). */
static void fwd_read(struct conn *c) {
  struct half *h = &c->dir[0];
  ssize_t n = recv(c->fd[0], h->buf + h->len, sizeof h->buf - h->len, 0);
  if (n < 0 && errno != EAGAIN && errno != EINTR) c->dead = true;
  if (n < 0) return;
  if (n == 0) h->eof = true;
  h->len += (size_t)n;
  fwd_pump(c);
}

static void conn_read(struct conn *c, int i) {
  struct half *h = &c->dir[i];
  int passed = -1;
  if (i == 0 && c->fw != NULL) return fwd_read(c);
  ssize_t n = i == 1 && c->handoff ? fdpass_recv(c->fd[i], h->buf, sizeof h->buf, &passed)
                                   : recv(c->fd[i], h->buf, sizeof h->buf, 0);
  if (passed >= 0) {
    conn_take(c, passed, n);
    return;
  }
  if (n > 0 && i == 0 && c->fd[1] < 0) return; /* a refusal: nothing to forward to */
  if (n > 0) h->len = (size_t)n, h->off = 0;
  else if (n == 0) h->eof = true;
  else if (errno != EAGAIN && errno != EINTR) c->dead = true;
  if (i == 1 && c->fw != NULL && n > 0) httpfwd_response(&c->fw->t, h->buf, (size_t)n);
  if (i == 1 && c->fw != NULL && n == 0) httpfwd_response_eof(&c->fw->t);
  if (n > 0) conn_flush(c, i);
}

static short fwd_events(const struct conn *c, int i) {
  const struct half *in = &c->dir[0], *back = &c->dir[1];
  short ev = 0;
  if (i == 0 && !in->eof && c->fw->t.req < HTTPFWD_REQ_OTHER && in->len < sizeof in->buf) ev |= POLLIN;
  if (i == 0 && back->off < back->len) ev |= POLLOUT;
  if (i == 1 && !back->eof && back->len == 0) ev |= POLLIN;
  if (i == 1 && c->fw->out_off < c->fw->out_len) ev |= POLLOUT;
  return ev;
}

static short conn_events(const struct conn *c, int i) {
  if (c->connecting) return i == 1 ? POLLOUT : 0;
  if (c->fd[i] < 0) return 0;
  if (c->fw != NULL) return fwd_events(c, i);
  short ev = 0;
  if (!c->dir[i].eof && c->dir[i].len == 0) ev |= POLLIN;
  bool parked = i == 1 && c->handoff && c->unix_gone;
  if (!parked && (c->dir[1 - i].off < c->dir[1 - i].len || (i == 1 && c->replay > 0))) ev |= POLLOUT;
  return ev;
}

/* Passes each finished direction's half-close on: the peer of fd[1 - i] reads EOF, the other
 * direction stays open. */
static void conn_half_close(struct conn *c) {
  for (int i = 0; i < 2 && !c->dead; i++) {
    struct half *h = &c->dir[i];
    bool flushed = i == 1 || (c->replay == 0 && (c->fw == NULL || c->fw->out_len == 0));
    if (h->eof && h->len == 0 && !h->shut && flushed) {
      bool gone = (i == 0 && c->handoff && c->unix_gone) || c->fd[1 - i] < 0;
      if (!gone && shutdown(c->fd[1 - i], SHUT_WR) != 0) c->dead = true;
      h->shut = true;
    }
  }
}

/* Handles poll results for one connection; returns true when it is finished. */
static bool conn_step(struct conn *c, const struct pollfd *p) {
  if (c->connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (p[1].revents == 0) return false;
    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return true;
    c->connecting = false;
    return false;
  }
  for (int i = 0; i < 2 && !c->dead; i++) {
    if ((p[i].events & POLLIN) && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) conn_read(c, i);
    if ((p[i].events & POLLOUT) && (p[i].revents & (POLLOUT | POLLHUP | POLLERR))) conn_flush(c, 1 - i);
  }
  conn_half_close(c);
  if (c->fw != NULL && !c->dead) fwd_step(c);
  /* The proxy ended without a handoff (a refusal): nothing will take the client's bytes. */
  bool abandoned = c->handoff && c->unix_gone && c->dir[1].shut;
  return c->dead || abandoned || (c->dir[0].shut && c->dir[1].shut);
}

static void conn_close(struct conn *c) {
  (void)close(c->fd[0]); /* nothing left to flush: errors change nothing */
  (void)close(c->fd[1]);
  free(c->kept);
  free(c->fw);
  free(c);
}

/* Runs until `owner` (a pidfd of the process that becomes the command) is readable: the command
 * has exited. Without a pidfd it runs until the PID namespace is torn down. */
static void relay(const struct plan_bridge *bridges, size_t n, const int *fds, int owner) {
  struct conn **conns = NULL;
  struct pollfd *p = NULL;
  size_t nconns = 0;
  for (size_t i = 0; i < n; i++)
    if (bridges[i].kind == BRIDGE_DNS) dnsstub_start(fds[i], bridges[i].fd);
  for (;;) {
    size_t np = 2 + n + 2 * nconns; /* the last: the DNS stub's decision socket (-1: none) */
    struct pollfd *grown = realloc(p, np * sizeof *p);
    if (grown == NULL) _exit(1);
    p = grown;
    p[0] = (struct pollfd){.fd = owner, .events = POLLIN};
    for (size_t i = 0; i < n; i++) p[1 + i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    for (size_t k = 0; k < nconns; k++)
      for (int i = 0; i < 2; i++) {
        struct pollfd *q = &p[1 + n + 2 * k + i];
        q->events = conn_events(conns[k], i);
        q->fd = q->events ? conns[k]->fd[i] : -1; /* -1: ignore its POLLHUP until we want it */
      }
    p[np - 1] = (struct pollfd){.fd = dnsstub_host_fd(), .events = POLLIN};
    if (poll(p, np, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (p[0].revents) _exit(0);
    if (p[np - 1].revents) dnsstub_on_host();
    for (size_t k = nconns; k-- > 0;) /* before accepting: `p` describes the current conns */
      if (conn_step(conns[k], &p[1 + n + 2 * k])) {
        conn_close(conns[k]);
        conns[k] = conns[--nconns];
      }
    for (size_t i = 0; i < n; i++)
      if ((p[1 + i].revents & POLLIN) && bridges[i].kind == BRIDGE_DNS) dnsstub_on_query();
      else if (p[1 + i].revents & POLLIN) conn_accept(fds[i], &bridges[i], &conns, &nconns);
  }
}

/* Closes every descriptor >= 3 except those in `keep` (the relay never executes anything, so
 * close-on-exec does not help here). */
static void close_others(const int *keep, size_t n) {
  unsigned int next = 3;
  for (;;) {
    unsigned int lowest = ~0U; /* smallest kept descriptor >= next */
    for (size_t i = 0; i < n; i++)
      if (keep[i] >= (int)next && (unsigned int)keep[i] < lowest) lowest = (unsigned int)keep[i];
    if (lowest > next) /* ENOSYS (before Linux 5.9): the relay keeps a few stray descriptors */
      (void)syscall(SYS_close_range, next, lowest == ~0U ? ~0U : lowest - 1, 0);
    if (lowest == ~0U) return;
    next = lowest + 1;
  }
}

/* Detaches the relay from everything the command could reach or wait on. */
static void relay_detach(const int *keep, size_t n) {
  close_others(keep, n);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; fd++) {
    /* The command's stdout/stderr pipes must not stay open in the relay. */
    if (null < 0 || dup2(null, fd) < 0) (void)close(fd);
  }
  if (null > 2) (void)close(null);
  /* Own session: terminal signals (Ctrl-C) go to the command, not to the relay. */
  (void)setsid();
  (void)signal(SIGPIPE, SIG_IGN);
  /* Started by the guard (guard.h), it would keep the signals the guard reads from a signalfd
   * blocked: SIGTERM must end it. */
  sigset_t none;
  (void)sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Whether an earlier bridge has the same host descriptor (the capture bridge shares the HTTP proxy's). */
static bool fd_seen(const struct plan_bridge *bridges, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (holds_host_fd(bridges[j].kind) && bridges[j].fd == bridges[i].fd) return true;
  return false;
}

/* Forks the relay so that it is not the command's child: as this process's sibling (CLONE_PARENT:
 * one fork, nothing to wait for) where this process may become the command; as its child where
 * this process is the sandbox's init (bwrap --as-pid-1), which stays the command's parent (the
 * guard or the terminal's relay: main.c) and reaps it. Returns 0 in the relay, 1 here, -1 (errno
 * set) when it could not fork. */
static int fork_relay(void) {
  if (getpid() == 1) {
    pid_t relay_pid = fork();
    return relay_pid < 0 ? -1 : relay_pid > 0;
  }
  /* The raw call, as fork() has no flags: the relay never uses the thread state glibc's fork()
   * would refresh (it neither raises signals at itself nor starts threads). */
  long sibling = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0L, NULL, NULL, 0L);
  return sibling < 0 ? -1 : sibling > 0;
}

int bridge_deferrable(const struct plan_bridge *bridges, size_t n, int limited) {
  if (limited) return 0;
  for (size_t i = 0; i < n; i++)
    if (bridges[i].kind == BRIDGE_UNIX_TO_TCP) return 0;
  return n > 0;
}

size_t bridge_relay_fds(const struct plan_bridge *bridges, size_t n, const int *fds, int *keep) {
  size_t nkeep = 0;
  for (size_t i = 0; i < n; i++) {
    keep[nkeep++] = fds[i];
    if (holds_host_fd(bridges[i].kind)) keep[nkeep++] = bridges[i].fd;
  }
  return nkeep;
}

int bridge_start(const struct plan_bridge *bridges, size_t n, int *fds, struct fence_err *e) {
  /* A pidfd for this process: it stays valid across execve, so the relay sees the command exit. */
  int owner = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (owner < 0 && errno != ENOSYS) return fence_fail(e, errno, "bridge: pidfd_open");
  int err;
  /* Non-dumpable before the fork, so the relay is never inspectable, not even for an instant; the
   * command's execve makes the launcher's image dumpable again. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return err = errno, (void)close(owner), fence_fail(e, err, "bridge: prctl(PR_SET_DUMPABLE)");
  int forked = fork_relay();
  if (forked < 0) return err = errno, (void)close(owner), fence_fail(e, err, "bridge: fork");
  if (forked == 0) {
    /* Kept: the listeners, the host sockets' descriptors (see plan.h) and the pidfd. */
    int *keep = malloc((2 * n + 1) * sizeof *keep);
    if (keep == NULL) _exit(1);
    size_t nkeep = bridge_relay_fds(bridges, n, fds, keep);
    keep[nkeep++] = owner;
    relay_detach(keep, nkeep);
    relay(bridges, n, fds, owner);
    _exit(0);
  }
  /* The command must not inherit a way to the host sockets. */
  for (size_t i = 0; i < n; i++) {
    if (close(fds[i]) != 0) return fence_fail(e, errno, "bridge: close listener"), -2;
    if (holds_host_fd(bridges[i].kind) && !fd_seen(bridges, i) && close(bridges[i].fd) != 0) return fence_fail(e, errno, "bridge: close host socket"), -2;
  }
  if (owner >= 0 && close(owner) != 0) return fence_fail(e, errno, "bridge: close pidfd"), -2;
  return 0;
}

int bridge_refuse_waiting(const struct plan_bridge *b, int fd) {
  if (b->kind == BRIDGE_DNS) return dnsstub_refuse_waiting(fd);
  /* At most a backlog's worth: clients that keep coming leave the guard its other work. */
  for (int k = 0; k < BRIDGE_BACKLOG; k++) {
    int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    (void)close(client);
  }
  return 0;
}
