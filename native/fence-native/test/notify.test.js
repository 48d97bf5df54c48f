'use strict';
// The seccomp user-notify supervisor: fence-launch sends the notify filter's listener over the
// supervisor's socket; the addon's thread answers EPERM and reports the call.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { describe, it } = require('node:test');
const native = require('..');
const { SECCOMP_RET_USER_NOTIF, emptyPlan, encodeHelperPlan, hasCommand, helper, launch, unameEpermProgram } = require('./helpers.js');

const addon = native.addon();
const program = unameEpermProgram(SECCOMP_RET_USER_NOTIF);
const skip =
  (!helper && 'fence-launch is not built') ||
  (!addon && 'the addon is not built') ||
  (!program && `no test BPF for ${process.arch}`) ||
  (!addon.seccompActionAvailable('user_notif') && 'the kernel has no SECCOMP_RET_USER_NOTIF');
const NR_UNAME = { x64: 63, arm64: 160 };

/** A supervisor collecting its events; `flushed()` resolves once every queued event arrived. */
function supervise(t) {
  const events = [];
  const sup = addon.notifySupervisor((e) => events.push(e));
  t.after(() => sup.close());
  return { sup, events, flushed: () => new Promise((resolve) => sup.flush(resolve)) };
}

const notifyPlan = (socket) => ({ ...emptyPlan(), seccompNotify: { program, socket } });

describe('seccomp supervisor', { skip }, () => {
  for (const asNobody of [false, true]) {
    const who = asNobody ? 'uid 65534' : 'root';
    it(`answers EPERM and reports the process, pid and call (${who})`, async (t) => {
      if (asNobody && !hasCommand('setpriv')) return t.skip('setpriv is not installed');
      const { sup, events, flushed } = supervise(t);
      const r = await launch(notifyPlan(4), ['uname', '-s'], { asNobody, inherit: [sup.fd] });
      await flushed();
      assert.equal(r.code, 1);
      assert.match(r.stderr, /uname: cannot get system name: Operation not permitted/);
      assert.equal(events.length, 1);
      const [e] = events;
      assert.equal(e.comm, 'uname');
      assert.equal(e.nr, NR_UNAME[process.arch]);
      assert.ok(e.pid > 0 && e.pid === e.tid);
      assert.equal(e.args.length, 6);
      assert.equal(typeof e.args[0], 'bigint');
      assert.ok(Math.abs(e.time - Date.now()) < 10_000);
    });
  }

  it('serves many sandboxes at once over one socket, in the order each made its calls', async (t) => {
    const { sup, events, flushed } = supervise(t);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => launch(notifyPlan(4), ['sh', '-c', 'uname; uname; uname; true'], { inherit: [sup.fd] })),
    );
    await flushed();
    for (const r of runs) assert.equal(r.code, 0);
    assert.equal(events.length, 12);
    const times = events.map((e) => e.time);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  });

  it('closes a descriptor that is not a seccomp listener and keeps serving', async (t) => {
    const { sup, events, flushed } = supervise(t);
    addon.sendFd(sup.fd, 0, new Uint8Array([76])); // stdin: readable, never a listener
    const r = await launch(notifyPlan(4), ['uname', '-s'], { inherit: [sup.fd] });
    await flushed();
    assert.match(r.stderr, /Operation not permitted/);
    assert.equal(events.length, 1);
  });

  it('lets the calls fail with ENOSYS, never hang, once the supervisor is gone', async (t) => {
    const { sup } = supervise(t);
    const fd = sup.fd;
    const pending = launch(notifyPlan(4), ['sh', '-c', 'sleep 0.3; uname -s'], { inherit: [fd] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    sup.close();
    const r = await pending;
    assert.match(r.stderr, /uname: cannot get system name: Function not implemented/);
  });

  it('refuses a notify socket on stdio, and a second seccomp-notify line', async () => {
    assert.throws(() => encodeHelperPlan(notifyPlan(2)), /seccompNotify.socket must be a descriptor >= 3/);
    const line = `seccomp-notify 4 ${Buffer.from(program).toString('hex')}\n`;
    const r = spawnSync(helper, ['--plan-fd', '0', '--', 'true'], { input: `fence-launch-plan 1\n${line}${line}`, encoding: 'utf8' });
    assert.equal(r.status, 125);
    assert.equal(r.stderr, 'fence-launch: plan: line 3: malformed "seccomp-notify"\n');
  });
});
