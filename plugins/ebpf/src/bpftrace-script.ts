/**
 * The bpftrace program of the eBPF monitor, and the parser of what it prints. Pure: no fs, no
 * child_process.
 *
 * Only tasks whose PID namespace at the sandbox's nesting level is the sandbox's own are traced
 * (SPEC §4.4: by PID namespace, not by PID range). The test is done in the kernel, in each probe's
 * predicate, so the rest of the machine costs nothing but the predicate:
 *
 *   task->thread_pid->numbers[level].ns->ns.inum == <inode of the sandbox's pid namespace>
 *
 * bpftrace 0.17 refuses a variable index into the flexible `numbers[]` array, so the entry is
 * addressed by hand (it starts right after `struct pid`). A task of a namespace nested below the
 * sandbox's has the sandbox's namespace at the same level, so it is traced too.
 *
 * Each probe pair stashes the syscall's arguments at sys_enter (copied while the user memory is
 * certainly mapped) and prints one line at sys_exit when the result is -EPERM, -EACCES or -EROFS:
 *
 *   <op>\t<errno>\t<host pid>\t<comm>\t<target>
 *
 * bpftrace exits by itself when the namespace's init exits.
 *
 * Run bpftrace with `-f json`: every printf arrives JSON-escaped, so a path holding a newline
 * cannot forge a second event. comm and target are chosen by the sandboxed program anyway.
 */
import type { Violation } from '@fence/core';

/** The errno values the monitor reports, with their strerror text. */
export const REPORTED_ERRNOS: Readonly<Record<number, string>> = {
  1: 'Operation not permitted',
  13: 'Permission denied',
  30: 'Read-only file system',
};

type ArgsKind =
  | { readonly kind: 'path'; readonly arg: string }
  | { readonly kind: 'rename' }
  | { readonly kind: 'connect' };

export type TracedSyscall = { readonly name: string; readonly op: string } & ArgsKind;

/**
 * Syscalls traced when their tracepoint exists. The first six are the SPEC's; the others are the
 * legacy x86_64 entry points glibc still uses for mkdir(), unlink(), rmdir() and rename().
 */
export const TRACED_SYSCALLS: readonly TracedSyscall[] = [
  { name: 'openat', op: 'open', kind: 'path', arg: 'filename' },
  { name: 'unlinkat', op: 'unlink', kind: 'path', arg: 'pathname' },
  { name: 'mkdirat', op: 'mkdir', kind: 'path', arg: 'pathname' },
  { name: 'renameat2', op: 'rename', kind: 'rename' },
  { name: 'connect', op: 'connect', kind: 'connect' },
  { name: 'execve', op: 'exec', kind: 'path', arg: 'filename' },
  { name: 'open', op: 'open', kind: 'path', arg: 'filename' },
  { name: 'creat', op: 'open', kind: 'path', arg: 'pathname' },
  { name: 'mkdir', op: 'mkdir', kind: 'path', arg: 'pathname' },
  { name: 'unlink', op: 'unlink', kind: 'path', arg: 'pathname' },
  { name: 'rmdir', op: 'rmdir', kind: 'path', arg: 'pathname' },
  { name: 'rename', op: 'rename', kind: 'rename' },
  { name: 'renameat', op: 'rename', kind: 'rename' },
  { name: 'execveat', op: 'exec', kind: 'path', arg: 'filename' },
];

/**
 * BPFTRACE_STRLEN for the program: the longest path shown is one less. bpftrace 0.17 copies the
 * string twice on the exit probe's 512-byte BPF stack; 96 already overflows it.
 */
export const BPFTRACE_STRLEN = 80;

export interface BpftraceScriptOptions {
  /** Inode of the sandbox's PID namespace (`readlink /proc/<pid>/ns/pid` → `pid:[INODE]`). */
  readonly pidns: number;
  /** Nesting level of that namespace (entries in NSpid of /proc/<pid>/status, minus one); ≥ 1. */
  readonly level: number;
  /** Names from TRACED_SYSCALLS to trace (those whose tracepoints exist); default: all. */
  readonly syscalls?: readonly string[];
}

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

