import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SECCOMP_ARCHES, SYSCALL_NAMES, seccompArchOf, syscallNumber, type SeccompArch } from '../src/index.js';

/** Where this machine's kernel headers keep each table (Debian's linux-libc-dev). */
const HEADERS: Record<SeccompArch, readonly string[]> = {
  x86_64: ['/usr/include/x86_64-linux-gnu/asm/unistd_64.h', '/usr/include/asm/unistd_64.h'],
  aarch64: ['/usr/include/asm-generic/unistd.h'],
};

function headerNumbers(file: string): Map<string, number> {
  const numbers = new Map<string, number>();
  for (const m of readFileSync(file, 'utf8').matchAll(/^#define __NR(?:3264)?_(\w+)\s+(\d+)\s*$/gm)) {
    numbers.set(m[1]!, Number(m[2]));
  }
  return numbers;
}

describe.each(SECCOMP_ARCHES)('syscallNumber on %s', (arch) => {
  const header = HEADERS[arch].find((f) => existsSync(f));

  it.skipIf(!header)('matches the kernel headers installed on this machine', () => {
    const numbers = headerNumbers(header!);
    for (const name of SYSCALL_NAMES) expect([name, syscallNumber(arch, name)]).toEqual([name, numbers.get(name)]);
  });
  if (!header) console.log(`skipped: no ${arch} syscall header (${HEADERS[arch].join(', ')}); install linux-libc-dev`);
});

describe('syscallNumber', () => {
  it('knows that aarch64 has no ioperm or iopl', () => {
    expect(syscallNumber('aarch64', 'ioperm')).toBeUndefined();
    expect(syscallNumber('aarch64', 'iopl')).toBeUndefined();
    expect(syscallNumber('x86_64', 'iopl')).toBe(172);
  });
});

describe('seccompArchOf', () => {
  it('maps the Node architectures Fence filters and nothing else', () => {
    expect(seccompArchOf('x64')).toBe('x86_64');
    expect(seccompArchOf('arm64')).toBe('aarch64');
    expect(seccompArchOf('ia32')).toBeUndefined();
    expect(seccompArchOf('riscv64')).toBeUndefined();
  });
});
