/**
 * The library (`@fence/cli` as a package): sessions, captured output, the violations of each
 * command, the annotated stderr an agent reads, and typed errors. Run in this process, as root;
 * the CLI tests cover uid 65534.
 */
import { annotateStderr, createSandbox, FenceError, type Sandbox, type Violation } from '@fence/cli';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { hasProgram } from '../src/fence.js';
import { httpServer } from '../src/servers.js';

const BLOCKED = 'http://blocked.invalid/';
let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe('the library', () => {
  it('captures stdout and stderr apart, and feeds stdin', async () => {
    sandbox = await createSandbox();
    const r = await sandbox.exec(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'in\n' });
    expect(r).toEqual({ status: 3, stdout: 'in\n', stderr: 'err\n', violations: [] });
  });

  it('runs many commands in one session, argv or a bash string', async () => {
    sandbox = await createSandbox();
    expect((await sandbox.exec(['echo', 'a b'])).stdout).toBe('a b\n');
    expect((await sandbox.exec('echo $((1+2)) && echo x')).stdout).toBe('3\nx\n');
  });

  it.runIf(hasProgram('curl'))('lets a listener added before run() see that run\'s events', async () => {
    sandbox = await createSandbox({ settings: { network: { allowedDomains: ['example.com'] } } });
    const seen: Violation[] = [];
    sandbox.violations.on((v) => seen.push(v));
    await sandbox.run(['curl', '-s', '--noproxy', '', BLOCKED], { stdio: ['ignore', 'ignore', 'ignore'] });
    expect(seen).toContainEqual(expect.objectContaining({ source: 'http', action: 'block', target: expect.stringContaining('blocked.invalid') }));
  });

  it.runIf(hasProgram('curl'))('gives each command the violations it caused, and annotates its stderr with them', async () => {
    sandbox = await createSandbox({ settings: { network: { allowedDomains: ['example.com'] } } });
    const failed = await sandbox.exec(['curl', '-sSf', '--noproxy', '', BLOCKED]);
    const clean = await sandbox.exec(['true']);
    expect(failed.status).not.toBe(0);
    expect(failed.violations.map((v) => v.target)).toEqual([expect.stringContaining('blocked.invalid')]);
    expect(clean.violations).toEqual([]);
    const annotated = annotateStderr(failed);
    expect(annotated.startsWith(failed.stderr)).toBe(true);
    expect(annotated).toMatch(/fence: the sandbox blocked 1 action while this command ran \(exit \d+\):\nfence: {3}http: .*blocked\.invalid/);
    expect(annotateStderr(clean)).toBe(clean.stderr);
  });

  it.runIf(hasProgram('curl'))('gives commands of one session their own network allowlists, also at the same time', async () => {
    const server = await httpServer();
    try {
      sandbox = await createSandbox({ settings: { network: { allowedDomains: ['example.com'], allowLocalOutbound: true } } });
      const seen: Violation[] = [];
      sandbox.violations.on((v) => seen.push(v));
      const curl = ['curl', '-sS', '--noproxy', '', `http://localhost:${server.port}/`];
      const own = { network: { allowedDomains: ['localhost'] } };
      const [allowed, refused] = await Promise.all([sandbox.exec(curl, own), sandbox.exec(curl)]);
      expect(allowed).toMatchObject({ status: 0, stdout: `hello from localhost:${server.port}\n`, violations: [] });
      expect(refused.violations).toEqual([expect.objectContaining({ source: 'http', action: 'block', target: `localhost:${server.port}` })]);
      // The derived session is reused, and its events reach the session's listeners too.
      expect((await sandbox.exec(curl, own)).status).toBe(0);
      const narrowed = await sandbox.exec(curl, { network: { allowedDomains: ['localhost'], deniedDomains: ['localhost'] } });
      expect(narrowed.violations).toHaveLength(1);
      expect(seen.filter((v) => v.action === 'block')).toHaveLength(2);
      await expect(sandbox.exec(curl, { network: { allowedDomains: ['*.com'] } })).rejects.toMatchObject({ code: 'SETTINGS_INVALID' });
    } finally {
      server.close();
    }
  });

  // kill() waits for bwrap's report, then, the sandbox not taking signals yet, signals bwrap: at
  // that moment its child has not yet set --die-with-parent, so bwrap alone died and the sandbox
  // ran on, an orphan, with the command (10 of 10 sandboxes here).
  it('ends the whole sandbox when a command is killed at once (start-up), leaving no process behind', async () => {
    sandbox = await createSandbox();
    const seconds = 90_000 + process.pid; // names this test's sleepers

    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const spawned = sandbox.spawn(['python3', '-c', `import time; time.sleep(${seconds})`], { stdio: ['ignore', 'ignore', 'ignore'] });
      spawned.kill('SIGTERM');
      statuses.push(await spawned.exited);
    }
    expect(statuses).toEqual([143, 143, 143, 143, 143]);
    // A sandbox's processes die with it at once (SIGKILL); a moment for the kernel to reap them.
    await new Promise((r) => setTimeout(r, 500));
    expect(spawnSync('pgrep', ['-f', `sleep.${seconds}.`]).stdout.toString()).toBe('');
  });

  it('throws typed errors with a code', async () => {
    const invalid = await createSandbox({ settings: { network: { allowedDomains: ['*.com'] } } }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(FenceError);
    expect((invalid as FenceError).code).toBe('SETTINGS_INVALID');
    const closed = await createSandbox();
    await closed.close();
    await expect(closed.exec(['true'])).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    const denied = await createSandbox({ settings: { command: { deny: ['rm -rf'] } } });
    await expect(denied.run('rm -rf /tmp/nothing')).rejects.toMatchObject({ name: 'FenceError', code: 'COMMAND_DENIED' });
    await denied.close();
  });
});