const upid = (level: number) => `(struct upid *)((uint64)curtask->thread_pid + sizeof(struct pid) + ${level} * sizeof(struct upid))`;

function nsFilter(pidns: number, level: number): string {
  return `curtask->thread_pid->level >= ${level} && (${upid(level)})->ns->ns.inum == ${pidns}`;
}

/**
 * When the namespace's init (pid 1 there) exits, the kernel kills the rest of the namespace:
 * nothing is left to trace, so bpftrace stops itself, even when Fence was killed first.
 */
function stopWithNamespace(filter: string, level: number): string {
  return `tracepoint:sched:sched_process_exit /${filter} && (${upid(level)})->nr == 1/ {\n  exit();\n}`;
}

const failed = Object.keys(REPORTED_ERRNOS)
  .map((e) => `args->ret == -${e}`)
  .join(' || ');

const head = (op: string) => `"${op}\\t%d\\t%d\\t%s\\t`;
const common = '-args->ret, pid, comm';

function enterBody(s: TracedSyscall): string[] {
  switch (s.kind) {
    case 'path':
      return [`@path[tid] = str(args->${s.arg});`];
    case 'rename':
      return ['@path[tid] = str(args->oldname);', '@path2[tid] = str(args->newname);'];
    case 'connect':
      return [
        '$sa = (struct sockaddr_in *)args->uservaddr;',
        '@family[tid] = $sa->sin_family;',
        `if ($sa->sin_family == ${AF_INET}) {`,
        '  @port[tid] = (($sa->sin_port & 0xff) << 8) | ($sa->sin_port >> 8);',
        `  @in4[tid] = ntop(${AF_INET}, $sa->sin_addr.s_addr);`,
        '}',
        `if ($sa->sin_family == ${AF_INET6}) {`,
        '  $s6 = (struct sockaddr_in6 *)args->uservaddr;',
        '  @port[tid] = (($s6->sin6_port & 0xff) << 8) | ($s6->sin6_port >> 8);',
        `  @in6[tid] = ntop(${AF_INET6}, $s6->sin6_addr.in6_u.u6_addr8);`,
        '}',
        `if ($sa->sin_family == ${AF_UNIX}) {`,
        // sun_path follows the 2-byte family
        '  @path[tid] = str((uint64)args->uservaddr + 2);',
        '}',
      ];
  }
}

function exitReport(s: TracedSyscall): string[] {
  switch (s.kind) {
    case 'path':
      return [`printf(${head(s.op)}%s\\n", ${common}, @path[tid]);`];
    case 'rename':
      return [`printf(${head(s.op)}%s -> %s\\n", ${common}, @path[tid], @path2[tid]);`];
    case 'connect':
      return [
        `if (@family[tid] == ${AF_INET}) { printf(${head(s.op)}%s:%d\\n", ${common}, @in4[tid], @port[tid]); }`,
        `if (@family[tid] == ${AF_INET6}) { printf(${head(s.op)}[%s]:%d\\n", ${common}, @in6[tid], @port[tid]); }`,
        `if (@family[tid] == ${AF_UNIX}) { printf(${head(s.op)}unix:%s\\n", ${common}, @path[tid]); }`,
        `if (@family[tid] != ${AF_INET} && @family[tid] != ${AF_INET6} && @family[tid] != ${AF_UNIX}) {`,
        `  printf(${head(s.op)}family %d\\n", ${common}, @family[tid]);`,
        '}',
      ];
  }
}

function mapsOf(s: TracedSyscall): string[] {
  if (s.kind === 'path') return ['@path'];
  if (s.kind === 'rename') return ['@path', '@path2'];
  return ['@family', '@port', '@in4', '@in6', '@path'];
}

