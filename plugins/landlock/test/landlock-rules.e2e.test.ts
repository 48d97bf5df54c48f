/**
 * The ruleset as the kernel enforces it: fence-launch (no bwrap around it, so only Landlock stands
 * between the command and the host) applies it and runs a shell. Landlock cannot be undone, so it
 * is applied only in child processes, never in this one.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '@fence/core';
import { encodeHelperPlan, loadNative } from '@fence/linux-helper';
import { buildLandlockRuleset, NEEDED_DEV_NODES, type LandlockInput } from '../src/landlock-rules.js';
import { readablePaths } from '../src/writable-paths.js';
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

function runInRuleset(script: string, asNobody = false, input: Partial<LandlockInput> = {}) {
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
    ...input,
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

describe.skipIf(Boolean(skip))('read isolation (defaultDenyRead) applied by Landlock alone, no bwrap mounts', () => {
  const home = join(root, 'home');
  const tools = join(root, 'tools');
  /** The ruleset of a real policy: reads beneath the readable roots only. */
  const isolated = async (): Promise<Partial<LandlockInput>> => {
    const { policy } = loadPolicy({ cwd: inside, home, env: {}, inline: { filesystem: { defaultDenyRead: true, allowWrite: [inside], allowExecute: [tools] } } });
    const readable = await readablePaths(policy);
    return { policy, readablePaths: readable!.existing, writablePaths: [{ path: inside, isDirectory: true }] };
  };
  beforeAll(() => {
    for (const d of [home, tools]) mkdirSync(d, { recursive: true });
    mkdirSync(inside, { recursive: true });
    writeFileSync(join(home, 'secret'), 'fence-secret\n', { mode: 0o644 });
    writeFileSync(join(tools, 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    for (const d of [root, inside, home, tools]) chmodSync(d, 0o777);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const [who, asNobody] of [
    ['root', false],
    ['uid 65534', true],
  ] as const) {
    it(`hides $HOME, keeps /usr, python3 and the working directory usable (as ${who})`, async () => {
      const input = await isolated();
      const r = runInRuleset(`cat ${home}/secret; ls ${home}; ls /usr/bin | grep -c '^ls$'; python3 -c 'print(2 + 2)'; echo w > ${inside}/w-${asNobody} && cat ${inside}/w-${asNobody}`, asNobody, input);
      expect(r.stdout).toBe('1\n4\nw\n');
      expect(r.stderr).toMatch(new RegExp(`cat: ${home}/secret: Permission denied`));
      expect(r.stderr).toMatch(/ls: cannot open directory .*home.*: Permission denied/);
    });

    it(`runs an allowExecute program but cannot list its directory (as ${who})`, async () => {
      const r = runInRuleset(`${tools}/hello; ls ${tools}`, asNobody, await isolated());
      expect(r.stdout).toBe('hello\n');
      expect(r.stderr).toMatch(/ls: cannot open directory .*tools.*: Permission denied/);
    });
  }
});
