/* nftables, as raw netlink: the one rule that sends the sandbox's connections to the capture
 * addresses to the capture listener. */
#ifndef FENCE_NFT_H
#define FENCE_NFT_H

#include <stdint.h>

#include "err.h"

/* 127.64.0.0/10: the addresses the DNS stub gives allowed names (dnsstub.h). */
#define CAPTURE_NET 0x7f400000u
#define CAPTURE_NET_MASK 0xffc00000u

/* Adds `tcp to 127.64.0.0/10, any port → redirect to 127.0.0.1:port` to the caller's network
 * namespace (needs CAP_NET_ADMIN over it). */
int nft_add_capture_rule(uint16_t port, struct fence_err *e);

#endif
