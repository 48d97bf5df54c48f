'use strict';
// The eBPF monitor (bpf-monitor.c, bpf-program.c): the verifier takes the prebuilt program, it
// reports the failing calls of one PID namespace and nothing of the host, and stop() delivers the
// last record before it detaches.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it } = require('node:test');
const native = require('..');
const { hasCommand } = require('./helpers.js');

const addon = native.addon();
const refused = addon?.ebpfProbe();
const skip = (!addon && 'the addon is not built') || (refused && `this process may not load eBPF programs (${refused})`);

/** A process in a new PID namespace that runs `script` as uid 65534 once it reads a line. */
function sandbox(script) {
  const child = spawn('unshare', ['--pid', '--fork', 'sh', '-c', `read go; exec setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '${script}'`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, exited };
}

/** st_dev and st_ino of the PID namespace of unshare's child. */
async function namespaceOf(child) {
  for (let i = 0; i < 200; i++) {
    const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    if (kids) {
      const st = fs.statSync(`/proc/${kids.split(' ')[0]}/ns/pid`);
      return { dev: st.dev, ino: st.ino };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no namespace');
}

describe('eBPF monitor', { skip }, () => {
  it('reports the namespace\'s EACCES/EROFS failures with op, errno, process and target, and no host process', async () => {
    const noise = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'while :; do touch /etc/fence-host-noise 2>/dev/null; done']);
    const { child, exited } = sandbox('touch /etc/fence-bpf-test; mkdir /etc/fence-bpf-dir; mv /etc/hostname /etc/h2; /etc/shadow; exit 0');
    try {
      const ns = await namespaceOf(child);
      const events = [];
      const mon = addon.ebpfMonitor(ns.dev, ns.ino, (e) => events.push(e));
      child.stdin.end('go\n');
      await exited;
      const lost = await new Promise((resolve) => mon.stop(resolve));
      assert.equal(lost, 0);
      assert.deepEqual(
        events.map((e) => [e.op, e.errno, e.comm, e.target]),
        [
          ['open', 13, 'touch', '/etc/fence-bpf-test'],
          ['mkdir', 13, 'mkdir', '/etc/fence-bpf-dir'],
          ['rename', 13, 'mv', '/etc/hostname -> /etc/h2'],
          ['exec', 13, 'sh', '/etc/shadow'],
        ],
      );
      for (const e of events) assert.ok(e.pid > 0 && Math.abs(e.time - Date.now()) < 10_000);
      const times = events.map((e) => e.time);
      assert.deepEqual(times, [...times].sort((a, b) => a - b));
    } finally {
      noise.kill('SIGKILL');
    }
  });

  it('reports a refused connect with its address', async () => {
    if (!hasCommand('python3')) return;
    // Connecting to a Unix socket in a directory uid 65534 cannot search fails with EACCES.
    const { child, exited } = sandbox('python3 -c "import socket; socket.socket(socket.AF_UNIX).connect(\\"/root/fence.sock\\")" 2>/dev/null; exit 0');
    const ns = await namespaceOf(child);
    const events = [];
    const mon = addon.ebpfMonitor(ns.dev, ns.ino, (e) => events.push(e));
    child.stdin.end('go\n');
    await exited;
    await new Promise((resolve) => mon.stop(resolve));
    assert.deepEqual(events.filter((e) => e.op === 'connect').map((e) => e.target), ['unix:/root/fence.sock']);
  });

  it('reports who created a Landlock domain (a successful landlock_restrict_self), and no other success', async () => {
    if (!hasCommand('python3')) return;
    // A ruleset handling READ_FILE, enforced: the creator's pid attributes the domain's audit records.
    const restrict = 'import ctypes; c = ctypes.CDLL(None); a = (ctypes.c_uint64 * 1)(4); fd = c.syscall(444, a, 8, 0); c.prctl(38, 1, 0, 0, 0); exit(c.syscall(446, fd, 0))';
    const { child, exited } = sandbox(`python3 -c "${restrict}"; cat /etc/hostname >/dev/null; exit 0`);
    const ns = await namespaceOf(child);
    const events = [];
    const mon = addon.ebpfMonitor(ns.dev, ns.ino, (e) => events.push(e));
    child.stdin.end('go\n');
    await exited;
    await new Promise((resolve) => mon.stop(resolve));
    assert.deepEqual(events.map((e) => [e.op, e.errno, e.comm]), [['landlock', 0, 'python3']]);
  });

  it('is refused to uid 65534, with the reason', () => {
    if (!hasCommand('setpriv')) return;
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `console.log(require(${JSON.stringify(require.resolve('..'))}).addon().ebpfProbe())`], { encoding: 'utf8' });
    assert.match(r.stdout, /ebpf: (create the maps|load the program): Operation not permitted/);
  });
});
