import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ViolationStream, type Violation } from '@fence/core';
import { kmsgReadable } from '../src/detect.js';
import { KmsgReader } from '../src/kmsg-reader.js';
import { findSandboxPidNamespace } from '../src/pid-namespace.js';
import { loadTracerAddon } from '../src/tracer.js';
import { skipReason, startSandbox } from './sandbox.js';

const addon = await loadTracerAddon();
// Writing a record into the kernel log needs root; reading it, a readable log. Each written record
// ends with a newline: without it the kernel holds it back as the start of a continued line.
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
    writeFileSync('/dev/kmsg', `${record(inside)}\n`); // before the reader: not reported
    const violations = new ViolationStream();
    const seen: Violation[] = [];
    violations.on((v) => seen.push(v));
    const reader = KmsgReader.start({ fd: addon!.kmsgOpen(), pidns, violations });
    writeFileSync('/dev/kmsg', `${record(process.pid)}\n`); // a host process: not the sandbox's
    writeFileSync('/dev/kmsg', `${record(inside)}\n`);
    await reader.stop(); // no wait: stop() reads what is there
    expect(seen.map((v) => [v.source, v.pid, v.process])).toEqual([['seccomp', inside, 'fence-test']]);
  });

  it('attributes Landlock denials by the domain whose creator is in the sandbox', async () => {
    const child = startSandbox('sleep 10');
    children.push(child);
    const pidns = (await findSandboxPidNamespace(child.pid!))!;
    const inside = Number((await import('node:fs')).readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
    const event = (serial: number, domain: string, pid: number, path: string) => [
      `audit: type=1423 audit(1700000000.200:${serial}): domain=${domain} blockers=fs.make_reg path="${path}" dev="vda" ino=1`,
      `audit: type=1424 audit(1700000000.200:${serial}): domain=${domain} status=allocated mode=enforcing pid=${pid} uid=0 exe="/usr/bin/touch" comm="touch"`,
    ];
    const violations = new ViolationStream();
    const seen: Violation[] = [];
    violations.on((v) => seen.push(v));
    const reader = KmsgReader.start({ fd: addon!.kmsgOpen(), pidns, violations });
    for (const line of [...event(900001, 'f00d1', process.pid, '/host'), ...event(900002, 'f00d2', inside, '/etc')]) writeFileSync('/dev/kmsg', `${line}\n`);
    // A later denial of the same domain comes without its domain record.
    writeFileSync('/dev/kmsg', 'audit: type=1423 audit(1700000000.300:900003): domain=f00d2 blockers=fs.remove_file path="/etc/x" dev="vda" ino=2\n');
    await reader.stop();
    expect(seen.map((v) => [v.source, v.target, v.reason])).toEqual([
      ['landlock', '/etc', 'denied by Landlock (fs.make_reg)'],
      ['landlock', '/etc/x', 'denied by Landlock (fs.remove_file)'],
    ]);
  });
});
