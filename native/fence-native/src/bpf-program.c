/* The eBPF monitor's program, written as instructions (no compiler at run time). It runs on the
 * `sys_exit` raw tracepoint, whose context is { struct pt_regs *regs; long ret }:
 *
 *   1. ret must be -EPERM, -EACCES, -EROFS or 0            (every other exit leaves here)
 *   2. the task's PID namespace must be the sandbox's     (bpf_get_ns_current_pid_tgid)
 *   3. the syscall number must be in the `traced` table   (its value says what to read)
 *   4. ret must be 0 for a BPF_ON_SUCCESS entry, an errno for the others
 *   5. reserve a record in the ring buffer (or count it in `lost`), fill it, submit it.
 *
 * The arguments come from pt_regs (a stable layout per architecture); pointer arguments are read
 * from user memory at exit, where the caller's memory is still mapped. */
#include "bpf-program.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
/* struct pt_regs: orig_ax, then di si dx r10 r8 r9 (the syscall argument registers). */
static const int16_t NR_OFF = 120, ARG_OFF[6] = {112, 104, 96, 56, 72, 64};
#elif defined(__aarch64__)
/* struct pt_regs: x0 holds the return value at exit, orig_x0 the first argument; syscallno. */
static const int16_t NR_OFF = 280, ARG_OFF[6] = {272, 8, 16, 24, 32, 40};
#else
#error "the eBPF monitor knows pt_regs of x86_64 and aarch64 only"
#endif

const struct bpf_traced bpf_traced[] = {
#ifdef __NR_open
    {__NR_open, "open", BPF_ARG1(0)},
    {__NR_creat, "open", BPF_ARG1(0)},
    {__NR_mkdir, "mkdir", BPF_ARG1(0)},
    {__NR_unlink, "unlink", BPF_ARG1(0)},
    {__NR_rmdir, "rmdir", BPF_ARG1(0)},
    {__NR_rename, "rename", BPF_ARG1(0) | BPF_ARG2(1)},
#endif
    {__NR_openat, "open", BPF_ARG1(1)},
    {__NR_openat2, "open", BPF_ARG1(1)},
    {__NR_mkdirat, "mkdir", BPF_ARG1(1)},
    {__NR_unlinkat, "unlink", BPF_ARG1(1)},
    {__NR_renameat, "rename", BPF_ARG1(1) | BPF_ARG2(3)},
    {__NR_renameat2, "rename", BPF_ARG1(1) | BPF_ARG2(3)},
    {__NR_execve, "exec", BPF_ARG1(0)},
    {__NR_execveat, "exec", BPF_ARG1(1)},
    {__NR_connect, "connect", BPF_ARG1(1) | BPF_ARG_SOCKADDR},
    /* Not a denial: who created a Landlock domain, so its audit records can be attributed. */
    {__NR_landlock_restrict_self, "landlock", BPF_ON_SUCCESS},
};
const size_t bpf_traced_count = sizeof bpf_traced / sizeof bpf_traced[0];

const struct bpf_traced *bpf_traced_find(int nr) {
  for (size_t i = 0; i < bpf_traced_count; i++)
    if (bpf_traced[i].nr == nr) return &bpf_traced[i];
  return NULL;
}

/* A tiny assembler: forward jumps to labels, resolved at the end. */
enum label { L_CANDIDATE, L_WANT_ERRNO, L_SELECTED, L_RESERVED, L_RAW, L_SECOND, L_SUBMIT, L_EXIT, L_COUNT };
struct as {
  struct bpf_insn *out;
  size_t n, nfix;
  size_t at[L_COUNT];
  struct { size_t insn; enum label to; } fix[32];
};

