/* Decoder for the helper plan: a line-based text format (README.md, "Plan encoding").
 * Strict: any unknown keyword, extra field or malformed number rejects the whole plan, so a
 * plan from a newer encoder can never be half-applied. */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN_MAGIC "fence-launch-plan 1"
#define PLAN_MAX_BYTES (4u << 20)
#define PLAN_MAX_FIELDS 7
#define BPF_MAX_INSNS 4096
#define REFUSE_MAX_BYTES 4096

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0') return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (max - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes in place; the result must be an absolute path without NUL. */
static int decode_path(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r != '%') {
      *w++ = *r;
      continue;
    }
    int hi = hex_nibble(r[1]), lo = hi < 0 ? -1 : hex_nibble(r[2]);
    if (lo < 0 || (hi == 0 && lo == 0)) return -1;
    *w++ = (char)(hi << 4 | lo);
    r += 2;
  }
  *w = '\0';
  return s[0] == '/' ? 0 : -1;
}

/* Decodes hex in place; returns the byte count, or -1. */
static long decode_hex(char *hex) {
  size_t n = strlen(hex);
  if (n % 2 != 0) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    hex[i] = (char)(hi << 4 | lo);
  }
  return (long)(n / 2);
}

/* At most one program per filter: a second line for the same filter rejects the plan. */
static int decode_seccomp(char *hex, struct plan_filter *filter) {
  size_t n = strlen(hex);
  if (filter->insns != NULL || n == 0 || n % 16 != 0 || n / 16 > BPF_MAX_INSNS || decode_hex(hex) < 0) return -1;
  filter->insns = (uint8_t *)hex;
  filter->len = n / 2;
  return 0;
}

static const struct {
  const char *name;
  int resource;
} RLIMITS[] = {{"AS", RLIMIT_AS}, {"NPROC", RLIMIT_NPROC}, {"CPU", RLIMIT_CPU}, {"NOFILE", RLIMIT_NOFILE}};

static int decode_rlimit(char **f, struct plan *p) {
  struct plan_rlimit *r = &p->rlimits[p->nrlimits];
  uint64_t v;
  r->name = NULL;
  for (size_t i = 0; i < sizeof RLIMITS / sizeof RLIMITS[0]; i++)
    if (strcmp(f[1], RLIMITS[i].name) == 0) {
      r->name = RLIMITS[i].name;
      r->resource = RLIMITS[i].resource;
    }
  if (r->name == NULL) return -1;
  if (strcmp(f[2], "unlimited") == 0)
    r->value = RLIM_INFINITY;
  else if (parse_u64(f[2], RLIM_INFINITY - 1, &v) == 0)
    r->value = (rlim_t)v;
  else
    return -1;
  p->nrlimits++;
  return 0;
}

static int decode_bridge(char **f, struct plan *p) {
  struct plan_bridge *b = &p->bridges[p->nbridges];
  uint64_t port;
  if (strcmp(f[1], "tcp-to-unix") == 0)
    b->kind = BRIDGE_TCP_TO_UNIX;
  else if (strcmp(f[1], "unix-to-tcp") == 0)
    b->kind = BRIDGE_UNIX_TO_TCP;
  else
    return -1;
  uint64_t fd;
  if (parse_u64(f[2], 65535, &port) != 0 || port == 0 || parse_u64(f[3], 65535, &fd) != 0 || fd < 3) return -1;
  b->port = (uint16_t)port;
  b->fd = (int)fd;
  p->nbridges++;
  return 0;
}

/* capture|dns <port> <host socket fd>: at most one of each. */
static int decode_capture(char **f, struct plan *p) {
  enum bridge_kind kind = strcmp(f[0], "capture") == 0 ? BRIDGE_CAPTURE : BRIDGE_DNS;
  uint64_t port, fd;
  for (size_t i = 0; i < p->nbridges; i++)
    if (p->bridges[i].kind == kind) return -1;
  if (parse_u64(f[1], 65535, &port) != 0 || port == 0 || parse_u64(f[2], 65535, &fd) != 0 || fd < 3) return -1;
  p->bridges[p->nbridges++] = (struct plan_bridge){.kind = kind, .port = (uint16_t)port, .fd = (int)fd};
  return 0;
}

