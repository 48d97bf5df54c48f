/**
 * Installs the generated program for real with `bwrap --seccomp 3` (no native helper) and
 * checks, from python's ctypes, which syscalls the kernel now refuses and with which errno.
 */
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { buildSeccompProgram } from '../src/seccomp-filter.js';
import { AF_UNIX, AF_VSOCK, CLONE_NEWUSER, DANGEROUS_SYSCALLS, TIOCSTI } from '../src/seccomp-rules.js';
import { seccompArchOf, syscallNumber, type SeccompArch, type SyscallName } from '@fence/syscalls';

const arch = seccompArchOf(process.arch);
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const missing =
  process.platform !== 'linux' ? 'not Linux'
  : !arch ? `no seccomp program for ${process.arch}`
  : !has('bwrap') ? 'bwrap is not installed (apt install bubblewrap)'
  : !has('python3') ? 'python3 is not installed'
  : undefined;
if (missing) console.log(`skipped seccomp e2e: ${missing}`);
const isRoot = process.getuid?.() === 0;
if (!missing && !isRoot) console.log('skipped the uid 65534 runs: setpriv needs root to switch users');

const { EPERM, ENOSYS, ENOTTY } = constants.errno;
const SOCK_STREAM = 1;
const PTRACE_ATTACH = 16;
const CLONE_THREAD = 0x10000;
const TCGETS = 0x5401;
const RLIMIT_NOFILE = 7;

/** [label, syscall, args]: each is called through ctypes syscall(); the result is 0 or errno. */
type Probe = readonly [string, SyscallName, readonly bigint[]];

function probes(a: SeccompArch): Probe[] {
  const listed = DANGEROUS_SYSCALLS.map(([name]) => name).filter((n) => syscallNumber(a, n) !== undefined);
  return [
    ...listed.map((name): Probe => [name, name, []]),
    // Arguments chosen so that, unfiltered, each fails with something other than EPERM (or succeeds).
    ['ptrace(ATTACH)', 'ptrace', [BigInt(PTRACE_ATTACH), 0x3fffffffn]],
    ['personality(1)', 'personality', [1n]],
    ['personality(query)', 'personality', [0xffffffffn]],
    ['io_uring_setup', 'io_uring_setup', [1n, 0n]],
    ['io_uring_enter', 'io_uring_enter', [-1n]],
    ['io_uring_register', 'io_uring_register', [-1n]],
    ['unshare(CLONE_NEWUSER)', 'unshare', [BigInt(CLONE_NEWUSER)]],
    ['unshare(0)', 'unshare', [0n]],
    // CLONE_THREAD makes the call invalid, so a broken filter cannot fork python here.
    ['clone(CLONE_NEWUSER)', 'clone', [BigInt(CLONE_NEWUSER | CLONE_THREAD)]],
    ['clone3', 'clone3', [0n, 0n]],
    ['ioctl(TIOCSTI)', 'ioctl', [0n, BigInt(TIOCSTI), 0n]],
    ['ioctl(TIOCSTI|1<<32)', 'ioctl', [0n, (1n << 32n) | BigInt(TIOCSTI), 0n]],
    ['ioctl(TCGETS)', 'ioctl', [0n, BigInt(TCGETS), 0n]],
    ['socket(AF_VSOCK)', 'socket', [BigInt(AF_VSOCK), BigInt(SOCK_STREAM), 0n]],
    ['socket(AF_UNIX)', 'socket', [BigInt(AF_UNIX), BigInt(SOCK_STREAM), 0n]],
    // Only reads the limit: unfiltered, both succeed (pid 1, bwrap's init, is this user's).
    ['prlimit64(pid 1)', 'prlimit64', [1n, BigInt(RLIMIT_NOFILE), 0n, 0n]],
    ['prlimit64(self)', 'prlimit64', [0n, BigInt(RLIMIT_NOFILE), 0n, 0n]],
  ];
}

const SCRIPT = String.raw`
import ctypes, json, os, socket, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}
for label, nr, args in json.loads(sys.argv[1]):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(int(a) % 2**64) for a in args])
    out[label] = 0 if r >= 0 else ctypes.get_errno()
def attempt(label, fn):
    try:
        fn()
        out[label] = 0
    except OSError as e:
        out[label] = e.errno
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7
def thread():
    box = []
    t = threading.Thread(target=lambda: box.append(1))
    t.start()
    t.join()
    assert box == [1]
attempt('py socket(AF_INET)', lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
attempt('py socketpair(AF_UNIX)', lambda: [s.close() for s in socket.socketpair(socket.AF_UNIX)])
attempt('py fork', fork)
attempt('py thread', thread)
print(json.dumps(out))
`;

