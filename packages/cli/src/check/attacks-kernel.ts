/**
 * Attacks on the process and syscall layers: host processes (PID namespace, Landlock signal
 * scope), nested namespaces, and the syscalls seccomp refuses. Each syscall probe runs on the host
 * first, so a kernel that lacks the feature is reported as not tested, never as stopped.
 */
import { needs, needsPython, printedOk, python, pythonProbe, type Attack } from './attack.js';

/** io_uring_setup is 425 on both architectures Fence filters (x86_64, aarch64). */
const IO_URING_SETUP = 425;

/**
 * TIOCSTI needs a terminal: the probe makes a pseudo-terminal of its own its controlling one first
 * (so the host run injects into that, never into the user's terminal).
 */
const TIOCSTI_PROBE = `import fcntl, os, sys, termios
m, s = os.openpty()
if os.fork() == 0:
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    try:
        fcntl.ioctl(s, termios.TIOCSTI, b'x')
        print('ok')
    except OSError as e:
        print('err %d' % e.errno)
    sys.stdout.flush()
    os._exit(0)
os.wait()`;

export const kernelAttacks: readonly Attack[] = [
  {
    name: 'signal a host process',
    covers: 'host processes (PID namespace, Landlock signal scope)',
    // The victim is a fresh host `sleep`; it must not die.
    script: (ctx) => `kill -TERM ${ctx.host.victimPid()}`,
    judge: { kind: 'effect', happened: (ctx) => ctx.host.victimDied },
  },
  {
    name: 'create a user namespace',
    covers: 'nested namespaces (seccomp, bwrap --disable-userns)',
    untestable: needs('unshare'),
    script: () => 'unshare -U true && echo ok',
    judge: { kind: 'same-as-host' },
  },
  {
    name: 'ptrace (PTRACE_TRACEME)',
    covers: 'ptrace (seccomp)',
    untestable: needsPython,
    script: (ctx) => pythonProbe(ctx, '', 'l.ptrace(0, 0, 0, 0)'),
    judge: { kind: 'same-as-host' },
  },
  {
    name: 'io_uring_setup',
    covers: 'io_uring (seccomp)',
    untestable: needsPython,
    script: (ctx) => pythonProbe(ctx, 'params = ctypes.create_string_buffer(120)', `l.syscall(${IO_URING_SETUP}, 1, params)`),
    judge: { kind: 'same-as-host' },
  },
  {
    name: 'inject terminal input (TIOCSTI)',
    covers: 'TIOCSTI (seccomp)',
    untestable: needsPython,
    script: (ctx) => python(ctx, TIOCSTI_PROBE),
    judge: { kind: 'same-as-host' },
  },
  {
    // Never probed on the host: as root it would really mount. Inside, the call's result is the effect.
    name: 'mount a filesystem',
    covers: 'mount (seccomp, no capabilities)',
    untestable: needsPython,
    script: (ctx) => pythonProbe(ctx, "os.makedirs('/tmp/fence-check-mnt', exist_ok=True)", "l.mount(b'none', b'/tmp/fence-check-mnt', b'tmpfs', 0, None)"),
    judge: printedOk,
  },
];
