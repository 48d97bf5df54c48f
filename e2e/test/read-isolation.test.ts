import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hasProgram, NOBODY, USERS, workspace, writeSettings, type User, type Workspace } from '../src/fence.js';

const SECRET = 'fence-e2e-read-isolation-secret';

/**
 * A HOME outside /tmp (the sandbox's /tmp is private: a HOME there would be hidden anyway and prove
 * nothing) holding a secret no default list names, and a tools directory with a program in it.
 */
function host(user: User): { home: string; tools: string; cleanup: () => void } {
  const root = mkdtempSync('/var/tmp/fence-e2e-read-');
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  const tools = join(root, 'tools');
  for (const d of [home, `${home}/notes`, `${home}/.ssh`, tools]) mkdirSync(d);
  writeFileSync(`${home}/notes/secret.txt`, `${SECRET}\n`);
  writeFileSync(`${home}/.ssh/id_rsa`, `${SECRET}-key\n`, { mode: 0o600 });
  writeFileSync(`${tools}/hello`, '#!/bin/sh\necho hello from tools\n', { mode: 0o755 });
  writeFileSync(`${tools}/other`, '#!/bin/sh\necho other\n', { mode: 0o755 });
  if (user === 'nobody') for (const p of [home, `${home}/notes`, `${home}/notes/secret.txt`, `${home}/.ssh`, `${home}/.ssh/id_rsa`]) chownSync(p, NOBODY, NOBODY);
  return { home, tools, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The system paths a strict policy names to run ordinary programs. */
const SYSTEM = ['/usr', '/bin', '/lib', '/lib64', '/etc'];

describe.each(USERS)('read isolation (as %s)', (user) => {
  let ws: Workspace;
  let h: ReturnType<typeof host>;
  afterEach(() => {
    ws.cleanup();
    h.cleanup();
  });
  /** The workspace and host, and `filesystem` (a function of the host) as its settings. */
  const setup = (filesystem: (made: ReturnType<typeof host>) => object): Record<string, string> => {
    ws = workspace(user);
    h = host(user);
    writeSettings(ws, { filesystem: filesystem(h) });
    return { HOME: h.home };
  };

  it('defaultDenyRead hides $HOME and the rest of the host, keeps /usr and the working directory usable', async () => {
    const env = setup(() => ({ defaultDenyRead: true, allowWrite: ['.'] }));
    const secret = await fence(ws, ['--', 'cat', `${h.home}/notes/secret.txt`], { env });
    expect(secret.status).not.toBe(0);
    expect(secret.stdout).not.toContain(SECRET);
    const listing = await fence(ws, ['--', 'ls', '-A', h.home], { env });
    expect(listing.stdout).toBe('');
    const work = await fence(ws, ['--', 'sh', '-c', 'ls /usr/bin | grep -c "^ls$"; cat /etc/passwd >/dev/null && echo etc; echo made > f && cat f && ls f fence.json'], { env });
    expect(work.stderr).toBe('');
    expect(work.stdout).toBe('1\netc\nmade\nf\nfence.json\n');
    expect(work.status).toBe(0);
  });

  it.runIf(hasProgram('python3'))('runs python3 under defaultDenyRead', async () => {
    const env = setup(() => ({ defaultDenyRead: true }));
    const r = await fence(ws, ['--', 'python3', '-c', 'import json, os; print(json.dumps(os.path.exists("/usr/bin")))'], { env });
    expect(r.stdout).toBe('true\n');
    expect(r.status).toBe(0);
  });

  it('strictDenyRead: cat ~/.ssh/id_rsa and ~/notes fail with no denyRead entry, allowRead system paths still run', async () => {
    const env = setup(() => ({ strictDenyRead: true, allowRead: SYSTEM }));
    // allowRead naming ~/.ssh would show it: with none, the default stores are hidden as usual,
    // and read isolation hides what no list names.
    const r = await fence(ws, ['--', 'sh', '-c', `cat ${h.home}/.ssh/id_rsa; cat ${h.home}/notes/secret.txt; ls /var/lib >/dev/null 2>&1 || echo no-var-lib; ls /usr/bin | grep -c "^cat$"`], { env });
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toContain('no-var-lib\n1\n');
  });

  it('allowExecute runs a listed program without letting its directory be listed', async () => {
    const env = setup((x) => ({ defaultDenyRead: true, allowExecute: [x.tools] }));
    const run = await fence(ws, ['--', `${h.tools}/hello`], { env });
    expect(run.stdout).toBe('hello from tools\n');
    expect(run.status).toBe(0);
    const list = await fence(ws, ['--', 'ls', h.tools], { env });
    expect(list.status).not.toBe(0);
    expect(list.stdout).toBe('');
    expect(list.stderr).toMatch(/Permission denied/);
  });

  it('fence config show lists what stays readable and where it comes from', async () => {
    const env = setup((x) => ({ defaultDenyRead: true, allowExecute: [x.tools] }));
    const r = await fence(ws, ['config', 'show'], { env });
    expect(r.status).toBe(0);
    const { readable } = JSON.parse(r.stdout) as { readable: { path: string; access: string; from: string }[] };
    expect(readable).toContainEqual({ path: '/usr', access: 'read', from: 'system' });
    expect(readable).toContainEqual({ path: ws.dir, access: 'read', from: 'working directory' });
    expect(readable).toContainEqual({ path: h.tools, access: 'execute', from: 'filesystem.allowExecute[0]' });
    expect(readable.some((e) => e.path.startsWith(h.home))).toBe(false);
  });
});
