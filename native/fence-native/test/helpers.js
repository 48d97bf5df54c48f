'use strict';
// Shared by the tests: run fence-launch with a plan, build tiny BPF programs, find free ports.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const native = require('..');
// The plan's only encoder is in @fence/linux-helper, which depends on this package; the workspace
// build makes it before these tests run.
const { encodeHelperPlan } = require('@fence/linux-helper');
exports.encodeHelperPlan = encodeHelperPlan;

exports.helper = native.helperPath();
exports.abi = native.addon()?.landlockAbiVersion() ?? -1;

/** The system python (pyenv shims under /root are not readable by uid 65534). */
exports.python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

exports.hasCommand = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

const O_PATH = 0o10000000;

/** An O_PATH descriptor of a socket file, as Fence opens the proxies' sockets for the bridges. */
exports.openSocketPath = (p) => fs.openSync(p, O_PATH | fs.constants.O_NOFOLLOW);

/**
 * Runs fence-launch with the plan on fd 3 (as uid 65534 with asNobody); resolves with code and
 * output. `pass`: descriptors of this process given to it as fds 4, 5, … (then closed here);
 * `inherit`: more after those, left open here; `cgroup`: a cgroup directory it starts in.
 */
exports.launch = function launch(plan, argv, { asNobody = false, env = process.env, extraFds = 0, stdin, onStdout, pass = [], inherit = [], cgroup } = {}) {
  const args = ['--plan-fd', '3', '--', ...argv];
  const run = asNobody ? ['setpriv', ...NOBODY, exports.helper, ...args] : [exports.helper, ...args];
  const [program, ...rest] = cgroup ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...run] : run;
  const child = spawn(program, rest, {
    env,
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', ...pass, ...inherit, ...Array(extraFds).fill('pipe')],
  });
  for (const fd of pass) fs.closeSync(fd);
  child.stdio[3].end(Buffer.from(encodeHelperPlan(plan)));
  if (stdin) child.stdin.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
};

exports.emptyPlan = () => ({ bridges: [], rlimits: [] });

/**
 * A pids cgroup (v1 hierarchy) of its own that holds at most `max` processes, removed after the
 * test; or why there is none (not root, no such hierarchy).
 */
exports.pidsCgroup = function pidsCgroup(t, max) {
  const own = /^\d+:pids:(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const base = `/sys/fs/cgroup/pids${own === '/' ? '' : own}`;
  if (process.getuid() !== 0 || own === undefined || !fs.existsSync(base)) return { reason: 'needs root and a v1 pids hierarchy' };
  const dir = fs.mkdtempSync(path.join(base, 'fence-native-test-'));
  fs.writeFileSync(path.join(dir, 'pids.max'), String(max));
  t.after(() => {
    for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    for (let i = 0; i < 100 && fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8') !== ''; i++) spawnSync('sleep', ['0.02']);
    fs.rmdirSync(dir);
  });
  return { dir };
};

/** A directory every uid may write to (DAC never decides the tests, Landlock does). */
exports.openDir = function openDir(t, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fence-native-${name}-`));
  fs.chmodSync(dir, 0o777);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};

exports.freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/**
 * Reads /dev/kmsg from now on, without blocking: `read()` returns the records written since the
 * last call. `{ reason }` when /dev/kmsg cannot be opened (not root, dmesg_restrict, no device).
 */
exports.openKmsg = function openKmsg() {
  let fd;
  try {
    fd = fs.openSync('/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { reason: `/dev/kmsg is unreadable (${e.code})` };
  }
  const buf = Buffer.alloc(8192); // one record per read; the kernel caps a record well below this
  const read = () => {
    const records = [];
    for (;;) {
      try {
        records.push(buf.toString('utf8', 0, fs.readSync(fd, buf, 0, buf.length, null)));
      } catch (e) {
        if (e.code === 'EAGAIN') return records;
        if (e.code !== 'EPIPE') throw e; // EPIPE: records were overwritten; the next read resumes
      }
    }
  };
  read();
  return { read, close: () => fs.closeSync(fd) };
};

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 };
const NR_UNAME = { x64: 63, arm64: 160 };
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;

function insn(code, jt, jf, k) {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/** uname(2) → EPERM on this architecture, everything else allowed; undefined on other arches. */
exports.SECCOMP_RET_USER_NOTIF = 0x7fc00000;

/** A filter returning `action` (default: EPERM) for uname and allowing the rest. */
/** execve's number, for a program that sends it to a supervisor (`unameEpermProgram(action, NR_EXECVE[arch])`). */
exports.NR_EXECVE = { x64: 59, arm64: 221 };

exports.unameEpermProgram = function unameEpermProgram(action = SECCOMP_RET_ERRNO | EPERM, nr = NR_UNAME[process.arch]) {
  const arch = AUDIT_ARCH[process.arch];
  if (arch === undefined) return undefined;
  const LD_W_ABS = 0x20;
  const JEQ_K = 0x15;
  const RET_K = 0x06;
  return new Uint8Array(
    Buffer.concat([
      insn(LD_W_ABS, 0, 0, 4), // seccomp_data.arch
      insn(JEQ_K, 0, 3, arch),
      insn(LD_W_ABS, 0, 0, 0), // seccomp_data.nr
      insn(JEQ_K, 0, 1, nr),
      insn(RET_K, 0, 0, action),
      insn(RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ]),
  );
};

/** A program sending each of the syscalls `nrs` to a supervisor, allowing everything else. */
exports.notifyProgram = function notifyProgram(nrs) {
  const arch = AUDIT_ARCH[process.arch];
  if (arch === undefined) return undefined;
  const [LD_W_ABS, JEQ_K, RET_K] = [0x20, 0x15, 0x06];
  const n = nrs.length;
  return new Uint8Array(
    Buffer.concat([
      insn(LD_W_ABS, 0, 0, 4),
      insn(JEQ_K, 0, n + 1, arch),
      insn(LD_W_ABS, 0, 0, 0),
      ...nrs.map((nr, i) => insn(JEQ_K, n - i, 0, nr)),
      insn(RET_K, 0, 0, SECCOMP_RET_ALLOW),
      insn(RET_K, 0, 0, exports.SECCOMP_RET_USER_NOTIF),
    ]),
  );
};

/** Landlock FS rights known to an ABI (v1: 13 rights, v2: REFER, v3: TRUNCATE, v5: IOCTL_DEV). */
exports.fsRights = (abi) => (abi >= 5 ? 0xffff : abi >= 3 ? 0x7fff : abi >= 2 ? 0x3fff : 0x1fff);
exports.READ_EXEC = 1 | 4 | 8; // EXECUTE | READ_FILE | READ_DIR
