/* The HTTP forward transformer (see bridge-http.h).
 *
 * A request is forwarded only when it is plainly unambiguous: `METHOD http://AUTHORITY[/path] HTTP/1.x`
 * with the granted authority, CRLF line ends, no folded lines, and one framing (one Content-Length, or
 * Transfer-Encoding exactly `chunked` with canonical chunks and no trailers). Anything else at a
 * request's start goes back to the proxy, which answers it as it answers any client (400, 431, or a
 * new decision). The head is rewritten as the proxy's own relay does (http-message.ts
 * endToEndHeaders): origin-form target, the proxy's Host value, hop-by-hop headers and those the
 * Connection header names dropped. The framing headers are written by this code from what it
 * parsed, so the upstream frames the body exactly as the bridge does. */
#include "bridge-http.h"

#include <stdio.h>
#include <string.h>

enum { RES_HEAD, RES_BODY, RES_CHUNK_SIZE, RES_CHUNK_DATA, RES_CHUNK_CRLF, RES_TRAILERS, RES_CLOSE };

/* Dropped from every forwarded head; Host and Content-Length are written anew. */
static const char *const DROPPED[] = {"connection", "keep-alive",        "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
                                      "trailer",    "transfer-encoding", "upgrade",            "host",                "content-length"};

#define MAX_TOKENS 32

struct span {
  const char *p;
  size_t n;
};

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool same(const char *a, size_t an, const char *b, size_t bn) {
  if (an != bn) return false;
  for (size_t i = 0; i < an; i++)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

static bool same_z(struct span s, const char *z) { return same(s.p, s.n, z, strlen(z)); }

static bool tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool authority_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c != '\0' && strchr("._~:[]-", c) != NULL);
}

static struct span trim(const char *p, size_t n) {
  while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  return (struct span){p, n};
}

/* Digits only, at most 18 of them; -1 otherwise. */
static int64_t decimal(struct span s) {
  if (s.n == 0 || s.n > 18) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < s.n; i++) {
    if (s.p[i] < '0' || s.p[i] > '9') return -1;
    v = v * 10 + (s.p[i] - '0');
  }
  return v;
}

bool httpfwd_init(struct httpfwd *f, const char *authority, size_t authority_len, const char *host, size_t host_len) {
  memset(f, 0, sizeof *f);
  if (authority_len == 0 || authority_len > HTTPFWD_NAME_MAX || host_len == 0 || host_len > HTTPFWD_NAME_MAX) return false;
  memcpy(f->authority, authority, authority_len);
  memcpy(f->host, host, host_len);
  f->authority_len = authority_len, f->host_len = host_len;
  f->first = true;
  f->res_length = -1;
  return true;
}

/* The length of the head at `in` (through its empty line), or 0 when it is not whole yet; bounded
 * by HTTPFWD_HEAD_MAX + 1 so a longer one is seen as too long. */
static size_t head_length(const char *in, size_t n) {
  size_t limit = n < HTTPFWD_HEAD_MAX + 1 ? n : HTTPFWD_HEAD_MAX + 1;
  for (size_t i = 3; i < limit; i++)
    if (in[i] == '\n' && in[i - 1] == '\r' && in[i - 2] == '\n' && in[i - 3] == '\r') return i + 1;
  return 0;
}

/* One header line: name, value (trimmed). False for a line this code does not forward. */
static bool header_line(const char *p, size_t n, struct span *name, struct span *value) {
  size_t colon = 0;
  while (colon < n && p[colon] != ':') colon++;
  if (colon == 0 || colon == n) return false;
  for (size_t i = 0; i < colon; i++)
    if (!tchar(p[i])) return false; /* also a folded line (starts with a space) */
  for (size_t i = colon + 1; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false; /* a bare CR or LF among them */
  }
  *name = (struct span){p, colon};
  *value = trim(p + colon + 1, n - colon - 1);
  return true;
}

/* The tokens of a Connection value, appended to tokens[*count]. */
static bool connection_tokens(struct span v, struct span *tokens, size_t *count) {
  size_t i = 0;
  while (i <= v.n) {
    size_t start = i;
    while (i < v.n && v.p[i] != ',') i++;
    struct span t = trim(v.p + start, i - start);
    if (t.n > 0) {
      if (*count == MAX_TOKENS) return false;
      tokens[(*count)++] = t;
    }
    i++;
  }
  return true;
}

