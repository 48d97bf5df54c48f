import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ViolationStream, type Violation } from '@fence/core';
import { processProbe } from '@fence/core';
import { availableSyscalls } from '../src/detect.js';
const which = (p: string) => processProbe.which(p);
import { EbpfMonitor } from '../src/monitor.js';
import { findSandboxPidNamespace } from '../src/pid-namespace.js';
import { skipReason, startSandbox } from './sandbox.js';

const skip = await skipReason();
if (skip) console.log(`eBPF monitor tests skipped: ${skip}`);

const logger = { debugEnabled: false, debug: () => undefined, warn: () => undefined, notice: () => undefined };
const clock = { now: () => Date.now() };
const children: { kill(): void }[] = [];
afterEach(() => children.splice(0).forEach((c) => c.kill()));

function waitFor(violations: ViolationStream, match: (v: Violation) => boolean, ms: number): Promise<Violation> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching violation within ${ms} ms`)), ms);
    const off = violations.on((v) => {
      if (!match(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

describe.skipIf(skip)('EbpfMonitor', () => {
  it('reports touch on the read-only root of the sandbox as open: Read-only file system', async () => {
    const child = startSandbox('for i in $(seq 100); do touch /etc/fence-ebpf-test 2>/dev/null; sleep 0.1; done');
    children.push(child);
    const pidns = await findSandboxPidNamespace(child.pid!);
    expect(pidns).toBeDefined();
    const violations = new ViolationStream();
    const monitor = await EbpfMonitor.start({ bpftrace: which('bpftrace')!, pidns: pidns!, syscalls: availableSyscalls(), violations, clock, logger });
    try {
      const v = await waitFor(violations, (e) => e.target === '/etc/fence-ebpf-test', 5000);
      expect(v).toMatchObject({ source: 'ebpf', action: 'block', process: 'touch', reason: 'Read-only file system' });
      expect(v.detail).toMatch(/^open: Read-only file system \(touch, pid=\d+\)$/);
    } finally {
      await monitor.stop();
    }
  }, 30_000);

  it('does not report denials of processes outside the sandbox namespace', async () => {
    const child = startSandbox('sleep 30');
    children.push(child);
    const pidns = await findSandboxPidNamespace(child.pid!);
    const violations = new ViolationStream();
    const seen: Violation[] = [];
    violations.on((v) => seen.push(v));
    const monitor = await EbpfMonitor.start({ bpftrace: which('bpftrace')!, pidns: pidns!, syscalls: availableSyscalls(), violations, clock, logger });
    // A host process denied EACCES: same syscall, same errno class, other namespace.
    spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'touch', '/root/fence-ebpf-host-test']);
    await monitor.stop();
    expect(seen).toEqual([]);
  }, 30_000);

  it('fails with bpftrace\'s own message when the program does not load', async () => {
    const violations = new ViolationStream();
    const start = EbpfMonitor.start({ bpftrace: which('bpftrace')!, pidns: { inode: 4026531836, level: 1 }, syscalls: ['openat', 'no_such'], violations, clock, logger });
    await expect(start).rejects.toThrow(/^fence: ebpf: cannot trace no_such/);
  });
});

describe.skipIf(skip)('EbpfMonitor lifetime', () => {
  it('ends by itself when the sandbox ends, even if nobody stops it', async () => {
    const child = startSandbox('sleep 4');
    children.push(child);
    const pidns = await findSandboxPidNamespace(child.pid!);
    const monitor = await EbpfMonitor.start({ bpftrace: which('bpftrace')!, pidns: pidns!, syscalls: ['openat'], violations: new ViolationStream(), clock, logger });
    const t0 = Date.now();
    await monitor.closed;
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);
});
