'use strict';
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');
const native = require('..');

const addon = native.addon();
const skip = addon === undefined && 'the addon is not built (npm run build)';
const ADDON = require.resolve('..');

/** execve replaces the process: it only ever runs in a spawned child. */
function inChild(script) {
  return spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(ADDON)}).addon(); ${script}`], {
    encoding: 'utf8',
  });
}

describe('addon', { skip }, () => {
  it('reports a Landlock ABI of at least 1', (t) => {
    const abi = addon.landlockAbiVersion();
    if (abi === -38 || abi === -95) return t.skip(`Landlock is not enabled in this kernel (${abi})`);
    assert.ok(abi >= 1, `ABI ${abi}`);
  });

  it('reports Landlock errata as a bitmask or -errno', () => {
    assert.ok(Number.isInteger(addon.landlockErrata()));
  });

  it('knows the seccomp actions every supported kernel has, and rejects unknown names', () => {
    assert.equal(addon.seccompActionAvailable('errno'), true);
    assert.equal(addon.seccompActionAvailable('allow'), true);
    assert.throws(() => addon.seccompActionAvailable('nope'), TypeError);
  });

  it('probes seccomp flags without installing a filter', () => {
    const mode = () => /^Seccomp:\s+(\d)$/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1];
    const before = mode();
    const flags = addon.seccompFlagsAvailable();
    assert.deepEqual(Object.keys(flags).sort(), ['log', 'newListener', 'tsync']);
    assert.equal(flags.log, true);
    assert.equal(mode(), before);
  });

  it('reads the audit status and joins the audit read-log group as root; refuses uid 65534 with EPERM', (t) => {
    if (process.getuid() !== 0) return t.skip('needs root (CAP_AUDIT_CONTROL, CAP_AUDIT_READ)');
    const state = addon.auditState();
    assert.equal(typeof state, 'object', `auditState() refused: errno ${state}`);
    assert.ok([0, 1, 2].includes(state.enabled) && Number.isInteger(state.backlog));
    fs.closeSync(addon.auditOpen());
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `const a = require(${JSON.stringify(ADDON)}).addon(); console.log(a.auditState()); try { a.auditOpen(); } catch (e) { console.log(e.errno, e.message); }`], { encoding: 'utf8' });
    assert.equal(r.stdout, '1\n1 auditOpen: the audit netlink socket: Operation not permitted\n');
  });

  it('execve prints exactly the new program output on the inherited stdout', () => {
    const r = inChild("a.execve('/bin/echo', ['echo', 'hello', 'from', 'execve'], ['A=1'])");
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hello from execve\n');
    assert.equal(r.status, 0);
  });

  it('execve keeps the pid, passes envp and resets Node signal state', () => {
    const r = inChild(
      "console.log(process.pid); a.execve('/bin/sh', ['sh', '-c', 'echo $$ $FOO; grep -E \"^Sig(Ign|Blk)\" /proc/self/status'], ['FOO=bar'])",
    );
    const [pid, ...rest] = r.stdout.trim().split('\n');
    assert.equal(rest[0], `${pid} bar`);
    assert.match(rest.join('\n'), /SigBlk:\s+0+\n/);
    assert.match(rest.join('\n'), /SigIgn:\s+0+$/);
  });

  it('a failed execve throws with errno 2 and Node keeps running', () => {
    const r = inChild(
      "try { a.execve('/nonexistent/program', ['x'], []) } catch (e) { console.log(e.errno, e.syscall, e.message); process.stdout.write('alive\\n') }",
    );
    assert.equal(r.stdout, '2 execve execve /nonexistent/program: No such file or directory\nalive\n');
    assert.equal(r.status, 0);
  });

  it('sendFd passes a descriptor with its bytes, and refuses (EBUSY) while input is unread', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fence-native-sendfd-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 's.sock');
    const accepted = new Promise((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (s) => resolve(s)).listen(sock);
      t.after(() => server.close());
    });
    const peer = net.createConnection(sock);
    const local = await accepted;
    t.after(() => (peer.destroy(), local.destroy()));
    const passed = fs.openSync(__filename, 'r');
    t.after(() => fs.closeSync(passed));

    assert.throws(() => addon.sendFd(local._handle.fd, passed, new Uint8Array()), { code: 'EINVAL' });
    assert.throws(() => addon.sendFd(local._handle.fd, passed, 'x'), TypeError);
    addon.sendFd(local._handle.fd, passed, Buffer.from('hi!'));
    assert.equal(String(await new Promise((resolve) => peer.once('data', resolve))), 'hi!');

    peer.write('unread');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.throws(() => addon.sendFd(local._handle.fd, passed, Buffer.from('x')), { code: 'EBUSY', errno: 16 });
  });
});
