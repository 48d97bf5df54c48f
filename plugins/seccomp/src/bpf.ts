/**
 * A tiny classic-BPF assembler: instructions with symbolic jump targets, resolved into the
 * kernel's `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }` array (8 bytes each, little
 * endian, which is the byte order of every architecture Fence filters for).
 */

/** Opcode parts from <linux/bpf_common.h>, combined with `|`. */
export const BPF = {
  // instruction classes
  LD: 0x00,
  JMP: 0x05,
  RET: 0x06,
  // ld/ldx fields
  W: 0x00,
  ABS: 0x20,
  // jmp fields
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  // source operand
  K: 0x00,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** A jump target: a label name, or a relative skip (0 = fall through to the next instruction). */
export type Target = string | number;

export interface Instruction {
  readonly code: number;
  readonly jt: Target;
  readonly jf: Target;
  readonly k: number;
}

export interface Label {
  readonly label: string;
}

export type Item = Instruction | Label;

/** A non-jump instruction, e.g. `stmt(BPF.LD | BPF.W | BPF.ABS, 4)`. */
export function stmt(code: number, k: number): Instruction {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

/** A conditional jump: `jt` when the test holds, `jf` otherwise. */
export function jump(code: number, k: number, jt: Target, jf: Target): Instruction {
  return { code, jt, jf, k: k >>> 0 };
}

/** Marks the position of the next instruction. */
export function label(name: string): Label {
  return { label: name };
}

const isLabel = (item: Item): item is Label => 'label' in item;

/** Resolves the labels and encodes the program; throws when a label is unknown or out of reach. */
export function assemble(items: readonly Item[]): Uint8Array {
  const positions = new Map<string, number>();
  const code: Instruction[] = [];
  for (const item of items) {
    if (!isLabel(item)) {
      code.push(item);
      continue;
    }
    if (positions.has(item.label)) throw new Error(`bpf: label "${item.label}" defined twice`);
    positions.set(item.label, code.length);
  }
  if (code.length === 0 || code.length > BPF_MAXINSNS) {
    throw new Error(`bpf: a program needs 1..${BPF_MAXINSNS} instructions, got ${code.length}`);
  }

  const bytes = new Uint8Array(code.length * 8);
  const view = new DataView(bytes.buffer);
  code.forEach((ins, pc) => {
    const offset = (target: Target): number => {
      if (typeof target === 'number') return target;
      const at = positions.get(target);
      if (at === undefined) throw new Error(`bpf: unknown label "${target}"`);
      return at - (pc + 1);
    };
    const jt = offset(ins.jt);
    const jf = offset(ins.jf);
    // Classic BPF only jumps forward, at most 255 instructions (u8 offsets).
    for (const [name, value] of [['jt', jt], ['jf', jf]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 255) {
        throw new Error(`bpf: ${name} of instruction ${pc} out of range (${value})`);
      }
    }
    view.setUint16(pc * 8, ins.code, true);
    view.setUint8(pc * 8 + 2, jt);
    view.setUint8(pc * 8 + 3, jf);
    view.setUint32(pc * 8 + 4, ins.k, true);
  });
  return bytes;
}
