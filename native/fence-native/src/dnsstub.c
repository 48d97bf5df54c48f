/* The DNS stub (dnsstub.h). Queries come from the command, so everything in them is checked
 * before use: one question, uncompressed, at most 255 bytes of host-name characters (letters,
 * digits, `-`, `_`; IDNs arrive as `xn--`), as the name goes into a CONNECT line. */
#include "dnsstub.h"
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DNS_MAX 512     /* a UDP query without EDNS; longer ones are cut by recv and refused */
#define NAME_MAX_LEN 255
#define MAX_NAMES 65536 /* capture addresses given out in a run (the /10 holds 4 million) */
#define MAX_PENDING 256 /* queries waiting for Fence's answer */
#define TTL 3600        /* the address of a name never changes during the run */
#define TYPE_A 1
#define CLASS_IN 1
enum { RCODE_OK = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3 };

struct query {
  struct sockaddr_in from;
  uint8_t packet[DNS_MAX];
  size_t question_end; /* the header and the question: what the answer repeats */
  uint16_t type, klass;
  char name[NAME_MAX_LEN + 1];
  bool asked; /* this one's name went to Fence; answers come back in asking order */
};

static int udp_fd = -1, host_fd = -1;
static char *names[MAX_NAMES]; /* names[i] has the address CAPTURE_NET + i + 1 */
static size_t nnames;
static struct query *pending[MAX_PENDING];
static size_t npending;
static char line[NAME_MAX_LEN + 2];
static size_t line_len;
/* The last name refused, and when: a resolver asks A and AAAA one after the other, and one lookup
 * is one refusal (one event), not two. */
static char refused[NAME_MAX_LEN + 1];
static struct timespec refused_at;
#define REFUSED_FOR_NS 1000000000L

static bool just_refused(const char *name) {
  struct timespec now;
  if (refused[0] == '\0' || strcmp(name, refused) != 0 || clock_gettime(CLOCK_MONOTONIC, &now) != 0) return false;
  long ns = (long)(now.tv_sec - refused_at.tv_sec) * 1000000000L + (now.tv_nsec - refused_at.tv_nsec);
  return ns < REFUSED_FOR_NS;
}

int dnsstub_listen(uint16_t port, struct fence_err *e) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(DNSSTUB_ADDRESS)}};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fence_fail(e, errno, "dns: socket");
  /* The sandbox's resolver address (its resolv.conf names it). */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int err = errno;
    (void)close(fd);
    return fence_fail(e, err, "dns: bind 127.0.0.53:%u", (unsigned)port);
  }
  return fd;
}

void dnsstub_start(int udp, int host) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  udp_fd = udp;
  (void)snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d", host);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  /* Blocking connect to a local socket Fence listens on: immediate. */
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) (void)close(fd), fd = -1;
  host_fd = fd;
}

int dnsstub_host_fd(void) { return host_fd; }

const char *dnsstub_name(uint32_t addr) {
  if ((addr & CAPTURE_NET_MASK) != CAPTURE_NET) return NULL;
  uint32_t i = (addr & ~CAPTURE_NET_MASK) - 1;
  return i < nnames ? names[i] : NULL;
}

static long find_name(const char *name) {
  for (size_t i = 0; i < nnames; i++)
    if (strcmp(names[i], name) == 0) return (long)i;
  return -1;
}

/* Reads the question's name (lower case, dotted, no trailing dot); returns the offset after it. */
static long parse_name(const uint8_t *p, size_t len, char *out) {
  size_t at = 12, w = 0;
  for (;;) {
    if (at >= len) return -1;
    uint8_t n = p[at++];
    if (n == 0) break;
    if (n > 63 || at + n > len || w + n + 1 > NAME_MAX_LEN) return -1; /* also refuses compression */
    if (w) out[w++] = '.';
    for (uint8_t k = 0; k < n; k++) {
      uint8_t c = p[at++];
      if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return -1;
      out[w++] = (char)c;
    }
  }
  out[w] = '\0';
  return w ? (long)at : -1;
}

