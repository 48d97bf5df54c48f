/* Captured connections: a program that ignores the proxy variables connects to the address the DNS
 * stub gave a name (127.64.x.y, any port); the capture rule (nft.h) redirects it to the capture
 * listener, a bridge to Fence's HTTP proxy. The bridge opens each such connection with
 * `CONNECT name:port` itself, so the proxy's filter, address guard and events apply as to any
 * tunnel; it swallows the proxy's `200` and then relays (or takes the handoff) as for any other
 * tunnel. Any other reply (a refusal, its reason in the proxy's event) closes the connection. */
#ifndef FENCE_CAPTURE_H
#define FENCE_CAPTURE_H

#include <stddef.h>

/* Writes the CONNECT request for the accepted connection `client` into buf; returns its length, or
 * 0 when the connection was not redirected from a capture address the stub gave out. */
size_t capture_request(int client, char *buf, size_t cap);
/* The length of the proxy's reply head at the start of buf when it is a 200, or -1 (a refusal, or
 * a head not whole in one read: the proxy writes it in one piece). */
long capture_reply(const char *buf, size_t len);

#endif