function probePair(s: TracedSyscall, filter: string): string {
  const maps = mapsOf(s);
  return [
    `tracepoint:syscalls:sys_enter_${s.name} /${filter}/ {`,
    ...enterBody(s).map((l) => `  ${l}`),
    '}',
    `tracepoint:syscalls:sys_exit_${s.name} /${filter}/ {`,
    `  if (${failed}) {`,
    ...exitReport(s).map((l) => `    ${l}`),
    '  }',
    ...maps.map((m) => `  delete(${m}[tid]);`),
    '}',
  ].join('\n');
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`fence: ebpf: ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/** The bpftrace program tracing the sandbox whose PID namespace is `pidns` at `level`. */
export function buildBpftraceScript(options: BpftraceScriptOptions): string {
  checkInteger('pidns', options.pidns, 1, 0xffffffff);
  // The kernel nests PID namespaces at most 32 deep (MAX_PID_NS_LEVEL).
  checkInteger('level', options.level, 1, 32);
  const wanted = options.syscalls ?? TRACED_SYSCALLS.map((s) => s.name);
  const unknown = wanted.filter((n) => !TRACED_SYSCALLS.some((s) => s.name === n));
  if (unknown.length) throw new RangeError(`fence: ebpf: cannot trace ${unknown.join(', ')}; known: ${TRACED_SYSCALLS.map((s) => s.name).join(', ')}`);
  const traced = TRACED_SYSCALLS.filter((s) => wanted.includes(s.name));
  if (traced.length === 0) throw new RangeError('fence: ebpf: no syscall to trace; none of the tracepoints exist');
  const filter = nsFilter(options.pidns, options.level);
  const maps = [...new Set(traced.flatMap(mapsOf))];
  return [
    `// fence eBPF monitor: pid namespace ${options.pidns} (level ${options.level})`,
    ...traced.map((s) => probePair(s, filter)),
    stopWithNamespace(filter, options.level),
    // Without this, bpftrace dumps the leftover maps when it stops.
    `END {\n${maps.map((m) => `  clear(${m});`).join('\n')}\n}`,
    '',
  ].join('\n');
}

/** One failing syscall seen by the monitor. */
export interface EbpfEvent {
  readonly op: string;
  readonly errno: number;
  readonly pid: number;
  readonly comm: string;
  readonly target: string;
}

const EVENT_LINE = /^([a-z]+)\t(\d+)\t(\d+)\t([^\t]*)\t([\s\S]*)$/;

/** Parses one line of bpftrace's `-f json` output; undefined for anything but an event. */
export function parseBpftraceOutput(line: string): EbpfEvent | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isPrintf(record)) return undefined;
  const m = EVENT_LINE.exec(record.data.replace(/\n$/, ''));
  if (!m) return undefined;
  return { op: m[1]!, errno: Number(m[2]), pid: Number(m[3]), comm: m[4]!, target: m[5]! };
}

function isPrintf(r: unknown): r is { type: 'printf'; data: string } {
  return typeof r === 'object' && r !== null && (r as { type?: unknown }).type === 'printf' && typeof (r as { data?: unknown }).data === 'string';
}

/** Whether a line of `-f json` output says the probes are attached. */
export function isAttachedLine(line: string): boolean {
  return /^\{"type": ?"attached_probes"/.test(line);
}

/** strerror() of the errnos the monitor reports. */
export function errnoText(errno: number): string {
  return REPORTED_ERRNOS[errno] ?? `errno ${errno}`;
}

/** The violation for an event: rendered `open: Read-only file system (touch, pid=N)`. */
export function ebpfViolation(event: EbpfEvent, time: number): Violation {
  const reason = errnoText(event.errno);
  return {
    time,
    source: 'ebpf',
    action: 'block',
    target: event.target,
    process: event.comm,
    pid: event.pid,
    reason,
    detail: `${event.op}: ${reason} (${event.comm}, pid=${event.pid})`,
  };
}
