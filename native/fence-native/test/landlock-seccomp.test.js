'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { describe, it } = require('node:test');
const { READ_EXEC, abi, emptyPlan, fsRights, hasCommand, helper, launch, openDir, python, unameEpermProgram } =
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

