/* Captured connections (capture.h): the request a capture connection starts with, and the check
 * of the proxy's reply to it. */
#include "capture.h"
#include "dnsstub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80 /* linux/netfilter_ipv4.h, whose includes clash with glibc's */
#endif

size_t capture_request(int client, char *buf, size_t cap) {
  struct sockaddr_in dst;
  socklen_t len = sizeof dst;
  /* Where the command connected before the capture rule redirected it: its capture address and port. */
  if (getsockopt(client, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0 || dst.sin_family != AF_INET) return 0;
  const char *name = dnsstub_name(ntohl(dst.sin_addr.s_addr));
  if (name == NULL) return 0;
  unsigned port = ntohs(dst.sin_port);
  int n = snprintf(buf, cap, "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", name, port, name, port);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

long capture_reply(const char *buf, size_t len) {
  static const char OK10[] = "HTTP/1.0 200", OK11[] = "HTTP/1.1 200";
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  if (end == NULL || len < sizeof OK11 - 1) return -1;
  if (memcmp(buf, OK11, sizeof OK11 - 1) != 0 && memcmp(buf, OK10, sizeof OK10 - 1) != 0) return -1;
  return end + 4 - buf;
}
