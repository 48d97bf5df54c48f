import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

// Attacks from SPEC §8 not covered elsewhere, each judged by its effect on the host.
describe.each(USERS)('escape attempts (as %s)', (user) => {
  let ws: Workspace;
  let target: string;
  afterEach(() => {
    ws.cleanup();
    rmSync(target, { recursive: true, force: true });
  });

  const hostFile = () => {
    // Outside /tmp (private in the sandbox) and outside allowWrite; writable by the user on the host.
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    const file = join(target, 'file');
    writeFileSync(file, 'original\n');
    chmodSync(file, 0o666);
    return file;
  };

  it('cannot write a host file through a hard link made in a writable directory', async () => {
    ws = workspace(user);
    const file = hostFile();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', `ln ${file} link; echo pwned >> link; cat link`]);
    expect(r.stderr).toMatch(/ln: failed to create hard link/);
    expect(readFileSync(file, 'utf8')).toBe('original\n');
  });

  it('cannot reach the host filesystem through /proc/1/root or /proc/self/root', async () => {
    ws = workspace(user);
    const file = hostFile();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', `echo pwned >> /proc/1/root${file}; echo pwned >> /proc/self/root${file}; ls /proc/1/root/tmp | wc -l`]);
    expect(readFileSync(file, 'utf8')).toBe('original\n');
    expect(r.stderr).toMatch(/Read-only file system|Permission denied/);
  });

  it('cannot reach a host abstract Unix socket, even with allowAllUnixSockets', async () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    let reached = false;
    const name = `fence-e2e-abstract-${process.pid}-${user}`;
    const server = createServer((s) => {
      reached = true;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(`\0${name}`, r));
    const connect = `python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('\\0${name}')"`;
    await fence(ws, ['-c', connect]);
    writeSettings(ws, { network: { allowAllUnixSockets: true } });
    const allowed = await fence(ws, ['-c', connect]);
    server.close();
    expect(allowed.stderr).toMatch(/ConnectionRefusedError|Operation not permitted/);
    expect(reached).toBe(false);
  });
});
