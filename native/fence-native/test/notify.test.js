'use strict';
// The seccomp user-notify supervisor: fence-launch sends the notify filter's listener over the
// supervisor's socket; the addon's thread answers EPERM and reports the call.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { describe, it } = require('node:test');
const native = require('..');
const fs = require('node:fs');
const path = require('node:path');
const { NR_EXECVE, SECCOMP_RET_USER_NOTIF, emptyPlan, encodeHelperPlan, hasCommand, helper, launch, notifyProgram, openDir, python, unameEpermProgram } = require('./helpers.js');

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

describe('seccomp supervisor behind the creation guard (one listener for both)', { skip: skip || (!addon.seccompActionAvailable('user_notif') && 'no user notification') }, () => {
  const createGuard = { files: ['.bashrc'], dirs: [], git: [], gitConfig: [] };
  const guarded = (program) => ({ ...emptyPlan(), createGuard, seccompNotify: { program, socket: 4 } });
  const execProgram = unameEpermProgram(SECCOMP_RET_USER_NOTIF, NR_EXECVE[process.arch]);

  for (const asNobody of [false, true]) {
    const who = asNobody ? 'uid 65534' : 'root';
    it(`reports and refuses the supervisor's calls while the guard refuses protected names (${who})`, async (t) => {
      if (asNobody && !hasCommand('setpriv')) return t.skip('setpriv is not installed');
      const dir = openDir(t, 'guard-notify');
      const { sup, events, flushed } = supervise(t);
      const script = `cd ${dir}; uname -s; echo x > .bashrc; echo "bashrc $?"; echo y > ok; cat ok; echo $$`;
      const r = await launch(guarded(program), ['/bin/sh', '-c', script], { asNobody, inherit: [sup.fd] });
      await flushed();
      assert.equal(r.code, 0);
      assert.match(r.stderr, /uname: cannot get system name: Operation not permitted/);
      assert.match(r.stderr, /fence: refused to create .*\/\.bashrc: /);
      assert.match(r.stdout, /^bashrc [1-9]\d*\ny\n\d+\n$/);
      assert.equal(fs.existsSync(path.join(dir, '.bashrc')), false);
      assert.equal(events.length, 1);
      const [e] = events;
      assert.equal(e.comm, 'uname');
      assert.equal(e.nr, NR_UNAME[process.arch]);
      assert.ok(e.pid > 0 && e.pid === e.tid);
    });

    it(`hands each execve to onExec through the guard, and refuses it with EPERM on false (${who})`, async (t) => {
      if (asNobody && !hasCommand('setpriv')) return t.skip('setpriv is not installed');
      const execs = [];
      const sup = addon.notifySupervisor(() => undefined, (e) => (execs.push(e), e.argv[1] !== 'refused'));
      t.after(() => sup.close());
      const dir = openDir(t, 'guard-exec');
      const script = `cd ${dir}; /bin/echo allowed; /bin/echo refused; echo "exit $?"; /bin/touch .bashrc; echo "touch $?"`;
      const r = await launch(guarded(execProgram), ['/bin/sh', '-c', script], { asNobody, inherit: [sup.fd] });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^allowed\nexit [1-9]\d*\ntouch [1-9]\d*\n$/);
      assert.match(r.stderr, /\/bin\/echo: Operation not permitted/);
      assert.match(r.stderr, /fence: refused to create .*\/\.bashrc: /);
      assert.deepEqual(execs.map((e) => [e.path, e.argv]), [
        ['/bin/sh', ['/bin/sh', '-c', script]],
        ['/bin/echo', ['/bin/echo', 'allowed']],
        ['/bin/echo', ['/bin/echo', 'refused']],
        ['/bin/touch', ['/bin/touch', '.bashrc']],
      ]);
      for (const e of execs) assert.equal(e.readable, true);
      assert.ok(execs[1].pid > 0 && execs[1].comm === 'sh');
    });
  }

  it('reads long and many arguments through the guard', async (t) => {
    const execs = [];
    const sup = addon.notifySupervisor(() => undefined, (e) => (execs.push(e), true));
    t.after(() => sup.close());
    const args = Array.from({ length: 3000 }, (_, i) => `${i}-${'x'.repeat(i % 97)}`);
    const r = await launch(guarded(execProgram), ['/bin/true', ...args], { inherit: [sup.fd] });
    assert.equal(r.code, 0);
    assert.deepEqual(execs[0].argv, ['/bin/true', ...args]);
  });

  it('queues the calls while Fence decides, and answers every one (400 threads at once)', { skip: !hasCommand('python3') && 'python3 is not installed' }, async (t) => {
    const events = [];
    const sup = addon.notifySupervisor(
      (e) => events.push(e),
      (e) => {
        // Fence busy on a verdict: the threads' calls pile up behind it, more than the channel holds.
        if (e.path === '/bin/true') for (const end = Date.now() + 1000; Date.now() < end; );
        return true;
      },
    );
    t.after(() => sup.close());
    const dir = openDir(t, 'guard-flood');
    const py = [
      'import os, threading, time',
      "if os.fork() == 0: os.execv('/bin/true', ['true'])",
      'time.sleep(0.2)',
      'def call():',
      '  try: os.uname()',
      '  except OSError: pass',
      'ts = [threading.Thread(target=call) for _ in range(400)]',
      'for t in ts: t.start()',
      "open('made', 'w').write('x')",
      'for t in ts: t.join()',
      'os.wait()',
      "print('done')",
    ].join('\n');
    const plan = guarded(notifyProgram([NR_UNAME[process.arch], NR_EXECVE[process.arch]]));
    const r = await launch(plan, [python, '-c', `import os; os.chdir(${JSON.stringify(dir)})\n${py}`], { inherit: [sup.fd] });
    await new Promise((resolve) => sup.flush(resolve));
    assert.equal(r.stdout, 'done\n', r.stderr);
    assert.equal(r.code, 0);
    assert.equal(events.length, 400);
    assert.equal(fs.readFileSync(path.join(dir, 'made'), 'utf8'), 'x');
  });

  it('lets the calls fail with ENOSYS, never hang, once the supervisor is gone; creations stay guarded', async (t) => {
    const { sup } = supervise(t);
    const dir = openDir(t, 'guard-gone');
    const pending = launch(guarded(program), ['sh', '-c', `sleep 0.3; uname -s; cd ${dir}; echo x > .bashrc; echo y > ok && echo ok`], { inherit: [sup.fd] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    sup.close();
    const r = await pending;
    assert.match(r.stderr, /uname: cannot get system name: Function not implemented/);
    assert.match(r.stderr, /fence: refused to create .*\/\.bashrc: /);
    assert.equal(r.stdout, 'ok\n');
  });

  it('refuses to start when the supervisor\'s program has what the guard cannot run again', async (t) => {
    const { sup } = supervise(t);
    const LDX_IMM = Buffer.from([0x01, 0, 0, 0, 0, 0, 0, 0]);
    const bad = new Uint8Array(Buffer.concat([LDX_IMM, Buffer.from(program)]));
    const r = await launch(guarded(bad), ['/bin/true'], { inherit: [sup.fd] });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /the supervisor's seccomp program has instructions the guard cannot run again/);
  });
});

describe('seccomp supervisor, exec calls (runtimeExecPolicy "argv")', { skip }, () => {
  const execPlan = (socket) => ({ ...emptyPlan(), seccompNotify: { program: unameEpermProgram(SECCOMP_RET_USER_NOTIF, NR_EXECVE[process.arch]), socket } });

  for (const asNobody of [false, true]) {
    const who = asNobody ? 'uid 65534' : 'root';
    it(`hands each execve with its path and argument vector to onExec, and refuses it with EPERM on false (${who})`, async (t) => {
      if (asNobody && !hasCommand('setpriv')) return t.skip('setpriv is not installed');
      const execs = [];
      const sup = addon.notifySupervisor(() => undefined, (e) => (execs.push(e), e.argv[1] !== 'refused'));
      t.after(() => sup.close());
      const script = '/bin/echo allowed; /bin/echo refused; echo "exit $?"';
      const r = await launch(execPlan(4), ['/bin/sh', '-c', script], { asNobody, inherit: [sup.fd] });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^allowed\nexit [1-9]\d*\n$/);
      assert.match(r.stderr, /\/bin\/echo: Operation not permitted/);
      assert.deepEqual(execs.map((e) => [e.path, e.argv]), [
        ['/bin/sh', ['/bin/sh', '-c', script]],
        ['/bin/echo', ['/bin/echo', 'allowed']],
        ['/bin/echo', ['/bin/echo', 'refused']],
      ]);
      for (const e of execs) assert.deepEqual([e.readable, e.dirfd, e.flags, e.nr], [true, -100, 0, NR_EXECVE[process.arch]]);
      assert.ok(execs[1].pid > 0 && execs[1].comm === 'sh');
    });
  }

  it('reads long and many arguments, strings crossing page boundaries included', async (t) => {
    const execs = [];
    const sup = addon.notifySupervisor(() => undefined, (e) => (execs.push(e), true));
    t.after(() => sup.close());
    const args = Array.from({ length: 3000 }, (_, i) => `${i}-${'x'.repeat(i % 97)}`);
    const r = await launch(execPlan(4), ['/bin/true', ...args], { inherit: [sup.fd] });
    assert.equal(r.code, 0);
    assert.deepEqual(execs[0].argv, ['/bin/true', ...args]);
  });

  it('refuses every exec when no onExec was given, and never hangs', async (t) => {
    const sup = addon.notifySupervisor(() => undefined);
    t.after(() => sup.close());
    const r = await launch(execPlan(4), ['/bin/true'], { inherit: [sup.fd] });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });

  it('refuses an exec whose verdict is pending when the supervisor closes', async (t) => {
    let sup;
    sup = addon.notifySupervisor(() => undefined, () => (sup.close(), true));
    t.after(() => sup.close());
    const r = await launch(execPlan(4), ['/bin/true'], { inherit: [sup.fd] });
    assert.notEqual(r.code, 0);
  });
});

describe('seccomp supervisor, an exec it cannot read', { skip: skip || (!hasCommand('python3') && 'python3 is not installed') }, () => {
  it('refuses it with EPERM (not the kernel\'s EFAULT) and still tells onExec, marked unreadable', async (t) => {
    const execs = [];
    const sup = addon.notifySupervisor(() => undefined, (e) => (execs.push(e), true));
    t.after(() => sup.close());
    // argv = (char **)8: a pointer to nothing the process has mapped.
    const py = 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); libc.execve(b"/bin/true", ctypes.c_void_p(8), None); print(ctypes.get_errno())';
    const program = unameEpermProgram(SECCOMP_RET_USER_NOTIF, NR_EXECVE[process.arch]);
    const r = await launch({ ...emptyPlan(), seccompNotify: { program, socket: 4 } }, ['/usr/bin/python3', '-c', py], { inherit: [sup.fd] });
    assert.equal(r.stdout, '1\n');
    assert.deepEqual(execs.map((e) => e.readable), [true, false]);
  });
});
