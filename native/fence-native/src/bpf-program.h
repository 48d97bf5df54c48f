/* The eBPF monitor's program (bpf-program.c), its record and its syscall table. Pure: builds
 * instructions, touches no kernel object. */
#ifndef FENCE_BPF_PROGRAM_H
#define FENCE_BPF_PROGRAM_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#define BPF_PROGRAM_MAX 160
#define BPF_TRACED_MAX_NR 512 /* entries of the syscall table, indexed by number */
#define BPF_PATH_BYTES 256
#define BPF_SOCKADDR_BYTES 128

/* What the program reads for a syscall (a table value): up to two pointer arguments. */
#define BPF_ARG1(i) (0x4u | (unsigned)(i))        /* a string at argument i (0..3) */
#define BPF_ARG2(i) ((0x4u | (unsigned)(i)) << 4) /* a second string at argument i */
#define BPF_ARG_SOCKADDR 0x100u                   /* the first is a struct sockaddr, not a string */
#define BPF_ON_SUCCESS 0x200u                     /* reported when it succeeds, instead of when it fails */

/* One reported syscall (failing, or succeeding for BPF_ON_SUCCESS), as the program writes it into the ring buffer. */
struct bpf_record {
  uint64_t boot_ns; /* CLOCK_BOOTTIME at the syscall's exit */
  uint32_t pid, tid;
  int64_t ret;
  uint64_t nr;
  uint64_t args[6];
  char comm[16];
  char path[2][BPF_PATH_BYTES]; /* path[0] holds the raw sockaddr for connect */
};

struct bpf_traced {
  int nr;
  const char *op;
  uint32_t args;
};

extern const struct bpf_traced bpf_traced[];
extern const size_t bpf_traced_count;
const struct bpf_traced *bpf_traced_find(int nr);

/* Writes the program for the PID namespace (dev, ino) using the three maps; returns its length. */
size_t bpf_program_build(struct bpf_insn *out, uint64_t dev, uint64_t ino, int ringbuf, int traced, int lost);

#endif
