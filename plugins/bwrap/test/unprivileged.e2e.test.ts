/** Key cases again as uid 65534 (nobody), through a separate process: the sandbox must not need root. */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { removeScratch, scratch, skipReason } from './sandbox-helper.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/run-sandbox.mjs', import.meta.url));
const NOBODY = 65534;
const setpriv = spawnSync('setpriv', ['--version']).status === 0;
const reason = skipReason ?? (process.getuid?.() !== 0 ? 'not root: cannot switch to uid 65534' : !setpriv ? 'setpriv is missing' : undefined);
if (reason && !skipReason) console.warn(`[bwrap e2e] unprivileged runs skipped: ${reason}`);

function asNobody(cwd: string, settings: object, script: string): { status: string; stdout: string; stderr: string } {
  const r = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, FIXTURE, cwd, JSON.stringify(settings), '--', 'sh', '-c', script],
    { encoding: 'utf8', env: { ...process.env, HOME: cwd } },
  );
  return { status: /status (\d+)\n$/.exec(r.stdout)?.[1] ?? `host exit ${r.status}`, stdout: r.stdout, stderr: r.stderr };
}

function ownedWorkspace(): string {
  const ws = scratch();
  chownSync(ws, NOBODY, NOBODY);
  return ws;
}

describe.skipIf(reason)('bwrap sandbox as uid 65534', () => {
  it('runs as the unprivileged user and propagates the exit status', () => {
    const r = asNobody(ownedWorkspace(), {}, 'id -u; exit 7');
    expect(r.status).toBe('7');
    expect(r.stdout).toMatch(/^65534\n/);
  });

  it('confines writes to allowWrite and keeps /etc read-only', () => {
    const ws = ownedWorkspace();
    const outside = ownedWorkspace();
    const r = asNobody(ws, { filesystem: { allowWrite: ['.'] } }, `echo a > ${outside}/x; touch /etc/nobody-x; echo ok > inside`);
    expect(readFileSync(join(ws, 'inside'), 'utf8')).toBe('ok\n');
    expect(existsSync(join(outside, 'x'))).toBe(false);
    expect(r.stdout + r.stderr).toContain('Read-only file system');
  });

  it('protects .bashrc and .git from the unprivileged command', () => {
    const ws = ownedWorkspace();
    writeFileSync(join(ws, '.bashrc'), '# mine\n');
    mkdirSync(join(ws, 'sub'));
    execFileSync('git', ['init', '-q', ws]);
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, ws]);
    const r = asNobody(ws, { filesystem: { allowWrite: ['.'] } }, 'echo evil >> .bashrc; mv .git x; echo evil > .git/hooks/pre-commit; echo done');
    expect(r.stdout).toContain('done');
    expect(readFileSync(join(ws, '.bashrc'), 'utf8')).toBe('# mine\n');
    expect(existsSync(join(ws, '.git/hooks/pre-commit'))).toBe(false);
    expect(existsSync(join(ws, 'x'))).toBe(false);
  });

  it('hides host processes from the unprivileged command', () => {
    const r = asNobody(ownedWorkspace(), {}, `kill -0 ${process.pid} && echo reached || echo unreachable`);
    expect(r.stdout).toContain('unreachable');
  });
});

afterAll(removeScratch);