static bool dropped(struct span name, const struct span *tokens, size_t ntokens) {
  for (size_t i = 0; i < sizeof DROPPED / sizeof *DROPPED; i++)
    if (same_z(name, DROPPED[i])) return true;
  for (size_t i = 0; i < ntokens; i++)
    if (same(name.p, name.n, tokens[i].p, tokens[i].n)) return true;
  return false;
}

static size_t put(char *out, size_t at, const char *p, size_t n) {
  memcpy(out + at, p, n);
  return at + n;
}

/* Forwards the head in[0..len) rewritten into out (room checked by the caller); returns the bytes
 * written, or 0 when the request is not one to forward (f->req says why). */
static size_t forward_head(struct httpfwd *f, const char *in, size_t len, char *out) {
  enum httpfwd_req refuse = f->first ? HTTPFWD_REQ_BAD : HTTPFWD_REQ_OTHER;
  const char *end = in + len - 2; /* the final empty line's CRLF */
  const char *eol = memchr(in, '\n', len);
  if (eol == NULL || eol == in || eol[-1] != '\r') return f->req = refuse, 0;
  /* METHOD SP http://AUTHORITY[/rest] SP HTTP/1.x */
  const char *line_end = eol - 1, *sp1 = in;
  while (sp1 < line_end && tchar(*sp1)) sp1++;
  if (sp1 == in || sp1 == line_end || *sp1 != ' ') return f->req = refuse, 0;
  const char *target = sp1 + 1, *sp2 = target;
  while (sp2 < line_end && *sp2 != ' ') sp2++;
  struct span version = {sp2 + 1, sp2 < line_end ? (size_t)(line_end - sp2 - 1) : 0};
  if (sp2 == line_end || !(same_z(version, "HTTP/1.1") || same_z(version, "HTTP/1.0")) || memcmp(version.p, "HTTP/", 5) != 0) return f->req = refuse, 0;
  if ((size_t)(sp2 - target) < 8 || !same(target, 7, "http://", 7)) return f->req = refuse, 0;
  const char *auth = target + 7, *rest = auth;
  while (rest < sp2 && authority_char(*rest)) rest++;
  if (rest < sp2 && *rest != '/' && *rest != '?') return f->req = refuse, 0;
  for (const char *p = rest; p < sp2; p++)
    if (*p < 0x21 || *p > 0x7e || *p == '#' || *p == '\\') return f->req = refuse, 0;
  if (!same(auth, (size_t)(rest - auth), f->authority, f->authority_len)) return f->req = refuse, 0;
  if (f->pending == HTTPFWD_PENDING_MAX) return 0; /* the caller waits for answers */

  /* First pass: what the Connection header names, and the framing. */
  struct span tokens[MAX_TOKENS], length = {0}, coding = {0};
  size_t ntokens = 0;
  int nlength = 0, ncoding = 0;
  bool close = false;
  for (const char *p = eol + 1; p < end;) {
    const char *e = memchr(p, '\n', (size_t)(end - p) + 1);
    struct span name, value;
    if (e == NULL || e == p || e[-1] != '\r' || !header_line(p, (size_t)(e - 1 - p), &name, &value)) return f->req = refuse, 0;
    if (same_z(name, "connection") && !connection_tokens(value, tokens, &ntokens)) return f->req = refuse, 0;
    if (same_z(name, "content-length")) length = value, nlength++;
    if (same_z(name, "transfer-encoding")) coding = value, ncoding++;
    p = e + 1;
  }
  for (size_t i = 0; i < ntokens; i++) close = close || same_z(tokens[i], "close");
  int64_t body = nlength == 1 ? decimal(length) : 0;
  bool chunked = ncoding == 1 && same_z(coding, "chunked");
  if (nlength > 1 || ncoding > 1 || (nlength && ncoding) || body < 0 || (ncoding && !chunked)) return f->req = refuse, 0;

  size_t at = put(out, 0, in, (size_t)(target - in));
  if (rest == sp2 || *rest == '?') at = put(out, at, "/", 1);
  at = put(out, at, rest, (size_t)(line_end - rest) + 2);
  at = put(out, at, "Host: ", 6);
  at = put(out, at, f->host, f->host_len);
  at = put(out, at, "\r\n", 2);
  for (const char *p = eol + 1; p < end;) {
    const char *e = memchr(p, '\n', (size_t)(end - p) + 1);
    struct span name, value;
    (void)header_line(p, (size_t)(e - 1 - p), &name, &value);
    if (!dropped(name, tokens, ntokens)) at = put(out, at, p, (size_t)(e + 1 - p));
    p = e + 1;
  }
  if (nlength) at += (size_t)sprintf(out + at, "Content-Length: %lld\r\n", (long long)body);
  if (chunked) at = put(out, at, "Transfer-Encoding: chunked\r\n", 28);
  if (close) at = put(out, at, "Connection: close\r\n", 19);
  at = put(out, at, "\r\n", 2);

  bool head = (size_t)(sp1 - in) == 4 && memcmp(in, "HEAD", 4) == 0;
  f->heads |= (uint64_t)head << f->pending;
  f->pending++;
  f->first = false;
  f->req = chunked ? HTTPFWD_REQ_CHUNK_SIZE : body > 0 ? HTTPFWD_REQ_BODY : HTTPFWD_REQ_HEAD;
  f->req_left = (uint64_t)body;
  f->req_line_len = 0;
  return at;
}

