/* The sandbox's DNS server (127.0.0.53, in the relay process): each name is asked once of Fence
 * (the host's DNS decision socket, one line per name: `name` → `allow` or `deny`), which applies
 * the network policy and reports a refusal; an allowed name is answered with an address of its own
 * in 127.64.0.0/10 (stable for the run), which the capture rule sends to the capture listener
 * (capture.h); a refused one gets NXDOMAIN, so resolution fails at once. Only A queries get an
 * address; other types of an allowed name get an empty answer (the capture is IPv4). */
#ifndef FENCE_DNSSTUB_H
#define FENCE_DNSSTUB_H

#include <stdint.h>

#include "err.h"

#define DNSSTUB_ADDRESS 0x7f000035u /* 127.0.0.53 */

/* Binds the stub's UDP socket on 127.0.0.53:port (non-blocking, close-on-exec). */
int dnsstub_listen(uint16_t port, struct fence_err *e);
/* In the relay: connects to Fence's decision socket through the O_PATH descriptor `host`. Without
 * it every query is answered SERVFAIL. */
void dnsstub_start(int udp, int host);
/* The decision socket, for poll (-1: none), and its handlers. */
int dnsstub_host_fd(void);
void dnsstub_on_query(void);
void dnsstub_on_host(void);
/* Before the relay runs (it cannot start yet): answers every query waiting on `udp` SERVFAIL.
 * -1 when one could not be read. */
int dnsstub_refuse_waiting(int udp);
/* The name a capture address (host byte order) was given for, or NULL. */
const char *dnsstub_name(uint32_t addr);

#endif
