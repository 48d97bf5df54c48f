/**
 * A classic-BPF interpreter for the tests: runs a `struct sock_filter[]` program over a
 * `struct seccomp_data` the way the kernel does, for the instructions seccomp allows.
 */

export interface SeccompData {
  readonly nr: number;
  readonly arch: number;
  readonly instructionPointer?: bigint;
  /** Up to six 64-bit arguments. */
  readonly args?: readonly bigint[];
}

/** Encodes seccomp_data (64 bytes, little endian). */
export function encodeSeccompData(data: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(64));
  view.setUint32(0, data.nr >>> 0, true);
  view.setUint32(4, data.arch >>> 0, true);
  view.setBigUint64(8, data.instructionPointer ?? 0n, true);
  (data.args ?? []).forEach((a, i) => view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true));
  return view;
}

/** Runs the program and returns the 32-bit value of the RET it reaches. */
export function runBpf(program: Uint8Array, data: SeccompData): number {
  if (program.length % 8 !== 0) throw new Error('program is not a whole number of instructions');
  const code = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const input = encodeSeccompData(data);
  const count = program.length / 8;
  let a = 0;
  for (let pc = 0; pc < count; pc++) {
    const op = code.getUint16(pc * 8, true);
    const jt = code.getUint8(pc * 8 + 2);
    const jf = code.getUint8(pc * 8 + 3);
    const k = code.getUint32(pc * 8 + 4, true);
    switch (op) {
      case 0x20: // BPF_LD | BPF_W | BPF_ABS
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`pc ${pc}: load out of seccomp_data (${k})`);
        a = input.getUint32(k, true);
        break;
      case 0x05: // BPF_JMP | BPF_JA
        pc += k;
        break;
      case 0x15: // BPF_JMP | BPF_JEQ | BPF_K
        pc += a === k ? jt : jf;
        break;
      case 0x25: // BPF_JMP | BPF_JGT | BPF_K
        pc += a > k ? jt : jf;
        break;
      case 0x35: // BPF_JMP | BPF_JGE | BPF_K
        pc += a >= k ? jt : jf;
        break;
      case 0x45: // BPF_JMP | BPF_JSET | BPF_K
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // BPF_RET | BPF_K
        return k;
      default:
        throw new Error(`pc ${pc}: unsupported opcode 0x${op.toString(16)}`);
    }
  }
  throw new Error('program ran off its end without RET');
}

/** ACTION_ONLY in kernel/seccomp.c: the action as a signed int, so KILL_PROCESS sorts first. */
const actionOnly = (ret: number): number => (ret & 0xffff0000) | 0;

/**
 * Runs stacked filters, newest first, the way the kernel does: the most restrictive action wins
 * and, among equal actions, the newest filter's return value.
 */
export function runStack(programs: readonly Uint8Array[], data: SeccompData): number {
  return programs
    .map((program) => runBpf(program, data))
    .reduce((decided, ret) => (actionOnly(ret) < actionOnly(decided) ? ret : decided));
}
