import { afterEach, describe, expect, it } from 'vitest';
import { fence, hasProgram, workspace, type Workspace } from '../src/fence.js';

const canTrace = process.getuid?.() === 0 && hasProgram('bpftrace');
if (!canTrace) console.warn('monitor e2e skipped: needs root and bpftrace');

describe.runIf(canTrace)('fence -m with the eBPF monitor', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('sees a denial made in the command’s very first instructions, and names seccomp syscalls', { timeout: 200_000 }, async () => {
    ws = workspace('root');
    // Audit records are attributed by the PID namespace of a live process: python stays a moment.
    const ptrace = 'python3 -c "import ctypes, time; ctypes.CDLL(None).syscall(101, 0, 0, 0, 0); time.sleep(0.5)"';
    const seccompLine = /\[fence:seccomp\] \d\d:\d\d:\d\d ✗ ptrace: Operation not permitted \(python3, pid=\d+\)/;
    // Seccomp records pass the kernel's printk rate limit (10 per 5 s without auditd), shared with
    // every other test's denials: a run that lost its record to it is tried again (each takes ~5 s).
    let stderr = '';
    for (let attempt = 0; attempt < 3 && !seccompLine.test(stderr); attempt++) {
      const r = await fence(ws, ['-m', '-c', `touch /etc/fence-e2e-monitor; ${ptrace}`], { timeoutMs: 60_000 });
      stderr = r.stderr;
      expect(stderr).toMatch(/\[fence:ebpf\] \d\d:\d\d:\d\d ✗ open: Read-only file system \(touch, pid=\d+\)/);
    }
    expect(stderr).toMatch(seccompLine);
    expect(stderr).toMatch(/fence: blocked \d+ actions/);
  });
});
