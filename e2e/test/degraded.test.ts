import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fence, writeSettings, hasProgram, USERS, workspace, type Workspace } from '../src/fence.js';
import { httpServer } from '../src/servers.js';

// FENCE_LAUNCH_PATH='' makes Fence behave as on a machine where the native helper could not be
// built (no compiler): bwrap installs seccomp itself, Landlock is off, and a policy that needs the
// proxy bridges is refused (any other relay would need Unix sockets, and so open host sockets).
const NO_HELPER = { FENCE_LAUNCH_PATH: '' };

let server: Awaited<ReturnType<typeof httpServer>>;
beforeAll(async () => {
  server = await httpServer();
});
afterAll(() => server.close());

describe.each(USERS)('fence without the native helper (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('still isolates the filesystem and explains that Landlock is off', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-d', '--', 'touch', '/etc/fence-e2e-x'], { env: NO_HELPER });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Read-only file system');
    expect(r.stderr).toMatch(/landlock: not active \(no native helper/);
  });

  it('still blocks dangerous syscalls through bwrap --seccomp', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'python3', '-c', 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.ptrace(0,0,0,0), ctypes.get_errno())'], { env: NO_HELPER });
    expect(r.stdout).toBe('-1 1\n');
  });

  it('still refuses socket(AF_UNIX) with EPERM: bwrap gets the quiet rule merged into its one program', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'python3', '-c', 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.socket(1,1,0), ctypes.get_errno())'], { env: NO_HELPER });
    expect(r.stdout).toBe('-1 1\n');
  });

  it('refuses a policy that allows a domain, naming the native helper and how to build it', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['localhost'], allowLocalOutbound: true } });
    const r = await fence(ws, ['--', 'curl', '-sS', '--noproxy', '', `http://localhost:${server.port}/`], { env: NO_HELPER });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^fence: network access \(network\.allowedDomains, -p\).* needs the native helper, prebuilt in @fence\/cli-.*: npm rebuild @fence\/native/);
  });

  it('refuses -p for the same reason', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-p', '18089', '--', 'true'], { env: NO_HELPER });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needs the native helper/);
  });

  it('still runs with -d and no allowed domain: the proxies start, unbridged, and nothing inside reaches them', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-d', '--', 'bash', '-c', 'echo x > /dev/tcp/127.0.0.1/3128 && echo reached'], { env: NO_HELPER });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/helper: missing .*nothing inside reaches the proxies/);
  });

  it('refuses to degrade under --strict, naming the layer', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--strict', '--', 'true'], { env: NO_HELPER });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: --strict: the bwrap layer is unavailable: the native helper \(@fence\/native\) is not built.*; run without --strict to degrade, or install what the layer needs\nfence: see fence --linux-features for what each layer needs on this machine\n$/);
  });
});

describe('fence without bubblewrap', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('exits 1 with the install command', async () => {
    ws = workspace('root');
    const bin = join(ws.dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'true', 'uname']) if (hasProgram(tool)) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    const r = await fence(ws, ['--', 'true'], { env: { PATH: bin } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('fence: bubblewrap (bwrap) is not installed; install it with: apt install bubblewrap\n');
  });
});
