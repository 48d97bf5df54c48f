/* The kernel log (/dev/kmsg) opened for the records written from now on. */
#ifndef FENCE_KMSG_H
#define FENCE_KMSG_H

/* A non-blocking, close-on-exec descriptor positioned after the newest record; -errno on failure
 * (EPERM under kernel.dmesg_restrict for a user without CAP_SYSLOG). Each read() returns one record. */
int kmsg_open_end(void);

#endif