interface Outcome {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs python in bwrap, with the program on fd 3 when given, optionally as uid 65534. */
function sandboxed(program: Uint8Array | undefined, pythonArgs: readonly string[], asNobody: boolean): Promise<Outcome> {
  const bwrap = ['bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-user', '--unshare-pid'];
  bwrap.push('--cap-drop', 'ALL', '--chdir', '/', ...(program ? ['--seccomp', '3'] : []), '--', 'python3', ...pythonArgs);
  const argv = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...bwrap] : bwrap;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const fd3 = child.stdio[3] as NodeJS.WritableStream;
  if (program) fd3.write(program);
  fd3.end();
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

async function probeResults(program: Uint8Array | undefined, asNobody: boolean): Promise<Record<string, number>> {
  const list = probes(arch!).map(([label, name, args]) => [label, syscallNumber(arch!, name), args.map(String)]);
  const r = await sandboxed(program, ['-c', SCRIPT, JSON.stringify(list)], asNobody);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, number>;
}

const ALLOWED = ['py socket(AF_INET)', 'py socketpair(AF_UNIX)', 'py fork', 'py thread', 'personality(query)', 'unshare(0)', 'prlimit64(self)'];

// Each test starts bwrap and python: seconds on a loaded machine, not a hang.
describe.skipIf(missing !== undefined)('buildSeccompProgram installed by bwrap --seccomp', { timeout: 30_000 }, () => {
  const program = arch ? buildSeccompProgram({ arch, allowUnixSockets: false }) : undefined;
  const users: [string, boolean][] = isRoot ? [['root', false], ['uid 65534', true]] : [['this user', false]];

  describe.each(users)('as %s', (_who, asNobody) => {
    it("refuses every listed syscall, io_uring, nested user namespaces, TIOCSTI, AF_VSOCK, AF_UNIX and another process's limits with EPERM", async () => {
      const results = await probeResults(program, asNobody);
      const refused = probes(arch!).map(([label]) => label).filter((l) => !['personality(query)', 'unshare(0)', 'prlimit64(self)', 'clone3', 'ioctl(TCGETS)'].includes(l));
      for (const label of refused) expect([label, results[label]]).toEqual([label, EPERM]);
      expect(results['clone3']).toBe(ENOSYS);
      expect(results['ioctl(TCGETS)']).toBe(ENOTTY);
    });

    it('keeps AF_INET sockets, socketpair, fork, threads, the personality query and its own limits working', async () => {
      const results = await probeResults(program, asNobody);
      for (const label of ALLOWED) expect([label, results[label]]).toEqual([label, 0]);
    });
  });

  it('gets its EPERMs from the filter: without it the same calls fail differently or succeed', async () => {
    const results = await probeResults(undefined, false);
    for (const label of ['ptrace(ATTACH)', 'personality(1)', 'unshare(CLONE_NEWUSER)', 'clone(CLONE_NEWUSER)', 'ioctl(TIOCSTI)', 'socket(AF_UNIX)', 'prlimit64(pid 1)', 'clone3']) {
      expect([label, results[label]]).not.toEqual([label, EPERM]);
    }
    expect(results['clone3']).not.toBe(ENOSYS);
  });

  it('allows AF_UNIX sockets when the policy allows Unix sockets', async () => {
    const results = await probeResults(buildSeccompProgram({ arch: arch!, allowUnixSockets: true }), false);
    expect(results['socket(AF_UNIX)']).toBe(0);
    expect(results['socket(AF_VSOCK)']).toBe(EPERM);
  });

  it.skipIf(arch !== 'x86_64')('kills the process on an x32 syscall', async () => {
    const x32Getpid = 0x40000000 + 39;
    const script = `import ctypes; ctypes.CDLL(None).syscall(${x32Getpid}); print("survived")`;
    const r = await sandboxed(program, ['-c', script], false);
    expect(r.stdout).not.toContain('survived');
    // bwrap, as PID 1 of the sandbox, reports a child killed by signal N as 128+N.
    expect(r.status).toBe(128 + constants.signals.SIGSYS);
  });

  it.skipIf(arch !== 'x86_64')('kills the process on an i386 syscall (int 0x80) from a 64-bit process', async () => {
    const script = [
      'import ctypes, mmap',
      'code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax, 20 (i386 getpid); int 0x80; ret',
      'buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)',
      'buf.write(code)',
      'print("pid", ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))())',
    ].join('\n');
    const control = await sandboxed(undefined, ['-c', script], false);
    if (!control.stdout.startsWith('pid')) {
      console.log(`skipped: this kernel does not run i386 syscalls (no IA32 emulation): ${control.stderr.trim()}`);
      return;
    }
    const r = await sandboxed(program, ['-c', script], false);
    expect(r.stdout).not.toContain('pid');
    expect(r.status).toBe(128 + constants.signals.SIGSYS);
  });
});