static int decode_refuse(char **f, struct plan *p) {
  struct plan_bridge *b = &p->bridges[p->nbridges];
  uint64_t port;
  long len = decode_hex(f[2]);
  if (parse_u64(f[1], 65535, &port) != 0 || port == 0 || len <= 0 || len > REFUSE_MAX_BYTES) return -1;
  *b = (struct plan_bridge){.kind = BRIDGE_REFUSE, .port = (uint16_t)port, .fd = -1, .reply = (const uint8_t *)f[2], .reply_len = (size_t)len};
  p->nbridges++;
  return 0;
}

static int decode_landlock(char **f, struct plan *p, struct plan_landlock *ll) {
  uint64_t abi, flags;
  if (p->landlock != NULL || parse_u64(f[1], 255, &abi) != 0 || abi == 0 ||
      parse_u64(f[2], UINT64_MAX, &ll->handled_fs) != 0 ||
      parse_u64(f[3], UINT64_MAX, &ll->handled_net) != 0 ||
      parse_u64(f[4], UINT64_MAX, &ll->scoped) != 0 || parse_u64(f[5], UINT32_MAX, &flags) != 0)
    return -1;
  ll->abi = (int)abi;
  ll->restrict_flags = (uint32_t)flags;
  p->landlock = ll;
  return 0;
}

static int decode_landlock_rule(char **f, int nf, struct plan *p) {
  struct plan_landlock *ll = p->landlock;
  uint64_t access, port;
  if (ll == NULL || parse_u64(f[1], UINT64_MAX, &access) != 0) return -1;
  if (nf == 3 && strcmp(f[0], "landlock-path") == 0) {
    if (decode_path(f[2]) != 0) return -1;
    ll->paths[ll->npaths++] = (struct plan_path_rule){access, f[2]};
    return 0;
  }
  if (nf == 3 && strcmp(f[0], "landlock-port") == 0) {
    if (parse_u64(f[2], 65535, &port) != 0) return -1;
    ll->ports[ll->nports++] = (struct plan_port_rule){access, (uint16_t)port};
    return 0;
  }
  return -1;
}

/* seccomp-notify <socket fd> <program>: at most one. */
static int decode_seccomp_notify(char **f, struct plan *p) {
  uint64_t fd;
  if (p->notify_socket >= 0 || parse_u64(f[1], 65535, &fd) != 0 || fd < 3) return -1;
  p->notify_socket = (int)fd;
  return decode_seccomp(f[2], &p->seccomp_notify);
}

/* guard <file|dir|git|git-config> <name>: a protected name for the creation guard (guard.h). A
 * name is one component, or two (`a/b`: b in a directory called a). */
static int decode_guard(char **f, struct plan *p) {
  static const char *const KINDS[] = {[GUARD_FILE] = "file", [GUARD_DIR] = "dir", [GUARD_GIT] = "git", [GUARD_GIT_CONFIG] = "git-config"};
  const char *name = f[2], *slash = strchr(name, '/');
  if (name[0] == '/' || (slash && (slash[1] == '\0' || strchr(slash + 1, '/'))) || strlen(name) > 255) return -1;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '%')) return -1;
  for (size_t k = 0; k < sizeof KINDS / sizeof *KINDS; k++)
    if (strcmp(f[1], KINDS[k]) == 0) {
      p->guard.names[p->guard.nnames++] = (struct plan_guard_name){(enum guard_kind)k, name};
      return 0;
    }
  return -1;
}

static int decode_line(char **f, int nf, struct plan *p, struct plan_landlock *ll) {
  if (nf == 4 && strcmp(f[0], "bridge") == 0) return decode_bridge(f, p);
  if (nf == 3 && strcmp(f[0], "refuse") == 0) return decode_refuse(f, p);
  if (nf == 3 && (strcmp(f[0], "capture") == 0 || strcmp(f[0], "dns") == 0)) return decode_capture(f, p);
  if (nf == 3 && strcmp(f[0], "rlimit") == 0) return decode_rlimit(f, p);
  if (nf == 6 && strcmp(f[0], "landlock") == 0) return decode_landlock(f, p, ll);
  if (strncmp(f[0], "landlock-", 9) == 0) return decode_landlock_rule(f, nf, p);
  if (nf == 2 && strcmp(f[0], "seccomp") == 0) return decode_seccomp(f[1], &p->seccomp);
  if (nf == 2 && strcmp(f[0], "seccomp-quiet") == 0) return decode_seccomp(f[1], &p->seccomp_quiet);
  if (nf == 3 && strcmp(f[0], "seccomp-notify") == 0) return decode_seccomp_notify(f, p);
  if (nf == 3 && strcmp(f[0], "guard") == 0) return decode_guard(f, p);
  if (nf == 1 && strcmp(f[0], "bridges-first") == 0 && !p->bridges_first) return p->bridges_first = 1, 0;
  return -1;
}

