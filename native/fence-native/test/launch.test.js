'use strict';
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');
const { emptyPlan, encodeHelperPlan, helper, launch } = require('./helpers.js');

const skip = helper === undefined && 'fence-launch is not built (npm run build)';

describe('fence-launch', { skip }, () => {
  it('runs the command with its stdio and exit status', async () => {
    const r = await launch(emptyPlan(), ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('reads the plan from FENCE_LAUNCH_PLAN and hides it from the command', () => {
    const plan = Buffer.from(encodeHelperPlan({ bridges: [], rlimits: [{ resource: 'NOFILE', value: 64 }] }));
    const r = spawnSync(helper, ['--', 'sh', '-c', 'ulimit -n; env; tr "\\0" "\\n" < /proc/self/environ'], {
      env: { PATH: process.env.PATH, FENCE_LAUNCH_PLAN: plan.toString('base64') },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^64\n/);
    assert.doesNotMatch(r.stdout, /FENCE_LAUNCH_PLAN/);
  });

  it('passes only stdio to the command: the plan fd and other inherited fds are closed', async () => {
    const r = await launch(emptyPlan(), ['ls', '/proc/self/fd'], { extraFds: 3 });
    // 3 is ls's own handle on /proc/self/fd: the lowest free number once the plan fd is closed.
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '1', '2', '3']);
  });

  it('sets no_new_privs, so setuid programs gain nothing', async () => {
    const r = await launch(emptyPlan(), ['grep', 'NoNewPrivs', '/proc/self/status']);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
  });

  it('applies resource limits, never above the inherited hard limit', async () => {
    const plan = { bridges: [], rlimits: [{ resource: 'CPU', value: 7 }, { resource: 'NOFILE', value: 2 ** 40 }] };
    const r = await launch(plan, ['sh', '-c', 'ulimit -t; ulimit -Ht; [ "$(ulimit -n)" = "$(ulimit -Hn)" ] && echo nofile-clamped']);
    assert.equal(r.stdout, '7\n7\nnofile-clamped\n', r.stderr);
  });

  it('exits 127 with a message when the command does not exist', async () => {
    const r = await launch(emptyPlan(), ['fence-no-such-command']);
    assert.equal(r.code, 127);
    assert.equal(r.stderr, 'fence-launch: fence-no-such-command: command not found\n');
  });

  it('runs a script without "#!" with /bin/sh, by path and found on PATH, as a shell would (whichever C library built it)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fence-native-script-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'plain'), 'echo "ran $0 with $1"\n', { mode: 0o755 });
    // A directory on PATH that holds an unrunnable file of the name: skipped, as execvp skips it.
    fs.mkdirSync(path.join(dir, 'first'));
    fs.writeFileSync(path.join(dir, 'first', 'plain'), 'x', { mode: 0o644 });
    const env = { ...process.env, PATH: `${path.join(dir, 'first')}:${dir}:/usr/bin:/bin` };
    const byPath = await launch(emptyPlan(), [path.join(dir, 'plain'), 'a']);
    const onPath = await launch(emptyPlan(), ['plain', 'b'], { env });
    assert.equal(byPath.stdout + onPath.stdout, `ran ${dir}/plain with a\nran ${dir}/plain with b\n`, byPath.stderr + onPath.stderr);
    assert.equal(byPath.code + onPath.code, 0);
  });

  it('exits 126 when the command cannot be executed', async () => {
    const r = await launch(emptyPlan(), ['/dev/null']);
    assert.equal(r.code, 126);
    assert.equal(r.stderr, 'fence-launch: /dev/null: Permission denied\n');
  });

  it('refuses a malformed plan with 125 and never runs the command', () => {
    const r = spawnSync(helper, ['--plan-fd', '0', '--', 'echo', 'ran'], {
      input: 'fence-launch-plan 1\nrlimit NOFILE 10\nlandlock-path 1 /\n',
      encoding: 'utf8',
    });
    assert.equal(r.status, 125);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'fence-launch: plan: line 3: malformed "landlock-path"\n');
  });

  it('takes one bridges-first line without fields, and refuses a second', () => {
    const run = (input) => spawnSync(helper, ['--plan-fd', '0', '--', 'echo', 'ran'], { input, encoding: 'utf8' });
    assert.equal(run('fence-launch-plan 1\nbridges-first\n').stdout, 'ran\n');
    for (const [input, line] of [['fence-launch-plan 1\nbridges-first\nbridges-first\n', 3], ['fence-launch-plan 1\nbridges-first yes\n', 2]]) {
      const r = run(input);
      assert.equal(r.status, 125);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `fence-launch: plan: line ${line}: malformed "bridges-first"\n`);
    }
  });

  it('refuses to run without a plan', () => {
    const r = spawnSync(helper, ['--', 'echo', 'ran'], { env: {}, encoding: 'utf8' });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^fence-launch: no plan/);
  });
});
