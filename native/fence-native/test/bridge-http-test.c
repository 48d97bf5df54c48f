/* Test driver for the HTTP forward transformer (bridge-http.h), run by bridge-http.test.js.
 *
 * Usage: bridge-http-test AUTHORITY HOST CHUNK [RESPONSES]
 * Feeds stdin (the client's request stream) to httpfwd_request CHUNK bytes at a time, keeping what
 * it did not consume in front of the next piece as the bridge does, and writes the upstream bytes
 * to stdout. Then feeds the file RESPONSES (upstream bytes) CHUNK bytes at a time, and an EOF, to
 * the response side. Last, on stderr: `req=STATE rest=BYTES pending=N lost=0|1`. */
#include "../src/bridge-http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STATES[] = {"head", "body", "chunk-size", "chunk-data", "chunk-crlf", "last-crlf", "other", "bad"};

static char *slurp(FILE *f, size_t *n) {
  size_t cap = 1 << 20;
  char *buf = malloc(cap);
  *n = 0;
  for (size_t r; buf != NULL && (r = fread(buf + *n, 1, cap - *n, f)) > 0;) {
    *n += r;
    if (*n == cap) buf = realloc(buf, cap *= 2);
  }
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 4) return fputs("usage: bridge-http-test AUTHORITY HOST CHUNK [RESPONSES]\n", stderr), 2;
  struct httpfwd f;
  if (!httpfwd_init(&f, argv[1], strlen(argv[1]), argv[2], strlen(argv[2]))) return fputs("bad grant\n", stderr), 2;
  size_t chunk = (size_t)strtoul(argv[3], NULL, 10), n = 0, have = 0, fed = 0;
  char *in = slurp(stdin, &n), *pending = malloc(n + 1), *out = malloc(1 << 20);
  if (in == NULL || pending == NULL || out == NULL || chunk == 0) return 2;
  while (fed < n || have > 0) {
    size_t piece = n - fed < chunk ? n - fed : chunk;
    memcpy(pending + have, in + fed, piece);
    have += piece, fed += piece;
    size_t made = 0, used = httpfwd_request(&f, pending, have, out, 1 << 20, &made);
    fwrite(out, 1, made, stdout);
    memmove(pending, pending + used, have - used);
    have -= used;
    if ((used == 0 && made == 0 && fed == n) || f.req >= HTTPFWD_REQ_OTHER) break;
  }
  if (argc > 4) {
    FILE *r = fopen(argv[4], "rb");
    size_t rn = 0;
    char *res = r ? slurp(r, &rn) : NULL;
    if (res == NULL) return 2;
    for (size_t at = 0; at < rn; at += chunk) httpfwd_response(&f, res + at, rn - at < chunk ? rn - at : chunk);
    httpfwd_response_eof(&f);
  }
  fflush(stdout);
  fprintf(stderr, "req=%s rest=%zu pending=%u lost=%d\n", STATES[f.req], have, f.pending, f.lost);
  return 0;
}