static void answer(const struct query *q, int rcode, uint32_t addr) {
  uint8_t r[DNS_MAX + 16];
  size_t len = q->question_end;
  bool with_a = rcode == RCODE_OK && addr != 0 && q->type == TYPE_A && q->klass == CLASS_IN;
  memcpy(r, q->packet, len);
  r[2] = (uint8_t)(0x84 | (q->packet[2] & 0x01)); /* QR, AA, the query's RD */
  r[3] = (uint8_t)(0x80 | rcode);                 /* RA */
  r[4] = 0, r[5] = len > 12 ? 1 : 0;
  r[6] = 0, r[7] = with_a ? 1 : 0;
  memset(r + 8, 0, 4);
  if (with_a) {
    const uint8_t rr[16] = {0xc0, 12, 0, TYPE_A, 0, CLASS_IN, TTL >> 24, (TTL >> 16) & 0xff, (TTL >> 8) & 0xff, TTL & 0xff, 0, 4,
                            (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr};
    memcpy(r + len, rr, sizeof rr);
    len += sizeof rr;
  }
  (void)sendto(udp_fd, r, len, MSG_DONTWAIT, (const struct sockaddr *)&q->from, sizeof q->from); /* UDP: a lost answer is asked again */
}

static uint32_t address_of(long i) { return i < 0 ? 0 : CAPTURE_NET + (uint32_t)i + 1; }

/* Gives `name` its capture address; 0 when the table is full. */
static uint32_t allocate(const char *name) {
  long i = find_name(name);
  if (i >= 0) return address_of(i);
  if (nnames == MAX_NAMES || (names[nnames] = strdup(name)) == NULL) return 0;
  return address_of((long)nnames++);
}

static void drop_pending(size_t k) {
  free(pending[k]);
  memmove(&pending[k], &pending[k + 1], (npending - k - 1) * sizeof *pending);
  npending--;
}

/* Fence's verdict on the oldest name asked: every query waiting for that name is answered. */
static void decided(bool allowed) {
  size_t k = 0;
  while (k < npending && !pending[k]->asked) k++;
  if (k == npending) return; /* an answer nobody asked for: ignored */
  char name[NAME_MAX_LEN + 1];
  memcpy(name, pending[k]->name, sizeof name);
  uint32_t addr = allowed ? allocate(name) : 0;
  if (!allowed && clock_gettime(CLOCK_MONOTONIC, &refused_at) == 0) memcpy(refused, name, sizeof refused);
  for (size_t j = npending; j-- > 0;)
    if (strcmp(pending[j]->name, name) == 0) {
      answer(pending[j], !allowed ? RCODE_NXDOMAIN : addr ? RCODE_OK : RCODE_SERVFAIL, addr);
      drop_pending(j);
    }
}

/* The decision socket broke: nothing will answer what waits, nor what comes. */
static void host_gone(void) {
  (void)close(host_fd);
  host_fd = -1;
  while (npending > 0) {
    answer(pending[npending - 1], RCODE_SERVFAIL, 0);
    drop_pending(npending - 1);
  }
}

static void ask(struct query *q) {
  for (size_t k = 0; k < npending; k++)
    if (pending[k]->asked && strcmp(pending[k]->name, q->name) == 0) return; /* already asked */
  char out[NAME_MAX_LEN + 2];
  int n = snprintf(out, sizeof out, "%s\n", q->name);
  if (send(host_fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) host_gone(); /* answers q too */
  else q->asked = true;
}

void dnsstub_on_query(void) {
  for (;;) {
    struct query *q = calloc(1, sizeof *q);
    if (q == NULL) return;
    socklen_t fl = sizeof q->from;
    ssize_t n = recvfrom(udp_fd, q->packet, sizeof q->packet, 0, (struct sockaddr *)&q->from, &fl);
    if (n < 0) { /* EAGAIN: drained */
      free(q);
      return;
    }
    /* A header, one question, a standard query (QR 0, opcode 0). */
    if (n < 12 || q->packet[4] != 0 || q->packet[5] != 1 || (q->packet[2] & 0xf8) != 0) {
      if (n >= 12) q->question_end = 12, answer(q, RCODE_FORMERR, 0);
      free(q);
      continue;
    }
    long end = parse_name(q->packet, (size_t)n, q->name);
    if (end < 0 || (size_t)end + 4 > (size_t)n) {
      q->question_end = 12, answer(q, end < 0 ? RCODE_NXDOMAIN : RCODE_FORMERR, 0);
      free(q);
      continue;
    }
    q->type = (uint16_t)(q->packet[end] << 8 | q->packet[end + 1]);
    q->klass = (uint16_t)(q->packet[end + 2] << 8 | q->packet[end + 3]);
    q->question_end = (size_t)end + 4;
    long known = find_name(q->name);
    if (known >= 0 || just_refused(q->name) || host_fd < 0 || npending == MAX_PENDING) {
      answer(q, known >= 0 ? RCODE_OK : just_refused(q->name) ? RCODE_NXDOMAIN : RCODE_SERVFAIL, address_of(known));
      free(q);
      continue;
    }
    pending[npending++] = q;
    ask(q);
  }
}

int dnsstub_refuse_waiting(int udp) {
  struct query q;
  udp_fd = udp;
  /* At most MAX_PENDING: queries that keep coming leave the guard its other work. */
  for (int k = 0; k < MAX_PENDING; k++) {
    socklen_t fl = sizeof q.from;
    ssize_t n = recvfrom(udp, q.packet, sizeof q.packet, 0, (struct sockaddr *)&q.from, &fl);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1; /* EAGAIN: drained */
    if (n < 12) continue;
    /* The question repeated when it can be read, so that the resolver takes the answer as its own. */
    long end = q.packet[5] == 1 ? parse_name(q.packet, (size_t)n, q.name) : -1;
    q.question_end = end >= 0 && (size_t)end + 4 <= (size_t)n ? (size_t)end + 4 : 12;
    answer(&q, RCODE_SERVFAIL, 0);
  }
  return 0;
}

void dnsstub_on_host(void) {
  char buf[1024];
  ssize_t n = recv(host_fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    host_gone();
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] != '\n') {
      if (line_len == sizeof line - 1) { /* not the protocol */
        host_gone();
        return;
      }
      line[line_len++] = buf[i];
      continue;
    }
    line[line_len] = '\0';
    line_len = 0;
    decided(strcmp(line, "allow") == 0);
  }
}
