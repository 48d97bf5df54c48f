import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { spawn } from 'node:child_process';
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

  it('cannot plant Fence settings or a plugin that the next run would load on the host', async () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    const marker = join(target, 'host-code-ran');
    writeSettings(ws, { filesystem: { allowWrite: ['.'] } });
    const plugin = `require("fs").writeFileSync(${JSON.stringify(marker)}, "x"); module.exports = { name: "x" };`;
    const plant = [
      `echo '${plugin}' > p.cjs`,
      `for f in fence.jsonc fence.json ../fence.json; do echo '{"plugins":["./p.cjs"],"filesystem":{"allowWrite":["/"]}}' > $f; done`,
      'mkdir -p node_modules/x && echo x > node_modules/x/index.js',
    ].join('; ');
    const first = await fence(ws, ['-c', `${plant}; true`]);
    // The creation guard refuses a missing name (and says why); a read-only bind covers an existing one.
    expect(first.stderr).toMatch(/fence\.jsonc: (Read-only file system|Permission denied|Operation not permitted)/);
    expect(first.stderr).toMatch(/fence\.json: (Read-only file system|Permission denied|Operation not permitted)/);
    const second = await fence(ws, ['-c', 'touch /var/tmp/fence-e2e-widened; true']);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync('/var/tmp/fence-e2e-widened')).toBe(false);
    expect(second.stderr).not.toMatch(/plugin/);
  });

  it('refuses a plugin the sandbox could replace, before loading it', async () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    const marker = join(target, 'host-code-ran');
    writeFileSync(join(ws.dir, 'p.cjs'), `require("fs").writeFileSync(${JSON.stringify(marker)}, "x"); module.exports = {};`);
    writeSettings(ws, { plugins: ['./p.cjs'], filesystem: { allowWrite: ['.'] } });
    const r = await fence(ws, ['--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: plugin "\.\/p\.cjs" is refused: it is in .*, which the sandbox may write \(filesystem\.allowWrite\)/);
    expect(existsSync(marker)).toBe(false);
  });

  it('cannot send to a host datagram socket through a datagram socketpair', async () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    const path = join(target, 'dgram.sock');
    // A host receiver (journald, syslog are such sockets) that prints what it gets.
    const receiver = spawn('/usr/bin/python3', ['-c', `import socket,os; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(${JSON.stringify(path)}); os.chmod(${JSON.stringify(path)}, 0o777); print("ready", flush=True); s.settimeout(5); print(s.recv(100))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    receiver.stdout.on('data', (d: Buffer) => (got += d.toString()));
    await new Promise<void>((r) => receiver.stdout.once('data', () => r()));
    const send = `import socket; a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); a.sendto(b"from-sandbox", ${JSON.stringify(path)})`;
    const r = await fence(ws, ['--', '/usr/bin/python3', '-c', send]);
    await new Promise((r) => receiver.once('close', r));
    expect(r.stderr).toMatch(/PermissionError|Operation not permitted/);
    expect(got).not.toContain('from-sandbox');
  });
});