static void op(struct as *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  a->out[a->n++] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}
static void mov(struct as *a, int dst, int src) { op(a, BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
static void movi(struct as *a, int dst, int32_t imm) { op(a, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
static void alui(struct as *a, uint8_t alu, int dst, int32_t imm) { op(a, BPF_ALU64 | alu | BPF_K, dst, 0, 0, imm); }
static void ldx(struct as *a, uint8_t size, int dst, int src, int16_t off) { op(a, BPF_LDX | size | BPF_MEM, dst, src, off, 0); }
static void stx(struct as *a, uint8_t size, int dst, int src, int16_t off) { op(a, BPF_STX | size | BPF_MEM, dst, src, off, 0); }
static void sti(struct as *a, uint8_t size, int dst, int16_t off, int32_t imm) { op(a, BPF_ST | size | BPF_MEM, dst, 0, off, imm); }
static void call(struct as *a, int32_t helper) { op(a, BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
static void ld64(struct as *a, int dst, int src, uint64_t v) {
  op(a, BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)v);
  op(a, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}
static void ldmap(struct as *a, int dst, int fd) { ld64(a, dst, BPF_PSEUDO_MAP_FD, (uint64_t)(uint32_t)fd); }
static void jmp(struct as *a, uint8_t cond, int reg, int32_t imm, enum label to) {
  a->fix[a->nfix++] = (typeof(a->fix[0])){a->n, to};
  op(a, BPF_JMP | cond | BPF_K, reg, 0, 0, imm);
}
static void jump(struct as *a, enum label to) { jmp(a, BPF_JA, 0, 0, to); }
static void here(struct as *a, enum label l) { a->at[l] = a->n; }

/* dst = pointer to the record's string for the argument whose index is in bits `shift`..+1 of r6. */
static void arg_pointer(struct as *a, int shift) {
  mov(a, BPF_REG_1, BPF_REG_6);
  if (shift) alui(a, BPF_RSH, BPF_REG_1, shift);
  alui(a, BPF_AND, BPF_REG_1, 3);
  alui(a, BPF_LSH, BPF_REG_1, 3);
  mov(a, BPF_REG_2, BPF_REG_8);
  op(a, BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0);
  ldx(a, BPF_DW, BPF_REG_3, BPF_REG_2, offsetof(struct bpf_record, args));
}

/* Steps 1-4: leaves unless the exit is a reported one (an errno, or success for a BPF_ON_SUCCESS
 * entry), in the namespace, of a traced syscall. Leaves r6 = the table value, r7 = ret, r9 = regs,
 * the number at fp-16. */
static void select_exit(struct as *a, uint64_t dev, uint64_t ino, int traced) {
  mov(a, BPF_REG_6, BPF_REG_1);
  ldx(a, BPF_DW, BPF_REG_7, BPF_REG_6, 8);
  jmp(a, BPF_JEQ, BPF_REG_7, -EPERM, L_CANDIDATE);
  jmp(a, BPF_JEQ, BPF_REG_7, -EACCES, L_CANDIDATE);
  jmp(a, BPF_JEQ, BPF_REG_7, 0, L_CANDIDATE);
  jmp(a, BPF_JNE, BPF_REG_7, -EROFS, L_EXIT);
  here(a, L_CANDIDATE);
  ld64(a, BPF_REG_1, 0, dev);
  ld64(a, BPF_REG_2, 0, ino);
  mov(a, BPF_REG_3, BPF_REG_10);
  alui(a, BPF_ADD, BPF_REG_3, -8);
  movi(a, BPF_REG_4, 8);
  call(a, BPF_FUNC_get_ns_current_pid_tgid);
  jmp(a, BPF_JNE, BPF_REG_0, 0, L_EXIT);
  /* The syscall number, as the table's key at fp-16. */
  sti(a, BPF_DW, BPF_REG_10, -16, 0);
  ldx(a, BPF_DW, BPF_REG_9, BPF_REG_6, 0);
  mov(a, BPF_REG_1, BPF_REG_10);
  alui(a, BPF_ADD, BPF_REG_1, -16);
  movi(a, BPF_REG_2, 4);
  mov(a, BPF_REG_3, BPF_REG_9);
  alui(a, BPF_ADD, BPF_REG_3, NR_OFF);
  call(a, BPF_FUNC_probe_read_kernel);
  jmp(a, BPF_JNE, BPF_REG_0, 0, L_EXIT);
  ldmap(a, BPF_REG_1, traced);
  mov(a, BPF_REG_2, BPF_REG_10);
  alui(a, BPF_ADD, BPF_REG_2, -16);
  call(a, BPF_FUNC_map_lookup_elem);
  jmp(a, BPF_JEQ, BPF_REG_0, 0, L_EXIT);
  ldx(a, BPF_W, BPF_REG_6, BPF_REG_0, 0);
  jmp(a, BPF_JEQ, BPF_REG_6, 0, L_EXIT);
  mov(a, BPF_REG_1, BPF_REG_6);
  alui(a, BPF_AND, BPF_REG_1, BPF_ON_SUCCESS);
  jmp(a, BPF_JEQ, BPF_REG_1, 0, L_WANT_ERRNO);
  jmp(a, BPF_JNE, BPF_REG_7, 0, L_EXIT);
  jump(a, L_SELECTED);
  here(a, L_WANT_ERRNO);
  jmp(a, BPF_JEQ, BPF_REG_7, 0, L_EXIT);
  here(a, L_SELECTED);
}

/* Step 5: a record in r8 (jumps to L_RESERVED), or the loss counted and out. */
static void reserve(struct as *a, int ringbuf, int lost) {
  ldmap(a, BPF_REG_1, ringbuf);
  movi(a, BPF_REG_2, sizeof(struct bpf_record));
  movi(a, BPF_REG_3, 0);
  call(a, BPF_FUNC_ringbuf_reserve);
  jmp(a, BPF_JNE, BPF_REG_0, 0, L_RESERVED);
  /* The ring is full: count the event so the loss is reported, never silent. */
  sti(a, BPF_W, BPF_REG_10, -24, 0);
  ldmap(a, BPF_REG_1, lost);
  mov(a, BPF_REG_2, BPF_REG_10);
  alui(a, BPF_ADD, BPF_REG_2, -24);
  call(a, BPF_FUNC_map_lookup_elem);
  jmp(a, BPF_JEQ, BPF_REG_0, 0, L_EXIT);
  movi(a, BPF_REG_1, 1);
  op(a, BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_0, BPF_REG_1, 0, BPF_ADD);
  jump(a, L_EXIT);
  here(a, L_RESERVED);
  mov(a, BPF_REG_8, BPF_REG_0);
}

/* The record's fixed part: time, ids, result, number, the six arguments, the name. */
static void fill_record(struct as *a) {
  call(a, BPF_FUNC_ktime_get_boot_ns);
  stx(a, BPF_DW, BPF_REG_8, BPF_REG_0, offsetof(struct bpf_record, boot_ns));
  call(a, BPF_FUNC_get_current_pid_tgid);
  stx(a, BPF_W, BPF_REG_8, BPF_REG_0, offsetof(struct bpf_record, tid));
  alui(a, BPF_RSH, BPF_REG_0, 32);
  stx(a, BPF_W, BPF_REG_8, BPF_REG_0, offsetof(struct bpf_record, pid));
  stx(a, BPF_DW, BPF_REG_8, BPF_REG_7, offsetof(struct bpf_record, ret));
  ldx(a, BPF_DW, BPF_REG_1, BPF_REG_10, -16);
  stx(a, BPF_DW, BPF_REG_8, BPF_REG_1, offsetof(struct bpf_record, nr));
  for (int i = 0; i < 6; i++) {
    mov(a, BPF_REG_1, BPF_REG_8);
    alui(a, BPF_ADD, BPF_REG_1, (int32_t)(offsetof(struct bpf_record, args) + 8 * (size_t)i));
    movi(a, BPF_REG_2, 8);
    mov(a, BPF_REG_3, BPF_REG_9);
    alui(a, BPF_ADD, BPF_REG_3, ARG_OFF[i]);
    call(a, BPF_FUNC_probe_read_kernel);
  }
  mov(a, BPF_REG_1, BPF_REG_8);
  alui(a, BPF_ADD, BPF_REG_1, offsetof(struct bpf_record, comm));
  movi(a, BPF_REG_2, sizeof(((struct bpf_record *)0)->comm));
  call(a, BPF_FUNC_get_current_comm);
  sti(a, BPF_B, BPF_REG_8, offsetof(struct bpf_record, path[0]), 0);
  sti(a, BPF_B, BPF_REG_8, offsetof(struct bpf_record, path[1]), 0);
}

/* The pointer arguments the table value names: a string, or connect's sockaddr as raw bytes. */
static void read_pointers(struct as *a) {
  mov(a, BPF_REG_1, BPF_REG_6);
  alui(a, BPF_AND, BPF_REG_1, 0x4);
  jmp(a, BPF_JEQ, BPF_REG_1, 0, L_SUBMIT);
  arg_pointer(a, 0);
  mov(a, BPF_REG_1, BPF_REG_8);
  alui(a, BPF_ADD, BPF_REG_1, offsetof(struct bpf_record, path[0]));
  mov(a, BPF_REG_2, BPF_REG_6);
  alui(a, BPF_AND, BPF_REG_2, BPF_ARG_SOCKADDR);
  jmp(a, BPF_JNE, BPF_REG_2, 0, L_RAW);
  movi(a, BPF_REG_2, BPF_PATH_BYTES);
  call(a, BPF_FUNC_probe_read_user_str);
  jump(a, L_SECOND);
  here(a, L_RAW);
  movi(a, BPF_REG_2, BPF_SOCKADDR_BYTES);
  call(a, BPF_FUNC_probe_read_user);
  here(a, L_SECOND);
  mov(a, BPF_REG_1, BPF_REG_6);
  alui(a, BPF_AND, BPF_REG_1, 0x40);
  jmp(a, BPF_JEQ, BPF_REG_1, 0, L_SUBMIT);
  arg_pointer(a, 4);
  mov(a, BPF_REG_1, BPF_REG_8);
  alui(a, BPF_ADD, BPF_REG_1, offsetof(struct bpf_record, path[1]));
  movi(a, BPF_REG_2, BPF_PATH_BYTES);
  call(a, BPF_FUNC_probe_read_user_str);
}

size_t bpf_program_build(struct bpf_insn *out, uint64_t dev, uint64_t ino, int ringbuf, int traced, int lost) {
  struct as a = {.out = out};
  /* Registers: r6 ctx then the table value, r7 ret, r8 the record, r9 regs. */
  select_exit(&a, dev, ino, traced);
  reserve(&a, ringbuf, lost);
  fill_record(&a);
  read_pointers(&a);
  here(&a, L_SUBMIT);
  mov(&a, BPF_REG_1, BPF_REG_8);
  movi(&a, BPF_REG_2, 0);
  call(&a, BPF_FUNC_ringbuf_submit);
  here(&a, L_EXIT);
  movi(&a, BPF_REG_0, 0);
  op(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

  for (size_t i = 0; i < a.nfix; i++) a.out[a.fix[i].insn].off = (int16_t)(a.at[a.fix[i].to] - a.fix[i].insn - 1);
  return a.n;
}
