'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { describe, it } = require('node:test');
const { spawnSync } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');
const { READ_EXEC, abi, emptyPlan, fsRights, hasCommand, helper, launch, openDir, openKmsg, python, unameEpermProgram } =
  require('./helpers.js');

const LANDLOCK_ACCESS_NET_CONNECT_TCP = 2;
const program = unameEpermProgram();
const skipLandlock = (!helper && 'fence-launch is not built') || (abi < 1 && `Landlock is unavailable (${abi})`);
const skipSeccomp = (!helper && 'fence-launch is not built') || (!program && `no test BPF for ${process.arch}`);
const skipNobody = skipLandlock || skipSeccomp || (!hasCommand('setpriv') && 'setpriv is not installed');

/** Reads everywhere, writes only in `dir` (plus a rule for a path that does not exist). */
function fsRuleset(dir, ruleAbi = Math.min(abi, 3)) {
  return {
    abi: ruleAbi,
    handledAccessFs: fsRights(ruleAbi),
    handledAccessNet: 0,
    scoped: 0,
    restrictFlags: 0,
    paths: [
      { access: READ_EXEC, path: '/' },
      { access: fsRights(ruleAbi), path: dir },
      { access: fsRights(ruleAbi), path: '/nonexistent/fence-test' },
    ],
    ports: [],
  };
}

const WRITES = 'echo ok > "$1/f" && cat "$1/f"; echo x > "$2/f" || echo denied; head -c 4 /etc/passwd; echo';

describe('fence-launch Landlock', { skip: skipLandlock }, () => {
  it('blocks writes outside the allowed directory while it and reads elsewhere work', async (t) => {
    const [allowed, outside] = [openDir(t, 'allowed'), openDir(t, 'outside')];
    const r = await launch({ ...emptyPlan(), landlock: fsRuleset(allowed) }, ['sh', '-c', WRITES, 'sh', allowed, outside]);
    assert.equal(r.stdout, 'ok\ndenied\nroot\n');
    assert.match(r.stderr, new RegExp(`${outside}/f: Permission denied`));
    assert.match(r.stderr, /fence-launch: landlock: skipping missing path \/nonexistent\/fence-test\n/);
    assert.equal(fs.existsSync(path.join(outside, 'f')), false);
  });

  it('limits TCP connect to the listed ports with ABI 4 and the scope bits of ABI 6', async (t) => {
    if (abi < 6) return t.skip(`needs Landlock ABI 6 (kernel has ${abi})`);
    const servers = await Promise.all([0, 1].map(() => new Promise((ok) => { const s = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => ok(s)); })));
    t.after(() => servers.forEach((s) => s.close()));
    const [allowed, blocked] = servers.map((s) => s.address().port);
    const ruleset = {
      ...fsRuleset('/tmp', 6),
      handledAccessNet: LANDLOCK_ACCESS_NET_CONNECT_TCP,
      scoped: 3, // abstract Unix sockets and signals
      ports: [{ access: LANDLOCK_ACCESS_NET_CONNECT_TCP, port: allowed }],
    };
    const connect = `
import socket, sys
for port in sys.argv[1:]:
    try:
        socket.create_connection(("127.0.0.1", int(port))).close(); print("connected")
    except OSError as e:
        print(type(e).__name__)`;
    const r = await launch({ ...emptyPlan(), landlock: ruleset }, [python, '-c', connect, String(allowed), String(blocked)]);
    assert.equal(r.stdout, 'connected\nPermissionError\n', r.stderr);
  });

  it('fails closed (125) when the kernel rejects the ruleset', async () => {
    const bad = { ...fsRuleset('/tmp'), handledAccessFs: 2 ** 52 };
    const r = await launch({ ...emptyPlan(), landlock: bad }, ['echo', 'ran']);
    assert.equal(r.code, 125);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^fence-launch: landlock_create_ruleset \(ABI \d\): Invalid argument\n$/);
  });
});

describe('fence-launch seccomp', { skip: skipSeccomp }, () => {
  it('makes the filtered syscall fail with EPERM and lets the rest through', async () => {
    const r = await launch({ ...emptyPlan(), seccomp: program }, ['sh', '-c', 'uname; echo after; grep ^Seccomp: /proc/self/status']);
    assert.match(r.stderr, /uname: .*Operation not permitted/);
    assert.match(r.stdout, /^after\nSeccomp:\s+2\n$/);
  });

  it('installs the seccomp-quiet filter as a second filter', async () => {
    const plan = { ...emptyPlan(), seccomp: program, seccompQuiet: program };
    const r = await launch(plan, ['sh', '-c', 'uname; grep ^Seccomp_filters: /proc/self/status']);
    assert.match(r.stderr, /uname: .*Operation not permitted/);
    assert.match(r.stdout, /^Seccomp_filters:\s+2\n$/);
  });

  it('logs the seccomp filter\'s denials to the kernel log and never the seccomp-quiet filter\'s', async (t) => {
    const kmsg = openKmsg();
    if (kmsg.reason) return t.skip(kmsg.reason);
    t.after(() => kmsg.close());
    const deniedPid = async (plan) => {
      const r = await launch(plan, ['sh', '-c', 'echo $$; exec uname']);
      assert.match(r.stderr, /uname: .*Operation not permitted/);
      return r.stdout.trim();
    };
    // Records go through the kernel's printk rate limit (10 per 5 s without auditd), which other
    // tests' denials may have used up: try again once the window has passed.
    const records = [];
    const audited = (pid) => records.some((r) => r.includes('type=1326') && r.includes(` pid=${pid} comm="uname"`));
    let quiet;
    let logged;
    for (let attempt = 0; attempt < 3 && !(logged && audited(logged)); attempt++) {
      quiet = await deniedPid({ ...emptyPlan(), seccompQuiet: program });
      logged = await deniedPid({ ...emptyPlan(), seccomp: program });
      // kauditd prints asynchronously, in order: once the later record is there, the earlier would be.
      for (let waited = 0; !audited(logged) && waited < 6000; waited += 50) {
        await sleep(50);
        records.push(...kmsg.read());
      }
    }
    assert.ok(audited(logged), 'no type=1326 record for the logged denial (auditd running?)');
    assert.equal(audited(quiet), false, 'the quiet filter\'s denial was logged');
  });

  it('refuses a plan with two seccomp-quiet lines', () => {
    const r = spawnSync(helper, ['--plan-fd', '0', '--', 'echo', 'ran'], {
      input: 'fence-launch-plan 1\nseccomp-quiet 0600000000000000\nseccomp-quiet 0600000000000000\n',
      encoding: 'utf8',
    });
    assert.equal(r.status, 125);
    assert.equal(r.stderr, 'fence-launch: plan: line 3: malformed "seccomp-quiet"\n');
  });
});

describe('fence-launch as uid 65534', { skip: skipNobody }, () => {
  it('applies Landlock and seccomp together without privileges', async (t) => {
    const [allowed, outside] = [openDir(t, 'allowed'), openDir(t, 'outside')];
    const plan = { ...emptyPlan(), landlock: fsRuleset(allowed), seccomp: program };
    const script = `id -u; ${WRITES}; uname || echo uname-denied`;
    const r = await launch(plan, ['sh', '-c', script, 'sh', allowed, outside], { asNobody: true });
    assert.equal(r.stdout, '65534\nok\ndenied\nroot\nuname-denied\n', r.stderr);
    assert.equal(fs.existsSync(path.join(outside, 'f')), false);
  });
});

