import { describe, expect, it } from 'vitest';
import { buildBpftraceScript, ebpfViolation, isAttachedLine, parseBpftraceOutput, TRACED_SYSCALLS } from '../src/bpftrace-script.js';

const script = buildBpftraceScript({ pidns: 4026532179, level: 1 });

describe('buildBpftraceScript', () => {
  it('filters every probe by the pid namespace inode at the given level', () => {
    const filter =
      '/curtask->thread_pid->level >= 1 && ((struct upid *)((uint64)curtask->thread_pid + sizeof(struct pid) + 1 * sizeof(struct upid)))->ns->ns.inum == 4026532179';
    const probes = script.split('\n').filter((l) => l.startsWith('tracepoint:'));
    expect(probes).toHaveLength(TRACED_SYSCALLS.length * 2 + 1);
    for (const p of probes) expect(p).toContain(filter);
  });

  it('traces the exits of openat, unlinkat, mkdirat, renameat2, connect and execve', () => {
    for (const s of ['openat', 'unlinkat', 'mkdirat', 'renameat2', 'connect', 'execve']) {
      expect(script).toContain(`tracepoint:syscalls:sys_enter_${s} /`);
      expect(script).toContain(`tracepoint:syscalls:sys_exit_${s} /`);
    }
  });

  it('reports only EPERM, EACCES and EROFS', () => {
    expect(script.match(/if \(args->ret == -1 \|\| args->ret == -13 \|\| args->ret == -30\) \{/g)).toHaveLength(TRACED_SYSCALLS.length);
  });

  it('prints one tab-separated line per event with the path copied at entry', () => {
    expect(script).toContain('@path[tid] = str(args->filename);');
    expect(script).toContain('printf("open\\t%d\\t%d\\t%s\\t%s\\n", -args->ret, pid, comm, @path[tid]);');
    expect(script).toContain('printf("rename\\t%d\\t%d\\t%s\\t%s -> %s\\n", -args->ret, pid, comm, @path[tid], @path2[tid]);');
    expect(script).toContain('printf("connect\\t%d\\t%d\\t%s\\t%s:%d\\n", -args->ret, pid, comm, @in4[tid], @port[tid]);');
  });

  it('exits by itself when pid 1 of the namespace exits', () => {
    expect(script).toMatch(/tracepoint:sched:sched_process_exit \/curtask.*== 4026532179 && \(\(struct upid \*\)\(.*\)\)->nr == 1\/ \{\n {2}exit\(\);\n\}/);
  });

  it('clears its maps at END so bpftrace prints nothing else when stopped', () => {
    expect(script).toMatch(/END \{\n {2}clear\(@path\);/);
    for (const m of ['@path2', '@family', '@port', '@in4', '@in6']) expect(script).toContain(`clear(${m});`);
  });

  it('traces only the syscalls asked for and declares only their maps', () => {
    const s = buildBpftraceScript({ pidns: 5, level: 2, syscalls: ['openat'] });
    expect(s).toContain('sys_exit_openat');
    expect(s).not.toContain('sys_exit_connect');
    expect(s).not.toContain('@in4');
    expect(s).toContain('+ 2 * sizeof(struct upid)');
  });

  it('rejects a namespace, a level or a syscall that would make a broken program', () => {
    expect(() => buildBpftraceScript({ pidns: 1.5, level: 1 })).toThrow(/pidns must be an integer/);
    expect(() => buildBpftraceScript({ pidns: 7, level: 0 })).toThrow(/level must be an integer in 1\.\.32/);
    expect(() => buildBpftraceScript({ pidns: 7, level: 1, syscalls: ['ptrace'] })).toThrow(/cannot trace ptrace/);
    expect(() => buildBpftraceScript({ pidns: 7, level: 1, syscalls: [] })).toThrow(/no syscall to trace/);
  });
});

describe('parseBpftraceOutput', () => {
  it('reads an event from a printf record', () => {
    const line = '{"type": "printf", "data": "open\\t30\\t11109\\ttouch\\t/etc/fence-x\\n"}';
    expect(parseBpftraceOutput(line)).toEqual({ op: 'open', errno: 30, pid: 11109, comm: 'touch', target: '/etc/fence-x' });
  });

  it('keeps a newline inside a path in the same event instead of reading a second one', () => {
    const line = JSON.stringify({ type: 'printf', data: 'open\t13\t7\tsh\t/x\nopen\t30\t1\tfake\t/forged\n' });
    expect(parseBpftraceOutput(line)).toMatchObject({ pid: 7, comm: 'sh', target: '/x\nopen\t30\t1\tfake\t/forged' });
  });

  it('ignores other records and non-JSON lines', () => {
    expect(parseBpftraceOutput('{"type": "attached_probes", "data": {"probes": 29}}')).toBeUndefined();
    expect(parseBpftraceOutput('{"type": "printf", "data": "hello\\n"}')).toBeUndefined();
    expect(parseBpftraceOutput('ERROR: Unknown error -1')).toBeUndefined();
  });

  it('recognises the attach notice', () => {
    expect(isAttachedLine('{"type": "attached_probes", "data": {"probes": 29}}')).toBe(true);
    expect(isAttachedLine('{"type": "printf", "data": "attached_probes"}')).toBe(false);
  });
});

describe('ebpfViolation', () => {
  it('renders as the SPEC line open: Read-only file system (touch, pid=N)', () => {
    const v = ebpfViolation({ op: 'open', errno: 30, pid: 42, comm: 'touch', target: '/etc/x' }, 1000);
    expect(v).toEqual({
      time: 1000,
      source: 'ebpf',
      action: 'block',
      target: '/etc/x',
      process: 'touch',
      pid: 42,
      reason: 'Read-only file system',
      detail: 'open: Read-only file system (touch, pid=42)',
    });
  });
});
