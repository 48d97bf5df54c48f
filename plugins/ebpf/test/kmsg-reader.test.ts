import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ViolationStream, type Violation } from '@fence/core';
import { kmsgReadable } from '../src/detect.js';
import { KmsgReader } from '../src/kmsg-reader.js';
import { findSandboxPidNamespace } from '../src/pid-namespace.js';
import { loadTracerAddon } from '../src/tracer.js';
import { skipReason, startSandbox } from './sandbox.js';

const addon = await loadTracerAddon();
// Writing a record into the kernel log needs root; reading it, a readable log.
const skip = (await skipReason()) ?? (!addon || !kmsgReadable() ? 'no addon or /dev/kmsg unreadable' : undefined);
if (skip) console.log(`kernel log reader tests skipped: ${skip}`);
const children: { kill(): void }[] = [];
afterEach(() => children.splice(0).forEach((c) => c.kill()));

describe.skipIf(skip)('KmsgReader', () => {
  it('reads only records written after it started, attributes them by PID namespace, and reads the last ones at stop', async () => {
    const child = startSandbox('sleep 10');
    children.push(child);
    const pidns = (await findSandboxPidNamespace(child.pid!))!;
    const record = (pid: number) =>
      `audit: type=1326 audit(1700000000.123:${pid}): auid=0 uid=0 gid=0 ses=1 pid=${pid} comm="fence-test" exe="/x" sig=0 arch=c000003e syscall=101 compat=0 ip=0x0 code=0x50000`;
    const inside = Number((await import('node:fs')).readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
    writeFileSync('/dev/kmsg', record(inside)); // before the reader: not reported
    const violations = new ViolationStream();
    const seen: Violation[] = [];
    violations.on((v) => seen.push(v));
    const reader = KmsgReader.start({ fd: addon!.kmsgOpen(), pidns, violations });
    writeFileSync('/dev/kmsg', record(process.pid)); // a host process: not the sandbox's
    writeFileSync('/dev/kmsg', record(inside));
    await reader.stop(); // no wait: stop() reads what is there
    expect(seen.map((v) => [v.source, v.pid, v.process])).toEqual([['seccomp', inside, 'fence-test']]);
  });
});
