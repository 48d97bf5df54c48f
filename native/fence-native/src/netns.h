/* The sandbox's network namespace, made before bwrap (netns.c has the steps and why). */
#ifndef FENCE_NETNS_H
#define FENCE_NETNS_H

#include <stdint.h>

#include "err.h"

/* Moves the caller into a new user + network namespace with loopback up and the capture rule
 * (connections to 127.64.0.0/10 → 127.0.0.1:capture_port). */
int netns_enter(uint16_t capture_port, struct fence_err *e);

#endif
