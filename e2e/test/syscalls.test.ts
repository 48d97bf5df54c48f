import { afterEach, describe, expect, it } from 'vitest';
import { fence, hasProgram, USERS, workspace, type Workspace } from '../src/fence.js';

// Each probe prints "<name> <errno>" where errno 0 means the call succeeded.
const PROBES = String.raw`
import ctypes, errno, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(nr, *[ctypes.c_ulong(a) for a in args])
    print(name, 0 if r >= 0 else ctypes.get_errno())
sc('ptrace', 101, 0, 0, 0, 0)                      # PTRACE_TRACEME
sc('process_vm_readv', 310, os.getppid(), 0, 0, 0, 0, 0)
sc('personality', 135, 0x0040000)                  # ADDR_NO_RANDOMIZE
sc('keyctl', 250, 0, 0, 0, 0, 0)
sc('add_key', 248, 0, 0, 0, 0, 0)
sc('bpf', 321, 0, 0, 0)
sc('userfaultfd', 323, 0)
sc('perf_event_open', 298, 0, 0, 0, 0, 0)
sc('mount', 165, 0, 0, 0, 0, 0)
sc('unshare', 272, 0x10000000)                     # CLONE_NEWUSER
sc('io_uring_setup', 425, 1, 0)
for fam, name in ((40, 'socket_vsock'), (1, 'socket_unix')):
    try:
        socket.socket(fam, socket.SOCK_STREAM).close(); print(name, 0)
    except OSError as e:
        print(name, e.errno)
import pty, fcntl, termios
master, slave = pty.openpty()
try:
    fcntl.ioctl(slave, termios.TIOCSTI, b'x'); print('tiocsti', 0)
except OSError as e:
    print('tiocsti', e.errno)
a, b = socket.socketpair(); print('socketpair', 0)
`;

const parse = (out: string) => Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));

describe.runIf(hasProgram('python3')).each(USERS)('the seccomp filter inside fence (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('fails every dangerous syscall with EPERM and keeps socketpair working', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'python3', '-c', PROBES]);
    expect(r.stderr).toBe('');
    const got = parse(r.stdout);
    const EPERM = 1;
    for (const name of ['ptrace', 'process_vm_readv', 'personality', 'keyctl', 'add_key', 'bpf', 'userfaultfd', 'perf_event_open', 'mount', 'unshare', 'io_uring_setup', 'socket_vsock', 'socket_unix', 'tiocsti']) {
      expect.soft(got[name], name).toBe(EPERM);
    }
    expect(got.socketpair).toBe(0);
  });

  it('leaves ordinary programs working: python multiprocessing, node workers and children, git, a compiler', async () => {
    ws = workspace(user);
    const script = [
      `python3 -c 'import multiprocessing as m; print(sum(m.Pool(2).map(abs, [-1, -2, 3])))'`,
      `node -e 'const {Worker}=require("worker_threads"); new Worker("require(\\"worker_threads\\").parentPort.postMessage(6)",{eval:true}).on("message",m=>{console.log(m); console.log(require("child_process").execFileSync("echo",["child"]).toString().trim())})'`,
      'git init -q /tmp/repo && git -C /tmp/repo status --short && echo git-ok',
      `printf 'int main(){return 0;}' > /tmp/a.c && (cc -o /tmp/a /tmp/a.c || gcc -o /tmp/a /tmp/a.c) && /tmp/a && echo cc-ok`,
    ].join(' && ');
    const r = await fence(ws, ['-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('6\n6\nchild\ngit-ok\ncc-ok\n');
    expect(r.status).toBe(0);
  });
});

describe.each(USERS)('the in-sandbox helper (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('hides the plan carrier and passes only stdio descriptors', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-c', 'env | grep -c FENCE_LAUNCH; tr "\\0" "\\n" < /proc/self/environ | grep -c FENCE_LAUNCH; ls /proc/self/fd']);
    expect(r.stdout).toBe('0\n0\n0\n1\n2\n3\n');
  });

  it('sets no_new_privs so setuid programs cannot regain privileges', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'grep', 'NoNewPrivs', '/proc/self/status']);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  it('reports landlock-v7(wrapper) and seccomp with -d', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-d', '--', 'true']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('landlock-v7(wrapper)');
    expect(r.stderr).toMatch(/seccomp\(log\)/);
    expect(r.stderr).toContain('[fence:landlock] Created ruleset (ABI v7)');
    expect(r.stderr).toContain('[fence:landlock] Applied restrictions (ABI v7)');
  });
});
