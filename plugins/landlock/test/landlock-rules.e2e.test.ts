/**
 * The ruleset as the kernel enforces it: fence-launch (no bwrap around it, so only Landlock stands
 * between the command and the host) applies it and runs a shell. Landlock cannot be undone, so it
 * is applied only in child processes, never in this one.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLandlockRuleset, NEEDED_DEV_NODES } from '../src/landlock-rules.js';
import { encodeHelperPlan, loadNative } from '@fence/linux-helper';
import { testPolicy } from './policy.js';

const native = await loadNative();
const helper = native?.helperPath();
const abi = native?.addon()?.landlockAbiVersion() ?? 0;
const skip = !helper ? 'fence-launch is not built (build @fence/native)' : abi < 1 ? 'this kernel has no Landlock' : '';
if (skip) console.log(`landlock e2e skipped: ${skip}`);

// Not under /tmp: the ruleset makes /tmp writable.
const root = skip ? '' : mkdtempSync('/var/tmp/fence-landlock-');
const inside = join(root, 'inside');
const outside = join(root, 'outside');
/** A single writable file in a directory that is not: its rule carries file rights only. */
const allowedFile = join(outside, 'allowed-file');

function runInRuleset(script: string, asNobody = false) {
  const ruleset = buildLandlockRuleset({
    abi,
    policy: testPolicy({ filesystem: { allowWrite: [inside, allowedFile] } }),
    writablePaths: [
      { path: inside, isDirectory: true },
      { path: allowedFile, isDirectory: false },
    ],
    devNodes: NEEDED_DEV_NODES,
    netns: true,
    proxyPorts: [],
    exposedPorts: [],
  });
  const planFile = join(root, `plan-${process.hrtime.bigint()}`);
  writeFileSync(planFile, encodeHelperPlan({ bridges: [], rlimits: [], landlock: ruleset }));
  const planFd = openSync(planFile, 'r');
  const asUser = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const [cmd, ...args] = [...asUser, helper!, '--plan-fd', '3', '--', 'sh', '-c', script];
  try {
    return spawnSync(cmd!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', planFd], timeout: 10_000 });
  } finally {
    closeSync(planFd);
  }
}

describe.skipIf(Boolean(skip))('the Landlock ruleset applied by fence-launch', () => {
  beforeAll(() => {
    mkdirSync(inside);
    mkdirSync(outside);
    // World-writable, so that for uid 65534 a denial can only come from Landlock, not from the mode bits.
    for (const dir of [root, inside, outside]) chmodSync(dir, 0o777);
    writeFileSync(allowedFile, '');
    chmodSync(allowedFile, 0o666);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const [who, asNobody] of [
    ['root', false],
    ['uid 65534', true],
  ] as const) {
    describe(`as ${who}`, () => {
      it('refuses to create a file outside allowWrite', () => {
        const r = runInRuleset(`echo x > ${outside}/${asNobody ? 'n' : 'r'}`, asNobody);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/Permission denied/);
        expect(existsSync(join(outside, asNobody ? 'n' : 'r'))).toBe(false);
      });

      it('writes inside allowWrite and reads everywhere', () => {
        const file = join(inside, asNobody ? 'n' : 'r');
        const r = runInRuleset(`echo x > ${file} && cat /etc/hostname >/dev/null && echo ok > /dev/null`, asNobody);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(readFileSync(file, 'utf8')).toBe('x\n');
      });

      it('writes and truncates a single allowed file but nothing next to it', () => {
        const r = runInRuleset(`echo a >> ${allowedFile} && echo b > ${allowedFile} && echo c > ${outside}/sibling`, asNobody);
        expect(r.stderr).toMatch(/sibling: Permission denied/);
        expect(readFileSync(allowedFile, 'utf8')).toBe('b\n');
        expect(existsSync(join(outside, 'sibling'))).toBe(false);
      });

      it('refuses to remove or rename outside allowWrite', () => {
        writeFileSync(join(outside, 'keep'), 'k');
        chmodSync(join(outside, 'keep'), 0o666);
        const r = runInRuleset(`rm -f ${outside}/keep; mv ${outside}/keep ${inside}/stolen; mkdir ${outside}/d`, asNobody);
        expect(r.stderr).toMatch(/Permission denied/);
        expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('k');
        expect(existsSync(join(outside, 'd'))).toBe(false);
      });

      it.skipIf(abi < 4)('refuses to listen on a TCP port that was not exposed', () => {
        const bind = `python3 -c "import socket; socket.socket().bind(('127.0.0.1', 0))"`;
        const r = runInRuleset(bind, asNobody);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/PermissionError/);
      });
    });
  }
});
