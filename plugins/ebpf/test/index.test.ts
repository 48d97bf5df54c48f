import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Kernel, type LaunchPlan, type RunningCommand, type Violation } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { detectEbpf } from '../src/detect.js';
import { ebpfPlugin } from '../src/index.js';
import { findSandboxPidNamespace, pidNamespaceOf } from '../src/pid-namespace.js';
import { skipReason, startSandbox } from './sandbox.js';

const skip = await skipReason();
if (skip) console.log(`eBPF plugin tests skipped: ${skip}`);
const children: { kill(): void }[] = [];
afterEach(() => children.splice(0).forEach((c) => c.kill()));

describe('ebpfPlugin', () => {
  it('is required under --strict only with -m', () => {
    expect(ebpfPlugin.requiredUnderStrict?.({ monitor: true })).toBe(true);
    expect(ebpfPlugin.requiredUnderStrict?.({ monitor: false })).toBe(false);
  });

  it.skipIf(skip)('reports the sandbox\'s denial between the monitor and exit hooks of a command', async () => {
    const kernel = new Kernel({ plugins: [ebpfPlugin], options: { platform: 'linux', debug: false, monitor: true, strict: false, ports: [] } });
    ebpfPlugin.apply(kernel);
    const plan = {} as LaunchPlan;
    await kernel.hooks.prepare.promise(plan, new Map([['ebpf', await detectEbpf()]]));
    expect(helperSession(kernel).hooks.holdStart.call()).toBe(true);
    const seen: Violation[] = [];
    kernel.violations.on((v) => seen.push(v));
    // The sandbox waits for a byte on stdin: the monitor is attached before its first denial.
    const child = startSandbox('read go; mkdir /usr/fence-ebpf-dir 2>/dev/null; true');
    children.push(child);
    const wrapper = { pid: child.pid!, report: '', reported: Promise.resolve('') };
    const command: RunningCommand = { plan, argv: ['sh'], pid: child.pid!, wrapper, startedAt: Date.now(), monitor: true };
    await kernel.hooks.monitor.promise(command);
    child.stdin!.end('go\n');
    const status = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    await kernel.hooks.exit.promise({ command, status });
    // Exit resolved: every event of the command is in the stream, none left in the kernel's buffer.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ source: 'ebpf', target: '/usr/fence-ebpf-dir', reason: 'Read-only file system', process: 'mkdir' });
    expect(seen[0]!.detail).toMatch(/^mkdir: Read-only file system \(mkdir, pid=\d+\)$/);
  }, 30_000);
});

describe.skipIf(skip)('findSandboxPidNamespace', () => {
  it('finds the namespace bwrap created, on the same namespace file system as ours', async () => {
    const child = startSandbox('sleep 10');
    children.push(child);
    const ns = await findSandboxPidNamespace(child.pid!);
    const own = pidNamespaceOf('self')!;
    expect(ns!.inode).not.toBe(own.inode);
    expect(ns!.dev).toBe(own.dev);
  });

  it('gives up when the command never leaves our namespace', async () => {
    const child = spawn('sleep', ['10']);
    children.push(child);
    expect(await findSandboxPidNamespace(child.pid!, 200)).toBeUndefined();
  });
});