/* Splits a line on single spaces; returns the field count or -1 on too many/empty fields. */
static int split(char *line, char **f) {
  int n = 0;
  for (char *s = line;; s++) {
    if (n == PLAN_MAX_FIELDS) return -1;
    f[n++] = s;
    s = strchr(s, ' ');
    if (s == NULL) break;
    *s = '\0';
  }
  for (int i = 0; i < n; i++)
    if (f[i][0] == '\0') return -1;
  return n;
}

int plan_decode(char *text, size_t len, struct plan *p, struct fence_err *e) {
  size_t nlines = 0;
  memset(p, 0, sizeof *p);
  p->notify_socket = -1;
  if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len) != NULL)
    return fence_fail(e, 0, "plan: not a newline-terminated text");
  for (size_t i = 0; i < len; i++) nlines += text[i] == '\n';
  /* Every list is bounded by the line count: one allocation each, no growth. */
  struct plan_landlock *ll = calloc(1, sizeof *ll);
  p->bridges = calloc(nlines, sizeof *p->bridges);
  p->rlimits = calloc(nlines, sizeof *p->rlimits);
  p->guard.names = calloc(nlines, sizeof *p->guard.names);
  if (ll) ll->paths = calloc(nlines, sizeof *ll->paths);
  if (ll) ll->ports = calloc(nlines, sizeof *ll->ports);
  if (!ll || !p->bridges || !p->rlimits || !p->guard.names || !ll->paths || !ll->ports) return fence_fail(e, ENOMEM, "plan");

  char *line = text, *end, *f[PLAN_MAX_FIELDS];
  for (size_t n = 1; (end = strchr(line, '\n')) != NULL; n++) {
    *end = '\0';
    if (n == 1) {
      if (strcmp(line, PLAN_MAGIC) != 0)
        return fence_fail(e, 0, "plan: line 1: expected \"" PLAN_MAGIC "\" (helper and encoder differ)");
    } else {
      int nf = split(line, f);
      if (nf < 1 || decode_line(f, nf, p, ll) != 0)
        return fence_fail(e, 0, "plan: line %zu: malformed \"%.40s\"", n, f[0]);
    }
    line = end + 1;
  }
  return 0;
}

char *plan_read_fd(int fd, size_t *len, struct fence_err *e) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  int err = 0;
  while (buf != NULL && err == 0) {
    if (n == cap) {
      char *grown = cap >= PLAN_MAX_BYTES ? NULL : realloc(buf, cap * 2 + 1);
      if (grown == NULL) err = EFBIG;
      else buf = grown, cap *= 2;
      continue;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r == 0) break;
    if (r > 0) n += (size_t)r;
    else if (errno != EINTR) err = errno;
  }
  /* The plan descriptor must not reach the command. */
  if (close(fd) != 0 && err == 0) err = errno;
  if (buf == NULL) err = ENOMEM;
  if (err != 0) {
    free(buf);
    return fence_fail(e, err, "plan fd %d", fd), NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long plan_base64_decode(char *s) {
  size_t n = strlen(s), out = 0;
  if (n % 4 != 0) return -1;
  for (size_t i = 0; i < n; i += 4) {
    int v[4], pad = 0;
    for (int k = 0; k < 4; k++) {
      v[k] = b64_value(s[i + k]);
      if (s[i + k] == '=' && i + 4 == n && k >= 2) pad++, v[k] = 0;
      else if (v[k] < 0 || pad) return -1;
    }
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    s[out++] = (char)(w >> 16);
    if (pad < 2) s[out++] = (char)(w >> 8);
    if (pad < 1) s[out++] = (char)w;
  }
  s[out] = '\0';
  return (long)out;
}