/* A chunk-size line: 1 to 15 hex digits, CRLF (no extensions). -1 when it is anything else. */
static int64_t chunk_size(const char *p, size_t n) {
  if (n < 3 || n > 17 || p[n - 2] != '\r') return -1;
  int64_t v = 0;
  for (size_t i = 0; i + 2 < n; i++) {
    char c = lower(p[i]);
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

size_t httpfwd_request(struct httpfwd *f, const char *in, size_t n, char *out, size_t cap, size_t *out_len) {
  size_t used = 0, at = 0;
  while (used < n && at < cap) {
    const char *p = in + used;
    size_t avail = n - used, room = cap - at;
    switch (f->req) {
    case HTTPFWD_REQ_HEAD: {
      size_t len = head_length(p, avail);
      bool too_long = len > HTTPFWD_HEAD_MAX || (len == 0 && avail > HTTPFWD_HEAD_MAX);
      if (too_long) f->req = f->first ? HTTPFWD_REQ_BAD : HTTPFWD_REQ_OTHER;
      /* The rewritten head is at most the Host value and a few framing bytes longer than the head. */
      if (too_long || len == 0 || room < len + f->host_len + 128) {
        *out_len = at;
        return used;
      }
      size_t wrote = forward_head(f, p, len, out + at);
      if (wrote == 0) {
        *out_len = at;
        return used;
      }
      at += wrote, used += len;
      break;
    }
    case HTTPFWD_REQ_BODY:
    case HTTPFWD_REQ_CHUNK_DATA: {
      size_t run = avail < room ? avail : room;
      if (f->req_left < run) run = (size_t)f->req_left;
      at = put(out, at, p, run);
      used += run;
      f->req_left -= run;
      if (f->req_left == 0) f->req = f->req == HTTPFWD_REQ_BODY ? HTTPFWD_REQ_HEAD : HTTPFWD_REQ_CHUNK_CRLF;
      break;
    }
    case HTTPFWD_REQ_CHUNK_SIZE:
    case HTTPFWD_REQ_CHUNK_CRLF:
    case HTTPFWD_REQ_LAST_CRLF: {
      if (f->req_line_len == sizeof f->req_line) return f->req = HTTPFWD_REQ_BAD, *out_len = at, used;
      char c = *p;
      f->req_line[f->req_line_len++] = c;
      out[at++] = c;
      used++;
      if (c != '\n') break;
      if (f->req == HTTPFWD_REQ_CHUNK_SIZE) {
        int64_t size = chunk_size(f->req_line, f->req_line_len);
        if (size < 0) return f->req = HTTPFWD_REQ_BAD, *out_len = at, used;
        f->req = size == 0 ? HTTPFWD_REQ_LAST_CRLF : HTTPFWD_REQ_CHUNK_DATA;
        f->req_left = (uint64_t)size;
      } else {
        if (f->req_line_len != 2 || f->req_line[0] != '\r') return f->req = HTTPFWD_REQ_BAD, *out_len = at, used;
        f->req = f->req == HTTPFWD_REQ_LAST_CRLF ? HTTPFWD_REQ_HEAD : HTTPFWD_REQ_CHUNK_SIZE;
      }
      f->req_line_len = 0;
      break;
    }
    case HTTPFWD_REQ_OTHER:
    case HTTPFWD_REQ_BAD:
      *out_len = at;
      return used;
    }
  }
  *out_len = at;
  return used;
}

/* A response has ended: the oldest pending request is answered. */
static void response_done(struct httpfwd *f) {
  f->pending--;
  f->heads >>= 1;
  f->res = RES_HEAD;
  f->res_length = -1;
  f->res_status = 0;
  f->res_chunked = false;
}

/* The empty line that ends a response head. */
static void response_head_end(struct httpfwd *f) {
  int s = f->res_status;
  if (s == 101 || s < 100) return (void)(f->lost = true); /* upgrades are never asked for (Upgrade is dropped) */
  if (s < 200) return (void)(f->res_status = 0);          /* an interim response: the final one follows */
  if ((f->heads & 1) || s == 204 || s == 304 || (!f->res_chunked && f->res_length == 0)) return response_done(f);
  f->res = f->res_chunked ? RES_CHUNK_SIZE : f->res_length > 0 ? RES_BODY : RES_CLOSE;
  f->res_left = f->res_length > 0 ? (uint64_t)f->res_length : 0;
}

/* One whole line of a response (without its line end). */
static void response_line(struct httpfwd *f, const char *p, size_t n) {
  if (f->res == RES_CHUNK_CRLF) {
    f->res = RES_CHUNK_SIZE;
    if (n != 0) f->lost = true;
    return;
  }
  if (f->res == RES_CHUNK_SIZE) {
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && i < 16; i++) {
      char c = lower(p[i]);
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) break;
      v = v * 16 + (uint64_t)d;
    }
    if (i == 0 || (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t') || f->res_bad_line) return (void)(f->lost = true);
    f->res = v == 0 ? RES_TRAILERS : RES_CHUNK_DATA;
    f->res_left = v;
    return;
  }
  if (f->res == RES_TRAILERS) {
    if (n == 0) response_done(f);
    return;
  }
  /* RES_HEAD */
  if (n == 0) return response_head_end(f);
  if (f->res_status == 0) { /* the status line */
    bool digits = n >= 12 && p[9] >= '0' && p[9] <= '9' && p[10] >= '0' && p[10] <= '9' && p[11] >= '0' && p[11] <= '9';
    if (f->pending == 0 || !digits || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return (void)(f->lost = true);
    f->res_status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    return;
  }
  struct span name, value;
  const char *colon = memchr(p, ':', n);
  if (colon == NULL) return;
  name = (struct span){p, (size_t)(colon - p)};
  value = trim(colon + 1, n - (size_t)(colon + 1 - p));
  bool framing = same_z(name, "content-length") || same_z(name, "transfer-encoding");
  if (framing && f->res_bad_line) return (void)(f->lost = true);
  if (same_z(name, "content-length")) {
    int64_t v = decimal(value);
    if (v < 0 || (f->res_length >= 0 && f->res_length != v)) return (void)(f->lost = true);
    f->res_length = v;
  }
  /* Chunked when it is the last coding; any other coding is delimited by the close. */
  if (same_z(name, "transfer-encoding")) f->res_chunked = value.n >= 7 && same(value.p + value.n - 7, 7, "chunked", 7);
}

void httpfwd_response(struct httpfwd *f, const char *in, size_t n) {
  size_t i = 0;
  while (i < n && !f->lost) {
    if (f->res == RES_CLOSE) return;
    if (f->res == RES_BODY || f->res == RES_CHUNK_DATA) {
      size_t run = n - i < f->res_left ? n - i : (size_t)f->res_left;
      i += run;
      f->res_left -= run;
      if (f->res_left > 0) continue;
      if (f->res == RES_BODY) response_done(f);
      else f->res = RES_CHUNK_CRLF;
      continue;
    }
    char c = in[i++];
    if (c != '\n') {
      if (f->res_line_len < sizeof f->res_line) f->res_line[f->res_line_len++] = c;
      else f->res_bad_line = true;
      continue;
    }
    size_t len = f->res_line_len;
    if (len > 0 && f->res_line[len - 1] == '\r') len--;
    response_line(f, f->res_line, len);
    f->res_line_len = 0;
    f->res_bad_line = false;
  }
}

void httpfwd_response_eof(struct httpfwd *f) {
  if (f->res == RES_CLOSE) response_done(f);
  else if (f->pending > 0) f->lost = true;
}
