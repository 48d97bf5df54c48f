import { describe, expect, it } from 'vitest';
import { assemble, BPF, BPF_MAXINSNS, jump, label, stmt } from '../src/bpf.js';

describe('assemble', () => {
  it('encodes struct sock_filter as 8 little-endian bytes per instruction', () => {
    const bytes = assemble([stmt(BPF.LD | BPF.W | BPF.ABS, 4), stmt(BPF.RET | BPF.K, 0x7fff0000)]);
    expect([...bytes]).toEqual([0x20, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
  });

  it('resolves labels into forward offsets relative to the next instruction', () => {
    const bytes = assemble([
      jump(BPF.JMP | BPF.JEQ | BPF.K, 7, 'yes', 0),
      stmt(BPF.RET | BPF.K, 0),
      label('yes'),
      stmt(BPF.RET | BPF.K, 1),
    ]);
    expect([bytes[2], bytes[3]]).toEqual([1, 0]);
  });

  it('writes k as an unsigned 32-bit value', () => {
    const bytes = assemble([stmt(BPF.RET | BPF.K, 0x80000000)]);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(0x80000000);
  });

  it('refuses unknown and duplicate labels', () => {
    expect(() => assemble([jump(BPF.JMP | BPF.JEQ | BPF.K, 1, 'nowhere', 0)])).toThrow(/unknown label "nowhere"/);
    expect(() => assemble([label('a'), label('a'), stmt(BPF.RET | BPF.K, 0)])).toThrow(/defined twice/);
  });

  it('refuses backward jumps and jumps beyond 255 instructions', () => {
    expect(() => assemble([label('back'), jump(BPF.JMP | BPF.JEQ | BPF.K, 1, 'back', 0)])).toThrow(/jt of instruction 0 out of range \(-1\)/);
    const far = [jump(BPF.JMP | BPF.JEQ | BPF.K, 1, 0, 'end'), ...Array.from({ length: 256 }, () => stmt(BPF.RET | BPF.K, 0))];
    expect(() => assemble([...far, label('end'), stmt(BPF.RET | BPF.K, 0)])).toThrow(/jf of instruction 0 out of range \(256\)/);
  });

  it('refuses empty programs and programs longer than the kernel accepts', () => {
    expect(() => assemble([])).toThrow(/1\.\.4096 instructions, got 0/);
    const tooLong = Array.from({ length: BPF_MAXINSNS + 1 }, () => stmt(BPF.RET | BPF.K, 0));
    expect(() => assemble(tooLong)).toThrow(/got 4097/);
  });
});
