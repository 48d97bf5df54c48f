/* HTTP forward mode of the bridge: the request stream of one client connection, rewritten for the
 * upstream the host proxy connected for one granted authority, and the response stream followed
 * (never changed) so the bridge knows when every forwarded request has been answered.
 *
 * Pure: bytes in, bytes out, no descriptors. The proxy (Node) decides; this only checks that each
 * request names exactly the authority it was granted for (ASCII case aside) and stops at the first
 * that does not, so the bridge can give that request back to the proxy. */
#ifndef FENCE_BRIDGE_HTTP_H
#define FENCE_BRIDGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request head longer than this is given back to the proxy (which answers 431), as Node's limit. */
#define HTTPFWD_HEAD_MAX 65536
/* Granted authority and Host value, each at most this long. */
#define HTTPFWD_NAME_MAX 255
/* Requests forwarded and not yet answered, at most (one bit each remembers a HEAD). */
#define HTTPFWD_PENDING_MAX 64

enum httpfwd_req {
  HTTPFWD_REQ_HEAD,       /* waiting for a request head */
  HTTPFWD_REQ_BODY,       /* Content-Length body: req_left bytes */
  HTTPFWD_REQ_CHUNK_SIZE, /* a chunk-size line */
  HTTPFWD_REQ_CHUNK_DATA, /* req_left bytes of chunk data, then CRLF */
  HTTPFWD_REQ_CHUNK_CRLF, /* the CRLF after chunk data */
  HTTPFWD_REQ_LAST_CRLF,  /* the CRLF after the last chunk (no trailers) */
  HTTPFWD_REQ_OTHER,      /* stopped at a request this grant does not cover: give it back */
  HTTPFWD_REQ_BAD,        /* stopped: the stream cannot be forwarded (close the connection) */
};

struct httpfwd {
  char authority[HTTPFWD_NAME_MAX + 1], host[HTTPFWD_NAME_MAX + 1];
  size_t authority_len, host_len;
  bool first; /* the next head is the one the proxy decided: a mismatch is BAD, never given back */
  enum httpfwd_req req;
  uint64_t req_left;
  char req_line[24]; /* a chunk-size line so far */
  size_t req_line_len;
  /* Responses. */
  unsigned pending; /* forwarded requests whose final response has not ended */
  uint64_t heads;   /* bit k: the k-th pending request is a HEAD */
  int res;          /* response state (bridge-http.c) */
  uint64_t res_left;
  int64_t res_length; /* Content-Length of the head being read, -1 none */
  int res_status;
  bool res_chunked, res_bad_line;
  char res_line[256]; /* the current head or chunk line (longer lines are cut; see res_bad_line) */
  size_t res_line_len;
  bool lost; /* the responses can no longer be followed: nothing can be given back */
};

/* Starts a grant: `authority` is the raw request-target authority the proxy decided, `host` the Host
 * header value it sends upstream. Returns false when either is empty or too long. */
bool httpfwd_init(struct httpfwd *f, const char *authority, size_t authority_len, const char *host, size_t host_len);

/* Transforms client bytes in[0..n) into upstream bytes at out (room for `cap`), writing *out_len.
 * Returns how many input bytes it consumed. It stops early when a head is not whole yet, when `out`
 * lacks room, when HTTPFWD_PENDING_MAX requests are unanswered, or at a request it will not forward
 * (f->req becomes OTHER or BAD; for OTHER, in[returned..] starts that request). */
size_t httpfwd_request(struct httpfwd *f, const char *in, size_t n, char *out, size_t cap, size_t *out_len);

/* Follows upstream bytes in[0..n); a response that cannot be framed sets f->lost. */
void httpfwd_response(struct httpfwd *f, const char *in, size_t n);
/* The upstream closed: ends a response delimited by the close. */
void httpfwd_response_eof(struct httpfwd *f);

#endif
